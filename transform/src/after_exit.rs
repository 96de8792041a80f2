//! INDICATORS.md rule 1.6, **after exit** (version 2): for each exit, employment and earnings
//! in the 2nd and 4th calendar quarters after its exit quarter, and whether one employer has
//! evidence in both. Each sentence of the rule is one function below; [`per_exit`] puts them
//! together over the person's jobs and wage sums.
//!
//! Quarters are quarter indexes (`year * 4 + quarter - 1`), so "the n-th calendar quarter
//! after X" is `X + n`, across year ends.

use chrono::{Datelike, NaiveDate};
use outcomes_schemas::lake::col as event;
use outcomes_schemas::tables::columns as c;
use polars::prelude::*;

use crate::names::{EPISODE_NO, PERSON_CODE, packed, quarter_index};

/// The exit's quarter index (of `exit_on`).
const EXIT_Q: &str = "_exit_q";
/// A job's id within the run (`plan::Facts::jobs`).
const JOB: &str = "_job";
/// An exit, (person code, episode number) as one key ([`packed`]).
const EXIT: &str = "_exit";
/// A job and a quarter index as one key ([`packed`]).
const JOB_Q: &str = "_job_q";

/// The [`JOB_Q`] key of `quarter` for each row's job.
fn job_quarter(quarter: Expr) -> Expr {
    packed(col(JOB), quarter).alias(JOB_Q)
}

/// "A quarter [q0, q1] is observable when q1 <= D": the last observable quarter is D's own when
/// D is its last day, else the one before.
fn last_observable_quarter(as_of: NaiveDate) -> i32 {
    let quarter = as_of.year() * 4 + as_of.month0() as i32 / 3;
    let ends_quarter = as_of
        .succ_opt()
        .is_none_or(|next| next.month0() / 3 != as_of.month0() / 3);
    if ends_quarter { quarter } else { quarter - 1 }
}

/// "A job is active when `start_on <= q1` and (`end_on` null or `end_on >= q0`): one day is
/// enough." In quarters: it starts in or before the quarter and ends in or after it.
fn active_in(quarter: Expr) -> Expr {
    quarter_index(c::placements::START_ON)
        .lt_eq(quarter.clone())
        .and(
            col(c::placements::END_ON)
                .is_null()
                .or(quarter_index(c::placements::END_ON).gt_eq(quarter)),
        )
}

/// "The person is employed when a wage record in the quarter has `gross_wages > 0` or a job is
/// active"; an employer has evidence by the same test over its jobs. Wages are never negative
/// (EVENTS.md), so a quarter's sum is above 0 exactly when one of its records is.
fn evidence(active: Expr, earnings: Expr) -> Expr {
    active.or(earnings.gt(lit(0.0)))
}

/// The wage records of each job summed by the quarter they are *in*: "a wage record is in the
/// quarter when its `occurred_on` (= `period_end`) is in [q0, q1], wherever its
/// `period_start` falls, and also after its job's `end_on`". `wages` are the per-job monthly
/// sums of `plan::Facts::wages` (`_month` is the month index of `occurred_on`).
fn wages_by_quarter(wages: LazyFrame) -> LazyFrame {
    wages
        .group_by([job_quarter(col("_month").floor_div(lit(3)))])
        .agg([col(event::GROSS_WAGES).sum().alias("_earnings")])
}

/// For each (exit, job of the same person) pair: whether the job is evidence in quarter `n`
/// after the exit, and its wages in that quarter, as `_evidence_qn` and `_earnings_qn`.
fn job_in_quarter(pairs: LazyFrame, wages: LazyFrame, n: i32) -> LazyFrame {
    let quarter = col(EXIT_Q) + lit(n);
    let earnings = format!("_earnings_q{n}");
    pairs
        .with_column(job_quarter(quarter.clone()))
        .join(
            wages,
            [col(JOB_Q)],
            [col(JOB_Q)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("_earnings").fill_null(lit(0.0)).alias(&earnings),
            evidence(active_in(quarter), col("_earnings").fill_null(lit(0.0)))
                .alias(format!("_evidence_q{n}")),
        ])
        .drop(cols([JOB_Q, "_earnings"]))
}

/// Every exit (an episode with `exit_on`, "whatever its `exit_outcome`") with the person's
/// evidence: "every job of the same (`consortium_id`, `person_key`) from rule 5, of any episode
/// and any agency, and the wage records attached to them". `jobs` are rule 5's kept jobs and
/// `wages` their attached wage sums, so ignored placements and wages are no evidence.
///
/// Returns `_person, episode_no` with the five `episodes` columns of version 2 but
/// `exit_quarter`: `employed_q2, earnings_q2, employed_q4, same_employer_q4`.
pub(crate) fn per_exit(
    episodes: LazyFrame,
    jobs: LazyFrame,
    wages: LazyFrame,
    as_of: NaiveDate,
) -> LazyFrame {
    let exits = episodes
        .filter(col(c::episodes::EXIT_ON).is_not_null())
        .select([
            col(PERSON_CODE),
            col(EPISODE_NO),
            packed(col(PERSON_CODE), col(EPISODE_NO)).alias(EXIT),
            quarter_index(c::episodes::EXIT_ON).alias(EXIT_Q),
        ]);
    let jobs = jobs.select([
        col(PERSON_CODE),
        col(JOB),
        col(c::placements::EMPLOYER_KEY),
        col(c::placements::START_ON),
        col(c::placements::END_ON),
    ]);
    let wages = wages_by_quarter(wages).cache();
    let pairs = exits.clone().join(
        jobs,
        [col(PERSON_CODE)],
        [col(PERSON_CODE)],
        JoinArgs::new(JoinType::Inner),
    );
    let pairs = job_in_quarter(job_in_quarter(pairs, wages.clone(), 2), wages, 4).cache();
    let exit = [col(EXIT)];
    let employment = pairs.clone().group_by(exit.clone()).agg([
        col("_evidence_q2").any(true).alias("_employed_q2"),
        col("_earnings_q2").sum().alias("_earnings_q2"),
        col("_evidence_q4").any(true).alias("_employed_q4"),
    ]);
    let employers = same_employer(pairs);
    let left = || JoinArgs::new(JoinType::Left);
    exits
        .join(employment, exit.clone(), exit.clone(), left())
        .join(employers, exit.clone(), exit, left())
        .select(
            [col(PERSON_CODE), col(EPISODE_NO)]
                .into_iter()
                .chain(observed(last_observable_quarter(as_of)))
                .collect::<Vec<_>>(),
        )
}

/// The four columns from the evidence: "a measure of a quarter that is not observable is
/// null"; `earnings_q2` is null when `employed_q2` is, and `same_employer_q4` also when no
/// employer has evidence in quarter 2. An exit without jobs was not employed.
fn observed(last_observable: i32) -> [Expr; 4] {
    let observable = |n: i32| (col(EXIT_Q) + lit(n)).lt_eq(lit(last_observable));
    let or_null = |condition: Expr, value: Expr, dtype: DataType| {
        when(condition).then(value).otherwise(lit(NULL).cast(dtype))
    };
    [
        or_null(
            observable(2),
            col("_employed_q2").fill_null(lit(false)),
            DataType::Boolean,
        )
        .alias(c::episodes::EMPLOYED_Q2),
        or_null(
            observable(2),
            col("_earnings_q2").fill_null(lit(0.0)),
            DataType::Float64,
        )
        .alias(c::episodes::EARNINGS_Q2),
        or_null(
            observable(4),
            col("_employed_q4").fill_null(lit(false)),
            DataType::Boolean,
        )
        .alias(c::episodes::EMPLOYED_Q4),
        or_null(
            observable(4).and(col("_employer_q2").fill_null(lit(false))),
            col("_retained").fill_null(lit(false)),
            DataType::Boolean,
        )
        .alias(c::episodes::SAME_EMPLOYER_Q4),
    ]
}

/// "An employer (a non-null `employer_key`) has evidence when a job with that `employer_key` is
/// active, or has a wage record in the quarter with `gross_wages > 0`; a job without
/// `employer_key` is evidence of employment but of no employer. An exit is retained with the
/// same employer when one employer has evidence in both quarter 2 and quarter 4 after exit,
/// through one job or two jobs with that `employer_key`."
///
/// Returns per exit `_employer_q2` (some employer has evidence in quarter 2, the condition of
/// `same_employer_q4` being known) and `_retained`.
fn same_employer(pairs: LazyFrame) -> LazyFrame {
    let exit = [col(EXIT)];
    let by_employer = [col(EXIT), col(c::placements::EMPLOYER_KEY)];
    pairs
        .filter(col(c::placements::EMPLOYER_KEY).is_not_null())
        .group_by(by_employer)
        .agg([
            col("_evidence_q2").any(true).alias("_q2"),
            col("_evidence_q4").any(true).alias("_q4"),
        ])
        .group_by(exit)
        .agg([
            col("_q2").any(true).alias("_employer_q2"),
            col("_q2").and(col("_q4")).any(true).alias("_retained"),
        ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    /// 2026Q2 is quarter index 2026 * 4 + 1 = 8105: observable at D = 2026-06-30 (its last
    /// day), not at 2026-06-29; at 2026-07-01 the last observable is still 2026Q2.
    #[test]
    fn a_quarter_is_observable_from_its_last_day() {
        assert_eq!(last_observable_quarter(date("2026-06-30")), 8105);
        assert_eq!(last_observable_quarter(date("2026-06-29")), 8104);
        assert_eq!(last_observable_quarter(date("2026-07-01")), 8105);
        assert_eq!(last_observable_quarter(date("2026-12-31")), 8107);
    }
}
