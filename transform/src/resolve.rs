//! INDICATORS.md section 1, rules 1 and 2 (dedupe and corrections): set operations over the
//! copies and links that [`crate::plan`] reads from the lake, each rule one function from
//! frames to frames beside the sentences it implements.
//!
//! Both rules concern only ids that occur more than once or that a correction names, so the
//! plan hands them those rows alone; what they return names the rows to drop by [`ROW`].

use outcomes_schemas::lake::col as event;
use outcomes_schemas::lake::source_kind;
use polars::prelude::*;

use crate::names::{AGENCY, CONSORTIUM, EVENT_ID, EVENT_TYPE, ISSUE, ITEMS, is_type, key};
use crate::plan::ROW;
use outcomes_schemas::EventType;
use outcomes_schemas::tables::Issue;

/// One item per row of `frame`, under the row's own agency.
fn issue_rows(frame: LazyFrame, issue: Issue) -> LazyFrame {
    frame.select([
        col(CONSORTIUM),
        col(AGENCY),
        lit(issue.to_string()).alias(ISSUE),
        lit(1i64).cast(DataType::Int64).alias(ITEMS),
    ])
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

/// Rule 1.1, **dedupe**: "Group visible events by `event_id` and keep one copy: the earliest
/// `recorded_at`; on a tie, the lower (topic, partition, offset), Kafka copies before file
/// copies, files by (path, line). Each discarded copy counts one item: `exact_duplicate` when
/// its content equals the kept copy's, else `conflicting_duplicate`, under the discarded
/// copy's agency." (Ids are unique per consortium, so the groups are per consortium.)
///
/// `copies` holds every copy of the ids that occur more than once (and perhaps a few that do
/// not, which are kept); returns the [`ROW`]s of the discarded copies and their items.
pub(crate) fn dedupe(copies: LazyFrame, content: &[&str]) -> PolarsResult<(LazyFrame, LazyFrame)> {
    let order = vec![
        col(CONSORTIUM),
        col(EVENT_ID),
        col(event::RECORDED_AT),
        col(event::SOURCE_KIND).eq(lit(source_kind::FILE)),
        col(event::TOPIC),
        col(event::PARTITION),
        col(event::OFFSET),
        col(event::FILE_NAME),
        col(event::LINE),
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
                .then(lit(Issue::ExactDuplicate.to_string()))
                .otherwise(lit(Issue::ConflictingDuplicate.to_string()))
                .alias(ISSUE),
            lit(1i64).cast(DataType::Int64).alias(ITEMS),
        ]);
    Ok((discarded.select([col(ROW)]), issues))
}

/// Rule 1.2, **corrections**: retractions first, then supersessions "all at once"
/// ([`retract`], [`supersede`]). Targets are found by id alone. (E: the deduped events.)
///
/// `links` are the deduped retractions and superseding events; `targets` the deduped rows
/// whose id one of them names (by id alone: every other row is untouched by corrections).
/// Returns the [`ROW`]s of the events removed and the issues.
pub(crate) fn correct(
    links: LazyFrame,
    targets: LazyFrame,
) -> PolarsResult<(LazyFrame, LazyFrame)> {
    let (voided, [unknown_retraction, bad_retraction]) = retract(links.clone(), targets.clone());
    let (replaced, unknown_supersedes) = supersede(links, targets.clone(), voided.clone());
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

/// "A retraction whose target is in E and is not itself a retraction removes its target. A
/// target that is a retraction is left alone (`bad_retraction_target`); a target not in E has
/// no effect (`unknown_retraction_target`)."
///
/// Returns the ids voided (consortium, event id) and the two issues' rows.
fn retract(links: LazyFrame, targets: LazyFrame) -> (LazyFrame, [LazyFrame; 2]) {
    let retractions = links.filter(is_type(EventType::Retraction));
    let retracted = targets
        .select([
            col(CONSORTIUM),
            col(EVENT_ID).alias("_target"),
            col(EVENT_TYPE).alias("_target_type"),
        ])
        .join(
            retractions.clone(),
            [col(CONSORTIUM), col("_target")],
            [col(CONSORTIUM), col(event::RETRACTED_EVENT_ID)],
            JoinArgs::new(JoinType::Semi),
        );
    let resolved = retractions.join(
        retracted,
        [col(CONSORTIUM), col(event::RETRACTED_EVENT_ID)],
        [col(CONSORTIUM), col("_target")],
        JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns),
    );
    let unknown = issue_rows(
        resolved.clone().filter(col("_target_type").is_null()),
        Issue::UnknownRetractionTarget,
    );
    let retraction_target = col("_target_type").eq(lit(EventType::Retraction.as_str()));
    let bad = issue_rows(
        resolved.clone().filter(retraction_target.clone()),
        Issue::BadRetractionTarget,
    );
    let voided = resolved
        .filter(
            col("_target_type")
                .is_not_null()
                .and(retraction_target.not()),
        )
        .select([
            col(CONSORTIUM),
            col(event::RETRACTED_EVENT_ID).alias(EVENT_ID),
        ])
        .unique(None, UniqueKeepStrategy::Any);
    (voided, [unknown, bad])
}

/// "Then, all at once, every remaining event with `supersedes = X` removes X when X is among
/// the remaining events; otherwise it has no effect (`unknown_supersedes_target`). A
/// superseding event that was itself retracted supersedes nothing."
///
/// The remaining events are those neither retractions nor `voided`. Returns the ids replaced
/// and the issue's rows.
fn supersede(links: LazyFrame, targets: LazyFrame, voided: LazyFrame) -> (LazyFrame, LazyFrame) {
    let not_voided = |frame: LazyFrame| {
        frame.filter(is_type(EventType::Retraction).not()).join(
            voided.clone(),
            [col(CONSORTIUM), col(EVENT_ID)],
            [col(CONSORTIUM), col(EVENT_ID)],
            JoinArgs::new(JoinType::Anti),
        )
    };
    let superseding = not_voided(links).filter(col(event::SUPERSEDES).is_not_null());
    let present = not_voided(targets)
        .select([col(CONSORTIUM), col(EVENT_ID).alias("_present")])
        .join(
            superseding.clone(),
            [col(CONSORTIUM), col("_present")],
            [col(CONSORTIUM), col(event::SUPERSEDES)],
            JoinArgs::new(JoinType::Semi),
        );
    let superseding = superseding.join(
        present,
        [col(CONSORTIUM), col(event::SUPERSEDES)],
        [col(CONSORTIUM), col("_present")],
        JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns),
    );
    let unknown_supersedes = issue_rows(
        superseding.clone().filter(col("_present").is_null()),
        Issue::UnknownSupersedesTarget,
    );
    let replaced = superseding
        .filter(col("_present").is_not_null())
        .select([col(CONSORTIUM), col(event::SUPERSEDES).alias(EVENT_ID)]);
    (replaced, unknown_supersedes)
}
