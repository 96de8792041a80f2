//! The event lake: two Delta Lake tables, `events` and `rejected`, under one root (a folder or
//! an `s3://` URL), written with delta-rs.
//!
//! The lake is the pipeline's system of record, and its own bookkeeping: every commit is one
//! Delta transaction per table carrying a `txn` action for the source it covers (app id
//! `kafka:<topic>:<partition>` or `file:<consortium>/<file name>`, version = the last position
//! written), so each table records, for every source, how far it holds it. Writers resume from
//! there; readers need no rule of ours, only the tables' current versions (`docs/LAKE.md`).
//!
//! ```no_run
//! # async fn example() -> Result<(), outcomes_lake::LakeError> {
//! use outcomes_lake::{Lake, Location, Table};
//!
//! let lake = Lake::open_existing(&"lake".parse::<Location>()?).await?;
//! let events = lake.files(Table::Events).await?;
//! println!("events version {}: {} files", events.version, events.files.len());
//! # Ok(())
//! # }
//! ```

mod error;
mod location;
mod maintenance;
mod source;
mod storage;
mod tables;
pub mod v1;

pub use error::LakeError;
pub use location::Location;
pub use maintenance::{Compacted, Vacuumed};
pub use source::{Positions, Stream};
pub use tables::{Committed, DataFile, Lake, Listing, TableFiles};

use std::fmt;

use arrow_schema::SchemaRef;
use outcomes_schemas::lake;

/// The column every table is partitioned by: each consortium's files in a folder of its own.
pub const PARTITION_COLUMN: &str = lake::col::CONSORTIUM_ID;

/// One of the lake's two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Every valid event.
    Events,
    /// Every rejected message, with its original bytes.
    Rejected,
}

impl Table {
    /// Both tables, in the order a batch commits them: rejections first, so that a crash
    /// between the two commits leaves the events table behind, never ahead.
    pub const COMMIT_ORDER: [Table; 2] = [Table::Rejected, Table::Events];

    /// The table's folder under the lake root.
    pub fn name(self) -> &'static str {
        match self {
            Table::Events => lake::EVENTS_TABLE,
            Table::Rejected => lake::REJECTED_TABLE,
        }
    }

    /// The table's Arrow schema, partition column included.
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Events => lake::events_schema(),
            Table::Rejected => lake::rejected_schema(),
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
