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
    /// Wage totals by agency and month (an extra table for analysts).
    WagesMonthly,
    /// Every value of the snapshot (INDICATORS.md section 3) by agency, month and quarter,
    /// with the item counts that suppression needs.
    Measures,
}

impl Table {
    /// Every table, in the order of INDICATORS.md section 2, then `wages_monthly` and
    /// `measures`.
    pub const ALL: [Table; 9] = [
        Table::Episodes,
        Table::Placements,
        Table::CohortTimeliness,
        Table::FirstJobRetention,
        Table::Turnover,
        Table::EmploymentOutcomes,
        Table::DataQuality,
        Table::WagesMonthly,
        Table::Measures,
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
            Table::Measures => "measures",
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
            Table::Measures => &["consortium_id", "agency_id", "period_kind", "period"],
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
            Table::Measures => MEASURES,
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

const MEASURES: &[Column] = &[
    text("consortium_id"),
    text("agency_id"),
    text("period_kind"),
    text("period"),
    float("wage_floor"),
    int("intakes"),
    float("median_days_to_service"),
    int("median_days_to_service_items"),
    int("still_waiting"),
    float("served_within_30d_rate"),
    int("served_within_30d_rate_items"),
    int("first_placements"),
    float("median_days_to_placement"),
    int("median_days_to_placement_items"),
    int("placed_over_45d"),
    boolean("action_needed"),
    int("assessed"),
    int("assessed_not_placed"),
    int("stalled_90d"),
    int("persons_placed"),
    int("placements"),
    float("median_hourly_wage"),
    int("median_hourly_wage_items"),
    float("at_or_above_wage_floor_rate"),
    int("at_or_above_wage_floor_rate_items"),
    float("wages_reported"),
    int("wages_reported_items"),
    int("first_jobs_due_90d"),
    int("retained_90d"),
    float("retention_90d_rate"),
    int("retention_90d_rate_items"),
    int("persons_moved_to_subsequent"),
];

/// The `period_kind` of a `measures` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    /// A calendar month, labelled `YYYY-MM`.
    Month,
    /// A calendar quarter, labelled `YYYYQn`.
    Quarter,
}

impl PeriodKind {
    /// The label in the `period_kind` column.
    pub fn name(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
        }
    }
}

/// A value of the indicator snapshot (INDICATORS.md section 3): a column of `measures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// 1: episodes with intake in P.
    Intakes,
    /// 1: median days intake to first service, of those served by D.
    MedianDaysToService,
    /// 1: of the intakes, not served by D.
    StillWaiting,
    /// 1: share served within 30 days, of those whose 30 days had passed by D.
    ServedWithin30dRate,
    /// 2: episodes whose first job started in P.
    FirstPlacements,
    /// 2: median days intake to first job, of those.
    MedianDaysToPlacement,
    /// 2: of those, waited over 45 days.
    PlacedOver45d,
    /// 2: the median is over 45 days.
    ActionNeeded,
    /// 3: episodes first assessed in P.
    Assessed,
    /// 3: of those, without a job by D.
    AssessedNotPlaced,
    /// 3: open episodes assessed 90+ days ago with no job yet.
    Stalled90d,
    /// 4: distinct persons with a job starting in P.
    PersonsPlaced,
    /// 4: jobs starting in P.
    Placements,
    /// 4: median hourly wage of those jobs.
    MedianHourlyWage,
    /// 4: share of those jobs paying at least the wage floor.
    AtOrAboveWageFloorRate,
    /// 4: gross wages of wage records with `occurred_on` in P; its items are the distinct
    /// persons who earned them.
    WagesReported,
    /// 5: first jobs whose 90th day fell in P (and by D).
    FirstJobsDue90d,
    /// 5: of those, kept 90 days.
    Retained90d,
    /// 5: retained / due.
    Retention90dRate,
    /// 5: distinct persons starting a second or later job in P.
    PersonsMovedToSubsequent,
}

impl Measure {
    /// Every measure in report order (the order of the `measures` columns).
    pub const ALL: [Measure; 20] = [
        Measure::Intakes,
        Measure::MedianDaysToService,
        Measure::StillWaiting,
        Measure::ServedWithin30dRate,
        Measure::FirstPlacements,
        Measure::MedianDaysToPlacement,
        Measure::PlacedOver45d,
        Measure::ActionNeeded,
        Measure::Assessed,
        Measure::AssessedNotPlaced,
        Measure::Stalled90d,
        Measure::PersonsPlaced,
        Measure::Placements,
        Measure::MedianHourlyWage,
        Measure::AtOrAboveWageFloorRate,
        Measure::WagesReported,
        Measure::FirstJobsDue90d,
        Measure::Retained90d,
        Measure::Retention90dRate,
        Measure::PersonsMovedToSubsequent,
    ];

    /// The measure's column name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Intakes => "intakes",
            Measure::MedianDaysToService => "median_days_to_service",
            Measure::StillWaiting => "still_waiting",
            Measure::ServedWithin30dRate => "served_within_30d_rate",
            Measure::FirstPlacements => "first_placements",
            Measure::MedianDaysToPlacement => "median_days_to_placement",
            Measure::PlacedOver45d => "placed_over_45d",
            Measure::ActionNeeded => "action_needed",
            Measure::Assessed => "assessed",
            Measure::AssessedNotPlaced => "assessed_not_placed",
            Measure::Stalled90d => "stalled_90d",
            Measure::PersonsPlaced => "persons_placed",
            Measure::Placements => "placements",
            Measure::MedianHourlyWage => "median_hourly_wage",
            Measure::AtOrAboveWageFloorRate => "at_or_above_wage_floor_rate",
            Measure::WagesReported => "wages_reported",
            Measure::FirstJobsDue90d => "first_jobs_due_90d",
            Measure::Retained90d => "retained_90d",
            Measure::Retention90dRate => "retention_90d_rate",
            Measure::PersonsMovedToSubsequent => "persons_moved_to_subsequent",
        }
    }

    /// The indicator (1 to 5) the measure belongs to.
    pub fn indicator(self) -> u8 {
        match self {
            Measure::Intakes
            | Measure::MedianDaysToService
            | Measure::StillWaiting
            | Measure::ServedWithin30dRate => 1,
            Measure::FirstPlacements
            | Measure::MedianDaysToPlacement
            | Measure::PlacedOver45d
            | Measure::ActionNeeded => 2,
            Measure::Assessed | Measure::AssessedNotPlaced | Measure::Stalled90d => 3,
            Measure::PersonsPlaced
            | Measure::Placements
            | Measure::MedianHourlyWage
            | Measure::AtOrAboveWageFloorRate
            | Measure::WagesReported => 4,
            Measure::FirstJobsDue90d
            | Measure::Retained90d
            | Measure::Retention90dRate
            | Measure::PersonsMovedToSubsequent => 5,
        }
    }

    /// The type of the measure's value: counts are integers, medians, rates and sums floats,
    /// `action_needed` a yes/no.
    pub fn kind(self) -> ColumnType {
        match self {
            Measure::ActionNeeded => ColumnType::Bool,
            Measure::MedianDaysToService
            | Measure::ServedWithin30dRate
            | Measure::MedianDaysToPlacement
            | Measure::MedianHourlyWage
            | Measure::AtOrAboveWageFloorRate
            | Measure::WagesReported
            | Measure::Retention90dRate => ColumnType::Float,
            _ => ColumnType::Int,
        }
    }

    /// The column holding how many items a median, rate or sum is over (`<name>_items`);
    /// `None` for counts and flags.
    pub fn items_column(self) -> Option<&'static str> {
        Some(match self {
            Measure::MedianDaysToService => "median_days_to_service_items",
            Measure::ServedWithin30dRate => "served_within_30d_rate_items",
            Measure::MedianDaysToPlacement => "median_days_to_placement_items",
            Measure::MedianHourlyWage => "median_hourly_wage_items",
            Measure::AtOrAboveWageFloorRate => "at_or_above_wage_floor_rate_items",
            Measure::WagesReported => "wages_reported_items",
            Measure::Retention90dRate => "retention_90d_rate_items",
            _ => return None,
        })
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

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
    fn measures_columns_follow_the_measures() {
        let mut expected = vec![
            text("consortium_id"),
            text("agency_id"),
            text("period_kind"),
            text("period"),
            float("wage_floor"),
        ];
        for measure in Measure::ALL {
            expected.push(Column {
                name: measure.name(),
                kind: measure.kind(),
            });
            expected.extend(measure.items_column().map(int));
        }
        assert_eq!(Table::Measures.columns(), expected.as_slice());
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
