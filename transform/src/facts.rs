//! INDICATORS.md section 1: from raw lake rows to facts (episodes, jobs, wage records).
//!
//! Every step is a set operation on lazy frames; no step looks at events one by one. Each
//! step that drops or ignores events also yields its `data_quality` items, one row per item
//! with the issue code and the agency of the event concerned.

use polars::prelude::*;

use crate::names::{
    AGENCY, CONSORTIUM, EPISODE_NO, EVENT_ID, EVENT_TYPE, ISSUE, PERSON, days, key,
};

/// Facts derived from the visible events of a lake for one `as_of`.
pub(crate) struct Facts {
    /// One row per episode: keys, owning agency, intake and exit.
    pub(crate) episodes: LazyFrame,
    /// Assessments, services and placements kept, with their episode.
    pub(crate) attributed: LazyFrame,
    /// One row per job, with its episode, separation and `job_seq`.
    pub(crate) jobs: LazyFrame,
    /// Wage records attached to a job, with the job's agency.
    pub(crate) wages: LazyFrame,
    /// `data_quality` items: `consortium_id, agency_id, issue`, one row per item.
    pub(crate) issues: LazyFrame,
}

/// The ordering the spec uses to break ties: `recorded_at`, then `event_id`.
fn tie_break() -> [Expr; 2] {
    [col("recorded_at"), col(EVENT_ID)]
}

/// Whether the event type is one of `types`.
fn one_of(types: &[&str]) -> Expr {
    types
        .iter()
        .map(|t| col(EVENT_TYPE).eq(lit(*t)))
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

fn issue_rows(frame: LazyFrame, issue: &str) -> LazyFrame {
    frame.select([col(CONSORTIUM), col(AGENCY), lit(issue).alias(ISSUE)])
}

/// Sorts by `by` and numbers rows within each group of `group` from 0.
fn rank_within(
    frame: LazyFrame,
    group: &[&str],
    by: Vec<Expr>,
    name: &str,
) -> PolarsResult<LazyFrame> {
    Ok(frame
        .sort_by_exprs(by, SortMultipleOptions::default().with_maintain_order(true))
        .with_column(
            int_range(lit(0), len(), 1, DataType::Int64)
                .over(key(group))?
                .alias(name),
        ))
}

/// One row per source position (`docs/LAKE.md`): a guard against overlapping lake files.
pub(crate) fn one_per_position(rows: LazyFrame) -> LazyFrame {
    rows.unique_stable(
        Some(cols([
            CONSORTIUM,
            "source_kind",
            "topic",
            "partition",
            "offset",
            "file_name",
            "line",
        ])),
        UniqueKeepStrategy::First,
    )
}

/// Keeps rows visible at `as_of`.
pub(crate) fn visible(events: LazyFrame, as_of_days: i32) -> LazyFrame {
    events.filter(
        col("recorded_at")
            .dt()
            .date()
            .cast(DataType::Int32)
            .lt_eq(lit(as_of_days))
            .and(days("occurred_on").lt_eq(lit(as_of_days))),
    )
}

/// Step 1, dedupe: one copy per (consortium, event_id); returns the kept events and the issues.
///
/// `events` holds the columns later steps need; `full` is the same rows with every content
/// column, read only for ids that occur more than once.
fn dedupe(
    events: LazyFrame,
    full: LazyFrame,
    content: &[&str],
) -> PolarsResult<(LazyFrame, LazyFrame)> {
    let copies = col(EVENT_ID).len().over(key(&[CONSORTIUM, EVENT_ID]))?;
    let events = events
        .with_column(copies.alias("_copies"))
        .collect()?
        .lazy();
    let single = events.clone().filter(col("_copies").eq(lit(1)));
    let repeated_ids = events
        .filter(col("_copies").gt(lit(1)))
        .select([col(CONSORTIUM), col(EVENT_ID)])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    // Filtering the scan by the few repeated ids lets the Parquet reader decode the other
    // columns only for their rows; the semi-join then checks the consortium too.
    let repeated_id_values = repeated_ids
        .column(EVENT_ID)?
        .as_materialized_series()
        .clone();
    let repeated = full
        .filter(col(EVENT_ID).is_in(lit(repeated_id_values).implode(false), false))
        .join(
            repeated_ids.lazy(),
            [col(CONSORTIUM), col(EVENT_ID)],
            [col(CONSORTIUM), col(EVENT_ID)],
            JoinArgs::new(JoinType::Semi),
        );
    let order = vec![
        col(CONSORTIUM),
        col(EVENT_ID),
        col("recorded_at"),
        col("source_kind").eq(lit("file")),
        col("topic"),
        col("partition"),
        col("offset"),
        col("file_name"),
        col("line"),
    ];
    let ranked = rank_within(repeated, &[CONSORTIUM, EVENT_ID], order, "_copy")?;
    let kept_copies = ranked.clone().filter(col("_copy").eq(lit(0)));
    let discarded = ranked.filter(col("_copy").gt(lit(0)));

    // A discarded copy is exact when every content column equals the kept copy's.
    let compared: Vec<&str> = content
        .iter()
        .copied()
        .filter(|name| *name != CONSORTIUM && *name != EVENT_ID)
        .collect();
    let same = compared
        .iter()
        .map(|name| col(*name).eq_missing(col(format!("_kept_{name}"))))
        .reduce(Expr::and)
        .unwrap_or(lit(true));
    let mut kept_columns = key(&[CONSORTIUM, EVENT_ID]);
    kept_columns.extend(
        compared
            .iter()
            .map(|name| col(*name).alias(format!("_kept_{name}"))),
    );
    let kept_keys = kept_copies.clone().select(kept_columns);
    let issues = discarded
        .join(
            kept_keys,
            [col(CONSORTIUM), col(EVENT_ID)],
            [col(CONSORTIUM), col(EVENT_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col(CONSORTIUM),
            col(AGENCY),
            when(same)
                .then(lit("exact_duplicate"))
                .otherwise(lit("conflicting_duplicate"))
                .alias(ISSUE),
        ]);
    let kept = concat(
        [
            single.select(main_columns()),
            kept_copies.select(main_columns()),
        ],
        UnionArgs::default(),
    )?;
    Ok((kept, issues))
}

/// Step 2, corrections: retractions, then `supersedes`, all at once.
///
/// The links are resolved on narrow frames (ids, types, links), each join hashing the few
/// linked ids rather than every event; the wide event rows are filtered once, at the end.
fn correct(events: LazyFrame) -> PolarsResult<(LazyFrame, LazyFrame)> {
    let is_retraction = col(EVENT_TYPE).eq(lit("retraction"));
    let links = events.clone().select([
        col(CONSORTIUM),
        col(AGENCY),
        col(EVENT_ID),
        col(EVENT_TYPE),
        col("supersedes"),
        col("retracted_event_id"),
    ]);
    let retractions = links.clone().filter(is_retraction.clone());
    let targets = links
        .clone()
        .select([
            col(CONSORTIUM),
            col(EVENT_ID).alias("_target"),
            col(EVENT_TYPE).alias("_target_type"),
        ])
        .join(
            retractions.clone(),
            [col(CONSORTIUM), col("_target")],
            [col(CONSORTIUM), col("retracted_event_id")],
            JoinArgs::new(JoinType::Semi),
        );
    let resolved = retractions.join(
        targets,
        [col(CONSORTIUM), col("retracted_event_id")],
        [col(CONSORTIUM), col("_target")],
        JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns),
    );
    let unknown_retraction = issue_rows(
        resolved.clone().filter(col("_target_type").is_null()),
        "unknown_retraction_target",
    );
    let bad_retraction = issue_rows(
        resolved
            .clone()
            .filter(col("_target_type").eq(lit("retraction"))),
        "bad_retraction_target",
    );
    let voided = resolved
        .filter(
            col("_target_type")
                .is_not_null()
                .and(col("_target_type").neq(lit("retraction"))),
        )
        .select([col(CONSORTIUM), col("retracted_event_id").alias(EVENT_ID)])
        .unique(None, UniqueKeepStrategy::Any);
    let remaining = links.filter(is_retraction.clone().not()).join(
        voided.clone(),
        [col(CONSORTIUM), col(EVENT_ID)],
        [col(CONSORTIUM), col(EVENT_ID)],
        JoinArgs::new(JoinType::Anti),
    );

    let superseding = remaining.clone().filter(col("supersedes").is_not_null());
    let present = remaining
        .select([col(CONSORTIUM), col(EVENT_ID).alias("_present")])
        .join(
            superseding.clone(),
            [col(CONSORTIUM), col("_present")],
            [col(CONSORTIUM), col("supersedes")],
            JoinArgs::new(JoinType::Semi),
        );
    let superseding = superseding.join(
        present,
        [col(CONSORTIUM), col("supersedes")],
        [col(CONSORTIUM), col("_present")],
        JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns),
    );
    let unknown_supersedes = issue_rows(
        superseding.clone().filter(col("_present").is_null()),
        "unknown_supersedes_target",
    );
    let replaced = superseding
        .filter(col("_present").is_not_null())
        .select([col(CONSORTIUM), col("supersedes").alias(EVENT_ID)]);
    let dropped =
        concat([voided, replaced], UnionArgs::default())?.unique(None, UniqueKeepStrategy::Any);
    let kept = events.filter(is_retraction.not()).join(
        dropped,
        [col(CONSORTIUM), col(EVENT_ID)],
        [col(CONSORTIUM), col(EVENT_ID)],
        JoinArgs::new(JoinType::Anti),
    );
    let issues = concat(
        [unknown_retraction, bad_retraction, unknown_supersedes],
        UnionArgs::default(),
    )?;
    Ok((kept, issues))
}

/// Step 3, episodes: an intake or exit takes effect exactly when its type differs from the
/// person's previous intake/exit token (with "exit" before the first), because ignoring a
/// token leaves the state it would have set.
fn episodes(events: LazyFrame) -> PolarsResult<(LazyFrame, LazyFrame)> {
    let person = [CONSORTIUM, PERSON];
    let tokens = events
        .filter(one_of(&["intake", "exit"]))
        .sort_by_exprs(
            [
                col(CONSORTIUM),
                col(PERSON),
                col("occurred_on"),
                col("recorded_at"),
                col(EVENT_ID),
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_column(
            col(EVENT_TYPE)
                .shift(lit(1))
                .over(key(&person))?
                .fill_null(lit("exit"))
                .neq(col(EVENT_TYPE))
                .alias("_effective"),
        )
        .with_column(
            col("_effective")
                .and(col(EVENT_TYPE).eq(lit("intake")))
                .cast(DataType::Int64)
                .cum_sum(false)
                .over(key(&person))?
                .alias(EPISODE_NO),
        );
    let ignored = tokens.clone().filter(col("_effective").not()).select([
        col(CONSORTIUM),
        col(AGENCY),
        when(col(EVENT_TYPE).eq(lit("intake")))
            .then(lit("repeat_intake"))
            .otherwise(lit("exit_without_episode"))
            .alias(ISSUE),
    ]);
    let effective = tokens.filter(col("_effective"));
    let intakes = effective
        .clone()
        .filter(col(EVENT_TYPE).eq(lit("intake")))
        .select([
            col(CONSORTIUM),
            col(AGENCY),
            col(PERSON),
            col(EPISODE_NO),
            col("occurred_on").alias("intake_on"),
        ]);
    let exits = effective.filter(col(EVENT_TYPE).eq(lit("exit"))).select([
        col(CONSORTIUM),
        col(PERSON),
        col(EPISODE_NO),
        col("occurred_on").alias("exit_on"),
        col("exit_outcome"),
    ]);
    let episodes = intakes.join(
        exits,
        key(&[CONSORTIUM, PERSON, EPISODE_NO]),
        key(&[CONSORTIUM, PERSON, EPISODE_NO]),
        JoinArgs::new(JoinType::Left),
    );
    Ok((episodes, ignored))
}

/// Step 4, attribution: the person's latest episode that covers the event's date.
fn attribute(events: LazyFrame, episodes: LazyFrame) -> (LazyFrame, LazyFrame) {
    let activities = events.filter(one_of(&["assessment", "service", "placement"]));
    let candidates = activities
        .clone()
        .select([
            col(CONSORTIUM),
            col(PERSON),
            col(EVENT_ID),
            col("occurred_on"),
        ])
        .join(
            episodes.select([
                col(CONSORTIUM),
                col(PERSON),
                col(EPISODE_NO),
                col("intake_on"),
                col("exit_on"),
            ]),
            key(&[CONSORTIUM, PERSON]),
            key(&[CONSORTIUM, PERSON]),
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("intake_on").lt_eq(col("occurred_on")).and(
                col("exit_on")
                    .is_null()
                    .or(col("occurred_on").lt_eq(col("exit_on"))),
            ),
        )
        .group_by(key(&[CONSORTIUM, EVENT_ID]))
        .agg([col(EPISODE_NO).max()]);
    let joined = activities.join(
        candidates,
        key(&[CONSORTIUM, EVENT_ID]),
        key(&[CONSORTIUM, EVENT_ID]),
        JoinArgs::new(JoinType::Left),
    );
    let outside = issue_rows(
        joined.clone().filter(col(EPISODE_NO).is_null()),
        "outside_episode",
    );
    (joined.filter(col(EPISODE_NO).is_not_null()), outside)
}

/// Step 5, jobs: first placement per job key; separations and wages attached by key.
fn jobs(
    events: LazyFrame,
    attributed: LazyFrame,
    as_of_days: i32,
) -> PolarsResult<(LazyFrame, LazyFrame, LazyFrame)> {
    let job_key = [CONSORTIUM, PERSON, "job_id"];
    let mut order = key(&job_key);
    order.extend([col("occurred_on")]);
    order.extend(tie_break());
    let placements = rank_within(
        attributed.filter(col(EVENT_TYPE).eq(lit("placement"))),
        &job_key,
        order,
        "_nth",
    )?;
    let duplicate_placements = issue_rows(
        placements.clone().filter(col("_nth").gt(lit(0))),
        "duplicate_placement",
    );
    let jobs = placements.filter(col("_nth").eq(lit(0))).select([
        col(CONSORTIUM),
        col(AGENCY),
        col(PERSON),
        col(EPISODE_NO),
        col("job_id"),
        col("employer_key"),
        col("occurred_on").alias("start_on"),
        col("recorded_at").alias("_placed_at"),
        col(EVENT_ID).alias("_placement_id"),
        col("hourly_wage"),
        col("hours_per_week"),
        col("competitive_integrated"),
    ]);
    let starts = jobs.clone().select([
        col(CONSORTIUM),
        col(PERSON),
        col("job_id"),
        col("start_on"),
        col(AGENCY).alias("_job_agency"),
    ]);

    // Separations: unknown job, before start, then the first counts.
    let separations = events
        .clone()
        .filter(col(EVENT_TYPE).eq(lit("separation")))
        .join(
            starts.clone(),
            key(&job_key),
            key(&job_key),
            JoinArgs::new(JoinType::Left),
        );
    let unknown_separations = issue_rows(
        separations.clone().filter(col("start_on").is_null()),
        "unknown_job",
    );
    let early_separations = issue_rows(
        separations.clone().filter(
            col("start_on")
                .is_not_null()
                .and(col("occurred_on").lt(col("start_on"))),
        ),
        "separation_before_start",
    );
    let mut order = key(&job_key);
    order.extend([col("occurred_on")]);
    order.extend(tie_break());
    let separations = rank_within(
        separations.filter(
            col("start_on")
                .is_not_null()
                .and(col("occurred_on").gt_eq(col("start_on"))),
        ),
        &job_key,
        order,
        "_nth",
    )?;
    let duplicate_separations = issue_rows(
        separations.clone().filter(col("_nth").gt(lit(0))),
        "duplicate_separation",
    );
    let ends = separations.filter(col("_nth").eq(lit(0))).select([
        col(CONSORTIUM),
        col(PERSON),
        col("job_id"),
        col("occurred_on").alias("end_on"),
        col("separation_reason"),
    ]);

    // Wages: unknown job, before start, else attached.
    let wages = events.filter(col(EVENT_TYPE).eq(lit("wage"))).join(
        starts,
        key(&job_key),
        key(&job_key),
        JoinArgs::new(JoinType::Left),
    );
    let unknown_wages = issue_rows(
        wages.clone().filter(col("start_on").is_null()),
        "unknown_job",
    );
    let early_wages = issue_rows(
        wages.clone().filter(
            col("start_on")
                .is_not_null()
                .and(col("period_end").lt(col("start_on"))),
        ),
        "wage_before_start",
    );
    let wages = wages
        .filter(
            col("start_on")
                .is_not_null()
                .and(col("period_end").gt_eq(col("start_on"))),
        )
        .select([
            col(CONSORTIUM),
            col("_job_agency").alias(AGENCY),
            col(PERSON),
            col("job_id"),
            col("occurred_on"),
            col("gross_wages"),
            col("hours_worked"),
        ]);
    let totals = wages.clone().group_by(key(&job_key)).agg([
        col("gross_wages").sum().alias("wages_total"),
        col("hours_worked").sum().alias("hours_total"),
        len().cast(DataType::Int64).alias("wage_records"),
    ]);

    let episode = [CONSORTIUM, PERSON, EPISODE_NO];
    let jobs = jobs
        .join(
            ends,
            key(&job_key),
            key(&job_key),
            JoinArgs::new(JoinType::Left),
        )
        .join(
            totals,
            key(&job_key),
            key(&job_key),
            JoinArgs::new(JoinType::Left),
        )
        .sort_by_exprs(
            [
                col(CONSORTIUM),
                col(PERSON),
                col(EPISODE_NO),
                col("start_on"),
                col("_placed_at"),
                col("_placement_id"),
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_columns([
            int_range(lit(1), len() + lit(1), 1, DataType::Int64)
                .over(key(&episode))?
                .alias("job_seq"),
            col("start_on")
                .shift(lit(-1))
                .over(key(&episode))?
                .alias("next_start_on"),
        ])
        .with_columns([
            (col("hourly_wage") * col("hours_per_week")).alias("weekly_earnings"),
            (when(col("end_on").is_null())
                .then(lit(as_of_days))
                .otherwise(days("end_on"))
                - days("start_on"))
            .cast(DataType::Int64)
            .alias("days_employed"),
            retained(30, as_of_days),
            retained(90, as_of_days),
            retained(180, as_of_days),
            col("wages_total").fill_null(lit(0.0)),
            col("hours_total").fill_null(lit(0.0)),
            col("wage_records").fill_null(lit(0i64)),
        ]);

    let issues = concat(
        [
            duplicate_placements,
            unknown_separations,
            early_separations,
            duplicate_separations,
            unknown_wages,
            early_wages,
        ],
        UnionArgs::default(),
    )?;
    Ok((jobs, wages, issues))
}

/// `retained_Nd`: false when the job ended within N days, true when N days have passed by
/// `as_of`, else not yet observable (null).
fn retained(n: i32, as_of_days: i32) -> Expr {
    let tenure = days("end_on") - days("start_on");
    when(col("end_on").is_not_null().and(tenure.lt(lit(n))))
        .then(lit(false))
        .when((days("start_on") + lit(n)).lt_eq(lit(as_of_days)))
        .then(lit(true))
        .otherwise(lit(NULL).cast(DataType::Boolean))
        .alias(format!("retained_{n}d"))
}

/// Collects several plans in one execution.
fn collect_together<const N: usize>(frames: [LazyFrame; N]) -> PolarsResult<[DataFrame; N]> {
    let plans = frames.into_iter().map(|frame| frame.logical_plan).collect();
    LazyFrame::collect_all_with_engine(plans, Engine::Auto, OptFlags::default())?
        .try_into()
        .map_err(|_| {
            PolarsError::ComputeError("collect_all returned another number of frames".into())
        })
}

/// The columns corrections read besides [`KEPT_COLUMNS`]: the correction links. (Dedupe's
/// tie-break, the source position, is read only for ids that occur more than once.)
const LINK_COLUMNS: [&str; 2] = ["supersedes", "retracted_event_id"];

/// Every column dedupe and corrections carry.
fn main_columns() -> Vec<Expr> {
    KEPT_COLUMNS
        .iter()
        .chain(&LINK_COLUMNS)
        .map(|name| col(*name))
        .collect()
}

/// The event columns that episodes, attribution and jobs read.
const KEPT_COLUMNS: [&str; 17] = [
    CONSORTIUM,
    AGENCY,
    PERSON,
    EVENT_ID,
    EVENT_TYPE,
    "occurred_on",
    "recorded_at",
    "job_id",
    "employer_key",
    "hourly_wage",
    "hours_per_week",
    "competitive_integrated",
    "period_end",
    "gross_wages",
    "hours_worked",
    "separation_reason",
    "exit_outcome",
];

/// Runs steps 1 to 5 over visible events.
pub(crate) fn derive(
    visible_events: LazyFrame,
    content: &[&str],
    as_of_days: i32,
) -> PolarsResult<Facts> {
    // Polars does not share a scan between branches that push down different projections, so
    // the rows are read once with the columns the steps need and then worked on in memory;
    // every content column is read again only for ids that occur more than once.
    let events = visible_events
        .clone()
        .select(main_columns())
        .collect()?
        .lazy();
    let (deduped, duplicate_issues) = dedupe(events, visible_events, content)?;
    let [deduped, duplicate_issues] = collect_together([deduped, duplicate_issues])?;
    let (kept, correction_issues) = correct(deduped.lazy())?;
    let [kept, correction_issues] =
        collect_together([kept.select(key(&KEPT_COLUMNS)), correction_issues])?;
    let early_issues = concat(
        [duplicate_issues.lazy(), correction_issues.lazy()],
        UnionArgs::default(),
    )?;
    let kept = kept.lazy();
    let (episodes, episode_issues) = episodes(kept.clone())?;
    let episodes = episodes.cache();
    let (attributed, outside_issues) = attribute(kept.clone(), episodes.clone());
    let attributed = attributed.cache();
    let (jobs, wages, job_issues) = jobs(kept, attributed.clone(), as_of_days)?;
    let issues = concat(
        [early_issues, episode_issues, outside_issues, job_issues],
        UnionArgs::default(),
    )?;
    Ok(Facts {
        episodes,
        attributed,
        jobs: jobs.cache(),
        wages: wages.cache(),
        issues,
    })
}
