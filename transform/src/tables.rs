//! INDICATORS.md section 2: the seven tables, from the facts, and `wages_monthly`; their
//! columns are declared in `outcomes_schemas::tables`.
//!
//! Grouped tables get their consortium-wide `ALL` rows by grouping the input a second time with
//! `agency_id = "ALL"`: every measure of an `ALL` row is computed over the whole consortium,
//! never summed from agency rates.

use chrono::{Datelike, NaiveDate};
use outcomes_schemas::SeparationReason;
use outcomes_schemas::tables::Table;
use polars::prelude::*;

use crate::config::Config;
use crate::names::{
    AGENCY, ALL, CONSORTIUM, EPISODE_NO, ISSUE, ITEMS, PERSON, PERSON_CODE, days, key, month_index,
};
use crate::plan::Facts;

/// The tables of INDICATORS.md section 2 and `wages_monthly`, lazily.
pub(crate) struct Tables {
    /// Every table of [`Table::ALL`] but `measures`, in its order.
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
/// input twice, which matters for inputs as long as the wage records.
pub(crate) fn group_with_all(
    frame: LazyFrame,
    keys: &[&str],
    aggs: &[Expr],
) -> PolarsResult<LazyFrame> {
    let everyone = frame.clone().with_column(lit(ALL).alias(AGENCY));
    let group = |frame: LazyFrame| frame.group_by(key(keys)).agg(aggs);
    concat([group(frame), group(everyone)], UnionArgs::default())
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

/// Quarters as whole numbers (`year * 4 + quarter - 1`).
fn quarter_index(name: &str) -> Expr {
    quarter_of_month(month_index(name))
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

/// Builds the tables, all lazily.
pub(crate) fn build(facts: Facts, as_of: NaiveDate, config: &Config) -> PolarsResult<Tables> {
    let as_of_days = (as_of - NaiveDate::default()).num_days() as i32;
    let episodes = episodes(&facts)?;
    let placements =
        with_person_keys(&facts, facts.jobs.clone()).select(columns_of(Table::Placements));
    let cohort_timeliness = cohort_timeliness(episodes.clone(), as_of_days)?;
    let first_job_retention = first_job_retention(placements.clone())?;
    let turnover = turnover(placements.clone(), as_of)?;
    Ok(Tables {
        tables: vec![
            (Table::Episodes, episodes),
            (Table::Placements, placements),
            (Table::CohortTimeliness, cohort_timeliness),
            (Table::FirstJobRetention, first_job_retention),
            (Table::Turnover, turnover),
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
/// waits.
fn episodes(facts: &Facts) -> PolarsResult<LazyFrame> {
    let episode = [PERSON_CODE, EPISODE_NO];
    let job_starts = facts.jobs.clone().group_by(key(&episode)).agg([
        col("start_on").min().alias("first_placement_on"),
        len().cast(DataType::Int64).alias("placements"),
    ]);
    Ok(with_person_keys(facts, facts.episodes.clone())
        .join(
            job_starts,
            key(&episode),
            key(&episode),
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            polars::lazy::dsl::min_horizontal([
                col("_first_activity_on"),
                col("first_placement_on"),
            ])?
            .alias("first_service_on"),
            month_label("intake_on").alias("cohort_month"),
            col("placements").fill_null(lit(0i64)),
        ])
        .with_columns([
            (days("first_service_on") - days("intake_on"))
                .cast(DataType::Int64)
                .alias("days_to_service"),
            (days("first_placement_on") - days("intake_on"))
                .cast(DataType::Int64)
                .alias("days_to_placement"),
        ])
        .select(columns_of(Table::Episodes)))
}

/// `cohort_timeliness`: intake cohorts by agency and month.
fn cohort_timeliness(episodes: LazyFrame, as_of_days: i32) -> PolarsResult<LazyFrame> {
    let eligible = |n: i32| (days("intake_on") + lit(n)).lt_eq(lit(as_of_days));
    Ok(group_with_all(
        episodes,
        &[CONSORTIUM, AGENCY, "cohort_month"],
        &[
            len().cast(DataType::Int64).alias("intakes"),
            count(col("first_service_on").is_not_null()).alias("served"),
            median_of(col("days_to_service")).alias("median_days_to_service"),
            p90_of(col("days_to_service")).alias("p90_days_to_service"),
            count(eligible(30)).alias("eligible_30d"),
            count(eligible(30).and(col("days_to_service").lt_eq(lit(30i64))))
                .alias("served_within_30d"),
            count(col("first_placement_on").is_not_null()).alias("placed"),
            median_of(col("days_to_placement")).alias("median_days_to_placement"),
            p90_of(col("days_to_placement")).alias("p90_days_to_placement"),
            count(eligible(45)).alias("eligible_45d"),
            count(eligible(45).and(col("days_to_placement").lt_eq(lit(45i64))))
                .alias("placed_within_45d"),
            count(col("first_assessment_on").is_not_null()).alias("assessed"),
            count(
                col("first_assessment_on")
                    .is_not_null()
                    .and(col("first_placement_on").is_null()),
            )
            .alias("assessed_not_placed"),
            count(col("exit_on").is_not_null()).alias("exited"),
        ],
    )?
    .with_columns([
        (col("intakes") - col("served")).alias("still_waiting"),
        rate(
            "served_within_30d",
            "eligible_30d",
            "served_within_30d_rate",
        ),
        rate(
            "placed_within_45d",
            "eligible_45d",
            "placed_within_45d_rate",
        ),
    ])
    .select(columns_of(Table::CohortTimeliness)))
}

/// `first_job_retention`: first jobs by agency and start month.
fn first_job_retention(placements: LazyFrame) -> PolarsResult<LazyFrame> {
    let mut retention_aggs = vec![len().cast(DataType::Int64).alias("first_jobs")];
    for n in [30, 90, 180] {
        let column = format!("retained_{n}d");
        retention_aggs
            .push(count(col(column.as_str()).is_not_null()).alias(format!("eligible_{n}d")));
        retention_aggs.push(count(col(column.as_str())).alias(column));
    }
    retention_aggs.extend([
        count(col("end_on").is_not_null()).alias("separated"),
        count(col("next_start_on").is_not_null()).alias("moved_to_subsequent"),
        median_of(days("next_start_on") - days("end_on")).alias("median_days_to_next_job"),
    ]);
    let first_jobs = placements
        .filter(col("job_seq").eq(lit(1i64)))
        .with_column(month_label("start_on").alias("start_month"));
    Ok(group_with_all(
        first_jobs,
        &[CONSORTIUM, AGENCY, "start_month"],
        &retention_aggs,
    )?
    .with_columns([
        rate("retained_30d", "eligible_30d", "retention_30d_rate"),
        rate("retained_90d", "eligible_90d", "retention_90d_rate"),
        rate("retained_180d", "eligible_180d", "retention_180d_rate"),
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
            .with_column(quarter_index("start_on").alias("_quarter")),
        &outcome_keys,
        &[
            len().cast(DataType::Int64).alias("placements"),
            col(PERSON_CODE)
                .n_unique()
                .cast(DataType::Int64)
                .alias("persons_placed"),
            count(col("job_seq").eq(lit(1i64))).alias("first_placements"),
            col("hourly_wage").median().alias("median_hourly_wage"),
            col("hourly_wage").mean().alias("mean_hourly_wage"),
            col("hours_per_week")
                .median()
                .alias("median_hours_per_week"),
            col("weekly_earnings")
                .median()
                .alias("median_weekly_earnings"),
            count(col("hourly_wage").gt_eq(floor.clone())).alias("at_or_above_wage_floor"),
            count(col("competitive_integrated")).alias("competitive_integrated"),
        ],
    )?;
    let wage_measures = group_with_all(
        facts
            .wages
            .clone()
            .with_column(quarter_of_month(col("_month")).alias("_quarter")),
        &outcome_keys,
        &[
            col("gross_wages").sum().alias("wages_reported"),
            col("hours_worked").sum().alias("hours_reported"),
            col(PERSON_CODE)
                .n_unique()
                .cast(DataType::Int64)
                .alias("persons_with_wages"),
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
            col("placements").fill_null(lit(0i64)),
            col("persons_placed").fill_null(lit(0i64)),
            col("first_placements").fill_null(lit(0i64)),
            col("at_or_above_wage_floor").fill_null(lit(0i64)),
            col("competitive_integrated").fill_null(lit(0i64)),
            col("wages_reported").fill_null(lit(0.0)),
            col("hours_reported").fill_null(lit(0.0)),
            col("persons_with_wages").fill_null(lit(0i64)),
            floor.alias("wage_floor"),
            quarter_label_of(col("_quarter")).alias("quarter"),
        ])
        .select(columns_of(Table::EmploymentOutcomes)))
}

/// `wages_monthly`, an extra table (not in INDICATORS.md): wage totals by agency and month, for
/// analysts who total wages over other spans than the quarter.
fn wages_monthly(wages: LazyFrame) -> PolarsResult<LazyFrame> {
    Ok(group_with_all(
        wages,
        &[CONSORTIUM, AGENCY, "_month"],
        &[
            col("gross_wages").sum().alias("wages_reported"),
            col("hours_worked").sum().alias("hours_reported"),
            col("wage_records").sum(),
            col(PERSON_CODE)
                .n_unique()
                .cast(DataType::Int64)
                .alias("persons_with_wages"),
        ],
    )?
    .select([
        col(CONSORTIUM),
        col(AGENCY),
        month_label_of(col("_month")).alias("month"),
        col("wages_reported"),
        col("hours_reported"),
        col("wage_records"),
        col("persons_with_wages"),
    ]))
}

/// `data_quality`: the items of every rule and the ingest rejections, by agency and issue.
fn data_quality(issues: LazyFrame) -> PolarsResult<LazyFrame> {
    group_with_all(
        issues,
        &[CONSORTIUM, AGENCY, ISSUE],
        &[col(ITEMS).sum().alias("events")],
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
        "starts",
        "_starts_day1",
        "separations",
        "_ends_on_e",
        "separations_quit",
        "separations_laid_off",
        "separations_fired",
        "separations_temporary_end",
        "separations_other",
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
            (col("starts").cum_sum(false).over(key(&group))? - col("starts"))
                .alias("_starts_before"),
            (col("separations").cum_sum(false).over(key(&group))? - col("separations"))
                .alias("_ends_before"),
        ])
        .with_columns([
            (col("_starts_before") + col("_starts_day1") - col("_ends_before"))
                .alias("active_at_start"),
            (col("_starts_before") + col("starts")
                - (col("_ends_before") + col("separations") - col("_ends_on_e")))
            .alias("active_at_end"),
        ])
        .with_column(
            when((col("active_at_start") + col("active_at_end")).eq(lit(0i64)))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(
                    col("separations").cast(DataType::Float64)
                        / ((col("active_at_start") + col("active_at_end")).cast(DataType::Float64)
                            / lit(2.0)),
                )
                .alias("turnover_rate"),
        )
        .select(columns_of(Table::Turnover));
    Ok(frame)
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
        .agg([month_index("start_on").min().alias("_first")])
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
            month_label_of(col(month)).alias("month"),
            col(month)
                .eq(lit(as_of_index))
                .and(lit(partial))
                .alias("partial_month"),
        ])
        .drop(cols(["_first"]))
}

/// `turnover`'s monthly changes per group: starts (and those on the 1st), and ends (and those
/// on the month's `e`, the last day or D) by reason.
fn starts_and_ends(jobs: LazyFrame, as_of_index: i32, as_of_days: i32) -> (LazyFrame, LazyFrame) {
    let month = "_month";
    let starts = jobs
        .clone()
        .with_column(month_index("start_on").alias(month))
        .group_by(key(&[CONSORTIUM, AGENCY, month]))
        .agg([
            len().cast(DataType::Int64).alias("starts"),
            count(col("start_on").dt().day().eq(lit(1))).alias("_starts_day1"),
        ]);
    let is_last_day = (days("end_on") + lit(1))
        .cast(DataType::Date)
        .dt()
        .day()
        .eq(lit(1));
    let on_e = when(month_index("end_on").eq(lit(as_of_index)))
        .then(days("end_on").eq(lit(as_of_days)))
        .otherwise(is_last_day);
    let mut end_aggs = vec![
        len().cast(DataType::Int64).alias("separations"),
        count(on_e).alias("_ends_on_e"),
    ];
    for reason in SeparationReason::ALL {
        let reason = reason.as_str();
        end_aggs.push(
            count(col("separation_reason").eq(lit(reason))).alias(format!("separations_{reason}")),
        );
    }
    let ends = jobs
        .filter(col("end_on").is_not_null())
        .with_column(month_index("end_on").alias(month))
        .group_by(key(&[CONSORTIUM, AGENCY, month]))
        .agg(end_aggs);
    (starts, ends)
}
