//! What can go wrong in a report run.

use std::path::PathBuf;

/// A report failure.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be read or written.
    #[error("I/O error on {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A table file is not readable Parquet.
    #[error("cannot read table {path}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A table file's data could not be decoded.
    #[error("cannot decode table {path}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// A table lacks a column, or it has the wrong type or unexpected nulls.
    #[error("table {path}: column {column} {problem}")]
    Column {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A table lacks the provenance metadata the transform writes.
    #[error("table {path} lacks its {what}; was it written by `outcomes transform`?")]
    Provenance {
        /// The file.
        path: PathBuf,
        /// The missing item.
        what: &'static str,
    },
    /// The HTML template failed to render (a defect of the program, not of the data).
    #[error("cannot render the HTML page")]
    Render(#[source] askama::Error),
    /// The tables hold no row of the consortium asked for.
    #[error("the tables hold no data for consortium {consortium:?}; they hold {}", known_list(.known))]
    UnknownConsortium {
        /// The consortium asked for.
        consortium: String,
        /// The consortia the tables hold.
        known: Vec<String>,
    },
    /// The tables hold no row of the period asked for.
    #[error("the tables hold no data for {consortium} in {period}; they cover {first} to {last}")]
    UnknownPeriod {
        /// The consortium.
        consortium: String,
        /// The period asked for.
        period: crate::Period,
        /// The first period the tables hold for the consortium.
        first: crate::Period,
        /// The last.
        last: crate::Period,
    },
    /// The tables were built for another `as_of` than the report asks for.
    #[error(
        "the tables were built for as_of {tables}, but the report is for as_of {asked}; \
         run `outcomes transform --as-of {asked}` first"
    )]
    AsOfMismatch {
        /// The tables' `as_of`.
        tables: chrono::NaiveDate,
        /// The report's `as_of`.
        asked: chrono::NaiveDate,
    },
    /// A snapshot with different content was already published for the same key.
    #[error(
        "{path} already holds a different snapshot for this consortium, period and as_of; \
         a published snapshot is never overwritten (use a later --as-of to publish revised figures)"
    )]
    AlreadyPublished {
        /// The existing snapshot file.
        path: PathBuf,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    }
}
