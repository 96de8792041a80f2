//! The event lake's tables, declared once: column names, Arrow types and file names.
//!
//! Ingest writes these schemas and names and transform reads them, so a column or a name
//! format changed here is changed for both. `docs/LAKE.md` describes the same tables for
//! analysts.

use std::fmt;
use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// The lake format version, written into every file's metadata.
pub const LAKE_VERSION: &str = "1";

/// Folder of the `events` table under the lake root.
pub const EVENTS_TABLE: &str = "events";
/// Folder of the `rejected` table under the lake root.
pub const REJECTED_TABLE: &str = "rejected";

/// Parquet key-value metadata keys written on every lake file.
pub mod meta {
    /// The lake format version.
    pub const LAKE_VERSION: &str = "outcomes.lake_version";
    /// `events` or `rejected`.
    pub const TABLE: &str = "outcomes.table";
    /// The source's name (`kafka.<topic>.<partition>` or `file.<name>`).
    pub const SOURCE: &str = "outcomes.source";
    /// First offset or line held.
    pub const FIRST: &str = "outcomes.first";
    /// Last offset or line held.
    pub const LAST: &str = "outcomes.last";
}

/// Column names of the lake tables.
pub mod col {
    /// Event id (UUID text).
    pub const EVENT_ID: &str = "event_id";
    /// Event type.
    pub const EVENT_TYPE: &str = "event_type";
    /// Consortium id.
    pub const CONSORTIUM_ID: &str = "consortium_id";
    /// Agency id.
    pub const AGENCY_ID: &str = "agency_id";
    /// Pseudonymized person.
    pub const PERSON_KEY: &str = "person_key";
    /// Event date.
    pub const OCCURRED_ON: &str = "occurred_on";
    /// Knowledge time (UTC instant).
    pub const RECORDED_AT: &str = "recorded_at";
    /// Replaced event id.
    pub const SUPERSEDES: &str = "supersedes";
    /// Intake referral source.
    pub const REFERRAL_SOURCE: &str = "referral_source";
    /// Intake program.
    pub const PROGRAM: &str = "program";
    /// Assessment type.
    pub const ASSESSMENT_TYPE: &str = "assessment_type";
    /// Service type.
    pub const SERVICE_TYPE: &str = "service_type";
    /// Job id.
    pub const JOB_ID: &str = "job_id";
    /// Pseudonymized employer.
    pub const EMPLOYER_KEY: &str = "employer_key";
    /// Placement hourly wage.
    pub const HOURLY_WAGE: &str = "hourly_wage";
    /// Placement weekly hours.
    pub const HOURS_PER_WEEK: &str = "hours_per_week";
    /// Placement in competitive integrated employment.
    pub const COMPETITIVE_INTEGRATED: &str = "competitive_integrated";
    /// Placement occupation code.
    pub const OCCUPATION_CODE: &str = "occupation_code";
    /// Wage period start.
    pub const PERIOD_START: &str = "period_start";
    /// Wage period end.
    pub const PERIOD_END: &str = "period_end";
    /// Wage gross amount.
    pub const GROSS_WAGES: &str = "gross_wages";
    /// Wage hours.
    pub const HOURS_WORKED: &str = "hours_worked";
    /// Separation reason.
    pub const SEPARATION_REASON: &str = "separation_reason";
    /// Exit outcome.
    pub const EXIT_OUTCOME: &str = "exit_outcome";
    /// Retracted event id.
    pub const RETRACTED_EVENT_ID: &str = "retracted_event_id";
    /// Retraction reason.
    pub const RETRACTION_REASON: &str = "retraction_reason";
    /// [`KAFKA`](super::source_kind::KAFKA) or [`FILE`](super::source_kind::FILE).
    pub const SOURCE_KIND: &str = "source_kind";
    /// Kafka topic.
    pub const TOPIC: &str = "topic";
    /// Kafka partition.
    pub const PARTITION: &str = "partition";
    /// Kafka offset.
    pub const OFFSET: &str = "offset";
    /// NDJSON file name.
    pub const FILE_NAME: &str = "file_name";
    /// NDJSON line number (1-based).
    pub const LINE: &str = "line";
    /// Wall-clock time of ingestion.
    pub const INGESTED_AT: &str = "ingested_at";
    /// Rejection reason code.
    pub const REASON: &str = "reason";
    /// Rejection detail.
    pub const DETAIL: &str = "detail";
    /// Original message bytes.
    pub const RAW: &str = "raw";
}

/// The values of the `source_kind` column.
pub mod source_kind {
    /// The row came from a Kafka topic partition.
    pub const KAFKA: &str = "kafka";
    /// The row came from an NDJSON file.
    pub const FILE: &str = "file";
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn source_fields() -> [Field; 7] {
    [
        Field::new(col::SOURCE_KIND, DataType::Utf8, false),
        Field::new(col::TOPIC, DataType::Utf8, true),
        Field::new(col::PARTITION, DataType::Int32, true),
        Field::new(col::OFFSET, DataType::Int64, true),
        Field::new(col::FILE_NAME, DataType::Utf8, true),
        Field::new(col::LINE, DataType::Int64, true),
        Field::new(col::INGESTED_AT, timestamp(), false),
    ]
}

static EVENTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name| Field::new(name, DataType::Utf8, true);
    let number = |name| Field::new(name, DataType::Float64, true);
    let date = |name| Field::new(name, DataType::Date32, true);
    let mut fields = vec![
        Field::new(col::EVENT_ID, DataType::Utf8, false),
        Field::new(col::EVENT_TYPE, DataType::Utf8, false),
        Field::new(col::CONSORTIUM_ID, DataType::Utf8, false),
        Field::new(col::AGENCY_ID, DataType::Utf8, false),
        Field::new(col::PERSON_KEY, DataType::Utf8, false),
        Field::new(col::OCCURRED_ON, DataType::Date32, false),
        Field::new(col::RECORDED_AT, timestamp(), false),
        text(col::SUPERSEDES),
        text(col::REFERRAL_SOURCE),
        text(col::PROGRAM),
        text(col::ASSESSMENT_TYPE),
        text(col::SERVICE_TYPE),
        text(col::JOB_ID),
        text(col::EMPLOYER_KEY),
        number(col::HOURLY_WAGE),
        number(col::HOURS_PER_WEEK),
        Field::new(col::COMPETITIVE_INTEGRATED, DataType::Boolean, true),
        text(col::OCCUPATION_CODE),
        date(col::PERIOD_START),
        date(col::PERIOD_END),
        number(col::GROSS_WAGES),
        number(col::HOURS_WORKED),
        text(col::SEPARATION_REASON),
        text(col::EXIT_OUTCOME),
        text(col::RETRACTED_EVENT_ID),
        text(col::RETRACTION_REASON),
    ];
    fields.extend(source_fields());
    Arc::new(Schema::new(fields))
});

static REJECTED: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        Field::new(col::CONSORTIUM_ID, DataType::Utf8, false),
        Field::new(col::AGENCY_ID, DataType::Utf8, false),
        Field::new(col::REASON, DataType::Utf8, false),
        Field::new(col::DETAIL, DataType::Utf8, false),
        Field::new(col::RAW, DataType::Binary, false),
    ];
    fields.extend(source_fields());
    Arc::new(Schema::new(fields))
});

/// The Arrow schema of the `events` table.
pub fn events_schema() -> SchemaRef {
    Arc::clone(&EVENTS)
}

/// The Arrow schema of the `rejected` table.
pub fn rejected_schema() -> SchemaRef {
    Arc::clone(&REJECTED)
}

/// The columns that make up an event's content, for duplicate detection: everything but the
/// transport metadata.
pub fn content_columns() -> impl Iterator<Item = &'static str> {
    EVENTS
        .fields()
        .iter()
        .map(|field| field.name().as_str())
        .take_while(|name| *name != col::SOURCE_KIND)
}

/// One ordered stream of messages: a Kafka partition, or an NDJSON file of a consortium.
///
/// Positions (offsets, line numbers) are only comparable within one source, and the lake keeps
/// a watermark per source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceId {
    /// A Kafka topic partition.
    Kafka {
        /// Topic name.
        topic: String,
        /// Partition number.
        partition: i32,
    },
    /// An NDJSON file, identified by its file name within its consortium.
    File {
        /// The file name, without folders: the same name dropped again is the same source.
        name: String,
    },
}

/// What a source name may hold unencoded in a file name: letters, digits and `-_.`. Everything
/// else (`+`, which ends the name, `/`, spaces, non-ASCII) is percent-encoded.
const STEM_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

impl SourceId {
    /// The name used in lake file names: `kafka.<topic>.<partition>` or `file.<name>`, with
    /// characters outside `[A-Za-z0-9._-]` percent-encoded.
    pub fn file_stem(&self) -> String {
        match self {
            SourceId::Kafka { topic, partition } => {
                format!(
                    "kafka.{}.{partition}",
                    utf8_percent_encode(topic, STEM_ESCAPED)
                )
            }
            SourceId::File { name } => format!("file.{}", utf8_percent_encode(name, STEM_ESCAPED)),
        }
    }

    /// Reads back a name written by [`SourceId::file_stem`].
    pub fn from_file_stem(stem: &str) -> Option<Self> {
        let decode = |text: &str| {
            percent_decode_str(text)
                .decode_utf8()
                .ok()
                .map(String::from)
        };
        if let Some(rest) = stem.strip_prefix("kafka.") {
            let (topic, partition) = rest.rsplit_once('.')?;
            Some(SourceId::Kafka {
                topic: decode(topic)?,
                partition: partition.parse().ok()?,
            })
        } else {
            let name = decode(stem.strip_prefix("file.")?)?;
            Some(SourceId::File { name })
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::Kafka { topic, partition } => write!(f, "{topic}[{partition}]"),
            SourceId::File { name } => write!(f, "file {name}"),
        }
    }
}

/// The name of a committed lake file, `<source stem>+<first>-<last>.parquet`: the commit rule
/// of `docs/LAKE.md` reads what a file holds from its name alone. Positions are zero-padded to
/// 20 digits so that names sort in position order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The source whose messages the file holds.
    pub source: SourceId,
    /// First offset or line held.
    pub first: i64,
    /// Last offset or line held.
    pub last: i64,
}

impl FileName {
    /// Reads a name written by `Display`; `None` for anything else (temporary files, notes).
    pub fn parse(name: &str) -> Option<Self> {
        let base = name.strip_suffix(".parquet")?;
        let (stem, range) = base.rsplit_once('+')?;
        let (first, last) = range.split_once('-')?;
        Some(FileName {
            source: SourceId::from_file_stem(stem)?,
            first: first.parse().ok()?,
            last: last.parse().ok()?,
        })
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let FileName {
            source,
            first,
            last,
        } = self;
        write!(f, "{}+{first:020}-{last:020}.parquet", source.file_stem())
    }
}

/// The folder of a consortium's partition under a table: `consortium=<id>`.
pub const CONSORTIUM_PARTITION: &str = "consortium";
/// The folder of an ingest day under a consortium's partition: `ingest_date=<yyyy-mm-dd>`.
pub const INGEST_DATE_PARTITION: &str = "ingest_date";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_round_trip() {
        let sources = [
            SourceId::Kafka {
                topic: "outcomes.north-shore.intake".into(),
                partition: 7,
            },
            SourceId::File {
                name: "2026-11 intake+exits.ndjson".into(),
            },
            SourceId::File {
                name: "é+%.json".into(),
            },
        ];
        for source in sources {
            let stem = source.file_stem();
            assert!(!stem.contains('+') && !stem.contains('/'), "{stem}");
            assert_eq!(SourceId::from_file_stem(&stem), Some(source));
        }
        // Worked by hand: space is %20, `+` is %2B, `é` is the UTF-8 bytes C3 A9.
        let name = SourceId::File {
            name: "a b+é".into(),
        };
        assert_eq!(name.file_stem(), "file.a%20b%2B%C3%A9");
    }

    #[test]
    fn file_names_parse_back() {
        let name = FileName {
            source: SourceId::Kafka {
                topic: "outcomes.a.intake".into(),
                partition: 2,
            },
            first: 10,
            last: 99,
        };
        let text = name.to_string();
        assert_eq!(
            text,
            "kafka.outcomes.a.intake.2+00000000000000000010-00000000000000000099.parquet"
        );
        assert_eq!(FileName::parse(&text), Some(name));
        assert_eq!(FileName::parse(".x.parquet.tmp"), None);
        assert_eq!(FileName::parse("notes.txt"), None);
    }

    #[test]
    fn content_columns_stop_before_transport_metadata() {
        let content: Vec<_> = content_columns().collect();
        assert_eq!(content.first(), Some(&col::EVENT_ID));
        assert_eq!(content.last(), Some(&col::RETRACTION_REASON));
        assert_eq!(content.len() + 7, events_schema().fields().len());
    }
}
