//! Column names shared by the transform steps, and small expression helpers.

use outcomes_schemas::EventType;
use polars::prelude::*;

/// `consortium_id`.
pub(crate) const CONSORTIUM: &str = "consortium_id";
/// `agency_id`.
pub(crate) const AGENCY: &str = "agency_id";
/// `person_key`.
pub(crate) const PERSON: &str = "person_key";
/// A person's number within one run (see `plan::Facts`).
pub(crate) const PERSON_CODE: &str = "_person";
/// `event_id`.
pub(crate) const EVENT_ID: &str = "event_id";
/// `event_type`.
pub(crate) const EVENT_TYPE: &str = "event_type";
/// `episode_no`.
pub(crate) const EPISODE_NO: &str = "episode_no";
/// `issue` (data quality).
pub(crate) const ISSUE: &str = "issue";
/// How many `data_quality` items a row of issues stands for.
pub(crate) const ITEMS: &str = "_items";
pub(crate) use outcomes_schemas::tables::ALL_AGENCIES as ALL;

/// Whether the row's `event_type` is `kind`.
pub(crate) fn is_type(kind: EventType) -> Expr {
    col(EVENT_TYPE).eq(lit(kind.as_str()))
}

/// Column expressions for a list of names.
pub(crate) fn key(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|name| col(*name)).collect()
}

/// A date column as days since 1970-01-01, for day arithmetic.
pub(crate) fn days(name: &str) -> Expr {
    col(name).cast(DataType::Int32)
}

/// Months as whole numbers (`year * 12 + month - 1`), so that rows group by an integer and
/// only the groups get a label.
pub(crate) fn month_index(name: &str) -> Expr {
    col(name).dt().year().cast(DataType::Int32) * lit(12)
        + col(name).dt().month().cast(DataType::Int32)
        - lit(1)
}
