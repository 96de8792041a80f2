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

/// The event type as a small code, its position in [`EventType::ALL`]: what the walk reads in
/// place of `event_type`, whose text takes 16 bytes a row in memory. (Two bytes: the build
/// has Polars' 16-bit integers, not its 8-bit ones.)
pub(crate) const KIND: &str = "_kind";

fn code_of(kind: EventType) -> i16 {
    let at = EventType::ALL.iter().position(|&listed| listed == kind);
    at.map_or(i16::MAX, |at| at as i16)
}

/// [`KIND`] computed from `event_type` (null for a text outside the contract).
pub(crate) fn kind_code() -> Expr {
    col(EVENT_TYPE)
        .map(
            |types| {
                let codes: Int16Chunked = (types.str()?.iter())
                    .map(|text| text.and_then(EventType::parse).map(code_of))
                    .collect();
                Ok(codes.with_name(KIND.into()).into_column())
            },
            |_, _| Ok(Field::new(KIND.into(), DataType::Int16)),
        )
        .alias(KIND)
}

/// Whether the row's [`KIND`] is one of `types`.
pub(crate) fn kind_in(types: &[EventType]) -> Expr {
    let codes = types.iter().map(|&kind| code_of(kind));
    codes.fold(lit(false), |any, code| any.or(col(KIND).eq(lit(code))))
}

/// The event types of a frame's [`KIND`] column.
pub(crate) fn kinds(frame: &DataFrame) -> PolarsResult<Vec<Option<EventType>>> {
    let codes = frame.column(KIND)?.i16()?;
    let kind = |code: i16| EventType::ALL.get(usize::try_from(code).ok()?).copied();
    Ok(codes.iter().map(|code| code.and_then(kind)).collect())
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
///
/// From the day number by integer arithmetic ([`month_of_day`]): Polars' `dt().year()` and
/// `dt().month()` convert every date through chrono, twice, which was 2 % of a 10M-event
/// run's samples (the month of each wage record) and 6 % of the tables'.
pub(crate) fn month_index(name: &str) -> Expr {
    days(name).map(
        |days| Ok(days.i32()?.apply_values(month_of_day).into_column()),
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int32)),
    )
}

/// The month index (`year * 12 + month - 1`) of a day number (days since 1970-01-01), in the
/// proleptic Gregorian calendar: Howard Hinnant's `civil_from_days`, which counts from
/// 0000-03-01 in 400-year eras so that the leap day ends each counted year.
fn month_of_day(days: i32) -> i32 {
    let shifted = i64::from(days) + 719_468; // days since 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March .. 11 = February
    let year = era * 400 + year_of_era + i64::from(month_from_march >= 10);
    let month0 = (month_from_march + 2) % 12; // 0 = January
    // Any i32 day number is within ±5.9 million years: its month index fits in an i32.
    i32::try_from(year * 12 + month0).unwrap_or(i32::MAX)
}

/// Two non-negative integer columns below 2^32 as one `UInt64` key, `high * 2^32 + low`, in
/// the order of the pair: Polars joins and groups on one integer column directly, where a key
/// of several columns costs it a row encoding of every row's key (at 10M events, the
/// after-exit evidence took 0.74 s on two-column keys).
pub(crate) fn packed(high: Expr, low: Expr) -> Expr {
    high.cast(DataType::UInt64) * lit(1u64 << 32)
        + low.cast(DataType::UInt32).cast(DataType::UInt64)
}

/// Quarters as whole numbers (`year * 4 + quarter - 1`): the n-th quarter after X is X + n,
/// across year ends.
pub(crate) fn quarter_index(name: &str) -> Expr {
    month_index(name).floor_div(lit(3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    /// Every day from 1600 to 2400 (leap centuries, 1970, month ends) against chrono's calendar.
    #[test]
    fn month_of_day_agrees_with_the_calendar() {
        let epoch = NaiveDate::default();
        let mut date = NaiveDate::from_ymd_opt(1600, 1, 1).unwrap_or(epoch);
        while date.year() < 2400 {
            let days = i32::try_from((date - epoch).num_days()).unwrap_or(i32::MAX);
            let expected = date.year() * 12 + date.month0() as i32;
            assert_eq!(month_of_day(days), expected, "{date}");
            date = date.succ_opt().unwrap_or(date);
        }
    }
}
