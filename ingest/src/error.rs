//! What can go wrong in ingest. Bad messages are not errors: they are rejections, stored.

use std::path::PathBuf;

/// An ingest failure: the worker or file load cannot go on without help.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The metrics endpoint could not listen on its address (in use, or not this host's).
    #[error("cannot serve metrics on {address}")]
    MetricsBind {
        /// The address asked for.
        address: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file or folder could not be read or written.
    #[error("I/O error on {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A Parquet file could not be written.
    #[error("cannot write Parquet file {path}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A batch could not be assembled.
    #[error("cannot assemble a batch for {source_name}")]
    Arrow {
        /// The source of the batch.
        source_name: String,
        /// The cause.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// A file to ingest has no usable file name.
    #[error("{path} has no file name to identify it in the lake")]
    Unnamed {
        /// The path given.
        path: PathBuf,
    },
    /// The Kafka client failed in a way that retrying will not fix.
    #[error("Kafka: {context}")]
    Kafka {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The settings are unusable.
    #[error("invalid setting: {0}")]
    Config(String),
}
