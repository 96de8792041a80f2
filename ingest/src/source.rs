//! Where messages come from. How a source is named in the lake lives with the lake's other
//! names in [`outcomes_schemas::lake`] and [`outcomes_lake::Stream`].

pub use outcomes_lake::Stream;
pub use outcomes_schemas::lake::SourceId;
