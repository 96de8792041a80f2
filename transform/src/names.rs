//! Short names for the columns every transform step uses (from the lake's and the tables'
//! contracts), and small expression helpers.

use outcomes_schemas::EventType;
use outcomes_schemas::lake::col as event;
use outcomes_schemas::tables::columns::{data_quality, episodes};
use polars::prelude::*;

/// `consortium_id`.
pub(crate) const CONSORTIUM: &str = event::CONSORTIUM_ID;
/// `agency_id`.
pub(crate) const AGENCY: &str = event::AGENCY_ID;
/// `person_key`.
pub(crate) const PERSON: &str = event::PERSON_KEY;
/// A person's number within one run (see `plan::Facts`).
pub(crate) const PERSON_CODE: &str = "_person";
/// `event_id`.
pub(crate) const EVENT_ID: &str = event::EVENT_ID;
/// `event_type`.
pub(crate) const EVENT_TYPE: &str = event::EVENT_TYPE;
/// `episode_no`.
pub(crate) const EPISODE_NO: &str = episodes::EPISODE_NO;
/// `issue` (data quality).
pub(crate) const ISSUE: &str = data_quality::ISSUE;
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

/// Quarters as whole numbers (`year * 4 + quarter - 1`): the n-th quarter after X is X + n,
/// across year ends.
pub(crate) fn quarter_index(name: &str) -> Expr {
    month_index(name).floor_div(lit(3))
}
