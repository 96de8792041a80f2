//! Ingest: case-management events into the Delta event lake, exactly once.
//!
//! Messages arrive from Kafka (topics `outcomes.<consortium>.<event_type>`) or as NDJSON files.
//! Each is validated and pseudonymized by `outcomes-schemas`; valid events and rejections are
//! gathered per source into batches, and each batch is committed to the lake's two Delta
//! tables (`outcomes-lake`), each commit recording the source's last position (see
//! `ingest/README.md` and `docs/LAKE.md`). The lake is its own bookkeeping: on start, or when
//! Kafka assigns a partition, ingest reads the positions from the tables' logs and resumes
//! after them.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use outcomes_ingest::{BatchLimits, FileIngest, Lake, Location};
//! use outcomes_schemas::{ConsortiumId, Pseudonymizer, Validator};
//!
//! let lake = Lake::open(&"lake".parse::<Location>()?).await?;
//! let validator = Validator::new(Pseudonymizer::new(b"a long random secret")?);
//! let mut loader = FileIngest::new(lake, validator, ConsortiumId::new("north-shore")?, BatchLimits::default());
//! let tally = loader.load("events.ndjson".as_ref(), &mut |_bytes| {}).await?;
//! println!("stored {}, rejected {}", tally.stored, tally.rejected_total());
//! # Ok(())
//! # }
//! ```

mod batch;
mod client;
mod columns;
mod committer;
mod error;
mod file;
mod kafka;
mod metrics;
mod ndjson;
mod publish;
mod source;

pub use batch::{BatchLimits, Tally};
pub use client::{KafkaClient, is_secret};
pub use error::{IngestError, Refusal};
pub use file::FileIngest;
pub use kafka::{DEFAULT_BUFFERED_BYTES, KafkaSettings, run as run_kafka};
pub use metrics::{Metrics, MetricsEndpoint};
pub use ndjson::{Line, NdjsonReader};
pub use outcomes_lake::{Committed, Lake, Location, Positions};
pub use publish::Publisher;
pub use source::{SourceId, Stream};
