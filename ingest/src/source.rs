//! Where messages come from. How a source is named in the lake lives with the lake's other
//! names in [`outcomes_schemas::lake`].

use outcomes_schemas::ConsortiumId;
pub use outcomes_schemas::lake::SourceId;

/// A source together with the consortium its messages belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stream {
    /// The consortium named by the topic, or given for the file.
    pub consortium: ConsortiumId,
    /// The source.
    pub source: SourceId,
}
