//! Arrow column builders for the lake tables, filled one message at a time.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    PrimitiveBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::types::ArrowPrimitiveType;
use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, new_null_array};
use arrow_schema::{ArrowError, DataType};
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

/// A column most batches leave empty: a batch holds one topic's messages, and an event type
/// fills at most six of the eighteen payload columns. Until the column's first value a row
/// costs a count instead of a null appended to a builder: an offset and a validity bit per row
/// in each of a dozen empty columns.
struct Sparse<B> {
    builder: Option<B>,
    /// Rows before the first value.
    nulls: usize,
}

impl<B: Fill> Sparse<B> {
    fn new() -> Self {
        Self {
            builder: None,
            nulls: 0,
        }
    }

    fn append_option(&mut self, value: Option<B::Value<'_>>) {
        match (&mut self.builder, value) {
            (Some(builder), value) => builder.append(value),
            (None, None) => self.nulls += 1,
            (None, Some(value)) => {
                let mut builder = B::default();
                builder.append_nulls(std::mem::take(&mut self.nulls));
                builder.append(Some(value));
                self.builder = Some(builder);
            }
        }
    }

    /// The column so far; the column starts over empty.
    fn finish(&mut self) -> ArrayRef {
        match self.builder.take() {
            Some(mut builder) => builder.finish(),
            None => new_null_array(&B::data_type(), std::mem::take(&mut self.nulls)),
        }
    }
}

/// The builders of [`Sparse`] columns.
trait Fill: ArrayBuilder + Default {
    type Value<'a>;
    fn data_type() -> DataType;
    fn append(&mut self, value: Option<Self::Value<'_>>);
    fn append_nulls(&mut self, n: usize);
}

impl Fill for StringBuilder {
    type Value<'a> = &'a str;
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn append(&mut self, value: Option<&str>) {
        self.append_option(value);
    }
    fn append_nulls(&mut self, n: usize) {
        StringBuilder::append_nulls(self, n);
    }
}

impl<T: ArrowPrimitiveType> Fill for PrimitiveBuilder<T> {
    type Value<'a> = T::Native;
    fn data_type() -> DataType {
        T::DATA_TYPE
    }
    fn append(&mut self, value: Option<T::Native>) {
        self.append_option(value);
    }
    fn append_nulls(&mut self, n: usize) {
        PrimitiveBuilder::append_nulls(self, n);
    }
}

impl Fill for BooleanBuilder {
    type Value<'a> = bool;
    fn data_type() -> DataType {
        DataType::Boolean
    }
    fn append(&mut self, value: Option<bool>) {
        self.append_option(value);
    }
    fn append_nulls(&mut self, n: usize) {
        BooleanBuilder::append_nulls(self, n);
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
    supersedes: Sparse<StringBuilder>,
    referral_source: Sparse<StringBuilder>,
    program: Sparse<StringBuilder>,
    assessment_type: Sparse<StringBuilder>,
    service_type: Sparse<StringBuilder>,
    job_id: Sparse<StringBuilder>,
    employer_key: Sparse<StringBuilder>,
    hourly_wage: Sparse<Float64Builder>,
    hours_per_week: Sparse<Float64Builder>,
    competitive_integrated: Sparse<BooleanBuilder>,
    occupation_code: Sparse<StringBuilder>,
    period_start: Sparse<Date32Builder>,
    period_end: Sparse<Date32Builder>,
    gross_wages: Sparse<Float64Builder>,
    hours_worked: Sparse<Float64Builder>,
    separation_reason: Sparse<StringBuilder>,
    exit_outcome: Sparse<StringBuilder>,
    retracted_event_id: Sparse<StringBuilder>,
    retraction_reason: Sparse<StringBuilder>,
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
            supersedes: Sparse::new(),
            referral_source: Sparse::new(),
            program: Sparse::new(),
            assessment_type: Sparse::new(),
            service_type: Sparse::new(),
            job_id: Sparse::new(),
            employer_key: Sparse::new(),
            hourly_wage: Sparse::new(),
            hours_per_week: Sparse::new(),
            competitive_integrated: Sparse::new(),
            occupation_code: Sparse::new(),
            period_start: Sparse::new(),
            period_end: Sparse::new(),
            gross_wages: Sparse::new(),
            hours_worked: Sparse::new(),
            separation_reason: Sparse::new(),
            exit_outcome: Sparse::new(),
            retracted_event_id: Sparse::new(),
            retraction_reason: Sparse::new(),
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
            self.supersedes.finish(),
            self.referral_source.finish(),
            self.program.finish(),
            self.assessment_type.finish(),
            self.service_type.finish(),
            self.job_id.finish(),
            self.employer_key.finish(),
            self.hourly_wage.finish(),
            self.hours_per_week.finish(),
            self.competitive_integrated.finish(),
            self.occupation_code.finish(),
            self.period_start.finish(),
            self.period_end.finish(),
            self.gross_wages.finish(),
            self.hours_worked.finish(),
            self.separation_reason.finish(),
            self.exit_outcome.finish(),
            self.retracted_event_id.finish(),
            self.retraction_reason.finish(),
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

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray as _;
    use arrow_array::types::Float64Type;
    use arrow_array::{Array as _, StringArray};

    use super::*;

    #[test]
    fn an_untouched_sparse_column_is_all_null_of_its_type() {
        let mut column = Sparse::<Float64Builder>::new();
        for _ in 0..3 {
            column.append_option(None);
        }
        let array = column.finish();
        assert_eq!(array.data_type(), &DataType::Float64);
        assert_eq!((array.len(), array.null_count()), (3, 3));
    }

    #[test]
    fn a_sparse_column_keeps_the_nulls_before_its_first_value_and_starts_over() {
        let mut column = Sparse::<StringBuilder>::new();
        for value in [None, None, Some("a"), None, Some("b")] {
            column.append_option(value);
        }
        let array = column.finish();
        let expected = StringArray::from(vec![None, None, Some("a"), None, Some("b")]);
        assert_eq!(array.as_string::<i32>(), &expected);

        column.append_option(Some("c"));
        let next = column.finish();
        assert_eq!(next.as_string::<i32>(), &StringArray::from(vec!["c"]));
        let mut numbers = Sparse::<Float64Builder>::new();
        numbers.append_option(None);
        numbers.append_option(Some(1.5));
        let numbers = numbers.finish();
        let numbers = numbers.as_primitive::<Float64Type>();
        assert!(numbers.is_null(0));
        assert_eq!(numbers.value(1), 1.5);
    }
}
