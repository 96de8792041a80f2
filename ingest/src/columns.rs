//! Arrow column builders for the lake tables, filled one message at a time.

use std::sync::Arc;

use arrow_array::builder::ArrayBuilder as _;
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use chrono::{DateTime, NaiveDate, Utc};
use outcomes_schemas::{Event, Payload, Rejection, lake};

use crate::source::{SourceId, Stream};

/// Where one message sat in its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position(pub i64);

/// Days since 1970-01-01, Arrow's Date32.
fn date32(date: NaiveDate) -> i32 {
    // Dates come from four-digit years, so the day count always fits in i32.
    let days = (date - NaiveDate::default()).num_days();
    i32::try_from(days).unwrap_or(i32::MAX)
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The transport columns shared by both tables. A batch is one stream's, so only a row's
/// position and time are kept per row; the stream's columns (kind, topic and partition, or file
/// name) are the same in every row and are made once, when the batch is finished.
struct SourceColumns {
    position: Int64Builder,
    ingested_at: TimestampMicrosecondBuilder,
}

impl SourceColumns {
    fn new() -> Self {
        Self {
            position: Int64Builder::new(),
            ingested_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
        }
    }

    fn push(&mut self, position: Position, ingested_at: DateTime<Utc>) {
        self.position.append_value(position.0);
        self.ingested_at.append_value(micros(ingested_at));
    }

    /// `kind`, `topic`, `partition`, `offset`, `file_name`, `line`, `ingested_at` of `rows`
    /// rows of `source`.
    fn finish(&mut self, source: &SourceId, rows: usize) -> [ArrayRef; 7] {
        let text = |value: &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                value, rows,
            )))
        };
        let no_text = || -> ArrayRef { Arc::new(StringArray::new_null(rows)) };
        let no_number = || -> ArrayRef { Arc::new(Int64Array::new_null(rows)) };
        let positions: ArrayRef = Arc::new(self.position.finish());
        let ingested_at: ArrayRef = Arc::new(self.ingested_at.finish());
        match source {
            SourceId::Kafka { topic, partition } => [
                text(lake::source_kind::KAFKA),
                text(topic),
                Arc::new(Int32Array::from_value(*partition, rows)),
                positions,
                no_text(),
                no_number(),
                ingested_at,
            ],
            SourceId::File { name } => [
                text(lake::source_kind::FILE),
                no_text(),
                Arc::new(Int32Array::new_null(rows)),
                no_number(),
                text(name),
                positions,
                ingested_at,
            ],
        }
    }
}

/// The payload columns of one event: each field its payload type has, the others null.
#[derive(Default)]
struct PayloadRow<'a> {
    referral_source: Option<&'a str>,
    program: Option<&'a str>,
    assessment_type: Option<&'a str>,
    service_type: Option<&'a str>,
    job_id: Option<&'a str>,
    employer_key: Option<&'a str>,
    hourly_wage: Option<f64>,
    hours_per_week: Option<f64>,
    competitive_integrated: Option<bool>,
    occupation_code: Option<&'a str>,
    period_start: Option<i32>,
    period_end: Option<i32>,
    gross_wages: Option<f64>,
    hours_worked: Option<f64>,
    separation_reason: Option<&'a str>,
    exit_outcome: Option<&'a str>,
    retracted_event_id: Option<&'a str>,
    retraction_reason: Option<&'a str>,
}

impl<'a> PayloadRow<'a> {
    fn of(payload: &'a Payload) -> Self {
        match payload {
            Payload::Intake {
                referral_source,
                program,
            } => Self {
                referral_source: referral_source.as_deref(),
                program: program.as_deref(),
                ..Self::default()
            },
            Payload::Assessment { assessment_type } => Self {
                assessment_type: Some(assessment_type.as_str()),
                ..Self::default()
            },
            Payload::Service { service_type } => Self {
                service_type: Some(service_type.as_str()),
                ..Self::default()
            },
            Payload::Placement(placement) => Self {
                job_id: Some(placement.job_id.as_str()),
                employer_key: placement.employer_key.as_ref().map(|key| key.as_str()),
                hourly_wage: Some(placement.hourly_wage),
                hours_per_week: Some(placement.hours_per_week),
                competitive_integrated: Some(placement.competitive_integrated),
                occupation_code: placement.occupation_code.as_deref(),
                ..Self::default()
            },
            Payload::Wage(wage) => Self {
                job_id: Some(wage.job_id.as_str()),
                period_start: Some(date32(wage.period_start)),
                period_end: Some(date32(wage.period_end)),
                gross_wages: Some(wage.gross_wages),
                hours_worked: Some(wage.hours_worked),
                ..Self::default()
            },
            Payload::Separation { job_id, reason } => Self {
                job_id: Some(job_id.as_str()),
                separation_reason: Some(reason.as_str()),
                ..Self::default()
            },
            Payload::Exit { outcome } => Self {
                exit_outcome: Some(outcome.as_str()),
                ..Self::default()
            },
            Payload::Retraction {
                retracted_event_id,
                reason,
            } => Self {
                retracted_event_id: Some(retracted_event_id.as_str()),
                retraction_reason: reason.as_deref(),
                ..Self::default()
            },
        }
    }
}

/// Accepted events of one batch, column by column.
pub(crate) struct EventColumns {
    event_id: StringBuilder,
    event_type: StringBuilder,
    agency_id: StringBuilder,
    person_key: StringBuilder,
    occurred_on: Date32Builder,
    recorded_at: TimestampMicrosecondBuilder,
    supersedes: StringBuilder,
    referral_source: StringBuilder,
    program: StringBuilder,
    assessment_type: StringBuilder,
    service_type: StringBuilder,
    job_id: StringBuilder,
    employer_key: StringBuilder,
    hourly_wage: Float64Builder,
    hours_per_week: Float64Builder,
    competitive_integrated: BooleanBuilder,
    occupation_code: StringBuilder,
    period_start: Date32Builder,
    period_end: Date32Builder,
    gross_wages: Float64Builder,
    hours_worked: Float64Builder,
    separation_reason: StringBuilder,
    exit_outcome: StringBuilder,
    retracted_event_id: StringBuilder,
    retraction_reason: StringBuilder,
    source: SourceColumns,
}

impl EventColumns {
    pub(crate) fn new() -> Self {
        Self {
            event_id: StringBuilder::new(),
            event_type: StringBuilder::new(),
            agency_id: StringBuilder::new(),
            person_key: StringBuilder::new(),
            occurred_on: Date32Builder::new(),
            recorded_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            supersedes: StringBuilder::new(),
            referral_source: StringBuilder::new(),
            program: StringBuilder::new(),
            assessment_type: StringBuilder::new(),
            service_type: StringBuilder::new(),
            job_id: StringBuilder::new(),
            employer_key: StringBuilder::new(),
            hourly_wage: Float64Builder::new(),
            hours_per_week: Float64Builder::new(),
            competitive_integrated: BooleanBuilder::new(),
            occupation_code: StringBuilder::new(),
            period_start: Date32Builder::new(),
            period_end: Date32Builder::new(),
            gross_wages: Float64Builder::new(),
            hours_worked: Float64Builder::new(),
            separation_reason: StringBuilder::new(),
            exit_outcome: StringBuilder::new(),
            retracted_event_id: StringBuilder::new(),
            retraction_reason: StringBuilder::new(),
            source: SourceColumns::new(),
        }
    }

    /// Adds an event of the batch's stream (whose consortium it has: an event of another is
    /// rejected as `consortium_mismatch`).
    pub(crate) fn push(&mut self, event: &Event, position: Position, ingested_at: DateTime<Utc>) {
        self.event_id.append_value(event.event_id.as_str());
        self.event_type.append_value(event.event_type().as_str());
        self.agency_id.append_value(event.agency_id.as_str());
        self.person_key.append_value(event.person_key.as_str());
        self.occurred_on.append_value(date32(event.occurred_on));
        self.recorded_at
            .append_value(micros(event.recorded_at.with_timezone(&Utc)));
        self.supersedes
            .append_option(event.supersedes.as_ref().map(|id| id.as_str()));

        self.push_payload(&PayloadRow::of(&event.payload));
        self.source.push(position, ingested_at);
    }

    fn push_payload(&mut self, row: &PayloadRow<'_>) {
        self.referral_source.append_option(row.referral_source);
        self.program.append_option(row.program);
        self.assessment_type.append_option(row.assessment_type);
        self.service_type.append_option(row.service_type);
        self.job_id.append_option(row.job_id);
        self.employer_key.append_option(row.employer_key);
        self.hourly_wage.append_option(row.hourly_wage);
        self.hours_per_week.append_option(row.hours_per_week);
        self.competitive_integrated
            .append_option(row.competitive_integrated);
        self.occupation_code.append_option(row.occupation_code);
        self.period_start.append_option(row.period_start);
        self.period_end.append_option(row.period_end);
        self.gross_wages.append_option(row.gross_wages);
        self.hours_worked.append_option(row.hours_worked);
        self.separation_reason.append_option(row.separation_reason);
        self.exit_outcome.append_option(row.exit_outcome);
        self.retracted_event_id
            .append_option(row.retracted_event_id);
        self.retraction_reason.append_option(row.retraction_reason);
    }

    /// The rows so far, of `stream`, as a record batch of [`lake::events_schema`]; the
    /// builders start over.
    pub(crate) fn finish(&mut self, stream: &Stream) -> Result<RecordBatch, ArrowError> {
        let rows = self.event_id.len();
        let consortium = std::iter::repeat_n(stream.consortium.as_str(), rows);
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.event_id.finish()),
            Arc::new(self.event_type.finish()),
            Arc::new(StringArray::from_iter_values(consortium)),
            Arc::new(self.agency_id.finish()),
            Arc::new(self.person_key.finish()),
            Arc::new(self.occurred_on.finish()),
            Arc::new(self.recorded_at.finish()),
            Arc::new(self.supersedes.finish()),
            Arc::new(self.referral_source.finish()),
            Arc::new(self.program.finish()),
            Arc::new(self.assessment_type.finish()),
            Arc::new(self.service_type.finish()),
            Arc::new(self.job_id.finish()),
            Arc::new(self.employer_key.finish()),
            Arc::new(self.hourly_wage.finish()),
            Arc::new(self.hours_per_week.finish()),
            Arc::new(self.competitive_integrated.finish()),
            Arc::new(self.occupation_code.finish()),
            Arc::new(self.period_start.finish()),
            Arc::new(self.period_end.finish()),
            Arc::new(self.gross_wages.finish()),
            Arc::new(self.hours_worked.finish()),
            Arc::new(self.separation_reason.finish()),
            Arc::new(self.exit_outcome.finish()),
            Arc::new(self.retracted_event_id.finish()),
            Arc::new(self.retraction_reason.finish()),
        ];
        columns.extend(self.source.finish(&stream.source, rows));
        RecordBatch::try_new(lake::events_schema(), columns)
    }
}

/// How much of a too-large message the rejected table keeps (its first bytes).
pub(crate) const RAW_PREFIX_BYTES: usize = 4096;

/// Rejected messages of one batch, column by column.
pub(crate) struct RejectedColumns {
    len: usize,
    agency_id: StringBuilder,
    reason: StringBuilder,
    detail: StringBuilder,
    raw: BinaryBuilder,
    source: SourceColumns,
}

impl RejectedColumns {
    pub(crate) fn new() -> Self {
        Self {
            len: 0,
            agency_id: StringBuilder::new(),
            reason: StringBuilder::new(),
            detail: StringBuilder::new(),
            raw: BinaryBuilder::new(),
            source: SourceColumns::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a rejected message of the batch's stream, filed under the stream's consortium.
    pub(crate) fn push(
        &mut self,
        rejection: &Rejection,
        raw: &[u8],
        position: Position,
        ingested_at: DateTime<Utc>,
    ) {
        self.len += 1;
        self.agency_id.append_value(rejection.agency());
        self.reason.append_value(rejection.reason.code());
        self.detail.append_value(&rejection.detail);
        let kept = if raw.len() > outcomes_schemas::MAX_MESSAGE_BYTES {
            &raw[..RAW_PREFIX_BYTES]
        } else {
            raw
        };
        self.raw.append_value(kept);
        self.source.push(position, ingested_at);
    }

    /// The rows so far, of `stream`, as a record batch of [`lake::rejected_schema`]; the
    /// builders start over.
    pub(crate) fn finish(&mut self, stream: &Stream) -> Result<RecordBatch, ArrowError> {
        let rows = std::mem::take(&mut self.len);
        let consortium = std::iter::repeat_n(stream.consortium.as_str(), rows);
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(consortium)),
            Arc::new(self.agency_id.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.detail.finish()),
            Arc::new(self.raw.finish()),
        ];
        columns.extend(self.source.finish(&stream.source, rows));
        RecordBatch::try_new(lake::rejected_schema(), columns)
    }
}
