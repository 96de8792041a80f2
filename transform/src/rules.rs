//! INDICATORS.md section 1, rules 3 to 5: one function per rule, each beside the sentences
//! it implements.
//!
//! The rules see one person's events at a time, already in the order the spec walks them, and
//! return decisions: which episode an intake opens, which episode an activity belongs to,
//! which placement makes a job, which job a separation ends, and the data-quality item of
//! everything they ignore. They know nothing of files, parts or memory: [`crate::plan`]
//! reads the events, puts them in order, calls these functions and gathers what they decide.
//! (The wage rule alone is a Polars expression, applied while the wage records stream past.)
//! So a change to one rule, say the tie order of duplicate placements, is a change to one
//! function here, or to the order its documentation says the plan gives it.
//!
//! Rules 1 and 2 (dedupe and corrections) are set operations over the whole lake and live in
//! [`crate::resolve`].

use outcomes_schemas::lake::col as event;
use outcomes_schemas::tables::columns as c;
use polars::prelude::{DataType, Expr, NULL, col, lit, when};

use outcomes_schemas::tables::Issue;

/// A calendar date as days since 1970-01-01.
pub(crate) type Day = i32;

/// The number of an episode within its person, from 1.
pub(crate) type EpisodeNo = i64;

/// An intake or an exit, the two events rule 3 walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// An `intake` event.
    Intake,
    /// An `exit` event.
    Exit,
}

/// What rule 3 makes of one intake or exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The intake opens this episode.
    Opens(EpisodeNo),
    /// The exit closes this episode.
    Closes(EpisodeNo),
    /// The event is ignored, with this item.
    Ignored(Issue),
}

/// Rule 1.3, **episodes**: "Per person, walk the intake and exit events in order of
/// (`occurred_on`, `recorded_at`, `event_id`). An intake with no open episode opens episode
/// number 1, 2, ... An intake while one is open is ignored (`repeat_intake`). An exit closes
/// the open episode; an exit with none open is ignored (`exit_without_episode`)."
///
/// `tokens` are one person's intakes and exits in that order; the result has one step each.
pub(crate) fn episodes(tokens: impl IntoIterator<Item = Token>) -> Vec<Step> {
    let mut opened: EpisodeNo = 0;
    let mut open = false;
    tokens
        .into_iter()
        .map(|token| match (token, open) {
            (Token::Intake, false) => {
                opened += 1;
                open = true;
                Step::Opens(opened)
            }
            (Token::Intake, true) => Step::Ignored(Issue::RepeatIntake),
            (Token::Exit, true) => {
                open = false;
                Step::Closes(opened)
            }
            (Token::Exit, false) => Step::Ignored(Issue::ExitWithoutEpisode),
        })
        .collect()
}

/// An episode's span, as rule 4 needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// `episode_no`.
    pub(crate) no: EpisodeNo,
    /// `intake_on`.
    pub(crate) intake_on: Day,
    /// `exit_on`, if the episode is closed.
    pub(crate) exit_on: Option<Day>,
}

/// Rule 1.4, **attribution**: "An assessment, service or placement belongs to the latest
/// episode of the same person with `intake_on <= occurred_on` and (`exit_on` null or
/// `occurred_on <= exit_on`); with none, it is ignored (`outside_episode`). On a day with an
/// exit and a new intake, that day's events belong to the new episode."
///
/// `episodes` are the person's, in episode order (the latest last).
pub(crate) fn attribute(episodes: &[Span], occurred_on: Day) -> Result<EpisodeNo, Issue> {
    episodes
        .iter()
        .rev()
        .find(|e| e.intake_on <= occurred_on && e.exit_on.is_none_or(|exit| occurred_on <= exit))
        .map(|e| e.no)
        .ok_or(Issue::OutsideEpisode)
}

/// Rule 1.5, **jobs** from placements: "A kept placement creates a job keyed by
/// (`consortium_id`, `person_key`, `job_id`). A second placement with the same key is ignored
/// (`duplicate_placement`); the first in (`occurred_on`, `recorded_at`, `event_id`) order wins.
/// Only kept placements make jobs: a placement ignored as `outside_episode` does not make a
/// later placement of the same job a duplicate."
///
/// `job_ids` are one person's placements that rule 4 kept, in that order; the result says of
/// each whether it makes a job (`Ok`) or is ignored.
pub(crate) fn jobs<'a>(job_ids: impl IntoIterator<Item = &'a str>) -> Vec<Result<(), Issue>> {
    let mut seen: Vec<&str> = Vec::new();
    job_ids
        .into_iter()
        .map(|job_id| {
            if seen.contains(&job_id) {
                Err(Issue::DuplicatePlacement)
            } else {
                seen.push(job_id);
                Ok(())
            }
        })
        .collect()
}

/// A job as rule 5 looks it up for a separation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Job<'a> {
    /// `job_id`.
    pub(crate) id: &'a str,
    /// `start_on`.
    pub(crate) start_on: Day,
}

/// The person's job with this `job_id`, as an index into `jobs`.
fn job_of(jobs: &[Job<'_>], job_id: &str) -> Option<usize> {
    jobs.iter().position(|job| job.id == job_id)
}

/// Rule 1.5, **separations**: "Separations ... attach to a job by key, whatever episode or
/// exit. With no such job: `unknown_job`. A separation before the job's start:
/// `separation_before_start`, ignored. Of the remaining separations of a job, the first in
/// (`occurred_on`, `recorded_at`, `event_id`) order counts and the rest are
/// `duplicate_separation`."
///
/// `separations` are one person's `(job_id, occurred_on)` in that order; the result gives
/// each the index in `jobs` of the job it ends, or its item.
pub(crate) fn separations<'a>(
    jobs: &[Job<'_>],
    separations: impl IntoIterator<Item = (&'a str, Day)>,
) -> Vec<Result<usize, Issue>> {
    let mut ended = vec![false; jobs.len()];
    separations
        .into_iter()
        .map(|(job_id, occurred_on)| {
            let job = job_of(jobs, job_id).ok_or(Issue::UnknownJob)?;
            if occurred_on < jobs[job].start_on {
                Err(Issue::SeparationBeforeStart)
            } else if ended[job] {
                Err(Issue::DuplicateSeparation)
            } else {
                ended[job] = true;
                Ok(job)
            }
        })
        .collect()
}

/// Rule 1.5, **wages**: "Separations and wages attach to a job by key, whatever episode or
/// exit ... With no such job: `unknown_job`. ... A wage whose `period_end` is before the
/// start: `wage_before_start`, ignored."
///
/// Wage records are the bulk of the lake, so this rule is an expression the plan applies while
/// it streams them: over a record joined by job key to its job's `start_on` (null when there
/// is no such job), the record's item, or null when it is attached to the job.
pub(crate) fn wage_status() -> Expr {
    when(col(c::placements::START_ON).is_null())
        .then(lit(Issue::UnknownJob.to_string()))
        .when(col(event::PERIOD_END).lt(col(c::placements::START_ON)))
        .then(lit(Issue::WageBeforeStart.to_string()))
        .otherwise(lit(NULL).cast(DataType::String))
}

/// Section 2, `placements`: "`job_seq` numbers the episode's jobs 1, 2, ... by (`start_on`,
/// `recorded_at`, `event_id`) ... `next_start_on`: start of job `job_seq + 1` of the same
/// episode, else null."
///
/// `starts` are one episode's jobs' `start_on` in that order; the result gives each its
/// `(job_seq, next_start_on)`.
pub(crate) fn job_seq(starts: &[Day]) -> Vec<(i64, Option<Day>)> {
    (0..starts.len())
        .map(|i| (i as i64 + 1, starts.get(i + 1).copied()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Token::{Exit, Intake};

    #[test]
    fn episodes_open_on_intake_and_close_on_exit() {
        // intake opens 1; a second intake while open is a repeat; exit closes 1; a second
        // exit has no open episode; the next intake opens 2.
        assert_eq!(
            episodes([Intake, Intake, Exit, Exit, Intake]),
            vec![
                Step::Opens(1),
                Step::Ignored(Issue::RepeatIntake),
                Step::Closes(1),
                Step::Ignored(Issue::ExitWithoutEpisode),
                Step::Opens(2),
            ]
        );
        assert_eq!(
            episodes([Exit]),
            vec![Step::Ignored(Issue::ExitWithoutEpisode)]
        );
    }

    #[test]
    fn attribution_prefers_the_latest_covering_episode() {
        let spans = [
            Span {
                no: 1,
                intake_on: 10,
                exit_on: Some(20),
            },
            Span {
                no: 2,
                intake_on: 20,
                exit_on: None,
            },
        ];
        assert_eq!(attribute(&spans, 9), Err(Issue::OutsideEpisode));
        assert_eq!(attribute(&spans, 10), Ok(1));
        // Day 20 is episode 1's exit and episode 2's intake: the new episode.
        assert_eq!(attribute(&spans, 20), Ok(2));
        assert_eq!(attribute(&spans, 99), Ok(2));
        let closed = [Span {
            no: 1,
            intake_on: 10,
            exit_on: Some(20),
        }];
        assert_eq!(attribute(&closed, 21), Err(Issue::OutsideEpisode));
    }

    #[test]
    fn first_placement_of_a_job_wins() {
        assert_eq!(
            jobs(["a", "b", "a"]),
            vec![Ok(()), Ok(()), Err(Issue::DuplicatePlacement)]
        );
    }

    #[test]
    fn separations_attach_by_job_id() {
        let jobs = [
            Job {
                id: "a",
                start_on: 10,
            },
            Job {
                id: "b",
                start_on: 30,
            },
        ];
        assert_eq!(
            separations(
                &jobs,
                [("x", 40), ("b", 29), ("b", 35), ("b", 36), ("a", 10)]
            ),
            vec![
                Err(Issue::UnknownJob),
                Err(Issue::SeparationBeforeStart),
                Ok(1),
                Err(Issue::DuplicateSeparation),
                Ok(0),
            ]
        );
    }

    #[test]
    fn jobs_are_numbered_within_their_episode() {
        assert_eq!(job_seq(&[5, 9]), vec![(1, Some(9)), (2, None)]);
        assert!(job_seq(&[]).is_empty());
    }
}
