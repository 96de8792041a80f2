//! INDICATORS.md section 3 as a table. `measures` holds every value of the indicator snapshot,
//! as of D, for every agency that owns an episode or a job (and `ALL`), for every month and
//! every quarter from the consortium's first period with data through the period of D, with
//! the number of items behind each median, rate and sum. The report only picks a period's rows,
//! suppresses and renders: this module is the one place section 3 is computed.
//!
//! Each function below implements one numbered item of section 3 as a grouping of one table by
//! the period its defining date falls in; [`build`] joins them onto the period grid.

use chrono::{Datelike, NaiveDate};
use outcomes_schemas::lake::col as event;
use outcomes_schemas::tables::columns as c;
use outcomes_schemas::tables::{PeriodKind, Table};
use polars::lazy::dsl;
use polars::prelude::*;

use crate::config::Config;
use crate::names::{
    AGENCY, ALL, CONSORTIUM, PERSON, PERSON_CODE, days, key, month_index, quarter_index,
};
use crate::tables::{
    after_exit_q2_counts, after_exit_q4_counts, after_exit_rates, count, group_with_all, median_of,
    month_label_of, quarter_label_of, rate,
};

/// The period a row falls in, as a month or quarter index (see [`index_of`]).
const PERIOD: &str = "_period";
/// What every part is grouped and joined by.
const PERIOD_KEY: [&str; 3] = [CONSORTIUM, AGENCY, PERIOD];

/// The period index of the date column `name`: `year * 12 + month - 1` for months,
/// `year * 4 + quarter - 1` for quarters.
fn index_of(kind: PeriodKind, name: &str) -> Expr {
    match kind {
        PeriodKind::Month => month_index(name),
        PeriodKind::Quarter => month_index(name).floor_div(lit(3)),
    }
}

/// The period index of D.
fn index_of_date(kind: PeriodKind, date: NaiveDate) -> i32 {
    let month = date.year() * 12 + date.month0() as i32;
    match kind {
        PeriodKind::Month => month,
        PeriodKind::Quarter => month.div_euclid(3),
    }
}

fn label_of(kind: PeriodKind, index: Expr) -> Expr {
    match kind {
        PeriodKind::Month => month_label_of(index),
        PeriodKind::Quarter => quarter_label_of(index),
    }
}

/// The period index of a wage sum's month (`_month`, a month index).
fn wage_period(kind: PeriodKind) -> Expr {
    let month = col("_month").cast(DataType::Int32);
    match kind {
        PeriodKind::Month => month,
        PeriodKind::Quarter => month.floor_div(lit(3)),
    }
}

/// A day number (days since 1970-01-01) back as a date column, for [`index_of`].
fn as_date(day: Expr, name: &str) -> Expr {
    day.cast(DataType::Date).alias(name)
}

/// The tables `measures` is computed from: `episodes` and `placements` as written, and the
/// wage records summed per job and month (`plan::Facts::wages`).
pub(crate) struct Sources {
    /// The `episodes` table.
    pub(crate) episodes: LazyFrame,
    /// The `placements` table.
    pub(crate) placements: LazyFrame,
    /// Wage sums per job and month: `consortium_id, agency_id, _person, _month, gross_wages`.
    pub(crate) wages: LazyFrame,
}

/// The `measures` table, lazily: months, then quarters.
pub(crate) fn build(
    sources: &Sources,
    as_of: NaiveDate,
    config: &Config,
) -> PolarsResult<LazyFrame> {
    let frames = [PeriodKind::Month, PeriodKind::Quarter]
        .into_iter()
        .map(|kind| by_period(kind, sources, as_of, config))
        .collect::<PolarsResult<Vec<_>>>()?;
    concat(frames, UnionArgs::default())
}

/// The counts and item counts of the parts, 0 where nothing falls in a period.
const ZERO_FILLED: [&str; 25] = [
    c::measures::INTAKES,
    c::measures::MEDIAN_DAYS_TO_SERVICE_ITEMS,
    c::measures::SERVED_WITHIN_30D_RATE_ITEMS,
    "_served_within_30d",
    c::measures::FIRST_PLACEMENTS,
    c::measures::MEDIAN_DAYS_TO_PLACEMENT_ITEMS,
    c::measures::PLACED_OVER_45D,
    c::measures::ASSESSED,
    c::measures::ASSESSED_NOT_PLACED,
    "_stalled_from",
    "_stalled_after",
    c::measures::PERSONS_PLACED,
    c::measures::PLACEMENTS,
    c::measures::MEDIAN_HOURLY_WAGE_ITEMS,
    "_at_or_above_wage_floor",
    c::measures::WAGES_REPORTED_ITEMS,
    c::measures::FIRST_JOBS_DUE_90D,
    c::measures::RETAINED_90D,
    c::measures::PERSONS_MOVED_TO_SUBSEQUENT,
    c::measures::ELIGIBLE_Q2,
    c::measures::EMPLOYED_Q2,
    c::measures::ELIGIBLE_Q4,
    c::measures::EMPLOYED_Q4,
    c::measures::EMPLOYED_Q2_WITH_EMPLOYER,
    c::measures::RETAINED_SAME_EMPLOYER,
];

/// One cadence: the period grid with every item of section 3 joined on.
fn by_period(
    kind: PeriodKind,
    sources: &Sources,
    as_of: NaiveDate,
    config: &Config,
) -> PolarsResult<LazyFrame> {
    let as_of_days = (as_of - NaiveDate::default()).num_days() as i32;
    let episodes = &sources.episodes;
    let placements = &sources.placements;
    let parts = [
        intake_cohort(kind, episodes.clone(), as_of_days)?,
        first_placements(kind, episodes.clone())?,
        assessed(kind, episodes.clone())?,
        stalled_changes(kind, episodes.clone(), as_of, as_of_days)?,
        jobs_starting(kind, placements.clone(), config)?,
        wages_reported(kind, sources.wages.clone())?,
        first_jobs_due(kind, placements.clone(), as_of_days)?,
    ];
    let mut frame = grid(kind, sources, as_of)?;
    for part in parts {
        frame = frame.join(
            part,
            key(&PERIOD_KEY),
            key(&PERIOD_KEY),
            JoinArgs::new(JoinType::Left),
        );
    }
    let frame = after_exit(kind, frame, episodes.clone())?;
    finish(kind, frame, config)
}

/// The joined parts' counts filled, the values derived from them (rates, `still_waiting`,
/// `action_needed`, the running `stalled_90d`), labelled and in the contract's order.
fn finish(kind: PeriodKind, frame: LazyFrame, config: &Config) -> PolarsResult<LazyFrame> {
    let mut derived = derived_1_to_5()?;
    // 6: "each as in `after_exit`", whose counts and rates have the same names here.
    derived.extend(after_exit_rates());
    derived.extend([
        col(c::measures::ELIGIBLE_Q2).alias(c::measures::EMPLOYMENT_RATE_Q2_ITEMS),
        col(c::measures::EMPLOYED_Q2).alias(c::measures::MEDIAN_EARNINGS_Q2_ITEMS),
        col(c::measures::ELIGIBLE_Q4).alias(c::measures::EMPLOYMENT_RATE_Q4_ITEMS),
        col(c::measures::EMPLOYED_Q2_WITH_EMPLOYER).alias(c::measures::SAME_EMPLOYER_RATE_ITEMS),
        config
            .wage_floor_expr(col(CONSORTIUM))
            .alias(c::measures::WAGE_FLOOR),
    ]);
    Ok(frame
        .with_columns(
            ZERO_FILLED
                .iter()
                .map(|name| col(*name).fill_null(lit(0i64)))
                .chain([col(c::measures::WAGES_REPORTED).fill_null(lit(0.0))])
                .collect::<Vec<_>>(),
        )
        .sort(PERIOD_KEY.to_vec(), SortMultipleOptions::default())
        .with_columns(derived)
        .select(
            [
                col(CONSORTIUM),
                col(AGENCY),
                lit(kind.name()).alias(c::measures::PERIOD_KIND),
                label_of(kind, col(PERIOD)).alias(c::measures::PERIOD),
            ]
            .into_iter()
            .chain(
                Table::Measures.columns()[4..]
                    .iter()
                    .map(|column| col(column.name)),
            )
            .collect::<Vec<_>>(),
        ))
}

/// The values of measures 1 to 5 derived from the filled counts (on rows sorted by period):
/// the running `stalled_90d`, `still_waiting`, `action_needed`, the rates and their items.
fn derived_1_to_5() -> PolarsResult<Vec<Expr>> {
    let group = [CONSORTIUM, AGENCY];
    Ok(vec![
        (col("_stalled_from") - col("_stalled_after"))
            .cum_sum(false)
            .over(key(&group))?
            .alias(c::measures::STALLED_90D),
        (col(c::measures::INTAKES) - col(c::measures::MEDIAN_DAYS_TO_SERVICE_ITEMS))
            .alias(c::measures::STILL_WAITING),
        rate(
            "_served_within_30d",
            c::measures::SERVED_WITHIN_30D_RATE_ITEMS,
            c::measures::SERVED_WITHIN_30D_RATE,
        ),
        col(c::measures::MEDIAN_DAYS_TO_PLACEMENT)
            .gt(lit(45.0))
            .alias(c::measures::ACTION_NEEDED),
        // Both statistics of 3.4 are over the jobs starting in P.
        rate(
            "_at_or_above_wage_floor",
            c::measures::MEDIAN_HOURLY_WAGE_ITEMS,
            c::measures::AT_OR_ABOVE_WAGE_FLOOR_RATE,
        ),
        col(c::measures::MEDIAN_HOURLY_WAGE_ITEMS)
            .alias(c::measures::AT_OR_ABOVE_WAGE_FLOOR_RATE_ITEMS),
        rate(
            c::measures::RETAINED_90D,
            c::measures::FIRST_JOBS_DUE_90D,
            c::measures::RETENTION_90D_RATE,
        ),
        col(c::measures::FIRST_JOBS_DUE_90D).alias(c::measures::RETENTION_90D_RATE_ITEMS),
    ])
}

/// "Every agency that owns an episode or a job in the consortium's visible data gets a row"
/// (and `ALL`), for every period from the consortium's first with an intake, a job or a wage
/// record through the period of D, with the consortium's wage floor.
fn grid(kind: PeriodKind, sources: &Sources, as_of: NaiveDate) -> PolarsResult<LazyFrame> {
    let firsts = concat(
        [
            sources.episodes.clone().select([
                col(CONSORTIUM),
                index_of(kind, c::episodes::INTAKE_ON).alias(PERIOD),
            ]),
            sources.placements.clone().select([
                col(CONSORTIUM),
                index_of(kind, c::placements::START_ON).alias(PERIOD),
            ]),
            sources
                .wages
                .clone()
                .select([col(CONSORTIUM), wage_period(kind).alias(PERIOD)]),
        ],
        UnionArgs::default(),
    )?
    .group_by([col(CONSORTIUM)])
    .agg([col(PERIOD).min().alias("_first")]);
    let owners = concat(
        [
            sources
                .episodes
                .clone()
                .select([col(CONSORTIUM), col(AGENCY)]),
            sources
                .placements
                .clone()
                .select([col(CONSORTIUM), col(AGENCY)]),
            firsts
                .clone()
                .select([col(CONSORTIUM), lit(ALL).alias(AGENCY)]),
        ],
        UnionArgs::default(),
    )?
    .unique(None, UniqueKeepStrategy::Any);
    Ok(owners
        .join(
            firsts,
            [col(CONSORTIUM)],
            [col(CONSORTIUM)],
            JoinArgs::new(JoinType::Inner),
        )
        .with_column(
            int_ranges(
                col("_first"),
                lit(index_of_date(kind, as_of) + 1),
                lit(1),
                DataType::Int32,
            )
            .alias(PERIOD),
        )
        .explode(
            cols([PERIOD]),
            ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            },
        )
        .drop(cols(["_first"])))
}

/// Section 3.1: "`intakes`, `median_days_to_service` (those served by D), `still_waiting`,
/// `served_within_30d_rate` (eligible as above): over episodes with `intake_on` in P."
/// Eligible for the 30-day rate: `intake_on + 30 <= D`; within: served in at most 30 days.
fn intake_cohort(
    kind: PeriodKind,
    episodes: LazyFrame,
    as_of_days: i32,
) -> PolarsResult<LazyFrame> {
    let eligible = (days(c::episodes::INTAKE_ON) + lit(30)).lt_eq(lit(as_of_days));
    group_with_all(
        episodes.with_column(index_of(kind, c::episodes::INTAKE_ON).alias(PERIOD)),
        &PERIOD_KEY,
        &[
            len().cast(DataType::Int64).alias(c::measures::INTAKES),
            median_of(col(c::episodes::DAYS_TO_SERVICE)).alias(c::measures::MEDIAN_DAYS_TO_SERVICE),
            col(c::episodes::DAYS_TO_SERVICE)
                .count()
                .cast(DataType::Int64)
                .alias(c::measures::MEDIAN_DAYS_TO_SERVICE_ITEMS),
            count(eligible.clone()).alias(c::measures::SERVED_WITHIN_30D_RATE_ITEMS),
            count(eligible.and(col(c::episodes::DAYS_TO_SERVICE).lt_eq(lit(30))))
                .alias("_served_within_30d"),
        ],
    )
}

/// Section 3.2: "`first_placements`, `median_days_to_placement`, `placed_over_45d`,
/// `action_needed` (median over 45; null without a median): over episodes whose
/// `first_placement_on` is in P."
fn first_placements(kind: PeriodKind, episodes: LazyFrame) -> PolarsResult<LazyFrame> {
    group_with_all(
        episodes
            .filter(col(c::episodes::FIRST_PLACEMENT_ON).is_not_null())
            .with_column(index_of(kind, c::episodes::FIRST_PLACEMENT_ON).alias(PERIOD)),
        &PERIOD_KEY,
        &[
            len()
                .cast(DataType::Int64)
                .alias(c::measures::FIRST_PLACEMENTS),
            median_of(col(c::episodes::DAYS_TO_PLACEMENT))
                .alias(c::measures::MEDIAN_DAYS_TO_PLACEMENT),
            col(c::episodes::DAYS_TO_PLACEMENT)
                .count()
                .cast(DataType::Int64)
                .alias(c::measures::MEDIAN_DAYS_TO_PLACEMENT_ITEMS),
            count(col(c::episodes::DAYS_TO_PLACEMENT).gt(lit(45)))
                .alias(c::measures::PLACED_OVER_45D),
        ],
    )
}

/// Section 3.3: "`assessed`, `assessed_not_placed` (no job by D): over episodes whose
/// `first_assessment_on` is in P."
fn assessed(kind: PeriodKind, episodes: LazyFrame) -> PolarsResult<LazyFrame> {
    group_with_all(
        episodes
            .filter(col(c::episodes::FIRST_ASSESSMENT_ON).is_not_null())
            .with_column(index_of(kind, c::episodes::FIRST_ASSESSMENT_ON).alias(PERIOD)),
        &PERIOD_KEY,
        &[
            len().cast(DataType::Int64).alias(c::measures::ASSESSED),
            count(col(c::episodes::FIRST_PLACEMENT_ON).is_null())
                .alias(c::measures::ASSESSED_NOT_PLACED),
        ],
    )
}

/// Section 3.3: "`stalled_90d`: of all the agency's episodes, those open at t = min(p1, D)
/// (`intake_on <= t` and `exit_on` null or `> t`), first assessed on or before t - 90, with no
/// job started on or before t."
///
/// An episode is stalled at every t in `[lo, hi]`, with `lo = max(intake_on,
/// first_assessment_on + 90)` and `hi = min(exit_on - 1, first_placement_on - 1)`. As t grows
/// with the period, the periods that count it are a run: from the period of `lo` (when `lo <=
/// D`) through the last period whose t is at most `hi` — the period of D when `hi >= D`, else
/// the last period ending on or before `hi`, which is the one before the period of `hi + 1`.
/// Each episode adds 1 where its run starts and takes 1 away after it ends (`_stalled_from`,
/// `_stalled_after`); the running sum over the periods is the count.
fn stalled_changes(
    kind: PeriodKind,
    episodes: LazyFrame,
    as_of: NaiveDate,
    as_of_days: i32,
) -> PolarsResult<LazyFrame> {
    let lo = dsl::max_horizontal([
        days(c::episodes::INTAKE_ON),
        days(c::episodes::FIRST_ASSESSMENT_ON) + lit(90),
    ])?;
    let hi = dsl::min_horizontal([
        days(c::episodes::EXIT_ON) - lit(1),
        days(c::episodes::FIRST_PLACEMENT_ON) - lit(1),
        lit(as_of_days),
    ])?;
    let runs = episodes
        .filter(col(c::episodes::FIRST_ASSESSMENT_ON).is_not_null())
        .with_columns([lo.alias("_lo"), hi.alias("_hi")])
        .filter(
            col("_lo")
                .lt_eq(col("_hi"))
                .and(col("_lo").lt_eq(lit(as_of_days))),
        )
        .with_columns([
            as_date(col("_lo"), "_lo_on"),
            as_date(col("_hi") + lit(1), "_after_hi_on"),
        ])
        .with_columns([
            index_of(kind, "_lo_on").alias("_from"),
            when(col("_hi").eq(lit(as_of_days)))
                .then(lit(index_of_date(kind, as_of) + 1))
                .otherwise(index_of(kind, "_after_hi_on"))
                .alias("_after"),
        ])
        .filter(col("_from").lt(col("_after")));
    let changes = |at: &str, name: &str| {
        group_with_all(
            runs.clone().with_column(col(at).alias(PERIOD)),
            &PERIOD_KEY,
            &[len().cast(DataType::Int64).alias(name)],
        )
    };
    let from = changes("_from", "_stalled_from")?;
    let after = changes("_after", "_stalled_after")?;
    Ok(from.join(
        after,
        key(&PERIOD_KEY),
        key(&PERIOD_KEY),
        JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
    ))
}

/// Section 3.4: "`persons_placed`, `placements`, `median_hourly_wage`,
/// `at_or_above_wage_floor_rate` ...: jobs starting in P", and 3.5:
/// "`persons_moved_to_subsequent` (distinct persons with a job of `job_seq >= 2` starting in
/// P)".
fn jobs_starting(
    kind: PeriodKind,
    placements: LazyFrame,
    config: &Config,
) -> PolarsResult<LazyFrame> {
    let floor = config.wage_floor_expr(col(CONSORTIUM));
    group_with_all(
        placements.with_columns([
            index_of(kind, c::placements::START_ON).alias(PERIOD),
            col(c::placements::HOURLY_WAGE)
                .gt_eq(floor)
                .alias("_at_floor"),
        ]),
        &PERIOD_KEY,
        &[
            len().cast(DataType::Int64).alias(c::measures::PLACEMENTS),
            col(PERSON)
                .n_unique()
                .cast(DataType::Int64)
                .alias(c::measures::PERSONS_PLACED),
            median_of(col(c::placements::HOURLY_WAGE)).alias(c::measures::MEDIAN_HOURLY_WAGE),
            col(c::placements::HOURLY_WAGE)
                .count()
                .cast(DataType::Int64)
                .alias(c::measures::MEDIAN_HOURLY_WAGE_ITEMS),
            count(col("_at_floor")).alias("_at_or_above_wage_floor"),
            col(PERSON)
                .filter(col(c::placements::JOB_SEQ).gt_eq(lit(2i64)))
                .n_unique()
                .cast(DataType::Int64)
                .alias(c::measures::PERSONS_MOVED_TO_SUBSEQUENT),
        ],
    )
}

/// Section 3.4: "`wages_reported`: ... wage records with `occurred_on` in P", under the job's
/// agency; its items are the distinct persons behind them, counted exactly over the period.
fn wages_reported(kind: PeriodKind, wages: LazyFrame) -> PolarsResult<LazyFrame> {
    group_with_all(
        wages.with_column(wage_period(kind).alias(PERIOD)),
        &PERIOD_KEY,
        &[
            col(event::GROSS_WAGES)
                .sum()
                .alias(c::measures::WAGES_REPORTED),
            col(PERSON_CODE)
                .n_unique()
                .cast(DataType::Int64)
                .alias(c::measures::WAGES_REPORTED_ITEMS),
        ],
    )
}

/// Section 3.5: "`first_jobs_due_90d` (first jobs with `start_on + 90` in P and `<= D`),
/// `retained_90d`, `retention_90d_rate`".
fn first_jobs_due(
    kind: PeriodKind,
    placements: LazyFrame,
    as_of_days: i32,
) -> PolarsResult<LazyFrame> {
    let day_90 = days(c::placements::START_ON) + lit(90);
    group_with_all(
        placements
            .filter(
                col(c::placements::JOB_SEQ)
                    .eq(lit(1i64))
                    .and(day_90.clone().lt_eq(lit(as_of_days))),
            )
            .with_column(as_date(day_90, "_day_90"))
            .with_column(index_of(kind, "_day_90").alias(PERIOD)),
        &PERIOD_KEY,
        &[
            len()
                .cast(DataType::Int64)
                .alias(c::measures::FIRST_JOBS_DUE_90D),
            count(col(c::measures::RETAINED_90D)).alias(c::measures::RETAINED_90D),
        ],
    )
}

/// 6: "With Q the quarter of p0 (P itself, or the quarter that contains the month P), over
/// the exits of the agency's episodes (the episode's agency, as for 1-3): `eligible_q2`,
/// `employed_q2`, `employment_rate_q2`, `median_earnings_q2` over exits with `exit_quarter =
/// Q - 2` (measured in Q), and `eligible_q4`, `employed_q4`, `employment_rate_q4`,
/// `employed_q2_with_employer`, `retained_same_employer`, `same_employer_rate` over exits with
/// `exit_quarter = Q - 4`; each as in `after_exit`."
///
/// `frame` is the period grid; the counts are joined on by the exit quarter each period looks
/// back to (the rates are derived in [`finish`]).
fn after_exit(kind: PeriodKind, frame: LazyFrame, episodes: LazyFrame) -> PolarsResult<LazyFrame> {
    let quarter = match kind {
        PeriodKind::Month => col(PERIOD).floor_div(lit(3)),
        PeriodKind::Quarter => col(PERIOD),
    };
    let exits = episodes
        .filter(col(c::episodes::EXIT_ON).is_not_null())
        .with_column(quarter_index(c::episodes::EXIT_ON).alias("_exit_q"));
    let exit_key = [CONSORTIUM, AGENCY, "_exit_q"];
    let q2 = group_with_all(exits.clone(), &exit_key, &after_exit_q2_counts())?;
    let q4 = group_with_all(exits, &exit_key, &after_exit_q4_counts())?;
    let measured_in = |frame: LazyFrame, lag: i32, counts: LazyFrame| {
        frame
            .with_column((quarter.clone() - lit(lag)).alias("_exit_q"))
            .join(
                counts,
                key(&exit_key),
                key(&exit_key),
                JoinArgs::new(JoinType::Left),
            )
            .drop(cols(["_exit_q"]))
    };
    Ok(measured_in(measured_in(frame, 2, q2), 4, q4))
}
