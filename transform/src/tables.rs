//! INDICATORS.md section 2: the eight tables, from the facts, and `wages_monthly`; their
//! columns are declared in `outcomes_schemas::tables`.
//!
//! Grouped tables get their consortium-wide `ALL` rows by grouping the input a second time with
//! `agency_id = "ALL"`: every measure of an `ALL` row is computed over the whole consortium,
//! never summed from agency rates.

use chrono::{Datelike, NaiveDate};
use outcomes_schemas::SeparationReason;
use outcomes_schemas::lake::col as event;
use outcomes_schemas::tables::Table;
use outcomes_schemas::tables::columns as c;
use polars::prelude::*;

use crate::after_exit;
use crate::config::Config;
use crate::names::{
    AGENCY, ALL, CONSORTIUM, EPISODE_NO, ISSUE, ITEMS, PERSON, PERSON_CODE, days, key, month_index,
    quarter_index,
};
use crate::plan::Facts;

/// The tables of INDICATORS.md section 2 and `wages_monthly` computed from the facts, lazily.
pub(crate) struct Tables {
    /// `episodes`, `placements`, and the tables that need the facts; the others come from
    /// the first two as written ([`from_written`]).
    pub(crate) tables: Vec<(Table, LazyFrame)>,
    /// The wage sums per job and month, which `measures` also reads.
    pub(crate) wages: LazyFrame,
}

pub(crate) fn count(predicate: Expr) -> Expr {
    predicate.fill_null(lit(false)).cast(DataType::Int64).sum()
}

pub(crate) fn rate(numerator: &str, denominator: &str, name: &str) -> Expr {
    when(col(denominator).eq(lit(0i64)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(
            col(numerator).cast(DataType::Float64) / col(denominator).cast(DataType::Float64),
        )
        .alias(name)
}

pub(crate) fn median_of(expr: Expr) -> Expr {
    expr.cast(DataType::Float64).median()
}

fn p90_of(expr: Expr) -> Expr {
    expr.cast(DataType::Float64)
        .quantile(lit(0.9), QuantileMethod::Linear)
}

fn month_label(name: &str) -> Expr {
    month_label_of(month_index(name))
}

fn with_all(frame: LazyFrame) -> PolarsResult<LazyFrame> {
    let everyone = frame.clone().with_column(lit(ALL).alias(AGENCY));
    concat([frame, everyone], UnionArgs::default())
}

/// Groups by `keys` (which include `agency_id`) once as the rows are and once with every
/// agency taken as `ALL`. Unlike grouping [`with_all`]'s stacked rows, this never holds the
/// input twice, which matters for inputs as long as the wage records. The `ALL` rows are
/// grouped without the agency and named after: the same groups of the same rows in the same
/// order, without a column of `ALL` as long as the input, nor its text in every key.
pub(crate) fn group_with_all(
    frame: LazyFrame,
    keys: &[&str],
    aggs: &[Expr],
) -> PolarsResult<LazyFrame> {
    let mut by_agency = frame.clone().group_by(key(keys)).agg(aggs);
    let order: Vec<Expr> = (by_agency.collect_schema()?.iter_names())
        .map(|name| col(name.clone()))
        .collect();
    let others: Vec<&str> = keys.iter().copied().filter(|&k| k != AGENCY).collect();
    let everyone = (frame.group_by(key(&others)).agg(aggs))
        .with_column(lit(ALL).alias(AGENCY))
        .select(order);
    concat([by_agency, everyone], UnionArgs::default())
}

/// The `YYYY-MM` label of a [`month_index`].
pub(crate) fn month_label_of(index: Expr) -> Expr {
    let month = (index.clone() % lit(12) + lit(1)).cast(DataType::String);
    concat_str(
        [
            index.clone().floor_div(lit(12)).cast(DataType::String),
            lit("-"),
            when((index % lit(12) + lit(1)).lt(lit(10)))
                .then(concat_str([lit("0"), month.clone()], "", false))
                .otherwise(month),
        ],
        "",
        false,
    )
}

/// The quarter (as [`quarter_index`]) of a [`month_index`].
fn quarter_of_month(month: Expr) -> Expr {
    month.floor_div(lit(3))
}

/// The `YYYYQn` label of a [`quarter_index`].
pub(crate) fn quarter_label_of(index: Expr) -> Expr {
    concat_str(
        [
            index.clone().floor_div(lit(4)).cast(DataType::String),
            lit("Q"),
            (index % lit(4) + lit(1)).cast(DataType::String),
        ],
        "",
        false,
    )
}

/// Builds the tables computed from the facts, all lazily: `episodes` and `placements` first,
/// then the others [`from_written`] does not make.
pub(crate) fn build(facts: Facts, as_of: NaiveDate, config: &Config) -> PolarsResult<Tables> {
    let episodes = episodes(&facts, as_of)?;
    let placements =
        with_person_keys(&facts, facts.jobs.clone()).select(columns_of(Table::Placements));
    Ok(Tables {
        tables: vec![
            (Table::Episodes, episodes),
            (Table::Placements, placements),
            (
                Table::EmploymentOutcomes,
                employment_outcomes(&facts, config)?,
            ),
            (Table::DataQuality, data_quality(facts.issues)?),
            (Table::WagesMonthly, wages_monthly(facts.wages.clone())?),
        ],
        wages: facts.wages,
    })
}

/// The tables grouped from `episodes` and `placements` alone, from their rows as written:
/// each is then a grouping of a frame in memory, where computing it from the facts would
/// derive the episodes (rule 1.6 included) or the jobs once more per table.
pub(crate) fn from_written(
    episodes: LazyFrame,
    placements: LazyFrame,
    as_of: NaiveDate,
) -> PolarsResult<Vec<(Table, LazyFrame)>> {
    let as_of_days = (as_of - NaiveDate::default()).num_days() as i32;
    Ok(vec![
        (
            Table::CohortTimeliness,
            cohort_timeliness(episodes.clone(), as_of_days)?,
        ),
        (
            Table::FirstJobRetention,
            first_job_retention(placements.clone())?,
        ),
        (Table::Turnover, turnover(placements, as_of)?),
        (Table::AfterExit, after_exit(episodes)?),
    ])
}

/// The contract's columns of `table`, in its order: what a table's last `select` keeps.
fn columns_of(table: Table) -> Vec<Expr> {
    table
        .columns()
        .iter()
        .map(|column| col(column.name))
        .collect()
}

/// `frame` with the person key back in place of the person code, for the per-person tables.
fn with_person_keys(facts: &Facts, frame: LazyFrame) -> LazyFrame {
    frame.join(
        facts
            .persons
            .clone()
            .select([col(PERSON_CODE), col(PERSON)]),
        [col(PERSON_CODE)],
        [col(PERSON_CODE)],
        JoinArgs::new(JoinType::Left),
    )
}

/// `episodes`: the walked episodes with their first job start, job count, first service and
/// waits, and (version 2) their exit's quarter and after-exit evidence (rule 1.6).
fn episodes(facts: &Facts, as_of: NaiveDate) -> PolarsResult<LazyFrame> {
    let episode = [PERSON_CODE, EPISODE_NO];
    let job_starts = facts.jobs.clone().group_by(key(&episode)).agg([
        col(c::placements::START_ON)
            .min()
            .alias(c::episodes::FIRST_PLACEMENT_ON),
        len().cast(DataType::Int64).alias(c::episodes::PLACEMENTS),
    ]);
    let after_exit = after_exit::per_exit(
        facts.episodes.clone(),
        facts.jobs.clone(),
        facts.wages.clone(),
        as_of,
    );
    Ok(with_person_keys(facts, facts.episodes.clone())
        .join(
            job_starts,
            key(&episode),
            key(&episode),
            JoinArgs::new(JoinType::Left),
        )
        .join(
            after_exit,
            key(&episode),
            key(&episode),
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            polars::lazy::dsl::min_horizontal([
                col("_first_activity_on"),
                col(c::episodes::FIRST_PLACEMENT_ON),
            ])?
            .alias(c::episodes::FIRST_SERVICE_ON),
            month_label(c::episodes::INTAKE_ON).alias(c::episodes::COHORT_MONTH),
            quarter_label_of(quarter_index(c::episodes::EXIT_ON)).alias(c::episodes::EXIT_QUARTER),
            col(c::episodes::PLACEMENTS).fill_null(lit(0i64)),
        ])
        .with_columns([
            (days(c::episodes::FIRST_SERVICE_ON) - days(c::episodes::INTAKE_ON))
                .cast(DataType::Int64)
                .alias(c::episodes::DAYS_TO_SERVICE),
            (days(c::episodes::FIRST_PLACEMENT_ON) - days(c::episodes::INTAKE_ON))
                .cast(DataType::Int64)
                .alias(c::episodes::DAYS_TO_PLACEMENT),
        ])
        .select(columns_of(Table::Episodes)))
}

/// `after_exit`: the exits of rule 1.6 by agency (the episode's) and exit quarter.
fn after_exit(episodes: LazyFrame) -> PolarsResult<LazyFrame> {
    let exits = episodes.filter(col(c::episodes::EXIT_QUARTER).is_not_null());
    let mut counts = vec![len().cast(DataType::Int64).alias(c::after_exit::EXITERS)];
    counts.extend(after_exit_q2_counts());
    counts.extend(after_exit_q4_counts());
    Ok(group_with_all(
        exits,
        &[CONSORTIUM, AGENCY, c::after_exit::EXIT_QUARTER],
        &counts,
    )?
    .with_columns(after_exit_rates())
    .select(columns_of(Table::AfterExit)))
}

/// "`eligible_q2`: exits with `employed_q2` not null; `employed_q2`: of those, true;
/// `median_earnings_q2`: median of `earnings_q2` over the exits with `employed_q2` true (an
/// earnings of 0 is one of the values)." Aggregations over `episodes` rows.
pub(crate) fn after_exit_q2_counts() -> [Expr; 3] {
    let employed = col(c::episodes::EMPLOYED_Q2);
    [
        count(employed.clone().is_not_null()).alias(c::after_exit::ELIGIBLE_Q2),
        count(employed.clone()).alias(c::after_exit::EMPLOYED_Q2),
        col(c::episodes::EARNINGS_Q2)
            .filter(employed.fill_null(lit(false)))
            .median()
            .alias(c::after_exit::MEDIAN_EARNINGS_Q2),
    ]
}

/// "`eligible_q4`, `employed_q4`: the same for quarter 4. `employed_q2_with_employer`: exits
/// with `same_employer_q4` not null; `retained_same_employer`: of those, true."
pub(crate) fn after_exit_q4_counts() -> [Expr; 4] {
    let employed = col(c::episodes::EMPLOYED_Q4);
    let same = col(c::episodes::SAME_EMPLOYER_Q4);
    [
        count(employed.clone().is_not_null()).alias(c::after_exit::ELIGIBLE_Q4),
        count(employed).alias(c::after_exit::EMPLOYED_Q4),
        count(same.clone().is_not_null()).alias(c::after_exit::EMPLOYED_Q2_WITH_EMPLOYER),
        count(same).alias(c::after_exit::RETAINED_SAME_EMPLOYER),
    ]
}

/// The three rates of `after_exit`, from its counts.
pub(crate) fn after_exit_rates() -> [Expr; 3] {
    use c::after_exit as a;
    [
        rate(a::EMPLOYED_Q2, a::ELIGIBLE_Q2, a::EMPLOYMENT_RATE_Q2),
        rate(a::EMPLOYED_Q4, a::ELIGIBLE_Q4, a::EMPLOYMENT_RATE_Q4),
        rate(
            a::RETAINED_SAME_EMPLOYER,
            a::EMPLOYED_Q2_WITH_EMPLOYER,
            a::SAME_EMPLOYER_RATE,
        ),
    ]
}

/// `cohort_timeliness`: intake cohorts by agency and month.
fn cohort_timeliness(episodes: LazyFrame, as_of_days: i32) -> PolarsResult<LazyFrame> {
    let eligible = |n: i32| (days(c::episodes::INTAKE_ON) + lit(n)).lt_eq(lit(as_of_days));
    Ok(group_with_all(
        episodes,
        &[CONSORTIUM, AGENCY, c::cohort_timeliness::COHORT_MONTH],
        &[
            len()
                .cast(DataType::Int64)
                .alias(c::cohort_timeliness::INTAKES),
            count(col(c::episodes::FIRST_SERVICE_ON).is_not_null())
                .alias(c::cohort_timeliness::SERVED),
            median_of(col(c::episodes::DAYS_TO_SERVICE))
                .alias(c::cohort_timeliness::MEDIAN_DAYS_TO_SERVICE),
            p90_of(col(c::episodes::DAYS_TO_SERVICE))
                .alias(c::cohort_timeliness::P90_DAYS_TO_SERVICE),
            count(eligible(30)).alias(c::cohort_timeliness::ELIGIBLE_30D),
            count(eligible(30).and(col(c::episodes::DAYS_TO_SERVICE).lt_eq(lit(30i64))))
                .alias(c::cohort_timeliness::SERVED_WITHIN_30D),
            count(col(c::episodes::FIRST_PLACEMENT_ON).is_not_null())
                .alias(c::cohort_timeliness::PLACED),
            median_of(col(c::episodes::DAYS_TO_PLACEMENT))
                .alias(c::cohort_timeliness::MEDIAN_DAYS_TO_PLACEMENT),
            p90_of(col(c::episodes::DAYS_TO_PLACEMENT))
                .alias(c::cohort_timeliness::P90_DAYS_TO_PLACEMENT),
            count(eligible(45)).alias(c::cohort_timeliness::ELIGIBLE_45D),
            count(eligible(45).and(col(c::episodes::DAYS_TO_PLACEMENT).lt_eq(lit(45i64))))
                .alias(c::cohort_timeliness::PLACED_WITHIN_45D),
            count(col(c::episodes::FIRST_ASSESSMENT_ON).is_not_null())
                .alias(c::cohort_timeliness::ASSESSED),
            count(
                col(c::episodes::FIRST_ASSESSMENT_ON)
                    .is_not_null()
                    .and(col(c::episodes::FIRST_PLACEMENT_ON).is_null()),
            )
            .alias(c::cohort_timeliness::ASSESSED_NOT_PLACED),
            count(col(c::episodes::EXIT_ON).is_not_null()).alias(c::cohort_timeliness::EXITED),
        ],
    )?
    .with_columns([
        (col(c::cohort_timeliness::INTAKES) - col(c::cohort_timeliness::SERVED))
            .alias(c::cohort_timeliness::STILL_WAITING),
        rate(
            c::cohort_timeliness::SERVED_WITHIN_30D,
            c::cohort_timeliness::ELIGIBLE_30D,
            c::cohort_timeliness::SERVED_WITHIN_30D_RATE,
        ),
        rate(
            c::cohort_timeliness::PLACED_WITHIN_45D,
            c::cohort_timeliness::ELIGIBLE_45D,
            c::cohort_timeliness::PLACED_WITHIN_45D_RATE,
        ),
    ])
    .select(columns_of(Table::CohortTimeliness)))
}

/// `first_job_retention`: first jobs by agency and start month.
fn first_job_retention(placements: LazyFrame) -> PolarsResult<LazyFrame> {
    let mut retention_aggs = vec![
        len()
            .cast(DataType::Int64)
            .alias(c::first_job_retention::FIRST_JOBS),
    ];
    for n in [30, 90, 180] {
        let column = format!("retained_{n}d");
        retention_aggs
            .push(count(col(column.as_str()).is_not_null()).alias(format!("eligible_{n}d")));
        retention_aggs.push(count(col(column.as_str())).alias(column));
    }
    retention_aggs.extend([
        count(col(c::placements::END_ON).is_not_null()).alias(c::first_job_retention::SEPARATED),
        count(col(c::placements::NEXT_START_ON).is_not_null())
            .alias(c::first_job_retention::MOVED_TO_SUBSEQUENT),
        median_of(days(c::placements::NEXT_START_ON) - days(c::placements::END_ON))
            .alias(c::first_job_retention::MEDIAN_DAYS_TO_NEXT_JOB),
    ]);
    let first_jobs = placements
        .filter(col(c::placements::JOB_SEQ).eq(lit(1i64)))
        .with_column(
            month_label(c::placements::START_ON).alias(c::first_job_retention::START_MONTH),
        );
    Ok(group_with_all(
        first_jobs,
        &[CONSORTIUM, AGENCY, c::first_job_retention::START_MONTH],
        &retention_aggs,
    )?
    .with_columns([
        rate(
            c::first_job_retention::RETAINED_30D,
            c::first_job_retention::ELIGIBLE_30D,
            c::first_job_retention::RETENTION_30D_RATE,
        ),
        rate(
            c::first_job_retention::RETAINED_90D,
            c::first_job_retention::ELIGIBLE_90D,
            c::first_job_retention::RETENTION_90D_RATE,
        ),
        rate(
            c::first_job_retention::RETAINED_180D,
            c::first_job_retention::ELIGIBLE_180D,
            c::first_job_retention::RETENTION_180D_RATE,
        ),
    ])
    .select(columns_of(Table::FirstJobRetention)))
}

/// `employment_outcomes`: jobs starting and wages reported by agency and quarter.
fn employment_outcomes(facts: &Facts, config: &Config) -> PolarsResult<LazyFrame> {
    let floor = config.wage_floor_expr(col(CONSORTIUM));
    let outcome_keys = [CONSORTIUM, AGENCY, "_quarter"];
    let job_measures = group_with_all(
        facts
            .jobs
            .clone()
            .with_column(quarter_index(c::placements::START_ON).alias("_quarter")),
        &outcome_keys,
        &job_outcomes(floor.clone()),
    )?;
    let wage_measures = group_with_all(
        facts
            .wages
            .clone()
            .with_column(quarter_of_month(col("_month")).alias("_quarter")),
        &outcome_keys,
        &[
            col(event::GROSS_WAGES)
                .sum()
                .alias(c::employment_outcomes::WAGES_REPORTED),
            col(event::HOURS_WORKED)
                .sum()
                .alias(c::employment_outcomes::HOURS_REPORTED),
            col(PERSON_CODE)
                .n_unique()
                .cast(DataType::Int64)
                .alias(c::employment_outcomes::PERSONS_WITH_WAGES),
        ],
    )?;
    Ok(job_measures
        .join(
            wage_measures,
            key(&outcome_keys),
            key(&outcome_keys),
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .with_columns([
            col(c::employment_outcomes::PLACEMENTS).fill_null(lit(0i64)),
            col(c::employment_outcomes::PERSONS_PLACED).fill_null(lit(0i64)),
            col(c::employment_outcomes::FIRST_PLACEMENTS).fill_null(lit(0i64)),
            col(c::employment_outcomes::AT_OR_ABOVE_WAGE_FLOOR).fill_null(lit(0i64)),
            col(c::employment_outcomes::COMPETITIVE_INTEGRATED).fill_null(lit(0i64)),
            col(c::employment_outcomes::WAGES_REPORTED).fill_null(lit(0.0)),
            col(c::employment_outcomes::HOURS_REPORTED).fill_null(lit(0.0)),
            col(c::employment_outcomes::PERSONS_WITH_WAGES).fill_null(lit(0i64)),
            floor.alias(c::employment_outcomes::WAGE_FLOOR),
            quarter_label_of(col("_quarter")).alias(c::employment_outcomes::QUARTER),
        ])
        .select(columns_of(Table::EmploymentOutcomes)))
}

/// `employment_outcomes`' measures "over jobs starting in the quarter": `persons_placed`
/// counts distinct persons, `first_placements` jobs with `job_seq = 1`,
/// `at_or_above_wage_floor` (`hourly_wage >= wage_floor`) and `competitive_integrated` jobs.
fn job_outcomes(floor: Expr) -> [Expr; 9] {
    use c::employment_outcomes as e;
    [
        len().cast(DataType::Int64).alias(e::PLACEMENTS),
        col(PERSON_CODE)
            .n_unique()
            .cast(DataType::Int64)
            .alias(e::PERSONS_PLACED),
        count(col(c::placements::JOB_SEQ).eq(lit(1i64))).alias(e::FIRST_PLACEMENTS),
        col(c::placements::HOURLY_WAGE)
            .median()
            .alias(e::MEDIAN_HOURLY_WAGE),
        col(c::placements::HOURLY_WAGE)
            .mean()
            .alias(e::MEAN_HOURLY_WAGE),
        col(c::placements::HOURS_PER_WEEK)
            .median()
            .alias(e::MEDIAN_HOURS_PER_WEEK),
        col(c::placements::WEEKLY_EARNINGS)
            .median()
            .alias(e::MEDIAN_WEEKLY_EARNINGS),
        count(col(c::placements::HOURLY_WAGE).gt_eq(floor)).alias(e::AT_OR_ABOVE_WAGE_FLOOR),
        count(col(c::placements::COMPETITIVE_INTEGRATED)).alias(e::COMPETITIVE_INTEGRATED),
    ]
}

/// `wages_monthly`, an extra table (not in INDICATORS.md): wage totals by agency and month, for
/// analysts who total wages over other spans than the quarter.
fn wages_monthly(wages: LazyFrame) -> PolarsResult<LazyFrame> {
    Ok(group_with_all(
        wages,
        &[CONSORTIUM, AGENCY, "_month"],
        &[
            col(event::GROSS_WAGES)
                .sum()
                .alias(c::wages_monthly::WAGES_REPORTED),
            col(event::HOURS_WORKED)
                .sum()
                .alias(c::wages_monthly::HOURS_REPORTED),
            col(c::wages_monthly::WAGE_RECORDS).sum(),
            col(PERSON_CODE)
                .n_unique()
                .cast(DataType::Int64)
                .alias(c::wages_monthly::PERSONS_WITH_WAGES),
        ],
    )?
    .select([
        col(CONSORTIUM),
        col(AGENCY),
        month_label_of(col("_month")).alias(c::wages_monthly::MONTH),
        col(c::wages_monthly::WAGES_REPORTED),
        col(c::wages_monthly::HOURS_REPORTED),
        col(c::wages_monthly::WAGE_RECORDS),
        col(c::wages_monthly::PERSONS_WITH_WAGES),
    ]))
}

/// `data_quality`: the items of every rule and the ingest rejections, by agency and issue.
fn data_quality(issues: LazyFrame) -> PolarsResult<LazyFrame> {
    group_with_all(
        issues,
        &[CONSORTIUM, AGENCY, ISSUE],
        &[col(ITEMS).sum().alias(c::data_quality::EVENTS)],
    )
}

/// The `turnover` table: a month grid per group (agency, and ALL) from its first job start
/// through the month of `as_of`, with job counts from cumulative monthly starts and ends.
///
/// With `s` the month's first day and `e = min(last day, as_of)`: jobs active at `s` are those
/// started on or before `s` less those ended before `s` (an ended job started before it ended);
/// likewise at `e`. So per month we need starts, starts on day 1, ends, and ends on day `e`.
fn turnover(placements: LazyFrame, as_of: NaiveDate) -> PolarsResult<LazyFrame> {
    let as_of_days = (as_of - NaiveDate::default()).num_days() as i32;
    let as_of_index = as_of.year() * 12 + as_of.month0() as i32;
    let group = [CONSORTIUM, AGENCY];
    let jobs = with_all(placements)?.cache();

    let month = "_month";
    let grid = turnover_grid(&jobs, as_of, as_of_index);
    let (starts, ends) = starts_and_ends(jobs, as_of_index, as_of_days);
    let month_key = [CONSORTIUM, AGENCY, month];
    let zero_filled = [
        c::turnover::STARTS,
        "_starts_day1",
        c::turnover::SEPARATIONS,
        "_ends_on_e",
        c::turnover::SEPARATIONS_QUIT,
        c::turnover::SEPARATIONS_LAID_OFF,
        c::turnover::SEPARATIONS_FIRED,
        c::turnover::SEPARATIONS_TEMPORARY_END,
        c::turnover::SEPARATIONS_OTHER,
    ];
    let frame = grid
        .lazy()
        .join(
            starts,
            key(&month_key),
            key(&month_key),
            JoinArgs::new(JoinType::Left),
        )
        .join(
            ends,
            key(&month_key),
            key(&month_key),
            JoinArgs::new(JoinType::Left),
        )
        .with_columns(
            zero_filled
                .iter()
                .map(|name| col(*name).fill_null(lit(0i64)))
                .collect::<Vec<_>>(),
        )
        .sort(month_key.to_vec(), SortMultipleOptions::default())
        .with_columns([
            (col(c::turnover::STARTS).cum_sum(false).over(key(&group))? - col(c::turnover::STARTS))
                .alias("_starts_before"),
            (col(c::turnover::SEPARATIONS)
                .cum_sum(false)
                .over(key(&group))?
                - col(c::turnover::SEPARATIONS))
            .alias("_ends_before"),
        ])
        .with_columns([
            (col("_starts_before") + col("_starts_day1") - col("_ends_before"))
                .alias(c::turnover::ACTIVE_AT_START),
            (col("_starts_before") + col(c::turnover::STARTS)
                - (col("_ends_before") + col(c::turnover::SEPARATIONS) - col("_ends_on_e")))
            .alias(c::turnover::ACTIVE_AT_END),
        ])
        .with_column(turnover_rate())
        .select(columns_of(Table::Turnover));
    Ok(frame)
}

/// "`turnover_rate = separations / ((active_at_start + active_at_end) / 2)`", null (as any rate)
/// when the denominator is 0.
fn turnover_rate() -> Expr {
    let active = col(c::turnover::ACTIVE_AT_START) + col(c::turnover::ACTIVE_AT_END);
    when(active.clone().eq(lit(0i64)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(
            col(c::turnover::SEPARATIONS).cast(DataType::Float64)
                / (active.cast(DataType::Float64) / lit(2.0)),
        )
        .alias(c::turnover::TURNOVER_RATE)
}

/// The `turnover` column counting the separations for `reason` (a new reason fails to
/// compile here until the contract has its column).
fn separations_of(reason: SeparationReason) -> &'static str {
    use c::turnover as t;
    match reason {
        SeparationReason::Quit => t::SEPARATIONS_QUIT,
        SeparationReason::LaidOff => t::SEPARATIONS_LAID_OFF,
        SeparationReason::Fired => t::SEPARATIONS_FIRED,
        SeparationReason::TemporaryEnd => t::SEPARATIONS_TEMPORARY_END,
        SeparationReason::Other => t::SEPARATIONS_OTHER,
    }
}

/// `turnover`'s grid: per group, month indexes (year * 12 + month - 1) from its first job start
/// through the month of D, with labels and whether the month of D is partial.
fn turnover_grid(jobs: &LazyFrame, as_of: NaiveDate, as_of_index: i32) -> LazyFrame {
    let group = [CONSORTIUM, AGENCY];
    let month = "_month";
    let partial = as_of
        .succ_opt()
        .is_some_and(|next| next.month() == as_of.month());
    jobs.clone()
        .group_by(key(&group))
        .agg([month_index(c::placements::START_ON).min().alias("_first")])
        .with_column(
            int_ranges(col("_first"), lit(as_of_index + 1), lit(1), DataType::Int32).alias(month),
        )
        .explode(
            cols([month]),
            ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            },
        )
        .with_columns([
            month_label_of(col(month)).alias(c::turnover::MONTH),
            col(month)
                .eq(lit(as_of_index))
                .and(lit(partial))
                .alias(c::turnover::PARTIAL_MONTH),
        ])
        .drop(cols(["_first"]))
}

/// `turnover`'s monthly changes per group: starts (and those on the 1st), and ends (and those
/// on the month's `e`, the last day or D) by reason.
fn starts_and_ends(jobs: LazyFrame, as_of_index: i32, as_of_days: i32) -> (LazyFrame, LazyFrame) {
    let month = "_month";
    let starts = jobs
        .clone()
        .with_column(month_index(c::placements::START_ON).alias(month))
        .group_by(key(&[CONSORTIUM, AGENCY, month]))
        .agg([
            len().cast(DataType::Int64).alias(c::turnover::STARTS),
            count(col(c::placements::START_ON).dt().day().eq(lit(1))).alias("_starts_day1"),
        ]);
    let is_last_day = (days(c::placements::END_ON) + lit(1))
        .cast(DataType::Date)
        .dt()
        .day()
        .eq(lit(1));
    let on_e = when(month_index(c::placements::END_ON).eq(lit(as_of_index)))
        .then(days(c::placements::END_ON).eq(lit(as_of_days)))
        .otherwise(is_last_day);
    let mut end_aggs = vec![
        len().cast(DataType::Int64).alias(c::turnover::SEPARATIONS),
        count(on_e).alias("_ends_on_e"),
    ];
    for reason in SeparationReason::ALL {
        end_aggs.push(
            count(col(c::placements::SEPARATION_REASON).eq(lit(reason.as_str())))
                .alias(separations_of(*reason)),
        );
    }
    let ends = jobs
        .filter(col(c::placements::END_ON).is_not_null())
        .with_column(month_index(c::placements::END_ON).alias(month))
        .group_by(key(&[CONSORTIUM, AGENCY, month]))
        .agg(end_aggs);
    (starts, ends)
}
