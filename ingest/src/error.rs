//! What can go wrong in ingest. Bad messages are not errors: they are rejections, stored.

use std::path::PathBuf;

/// Why the cluster will not take the worker, phrased as what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// SASL authentication failed.
    #[error(
        "SASL authentication failed: the user name or password is wrong, or the mechanism is \
         not enabled for this user (check sasl.mechanism, sasl.username and sasl.password)"
    )]
    Credentials,
    /// The TLS handshake failed.
    #[error(
        "the TLS handshake failed: the broker's certificate is not trusted or does not name \
         the host (check ssl.ca.location), or the listener does not speak TLS"
    )]
    Certificate,
    /// Another process joined the group with this worker's `group.instance.id`.
    #[error(
        "another worker joined the group with this worker's instance id; each worker needs \
         its own (ingest.instance_id)"
    )]
    Fenced,
    /// Any other error librdkafka calls fatal, with its reason.
    #[error("librdkafka reports a fatal error: {0}")]
    Fatal(String),
}

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
    /// A file to ingest is not NDJSON text (compressed, binary, UTF-16); nothing of it is
    /// stored.
    #[error("{path} is not an NDJSON text file: it holds {what}; nothing of it was loaded")]
    NotText {
        /// The file.
        path: PathBuf,
        /// What it looks like.
        what: String,
    },
    /// The lake could not be read or written.
    #[error(transparent)]
    Lake(#[from] outcomes_lake::LakeError),
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
    /// The cluster refuses the worker for good: retrying cannot help, so the worker stops.
    #[error("Kafka refused the worker ({code}): {refusal}")]
    Refused {
        /// Which refusal, with the settings to check.
        refusal: Refusal,
        /// librdkafka's error code.
        code: rdkafka::error::RDKafkaErrorCode,
    },
    /// The settings are unusable.
    #[error("invalid setting: {0}")]
    Config(String),
    /// The Kafka worker's lake writer task ended while the worker ran (it panicked: the
    /// panic's message is in the log); the batches it had not committed stay in Kafka.
    #[error("the lake writer task stopped; batches not committed stay in Kafka for the next run")]
    CommitterStopped,
}
