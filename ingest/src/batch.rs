//! Batches: a contiguous run of one stream's messages, validated and ready to commit.
//!
//! Validation, pseudonymization and column building happen here, once per message, for both
//! sources; everything else (reading, committing, offsets) is per batch.

use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use chrono::{DateTime, Utc};
use outcomes_lake::{Committed, Lake, LakeError, Positions, Stream, Table};
use outcomes_schemas::{Event, Origin, Reason, Rejection, Validator};
use tracing::info;

use crate::columns::{EventColumns, Position, RejectedColumns};
use crate::error::IngestError;
use crate::source::SourceId;

/// When a batch is flushed: whichever limit is reached first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Messages per batch (accepted and rejected together).
    pub max_messages: usize,
    /// Bytes of message values per batch; bounds the memory a batch holds.
    pub max_bytes: usize,
    /// The longest a message waits in memory before its batch is flushed (Kafka only; a file
    /// is read to its end or to the other limits).
    pub max_age: Duration,
}

impl Default for BatchLimits {
    /// Large enough that a backfill writes files of tens of thousands of rows, small enough
    /// (64 MiB) that several partitions' batches fit well under the worker's memory target; a
    /// quiet feed of a few thousand events a day is flushed every minute.
    fn default() -> Self {
        Self {
            max_messages: 100_000,
            max_bytes: 64 << 20,
            max_age: Duration::from_secs(60),
        }
    }
}

/// Counts of what a run did, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages read (blank file lines excluded).
    pub messages: u64,
    /// Events stored.
    pub stored: u64,
    /// Messages rejected, by reason, in the contract's order.
    pub rejected: [u64; Reason::ALL.len()],
    /// Messages skipped because the lake already held their position.
    pub already_stored: u64,
    /// Lake data files written (events and rejected).
    pub files: u64,
    /// Files whose last line was cut off inside a message: not stored, left for the next load.
    pub incomplete: u64,
}

impl Tally {
    /// All rejections.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// Adds another tally to this one.
    pub fn add(&mut self, other: &Tally) {
        self.messages += other.messages;
        self.stored += other.stored;
        self.already_stored += other.already_stored;
        self.files += other.files;
        self.incomplete += other.incomplete;
        for (mine, theirs) in self.rejected.iter_mut().zip(other.rejected) {
            *mine += theirs;
        }
    }
}

/// An open batch of one stream.
pub(crate) struct Batch {
    stream: Stream,
    /// How far each table holds the stream: messages at positions a table holds are not
    /// added to it again (after a crash between a batch's two commits, `rejected` is ahead).
    held: Positions,
    topic_event_type: Option<String>,
    first: Option<i64>,
    last: i64,
    bytes: usize,
    messages: usize,
    opened: Instant,
    events: EventColumns,
    rejected: RejectedColumns,
    tally: Tally,
}

impl Batch {
    /// An empty batch of `stream`, whose tables hold it up to `held`.
    pub(crate) fn new(stream: Stream, held: Positions) -> Self {
        let topic_event_type = match &stream.source {
            SourceId::Kafka { topic, .. } => {
                outcomes_schemas::parse_topic(topic).map(|(_, event_type)| event_type.to_owned())
            }
            SourceId::File { .. } => None,
        };
        Self {
            stream,
            held,
            topic_event_type,
            first: None,
            last: 0,
            bytes: 0,
            messages: 0,
            opened: Instant::now(),
            events: EventColumns::new(),
            rejected: RejectedColumns::new(),
            tally: Tally::default(),
        }
    }

    /// Extends the batch's range to `position` without a message (a blank file line).
    pub(crate) fn cover(&mut self, position: i64) {
        self.first.get_or_insert(position);
        self.last = position;
    }

    /// What the validator needs to know of the batch's stream.
    pub(crate) fn origin(&self) -> Origin<'_> {
        Origin {
            consortium: &self.stream.consortium,
            topic_event_type: self.topic_event_type.as_deref(),
        }
    }

    /// Validates one message and adds it to the batch.
    pub(crate) fn push(
        &mut self,
        validator: &Validator,
        value: &[u8],
        position: i64,
        now: DateTime<Utc>,
    ) {
        let validated = validator.validate(value, &self.origin());
        self.push_validated(validated, value, position, now);
    }

    /// Adds one message to the batch, given its validation against [`Self::origin`].
    pub(crate) fn push_validated(
        &mut self,
        validated: Result<Event, Rejection>,
        value: &[u8],
        position: i64,
        now: DateTime<Utc>,
    ) {
        if self.first.is_none() {
            self.opened = Instant::now();
        }
        self.cover(position);
        self.messages += 1;
        self.bytes += value.len();
        self.tally.messages += 1;
        match validated {
            Ok(_) if self.held.holds(Table::Events, position) => self.tally.already_stored += 1,
            Err(_) if self.held.holds(Table::Rejected, position) => {
                self.tally.already_stored += 1;
            }
            Ok(event) => {
                self.tally.stored += 1;
                self.events.push(&event, Position(position), now);
            }
            Err(rejection) => {
                self.tally.rejected[rejection.reason as usize] += 1;
                self.rejected
                    .push(&rejection, value, Position(position), now);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    pub(crate) fn is_full(&self, limits: &BatchLimits) -> bool {
        self.messages >= limits.max_messages || self.bytes >= limits.max_bytes
    }

    pub(crate) fn is_due(&self, limits: &BatchLimits) -> bool {
        !self.is_empty() && (self.is_full(limits) || self.opened.elapsed() >= limits.max_age)
    }

    /// How far the lake's tables hold the stream, as of this batch's last commit.
    pub(crate) fn held(&self) -> Positions {
        self.held
    }

    /// Bytes of message values held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Finishes the batch's columns for committing and starts the next batch of the stream,
    /// which expects the tables to hold the stream up to this one's last position once it is
    /// committed (if another writer's commit comes between, the next commit is refused as
    /// [`outcomes_lake::LakeError::SourceTaken`]).
    pub(crate) fn seal(&mut self) -> Result<Sealed, IngestError> {
        let (events, rejected) = self.finish()?;
        let sealed = Sealed {
            stream: self.stream.clone(),
            held: self.held,
            first: self.first.unwrap_or(self.last),
            last: self.last,
            events,
            rejected,
            tally: std::mem::take(&mut self.tally),
        };
        self.held = Positions {
            events: Some(self.last),
            rejected: Some(self.last),
        };
        self.first = None;
        self.bytes = 0;
        self.messages = 0;
        Ok(sealed)
    }
}

/// A batch's finished columns, to be committed to the lake: kept until a commit succeeds, so
/// that a commit that failed (a full or read-only disk) is repeated with the same rows.
pub(crate) struct Sealed {
    stream: Stream,
    /// How far each table held the stream when the batch was sealed; moved per table as
    /// its commit lands, so a repeated call does not commit a table twice.
    held: Positions,
    first: i64,
    last: i64,
    events: RecordBatch,
    rejected: Option<RecordBatch>,
    tally: Tally,
}

impl Sealed {
    /// The stream the batch belongs to.
    pub(crate) fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Commits the batch to the lake; returns what it did. A failed call can be repeated.
    pub(crate) async fn commit(&mut self, lake: &mut Lake) -> Result<Flushed, LakeError> {
        let committed = lake
            .commit(
                &self.stream,
                &mut self.held,
                self.last,
                &self.events,
                self.rejected.as_ref(),
            )
            .await?;
        self.log_commit(&committed);
        let mut tally = self.tally.clone();
        tally.files = committed.files.len() as u64;
        Ok(Flushed {
            tally,
            rejected: self.rejected.clone(),
            last: self.last,
        })
    }

    /// One line per committed batch, with its source position range and its files as fields
    /// (one JSON object's keys under `--log-format json`).
    fn log_commit(&self, committed: &Committed) {
        let (first, last) = (self.first, self.last);
        let consortium = self.stream.consortium.as_str();
        let version = |table| {
            committed
                .versions
                .iter()
                .find(|(t, _)| *t == table)
                .map(|(_, version)| *version)
        };
        let (events_version, rejected_version) = (version(Table::Events), version(Table::Rejected));
        let files = committed.files.join(",");
        match &self.stream.source {
            SourceId::Kafka { topic, partition } => info!(
                consortium,
                %topic,
                partition,
                first_offset = first,
                last_offset = last,
                events = committed.events,
                rejected = committed.rejected,
                events_version,
                rejected_version,
                %files,
                "batch committed"
            ),
            SourceId::File { name } => info!(
                consortium,
                source_file = %name,
                first_line = first,
                last_line = last,
                events = committed.events,
                rejected = committed.rejected,
                events_version,
                rejected_version,
                %files,
                "batch committed"
            ),
        }
    }
}

impl Batch {
    /// The builders' columns as record batches (the builders are left empty).
    fn finish(&mut self) -> Result<(RecordBatch, Option<RecordBatch>), IngestError> {
        let arrow = |source| IngestError::Arrow {
            source_name: self.stream.source.to_string(),
            source,
        };
        let events = self.events.finish(&self.stream).map_err(arrow)?;
        let rejected = if self.rejected.len() > 0 {
            Some(self.rejected.finish(&self.stream).map_err(arrow)?)
        } else {
            None
        };
        Ok((events, rejected))
    }
}

/// A committed batch.
pub(crate) struct Flushed {
    pub(crate) tally: Tally,
    /// The rejected rows, for the dead-letter topic.
    pub(crate) rejected: Option<RecordBatch>,
    /// The last position committed.
    pub(crate) last: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use outcomes_schemas::{ConsortiumId, Pseudonymizer};

    fn intake(n: u32) -> String {
        format!(
            r#"{{"event_id":"3f2b8c1e-5a4d-4e6f-9b7a-{n:012}","event_type":"intake","schema_version":1,"consortium_id":"north-shore","agency_id":"harbor-works","participant_id":"P-{n}","occurred_on":"2026-01-05","recorded_at":"2026-01-05T10:00:00Z","payload":{{"referral_source":"school"}}}}"#
        )
    }

    /// A full or read-only disk fails a commit; the retry must write the same rows, not the
    /// empty builders (found by bench/faults.py: the retry stored an empty file for the range).
    #[tokio::test]
    async fn a_commit_retried_after_a_failed_write_stores_every_row() {
        let root = tempfile::tempdir().unwrap();
        let location = outcomes_lake::Location::from(root.path());
        let mut lake = Lake::open(&location).await.unwrap();
        let validator = Validator::new(Pseudonymizer::demo());
        let stream = Stream {
            consortium: ConsortiumId::new("north-shore").unwrap(),
            source: SourceId::File {
                name: "feed.ndjson".into(),
            },
        };
        let mut batch = Batch::new(stream.clone(), Positions::default());
        for line in 1..=3 {
            batch.push(
                &validator,
                intake(line).as_bytes(),
                i64::from(line),
                Utc::now(),
            );
        }
        // The consortium's folder cannot be made: a file is in its place.
        let blocker = root.path().join("events").join("consortium_id=north-shore");
        std::fs::write(&blocker, b"").unwrap();
        let mut sealed = batch.seal().unwrap();
        assert!(sealed.commit(&mut lake).await.is_err());
        std::fs::remove_file(&blocker).unwrap();
        let flushed = sealed.commit(&mut lake).await.unwrap();
        assert_eq!((flushed.tally.stored, flushed.last), (3, 3));

        let files = lake.files(Table::Events).await.unwrap().files;
        assert_eq!(files.len(), 1, "{files:?}");
        let reader = parquet::file::reader::SerializedFileReader::new(
            std::fs::File::open(&files[0].location).unwrap(),
        )
        .unwrap();
        use parquet::file::reader::FileReader;
        assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
        let held = lake.positions(&stream).await.unwrap();
        assert_eq!((held.events, held.rejected), (Some(3), Some(3)));
    }

    /// After a crash between a batch's two commits the rejected table holds more of the
    /// source than the events table: the messages between are read again, and each goes only
    /// to the table that lacks it.
    #[test]
    fn each_table_drops_the_positions_it_holds() {
        let validator = Validator::new(Pseudonymizer::demo());
        let stream = Stream {
            consortium: ConsortiumId::new("north-shore").unwrap(),
            source: SourceId::File {
                name: "feed.ndjson".into(),
            },
        };
        let held = Positions {
            events: Some(1),
            rejected: Some(3),
        };
        let mut batch = Batch::new(stream, held);
        // Line 2 is valid, line 3 invalid (held by rejected), line 4 invalid (new).
        batch.push(&validator, intake(2).as_bytes(), 2, Utc::now());
        batch.push(&validator, b"{not json", 3, Utc::now());
        batch.push(&validator, b"{not json", 4, Utc::now());
        assert_eq!(batch.tally.stored, 1);
        assert_eq!(batch.tally.rejected_total(), 1);
        assert_eq!(batch.tally.already_stored, 1);
        let (events, rejected) = batch.finish().unwrap();
        assert_eq!(events.num_rows(), 1);
        assert_eq!(rejected.map(|r| r.num_rows()), Some(1));
    }
}
