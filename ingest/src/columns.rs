//! Arrow column builders for the lake tables, filled one message at a time.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;
use chrono::{DateTime, NaiveDate, Utc};
use outcomes_schemas::{Event, Payload, Rejection, lake};

use crate::source::SourceId;

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

/// The transport columns shared by both tables.
struct SourceColumns {
    kind: StringBuilder,
    topic: StringBuilder,
    partition: Int32Builder,
    offset: Int64Builder,
    file_name: StringBuilder,
    line: Int64Builder,
    ingested_at: TimestampMicrosecondBuilder,
}

impl SourceColumns {
    fn new() -> Self {
        Self {
            kind: StringBuilder::new(),
            topic: StringBuilder::new(),
            partition: Int32Builder::new(),
            offset: Int64Builder::new(),
            file_name: StringBuilder::new(),
            line: Int64Builder::new(),
            ingested_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
        }
    }

    fn push(&mut self, source: &SourceId, position: Position, ingested_at: DateTime<Utc>) {
        match source {
            SourceId::Kafka { topic, partition } => {
                self.kind.append_value(lake::source_kind::KAFKA);
                self.topic.append_value(topic);
                self.partition.append_value(*partition);
                self.offset.append_value(position.0);
                self.file_name.append_null();
                self.line.append_null();
            }
            SourceId::File { name } => {
                self.kind.append_value(lake::source_kind::FILE);
                self.topic.append_null();
                self.partition.append_null();
                self.offset.append_null();
                self.file_name.append_value(name);
                self.line.append_value(position.0);
            }
        }
        self.ingested_at.append_value(micros(ingested_at));
    }

    fn finish(&mut self) -> [ArrayRef; 7] {
        [
            Arc::new(self.kind.finish()),
            Arc::new(self.topic.finish()),
            Arc::new(self.partition.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.file_name.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.ingested_at.finish()),
        ]
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
    consortium_id: StringBuilder,
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
            consortium_id: StringBuilder::new(),
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

    pub(crate) fn push(
        &mut self,
        event: &Event,
        source: &SourceId,
        position: Position,
        ingested_at: DateTime<Utc>,
    ) {
        self.event_id.append_value(event.event_id.as_str());
        self.event_type.append_value(event.event_type().as_str());
        self.consortium_id
            .append_value(event.consortium_id.as_str());
        self.agency_id.append_value(event.agency_id.as_str());
        self.person_key.append_value(event.person_key.as_str());
        self.occurred_on.append_value(date32(event.occurred_on));
        self.recorded_at
            .append_value(micros(event.recorded_at.with_timezone(&Utc)));
        self.supersedes
            .append_option(event.supersedes.as_ref().map(|id| id.as_str()));

        self.push_payload(&PayloadRow::of(&event.payload));
        self.source.push(source, position, ingested_at);
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

    /// The rows so far as a record batch of [`lake::events_schema`]; the builders start over.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.event_id.finish()),
            Arc::new(self.event_type.finish()),
            Arc::new(self.consortium_id.finish()),
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
        columns.extend(self.source.finish());
        RecordBatch::try_new(lake::events_schema(), columns)
    }
}

/// How much of a too-large message the rejected table keeps (its first bytes).
pub(crate) const RAW_PREFIX_BYTES: usize = 4096;

/// Rejected messages of one batch, column by column.
pub(crate) struct RejectedColumns {
    len: usize,
    consortium_id: StringBuilder,
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
            consortium_id: StringBuilder::new(),
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

    pub(crate) fn push(
        &mut self,
        consortium: &str,
        rejection: &Rejection,
        raw: &[u8],
        source: &SourceId,
        position: Position,
        ingested_at: DateTime<Utc>,
    ) {
        self.len += 1;
        self.consortium_id.append_value(consortium);
        self.agency_id.append_value(rejection.agency());
        self.reason.append_value(rejection.reason.code());
        self.detail.append_value(&rejection.detail);
        let kept = if raw.len() > outcomes_schemas::MAX_MESSAGE_BYTES {
            &raw[..RAW_PREFIX_BYTES]
        } else {
            raw
        };
        self.raw.append_value(kept);
        self.source.push(source, position, ingested_at);
    }

    /// The rows so far as a record batch of [`lake::rejected_schema`]; the builders start over.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        self.len = 0;
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.consortium_id.finish()),
            Arc::new(self.agency_id.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.detail.finish()),
            Arc::new(self.raw.finish()),
        ];
        columns.extend(self.source.finish());
        RecordBatch::try_new(lake::rejected_schema(), columns)
    }
}
