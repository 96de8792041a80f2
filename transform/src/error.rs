//! What can go wrong in a transform run.

use std::path::PathBuf;

/// A transform failure.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The lake could not be listed (no lake there, or its Delta logs cannot be read).
    #[error(transparent)]
    Lake(outcomes_lake::LakeError),
    /// A file or folder could not be read or written.
    #[error("I/O error on {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A computed table differs from its declaration in `outcomes_schemas::tables` (a defect
    /// of the program, reported instead of writing a table readers would misread).
    #[error("table {table} differs from its contract: {detail}")]
    Contract {
        /// The table.
        table: outcomes_schemas::tables::Table,
        /// The first difference.
        detail: String,
    },
    /// A committed lake file is truncated or damaged; no table was written.
    #[error(
        "the lake file {location} is damaged or truncated; no table was written (restore the file \
         from a backup of the lake)"
    )]
    DamagedLakeFile {
        /// The file: a path, or a URL on object storage.
        location: String,
        /// What the Parquet reader said.
        #[source]
        source: polars::error::PolarsError,
    },
    /// Polars failed while computing or writing a table.
    #[error("computing the tables failed")]
    Polars(#[source] polars::error::PolarsError),
}
