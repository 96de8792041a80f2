//! The event lake's tables, declared once: column names and Arrow types.
//!
//! Ingest writes these schemas and transform reads them, so a column renamed here is renamed
//! for both. `docs/LAKE.md` describes the same tables for analysts.

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

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
    /// `kafka` or `file`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_columns_stop_before_transport_metadata() {
        let content: Vec<_> = content_columns().collect();
        assert_eq!(content.first(), Some(&col::EVENT_ID));
        assert_eq!(content.last(), Some(&col::RETRACTION_REASON));
        assert_eq!(content.len() + 7, events_schema().fields().len());
    }
}
