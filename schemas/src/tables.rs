//! The tables between transform and report, declared once: names, columns and their types,
//! sort keys, file metadata keys, the `ALL` agency and the data-quality issue codes.
//!
//! The transform refuses to write a table that differs from its declaration here, and the
//! report reads by these names, so a column renamed here is renamed for both and for the
//! analysts reading `transform/README.md`, which lists the same columns.

use std::fmt;

use crate::reject::Reason;

/// Version of INDICATORS.md the tables implement, written into every table's metadata.
pub const DEFINITIONS_VERSION: &str = "1";

/// The `agency_id` of consortium-wide rows of the grouped tables: every measure of such a row
/// is computed over the whole consortium, never summed from agency rows.
pub const ALL_AGENCIES: &str = "ALL";

/// Parquet key-value metadata keys on every table file.
pub mod meta {
    /// The `as_of` date D.
    pub const AS_OF: &str = "outcomes.as_of";
    /// [`DEFINITIONS_VERSION`](super::DEFINITIONS_VERSION) of the tables.
    pub const DEFINITIONS_VERSION: &str = "outcomes.definitions_version";
    /// The program version that wrote the file.
    pub const PROGRAM_VERSION: &str = "outcomes.program_version";
    /// JSON object: highest committed position per `<consortium>/<source>` read.
    pub const LAKE_WATERMARK: &str = "outcomes.lake_watermark";
}

/// The logical type of a table column, as analysts' tools see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// 64-bit signed integer (counts, days, sequence numbers).
    Int,
    /// 64-bit float (rates, medians, money, hours).
    Float,
    /// Calendar date.
    Date,
    /// Boolean.
    Bool,
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column name.
    pub name: &'static str,
    /// Its type.
    pub kind: ColumnType,
}

const fn text(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Text,
    }
}
const fn int(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Int,
    }
}
const fn float(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Float,
    }
}
const fn date(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Date,
    }
}
const fn boolean(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Bool,
    }
}

/// A table the transform writes to `OUT/tables/<name>.parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// One row per episode (INDICATORS.md 2.1).
    Episodes,
    /// One row per job (2.2).
    Placements,
    /// Intake cohorts by agency and month (2.3).
    CohortTimeliness,
    /// First jobs by agency and start month (2.4).
    FirstJobRetention,
    /// Jobs held, started and ended by agency and month (2.5).
    Turnover,
    /// Placements and wages by agency and quarter (2.6).
    EmploymentOutcomes,
    /// Items dropped, ignored or rejected, by agency and issue (2.7).
    DataQuality,
    /// Wage totals by agency and month, for the report's exact distinct-earner counts.
    WagesMonthly,
}

impl Table {
    /// Every table, in the order of INDICATORS.md section 2, then `wages_monthly`.
    pub const ALL: [Table; 8] = [
        Table::Episodes,
        Table::Placements,
        Table::CohortTimeliness,
        Table::FirstJobRetention,
        Table::Turnover,
        Table::EmploymentOutcomes,
        Table::DataQuality,
        Table::WagesMonthly,
    ];

    /// The table name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Episodes => "episodes",
            Table::Placements => "placements",
            Table::CohortTimeliness => "cohort_timeliness",
            Table::FirstJobRetention => "first_job_retention",
            Table::Turnover => "turnover",
            Table::EmploymentOutcomes => "employment_outcomes",
            Table::DataQuality => "data_quality",
            Table::WagesMonthly => "wages_monthly",
        }
    }

    /// The file name under `OUT/tables/`.
    pub fn file_name(self) -> String {
        format!("{}.parquet", self.name())
    }

    /// The columns that identify a row; rows are written sorted by them.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Table::Episodes => &["consortium_id", "person_key", "episode_no"],
            Table::Placements => &["consortium_id", "person_key", "job_id"],
            Table::CohortTimeliness => &["consortium_id", "agency_id", "cohort_month"],
            Table::FirstJobRetention => &["consortium_id", "agency_id", "start_month"],
            Table::Turnover | Table::WagesMonthly => &["consortium_id", "agency_id", "month"],
            Table::EmploymentOutcomes => &["consortium_id", "agency_id", "quarter"],
            Table::DataQuality => &["consortium_id", "agency_id", "issue"],
        }
    }

    /// The columns, in file order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Episodes => EPISODES,
            Table::Placements => PLACEMENTS,
            Table::CohortTimeliness => COHORT_TIMELINESS,
            Table::FirstJobRetention => FIRST_JOB_RETENTION,
            Table::Turnover => TURNOVER,
            Table::EmploymentOutcomes => EMPLOYMENT_OUTCOMES,
            Table::DataQuality => DATA_QUALITY,
            Table::WagesMonthly => WAGES_MONTHLY,
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

const EPISODES: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("person_key"),
    int("episode_no"),
    date("intake_on"),
    text("cohort_month"),
    date("exit_on"),
    text("exit_outcome"),
    date("first_service_on"),
    date("first_assessment_on"),
    date("first_placement_on"),
    int("days_to_service"),
    int("days_to_placement"),
    int("assessments"),
    int("services"),
    int("placements"),
];

const PLACEMENTS: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("person_key"),
    int("episode_no"),
    text("job_id"),
    text("employer_key"),
    date("start_on"),
    date("end_on"),
    text("separation_reason"),
    float("hourly_wage"),
    float("hours_per_week"),
    float("weekly_earnings"),
    boolean("competitive_integrated"),
    int("job_seq"),
    int("days_employed"),
    boolean("retained_30d"),
    boolean("retained_90d"),
    boolean("retained_180d"),
    date("next_start_on"),
    float("wages_total"),
    float("hours_total"),
    int("wage_records"),
];

const COHORT_TIMELINESS: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("cohort_month"),
    int("intakes"),
    int("served"),
    int("still_waiting"),
    float("median_days_to_service"),
    float("p90_days_to_service"),
    int("eligible_30d"),
    int("served_within_30d"),
    float("served_within_30d_rate"),
    int("placed"),
    float("median_days_to_placement"),
    float("p90_days_to_placement"),
    int("eligible_45d"),
    int("placed_within_45d"),
    float("placed_within_45d_rate"),
    int("assessed"),
    int("assessed_not_placed"),
    int("exited"),
];

const FIRST_JOB_RETENTION: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("start_month"),
    int("first_jobs"),
    int("eligible_30d"),
    int("retained_30d"),
    float("retention_30d_rate"),
    int("eligible_90d"),
    int("retained_90d"),
    float("retention_90d_rate"),
    int("eligible_180d"),
    int("retained_180d"),
    float("retention_180d_rate"),
    int("separated"),
    int("moved_to_subsequent"),
    float("median_days_to_next_job"),
];

const TURNOVER: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("month"),
    int("active_at_start"),
    int("active_at_end"),
    int("starts"),
    int("separations"),
    int("separations_quit"),
    int("separations_laid_off"),
    int("separations_fired"),
    int("separations_temporary_end"),
    int("separations_other"),
    float("turnover_rate"),
    boolean("partial_month"),
];

const EMPLOYMENT_OUTCOMES: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("quarter"),
    int("placements"),
    int("persons_placed"),
    int("first_placements"),
    float("median_hourly_wage"),
    float("mean_hourly_wage"),
    float("median_hours_per_week"),
    float("median_weekly_earnings"),
    int("at_or_above_wage_floor"),
    float("wage_floor"),
    int("competitive_integrated"),
    float("wages_reported"),
    float("hours_reported"),
    int("persons_with_wages"),
];

const DATA_QUALITY: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("issue"),
    int("events"),
];

const WAGES_MONTHLY: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("month"),
    float("wages_reported"),
    float("hours_reported"),
    int("wage_records"),
    int("persons_with_wages"),
];

/// Something a rule of INDICATORS.md section 1 drops, ignores or cannot resolve, counted under
/// the agency of the event concerned (`data_quality.issue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Issue {
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
    /// A message ingest rejected, with the contract's reason: `rejected:<reason>`.
    Rejected(Reason),
}

impl Issue {
    /// The prefix of the codes of ingest rejections.
    pub const REJECTED_PREFIX: &str = "rejected:";
}

/// The code in the `issue` column.
impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = match self {
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
            Issue::Rejected(reason) => return write!(f, "{}{reason}", Issue::REJECTED_PREFIX),
        };
        f.write_str(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_column_is_a_column_of_its_table() {
        for table in Table::ALL {
            for key in table.key() {
                assert!(
                    table.columns().iter().any(|column| column.name == *key),
                    "{table}: {key}"
                );
            }
        }
    }

    #[test]
    fn issue_codes() {
        assert_eq!(Issue::UnknownJob.to_string(), "unknown_job");
        assert_eq!(
            Issue::Rejected(Reason::MalformedJson).to_string(),
            "rejected:malformed_json"
        );
    }
}
