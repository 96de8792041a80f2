//! What can go wrong reading or writing the lake.

use std::path::PathBuf;

use deltalake_core::DeltaTableError;

use crate::Table;

/// A lake operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// The location is neither a folder path nor a URL delta-rs can open.
    #[error("{location} is not a lake location (a folder path, or an s3:// URL)")]
    Location {
        /// What was given.
        location: String,
    },
    /// A reader asked for a lake that has no tables there yet.
    #[error("no event lake at {location}: its {table} table has no Delta log (run ingest first)")]
    NoLake {
        /// The lake's location.
        location: String,
        /// The table that is missing.
        table: Table,
    },
    /// delta-rs failed on a table: storage, the log, or a commit.
    #[error("Delta table {table} at {location}")]
    Delta {
        /// The lake's location.
        location: String,
        /// The table.
        table: Table,
        /// The cause.
        #[source]
        source: Box<DeltaTableError>,
    },
    /// Another writer has committed positions of this source since this one last read them:
    /// this writer lost the source (a Kafka rebalance) and must not write it.
    #[error(
        "{app_id} in the {table} table is at {found:?}, not at {expected:?} as this writer \
         last saw it: another worker owns the source now, so this batch is not written"
    )]
    SourceTaken {
        /// The source's application id in the Delta log.
        app_id: String,
        /// The table.
        table: Table,
        /// The position this writer expected the table to hold.
        expected: Option<i64>,
        /// The position the table holds (`None` when a concurrent commit was detected
        /// without reading it).
        found: Option<i64>,
    },
    /// A local file or folder could not be read or written.
    #[error("I/O error on {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A Parquet file could not be read or written.
    #[error("cannot read or write the Parquet file {path}")]
    Parquet {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Rows could not be assembled to the lake's schema.
    #[error("cannot assemble rows of {what}")]
    Arrow {
        /// Which rows.
        what: String,
        /// The cause.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// A version-1 lake file does not hold what its name says.
    #[error("{path}: {problem}")]
    Legacy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}
