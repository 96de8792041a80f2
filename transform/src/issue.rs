//! The data-quality items of INDICATORS.md section 1 (`data_quality.issue`).

/// Something a rule of section 1 drops, ignores or cannot resolve, counted under the agency of
/// the event concerned. Ingest rejections are counted beside these as `rejected:<reason>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Issue {
    /// Rule 1: a discarded copy with the kept copy's content.
    ExactDuplicate,
    /// Rule 1: a discarded copy whose content differs from the kept copy's.
    ConflictingDuplicate,
    /// Rule 2: a retraction whose target is a retraction.
    BadRetractionTarget,
    /// Rule 2: a retraction whose target is not among the deduped events.
    UnknownRetractionTarget,
    /// Rule 2: a `supersedes` whose target is not among the remaining events.
    UnknownSupersedesTarget,
    /// Rule 3: an intake while an episode is open.
    RepeatIntake,
    /// Rule 3: an exit with no open episode.
    ExitWithoutEpisode,
    /// Rule 4: an activity in no episode of its person.
    OutsideEpisode,
    /// Rule 5: a second placement of one job.
    DuplicatePlacement,
    /// Rule 5: a separation or wage record for a job that does not exist.
    UnknownJob,
    /// Rule 5: a separation before its job's start.
    SeparationBeforeStart,
    /// Rule 5: a separation of a job that another separation already ended.
    DuplicateSeparation,
    /// Rule 5: a wage record whose period ends before its job's start.
    WageBeforeStart,
}

impl Issue {
    /// The code in the `issue` column.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Issue::ExactDuplicate => "exact_duplicate",
            Issue::ConflictingDuplicate => "conflicting_duplicate",
            Issue::BadRetractionTarget => "bad_retraction_target",
            Issue::UnknownRetractionTarget => "unknown_retraction_target",
            Issue::UnknownSupersedesTarget => "unknown_supersedes_target",
            Issue::RepeatIntake => "repeat_intake",
            Issue::ExitWithoutEpisode => "exit_without_episode",
            Issue::OutsideEpisode => "outside_episode",
            Issue::DuplicatePlacement => "duplicate_placement",
            Issue::UnknownJob => "unknown_job",
            Issue::SeparationBeforeStart => "separation_before_start",
            Issue::DuplicateSeparation => "duplicate_separation",
            Issue::WageBeforeStart => "wage_before_start",
        }
    }
}
