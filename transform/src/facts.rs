//! INDICATORS.md section 1: from raw lake rows to facts (episodes, jobs, wage records).
//!
//! Every step is a set operation on lazy frames; no step looks at events one by one. Each
//! step that drops or ignores events also yields its `data_quality` items, one row per item
//! with the issue code and the agency of the event concerned.

use polars::prelude::*;

use crate::names::{
    AGENCY, CONSORTIUM, EPISODE_NO, EVENT_ID, EVENT_TYPE, ISSUE, PERSON, PERSON_CODE, days, key,
};

/// Facts derived from the visible events of a lake for one `as_of`.
///
/// People appear as [`PERSON_CODE`]s, numbers given in (`consortium_id`, `person_key`) order,
/// so that joins, sorts and counts work on integers; `persons` turns them back into keys.
pub(crate) struct Facts {
    /// `consortium_id, person_key, PERSON_CODE`: every person with an intake or an exit.
    pub(crate) persons: LazyFrame,
    /// One row per episode: keys, owning agency, intake and exit.
    pub(crate) episodes: LazyFrame,
    /// Per episode with assessments or services: `first_assessment_on`, `_first_activity_on`
    /// (the earliest assessment or service), `assessments`, `services`.
    pub(crate) activity: LazyFrame,
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

/// On rows sorted by `group` first: whether the row `offset` rows away (1: the previous,
/// -1: the next) is in the same group. Comparing neighbours of sorted rows is a single pass,
/// where a window (`over`) would hash every group.
fn same_group_as(group: &[&str], offset: i64) -> Expr {
    group
        .iter()
        .map(|name| col(*name).shift(lit(offset)).eq_missing(col(*name)))
        .reduce(Expr::and)
        .unwrap_or(lit(true))
}

/// On rows sorted by `group` first: `value` summed from each group's first row.
fn cumulative_within(group: &[&str], value: Expr) -> Expr {
    let running = value.clone().cum_sum(false);
    let before_group = when(same_group_as(group, 1).not())
        .then(running.clone() - value)
        .otherwise(lit(0i64))
        .cum_max(false);
    running - before_group
}

/// On rows sorted by `group` first: each row's position within its group, from 0.
fn position_within(group: &[&str]) -> Expr {
    let row = int_range(lit(0), len(), 1, DataType::Int64);
    let group_start = when(same_group_as(group, 1).not())
        .then(row.clone())
        .otherwise(lit(0i64))
        .cum_max(false);
    row - group_start
}

/// Sorts by `by` (which starts with `group`) and numbers rows within each group from 0.
fn rank_within(frame: LazyFrame, group: &[&str], by: Vec<Expr>, name: &str) -> LazyFrame {
    frame
        .sort_by_exprs(by, SortMultipleOptions::default().with_maintain_order(true))
        .with_column(position_within(group).alias(name))
}

/// One row per source position (`docs/LAKE.md`): a guard against overlapping lake files.
pub(crate) fn one_per_position(rows: LazyFrame) -> LazyFrame {
    let mut position = vec![CONSORTIUM];
    position.extend(POSITION);
    rows.unique_stable(Some(cols(position)), UniqueKeepStrategy::First)
}

/// Keeps rows visible at `as_of`: recorded on or before D (in UTC) and occurred on or before D.
///
/// `recorded_at` is compared as microseconds since the epoch (the lake stores UTC instants)
/// with the first instant after D, which spares a date conversion per row in every scan.
pub(crate) fn visible(events: LazyFrame, as_of_days: i32) -> LazyFrame {
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    let after_as_of = (i64::from(as_of_days) + 1) * MICROS_PER_DAY;
    events.filter(
        col("recorded_at")
            .cast(DataType::Int64)
            .lt(lit(after_as_of))
            .and(days("occurred_on").lt_eq(lit(as_of_days))),
    )
}

/// The row number a run gives each lake row before any filter: the identity of one copy of
/// an event, which dedupe and corrections use to name the rows they drop.
pub(crate) const ROW: &str = "_row";

/// Seeds of the id hash. Any would do: the hash only nominates candidate duplicates, which
/// dedupe then compares by id.
const HASH_SEEDS: [u64; 4] = [0x6f75_7463, 0x6f6d_6573, 0x6465_6475, 0x7065_2121];

/// The source position columns: dedupe's last tie-break.
const POSITION: [&str; 6] = [
    "source_kind",
    "topic",
    "partition",
    "offset",
    "file_name",
    "line",
];

/// Steps 1 and 2 decided: the rows that dedupe and corrections drop (besides retractions,
/// which take no further part), and the data-quality items they yield.
pub(crate) struct Resolution {
    /// [`ROW`] numbers of discarded copies and of removed events.
    pub(crate) dropped: Series,
    /// `consortium_id, agency_id, issue` rows.
    pub(crate) issues: DataFrame,
}

/// A literal list for `is_in`.
fn among(values: &DataFrame, name: &str) -> PolarsResult<Expr> {
    Ok(lit(values.column(name)?.as_materialized_series().clone()).implode(false))
}

/// Steps 1 and 2 over the visible rows, without holding them all: both steps only concern
/// ids that occur more than once or that a correction names, so each reads the lake for
/// those rows alone (ids hashed to 64 bits to find candidates; a collision only adds one).
pub(crate) fn resolve(visible: LazyFrame, content: &[&str]) -> PolarsResult<Resolution> {
    let [hash0, hash1, hash2, hash3] = HASH_SEEDS;
    let id_hash = || col(EVENT_ID).hash(hash0, hash1, hash2, hash3);
    let repeated_hashes = visible
        .clone()
        .select([id_hash().alias("_hash")])
        .group_by([col("_hash")])
        .agg([len().alias("_copies")])
        .filter(col("_copies").gt(lit(1)))
        .select([col("_hash")]);
    let repeated_hashes = collect_streaming(repeated_hashes)?;
    let mut columns: Vec<Expr> = content.iter().map(|name| col(*name)).collect();
    columns.extend(POSITION.iter().map(|name| col(*name)));
    columns.push(col(ROW));
    let copies = visible
        .clone()
        .filter(id_hash().is_in(among(&repeated_hashes, "_hash")?, false))
        .select(columns);
    let (discarded, duplicate_issues) = dedupe(collect_compact(copies)?.lazy(), content)?;
    let [discarded, duplicate_issues] = collect_together([discarded, duplicate_issues])?;

    let links = visible
        .clone()
        .filter(
            col(EVENT_TYPE)
                .eq(lit("retraction"))
                .or(col("supersedes").is_not_null()),
        )
        .select([
            col(ROW),
            col(CONSORTIUM),
            col(AGENCY),
            col(EVENT_ID),
            col(EVENT_TYPE),
            col("supersedes"),
            col("retracted_event_id"),
        ])
        .join(
            discarded.clone().lazy(),
            [col(ROW)],
            [col(ROW)],
            JoinArgs::new(JoinType::Anti),
        );
    let links = collect_compact(links)?;
    let named = concat(
        [
            links
                .clone()
                .lazy()
                .select([col("supersedes").alias("_id")]),
            links
                .clone()
                .lazy()
                .select([col("retracted_event_id").alias("_id")]),
        ],
        UnionArgs::default(),
    )?
    .drop_nulls(None)
    .unique(None, UniqueKeepStrategy::Any)
    .collect()?;
    let targets = visible
        .filter(col(EVENT_ID).is_in(among(&named, "_id")?, false))
        .select([col(ROW), col(CONSORTIUM), col(EVENT_ID), col(EVENT_TYPE)])
        .join(
            discarded.clone().lazy(),
            [col(ROW)],
            [col(ROW)],
            JoinArgs::new(JoinType::Anti),
        );
    let (removed, correction_issues) = correct(links.lazy(), collect_compact(targets)?.lazy())?;
    let [removed, correction_issues] = collect_together([removed, correction_issues])?;
    let mut dropped = discarded.column(ROW)?.as_materialized_series().clone();
    dropped.append(removed.column(ROW)?.as_materialized_series())?;
    let issues = duplicate_issues.vstack(&correction_issues)?;
    Ok(Resolution { dropped, issues })
}

/// Step 1, dedupe, over every copy of the ids that occur more than once (and perhaps a few
/// that do not): returns the [`ROW`]s of the discarded copies and their issues.
fn dedupe(copies: LazyFrame, content: &[&str]) -> PolarsResult<(LazyFrame, LazyFrame)> {
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
    let ranked = rank_within(copies, &[CONSORTIUM, EVENT_ID], order, "_copy");
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
    let kept_keys = kept_copies.select(kept_columns);
    let issues = discarded
        .clone()
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
    Ok((discarded.select([col(ROW)]), issues))
}

/// Step 2, corrections: retractions, then `supersedes`, all at once.
///
/// `links` are the deduped retractions and superseding events; `targets` the deduped rows
/// whose id one of them names (by id alone: every other row is untouched by corrections).
/// Returns the [`ROW`]s of the events removed and the issues.
fn correct(links: LazyFrame, targets: LazyFrame) -> PolarsResult<(LazyFrame, LazyFrame)> {
    let is_retraction = col(EVENT_TYPE).eq(lit("retraction"));
    let retractions = links.clone().filter(is_retraction.clone());
    let retracted = targets
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
        retracted,
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
    let not_voided = |frame: LazyFrame| {
        frame.filter(is_retraction.clone().not()).join(
            voided.clone(),
            [col(CONSORTIUM), col(EVENT_ID)],
            [col(CONSORTIUM), col(EVENT_ID)],
            JoinArgs::new(JoinType::Anti),
        )
    };

    let superseding = not_voided(links).filter(col("supersedes").is_not_null());
    let present = not_voided(targets.clone())
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
    let removed_ids = concat([voided, replaced], UnionArgs::default())?;
    let removed = targets
        .join(
            removed_ids,
            [col(CONSORTIUM), col(EVENT_ID)],
            [col(CONSORTIUM), col(EVENT_ID)],
            JoinArgs::new(JoinType::Semi),
        )
        .select([col(ROW)]);
    let issues = concat(
        [unknown_retraction, bad_retraction, unknown_supersedes],
        UnionArgs::default(),
    )?;
    Ok((removed, issues))
}

/// Step 3, episodes: an intake or exit takes effect exactly when its type differs from the
/// person's previous intake/exit token (with "exit" before the first), because ignoring a
/// token leaves the state it would have set.
fn episodes(tokens: LazyFrame) -> PolarsResult<(LazyFrame, LazyFrame)> {
    let person = [PERSON_CODE];
    let tokens = tokens
        .sort_by_exprs(
            [
                col(PERSON_CODE),
                col("occurred_on"),
                col("recorded_at"),
                col(EVENT_ID),
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_column(
            when(same_group_as(&person, 1))
                .then(col(EVENT_TYPE).shift(lit(1)))
                .otherwise(lit("exit"))
                .neq(col(EVENT_TYPE))
                .alias("_effective"),
        )
        .with_column(
            cumulative_within(
                &person,
                col("_effective")
                    .and(col(EVENT_TYPE).eq(lit("intake")))
                    .cast(DataType::Int64),
            )
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
            col(PERSON_CODE),
            col(EPISODE_NO),
            col("occurred_on").alias("intake_on"),
        ]);
    let exits = effective.filter(col(EVENT_TYPE).eq(lit("exit"))).select([
        col(PERSON_CODE),
        col(EPISODE_NO),
        col("occurred_on").alias("exit_on"),
        col("exit_outcome"),
    ]);
    let episodes = intakes.join(
        exits,
        key(&[PERSON_CODE, EPISODE_NO]),
        key(&[PERSON_CODE, EPISODE_NO]),
        JoinArgs::new(JoinType::Left),
    );
    Ok((episodes, ignored))
}

/// Step 4, attribution: the person's latest episode that covers the event's date. (People
/// without a code have no intake, hence no episode.)
fn attribute(activities: LazyFrame, episodes: LazyFrame) -> (LazyFrame, LazyFrame) {
    let candidates = activities
        .clone()
        .select([col(PERSON_CODE), col(ROW), col("occurred_on")])
        .join(
            episodes.select([
                col(PERSON_CODE),
                col(EPISODE_NO),
                col("intake_on"),
                col("exit_on"),
            ]),
            [col(PERSON_CODE)],
            [col(PERSON_CODE)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("intake_on").lt_eq(col("occurred_on")).and(
                col("exit_on")
                    .is_null()
                    .or(col("occurred_on").lt_eq(col("exit_on"))),
            ),
        )
        .group_by([col(ROW)])
        .agg([col(EPISODE_NO).max()]);
    let joined = activities.join(
        candidates,
        [col(ROW)],
        [col(ROW)],
        JoinArgs::new(JoinType::Left),
    );
    let outside = issue_rows(
        joined.clone().filter(col(EPISODE_NO).is_null()),
        "outside_episode",
    );
    (joined.filter(col(EPISODE_NO).is_not_null()), outside)
}

/// Each job's key, start and agency: `PERSON_CODE, job_id, start_on, _job_agency`.
fn job_starts(jobs: LazyFrame) -> LazyFrame {
    jobs.select([
        col(PERSON_CODE),
        col("job_id"),
        col("start_on"),
        col(AGENCY).alias("_job_agency"),
    ])
}

/// Placements with `_nth` numbering each job key's placements from 0 in the spec's order.
fn ranked_placements(attributed: LazyFrame) -> LazyFrame {
    let job_key = [PERSON_CODE, "job_id"];
    let mut order = key(&job_key);
    order.extend([col("occurred_on")]);
    order.extend(tie_break());
    rank_within(
        attributed.filter(col(EVENT_TYPE).eq(lit("placement"))),
        &job_key,
        order,
        "_nth",
    )
}

/// The columns of the kept placements that make jobs.
fn first_placements(ranked: LazyFrame) -> LazyFrame {
    ranked.filter(col("_nth").eq(lit(0))).select([
        col(CONSORTIUM),
        col(AGENCY),
        col(PERSON_CODE),
        col(EPISODE_NO),
        col("job_id"),
        col("employer_key"),
        col("occurred_on").alias("start_on"),
        col("recorded_at").alias("_placed_at"),
        col(EVENT_ID).alias("_placement_id"),
        col("hourly_wage"),
        col("hours_per_week"),
        col("competitive_integrated"),
    ])
}

/// `WAGE_STATUS` of a wage record attached to its job.
const ATTACHED: i32 = 0;
/// `WAGE_STATUS` of a wage record with no such job.
const UNKNOWN_JOB: i32 = 1;
/// `WAGE_STATUS` of a wage record whose `period_end` is before the job's start.
const BEFORE_START: i32 = 2;
/// Column of [`attach_wages`]: which of the above a record is.
const WAGE_STATUS: &str = "_wage_status";

/// Attaches the wage records (`wages`, a lake scan) to their jobs while streaming them, so
/// that the longest kind of event is held once, in its final form. `agency_id` becomes the
/// job's for attached records (the tables count wages under the job's agency) and stays
/// the record's own otherwise (its data-quality item).
fn attach_wages(wages: LazyFrame, starts: DataFrame) -> PolarsResult<DataFrame> {
    let job_key = [PERSON_CODE, "job_id"];
    let in_order = JoinArgs {
        maintain_order: MaintainOrderJoin::Left,
        ..JoinArgs::new(JoinType::Left)
    };
    let status = when(col("start_on").is_null())
        .then(lit(UNKNOWN_JOB))
        .when(col("period_end").lt(col("start_on")))
        .then(lit(BEFORE_START))
        .otherwise(lit(ATTACHED));
    collect_compact(
        wages
            .join(starts.lazy(), key(&job_key), key(&job_key), in_order)
            .select([
                col(CONSORTIUM),
                when(status.clone().eq(lit(ATTACHED)))
                    .then(col("_job_agency"))
                    .otherwise(col(AGENCY))
                    .alias(AGENCY),
                col(PERSON_CODE),
                col("job_id"),
                col("occurred_on"),
                col("gross_wages"),
                col("hours_worked"),
                status.alias(WAGE_STATUS),
            ]),
    )
}

/// Step 5, jobs: first placement per job key; separations and wages attached by key.
fn jobs(
    separations: LazyFrame,
    attached_wages: LazyFrame,
    attributed: LazyFrame,
    as_of_days: i32,
) -> PolarsResult<(LazyFrame, LazyFrame, LazyFrame)> {
    let job_key = [PERSON_CODE, "job_id"];
    let placements = ranked_placements(attributed);
    let duplicate_placements = issue_rows(
        placements.clone().filter(col("_nth").gt(lit(0))),
        "duplicate_placement",
    );
    let jobs = first_placements(placements);
    let starts = job_starts(jobs.clone());

    // Separations: unknown job, before start, then the first counts.
    let separations = separations.join(
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
    );
    let duplicate_separations = issue_rows(
        separations.clone().filter(col("_nth").gt(lit(0))),
        "duplicate_separation",
    );
    let ends = separations.filter(col("_nth").eq(lit(0))).select([
        col(PERSON_CODE),
        col("job_id"),
        col("occurred_on").alias("end_on"),
        col("separation_reason"),
    ]);

    // Wages, attached by `attach_wages`.
    let status = |code: i32| col(WAGE_STATUS).eq(lit(code));
    let unknown_wages = issue_rows(
        attached_wages.clone().filter(status(UNKNOWN_JOB)),
        "unknown_job",
    );
    let early_wages = issue_rows(
        attached_wages.clone().filter(status(BEFORE_START)),
        "wage_before_start",
    );
    let wages = attached_wages.filter(status(ATTACHED)).select([
        col(CONSORTIUM),
        col(AGENCY),
        col(PERSON_CODE),
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

    let episode = [PERSON_CODE, EPISODE_NO];
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
                col(PERSON_CODE),
                col(EPISODE_NO),
                col("start_on"),
                col("_placed_at"),
                col("_placement_id"),
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_columns([
            (position_within(&episode) + lit(1i64)).alias("job_seq"),
            when(same_group_as(&episode, -1))
                .then(col("start_on").shift(lit(-1)))
                .otherwise(lit(NULL).cast(DataType::Date))
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

/// Collects a plan with the streaming engine, which reads the lake in batches instead of
/// loading whole columns first.
fn collect_streaming(frame: LazyFrame) -> PolarsResult<DataFrame> {
    LazyFrame::collect_all_with_engine(
        vec![frame.logical_plan],
        Engine::Streaming,
        OptFlags::default(),
    )?
    .pop()
    .ok_or_else(|| PolarsError::ComputeError("collect_all returned no frame".into()))
}

/// Collects a read of some of the lake's rows with the streaming engine and copies its text
/// out of the read buffers (see [`compact_strings`]).
fn collect_compact(frame: LazyFrame) -> PolarsResult<DataFrame> {
    compact_strings(collect_streaming(frame)?)
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

/// The kept events by kind, each read from the lake once with only the columns its step
/// needs, people coded.
struct Kept {
    persons: DataFrame,
    tokens: DataFrame,
    activities: DataFrame,
    separations: DataFrame,
    /// The wage records' lake scan, read by `attach_wages` once the jobs are known.
    wages: LazyFrame,
}

/// Reads the kept events (`kept` is a lake scan) by kind, numbering people from
/// `first_code`. The person codes come from the
/// intakes and exits, since only people with an intake have episodes: everyone else's
/// events are ignored (`outside_episode`, `unknown_job`) whatever their key.
fn read_kept(kept: LazyFrame, first_code: IdxSize) -> PolarsResult<Kept> {
    let read = |types: &[&str], columns: &[&str]| {
        let mut columns = key(columns);
        columns.extend([col(CONSORTIUM), col(AGENCY), col(PERSON)]);
        kept.clone().filter(one_of(types)).select(columns)
    };
    let tokens = collect_compact(read(
        &["intake", "exit"],
        &[
            EVENT_ID,
            EVENT_TYPE,
            "occurred_on",
            "recorded_at",
            "exit_outcome",
        ],
    ))?;
    let persons = tokens
        .clone()
        .lazy()
        .select([col(CONSORTIUM), col(PERSON)])
        .unique(None, UniqueKeepStrategy::Any)
        .sort([CONSORTIUM, PERSON], SortMultipleOptions::default())
        .with_row_index(PERSON_CODE, Some(first_code))
        .collect()?;
    let coded = |frame: LazyFrame| {
        let join = JoinArgs {
            maintain_order: MaintainOrderJoin::Left,
            ..JoinArgs::new(JoinType::Left)
        };
        frame
            .join(
                persons.clone().lazy(),
                [col(CONSORTIUM), col(PERSON)],
                [col(CONSORTIUM), col(PERSON)],
                join,
            )
            .drop(cols([PERSON]))
    };
    let tokens = coded(tokens.lazy()).collect()?;
    let activities = collect_compact(coded(read(
        &["assessment", "service", "placement"],
        &[
            ROW,
            EVENT_ID,
            EVENT_TYPE,
            "occurred_on",
            "recorded_at",
            "job_id",
            "employer_key",
            "hourly_wage",
            "hours_per_week",
            "competitive_integrated",
        ],
    )))?;
    let separations = collect_compact(coded(read(
        &["separation"],
        &[
            EVENT_ID,
            "occurred_on",
            "recorded_at",
            "job_id",
            "separation_reason",
        ],
    )))?;
    let wages = coded(read(
        &["wage"],
        &[
            "occurred_on",
            "job_id",
            "period_end",
            "gross_wages",
            "hours_worked",
        ],
    ));
    Ok(Kept {
        persons,
        tokens,
        activities,
        separations,
        wages,
    })
}

/// Runs steps 1 to 5 over visible events (lake rows numbered by [`ROW`]).
///
/// Steps 1 and 2 look at the whole lake (a correction may name anyone's event); steps 3 to 5
/// read the kept rows from the lake by kind, each with only the columns it needs. They stay
/// within one person, so a lake of more than `events_per_part` visible events is split by a
/// hash of the person key into parts done one after the other, to bound memory.
pub(crate) fn derive(
    visible_events: LazyFrame,
    content: &[&str],
    as_of_days: i32,
    events_per_part: u64,
) -> PolarsResult<Facts> {
    let events = visible_events
        .clone()
        .select([len().cast(DataType::UInt64).alias("_events")])
        .collect()?
        .column("_events")?
        .u64()?
        .get(0)
        .unwrap_or(0);
    let parts = events.div_ceil(events_per_part.max(1)).max(1);
    let resolution = resolve(visible_events.clone(), content)?;
    let kept = visible_events.filter(
        col(EVENT_TYPE).neq(lit("retraction")).and(
            col(ROW)
                .is_in(lit(resolution.dropped).implode(false), false)
                .not(),
        ),
    );
    let [hash0, hash1, hash2, hash3] = HASH_SEEDS;
    let mut facts = Vec::new();
    let mut people: IdxSize = 0;
    for part in 0..parts {
        let rows = if parts == 1 {
            kept.clone()
        } else {
            kept.clone()
                .filter((col(PERSON).hash(hash0, hash1, hash2, hash3) % lit(parts)).eq(lit(part)))
        };
        let part_facts = person_facts(read_kept(rows, people)?, as_of_days)?;
        people += IdxSize::try_from(part_facts[0].height()).map_err(|_| {
            PolarsError::ComputeError("more people than row numbers can count".into())
        })?;
        facts.push(part_facts);
    }
    let stacked = |field: usize| -> PolarsResult<LazyFrame> {
        concat(
            facts
                .iter()
                .map(|part| part[field].clone().lazy())
                .collect::<Vec<_>>(),
            UnionArgs::default(),
        )
    };
    Ok(Facts {
        persons: stacked(0)?,
        episodes: stacked(1)?,
        activity: stacked(2)?,
        jobs: stacked(3)?,
        wages: stacked(4)?,
        issues: concat(
            [resolution.issues.lazy(), stacked(5)?],
            UnionArgs::default(),
        )?,
    })
}

/// Steps 3 to 5 for the people of `kept`: their persons, episodes, activity, jobs, wages and
/// issues, in the order of [`Facts`]' fields.
fn person_facts(kept: Kept, as_of_days: i32) -> PolarsResult<[DataFrame; 6]> {
    let (episodes, episode_issues) = episodes(kept.tokens.lazy())?;
    let episodes = episodes.cache();
    let (attributed, outside_issues) = attribute(kept.activities.lazy(), episodes.clone());
    let [episodes, attributed, episode_issues, outside_issues] =
        collect_together([episodes, attributed, episode_issues, outside_issues])?;
    let starts = job_starts(first_placements(ranked_placements(
        attributed.clone().lazy(),
    )))
    .collect()?;
    let attached_wages = attach_wages(kept.wages, starts)?;
    let attributed = attributed.lazy();
    let (jobs, wages, job_issues) = jobs(
        kept.separations.lazy(),
        attached_wages.lazy(),
        attributed.clone(),
        as_of_days,
    )?;
    let count = |predicate: Expr| predicate.cast(DataType::Int64).sum();
    let activity = attributed
        .filter(col(EVENT_TYPE).neq(lit("placement")))
        .group_by(key(&[PERSON_CODE, EPISODE_NO]))
        .agg([
            col("occurred_on")
                .filter(col(EVENT_TYPE).eq(lit("assessment")))
                .min()
                .alias("first_assessment_on"),
            col("occurred_on").min().alias("_first_activity_on"),
            count(col(EVENT_TYPE).eq(lit("assessment"))).alias("assessments"),
            count(col(EVENT_TYPE).eq(lit("service"))).alias("services"),
        ]);
    let issues = concat(
        [episode_issues.lazy(), outside_issues.lazy(), job_issues],
        UnionArgs::default(),
    )?;
    // Collected here, so that the events are freed before the next part and the tables.
    let [activity, jobs, wages, issues] = collect_together([activity, jobs, wages, issues])?;
    Ok([kept.persons, episodes, activity, jobs, wages, issues])
}

/// Copies the text of a frame's string columns into buffers of their own.
///
/// A string column read from the lake and then filtered still points into the buffers of
/// every row it was read with (Arrow string views share them), so the few intakes of a
/// part would hold on to the person keys and ids of every event read. Without this, each
/// part kept 700 MB at 10M events, and 100M events ran out of memory.
fn compact_strings(frame: DataFrame) -> PolarsResult<DataFrame> {
    let height = frame.height();
    let columns = frame
        .columns()
        .iter()
        .map(|column| match column.dtype() {
            DataType::String => {
                let text = column.str()?;
                let copied = StringChunked::from_chunk_iter(
                    text.name().clone(),
                    text.downcast_iter().map(|array| array.clone().gc()),
                );
                Ok(copied.into_column())
            }
            _ => Ok(column.clone()),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, columns)
}
