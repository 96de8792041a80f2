//! The tables between transform and report, declared once: names, columns and their types,
//! sort keys, file metadata keys, the `ALL` agency and the data-quality issue codes.
//!
//! The transform refuses to write a table that differs from its declaration here, and the
//! report reads by these names, so a column renamed here is renamed for both and for the
//! analysts reading `transform/README.md`, which lists the same columns.

use std::fmt;

use crate::reject::Reason;

/// Version of INDICATORS.md the tables implement, written into every table's metadata.
pub const DEFINITIONS_VERSION: &str = "2";

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
    /// JSON object: the Delta table versions read, `{"events":N,"rejected":M}` (each the
    /// newest version that changed rows, so compaction leaves it as it was).
    pub const LAKE_VERSIONS: &str = "outcomes.lake_versions";
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
    /// Employment and earnings after exit by agency and exit quarter (2.7, version 2).
    AfterExit,
    /// Items dropped, ignored or rejected, by agency and issue (2.8).
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
    pub const ALL: [Table; 10] = [
        Table::Episodes,
        Table::Placements,
        Table::CohortTimeliness,
        Table::FirstJobRetention,
        Table::Turnover,
        Table::EmploymentOutcomes,
        Table::AfterExit,
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
            Table::AfterExit => "after_exit",
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
        use columns::*;
        match self {
            Table::Episodes => &[
                episodes::CONSORTIUM_ID,
                episodes::PERSON_KEY,
                episodes::EPISODE_NO,
            ],
            Table::Placements => &[
                placements::CONSORTIUM_ID,
                placements::PERSON_KEY,
                placements::JOB_ID,
            ],
            Table::CohortTimeliness => &[
                cohort_timeliness::CONSORTIUM_ID,
                cohort_timeliness::AGENCY_ID,
                cohort_timeliness::COHORT_MONTH,
            ],
            Table::FirstJobRetention => &[
                first_job_retention::CONSORTIUM_ID,
                first_job_retention::AGENCY_ID,
                first_job_retention::START_MONTH,
            ],
            Table::Turnover | Table::WagesMonthly => &[
                turnover::CONSORTIUM_ID,
                turnover::AGENCY_ID,
                turnover::MONTH,
            ],
            Table::EmploymentOutcomes => &[
                employment_outcomes::CONSORTIUM_ID,
                employment_outcomes::AGENCY_ID,
                employment_outcomes::QUARTER,
            ],
            Table::AfterExit => &[
                after_exit::CONSORTIUM_ID,
                after_exit::AGENCY_ID,
                after_exit::EXIT_QUARTER,
            ],
            Table::DataQuality => &[
                data_quality::CONSORTIUM_ID,
                data_quality::AGENCY_ID,
                data_quality::ISSUE,
            ],
            Table::Measures => &[
                measures::CONSORTIUM_ID,
                measures::AGENCY_ID,
                measures::PERIOD_KIND,
                measures::PERIOD,
            ],
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
            Table::AfterExit => AFTER_EXIT,
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

/// Declares each table's columns once: a module of name constants, for the code that builds
/// or reads the table, and the typed list in file order, for the contract check and the docs.
macro_rules! tables {
    ($($module:ident, $list:ident { $($constant:ident: $kind:ident($name:literal),)* })*) => {
        /// Column names by table, as constants: code refers to a column through its table's
        /// module, so a name changed here changes everywhere or fails to compile.
        pub mod columns {
            $(
                #[doc = concat!("The columns of `", stringify!($module), "`.")]
                pub mod $module {
                    $(
                        #[doc = concat!("`", $name, "`.")]
                        pub const $constant: &str = $name;
                    )*
                }
            )*
        }
        $(const $list: &[Column] = &[$($kind(columns::$module::$constant)),*];)*
    };
}

tables! {
    episodes, EPISODES {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        PERSON_KEY: text("person_key"),
        EPISODE_NO: int("episode_no"),
        INTAKE_ON: date("intake_on"),
        COHORT_MONTH: text("cohort_month"),
        EXIT_ON: date("exit_on"),
        EXIT_OUTCOME: text("exit_outcome"),
        FIRST_SERVICE_ON: date("first_service_on"),
        FIRST_ASSESSMENT_ON: date("first_assessment_on"),
        FIRST_PLACEMENT_ON: date("first_placement_on"),
        DAYS_TO_SERVICE: int("days_to_service"),
        DAYS_TO_PLACEMENT: int("days_to_placement"),
        ASSESSMENTS: int("assessments"),
        SERVICES: int("services"),
        PLACEMENTS: int("placements"),
        EXIT_QUARTER: text("exit_quarter"),
        EMPLOYED_Q2: boolean("employed_q2"),
        EARNINGS_Q2: float("earnings_q2"),
        EMPLOYED_Q4: boolean("employed_q4"),
        SAME_EMPLOYER_Q4: boolean("same_employer_q4"),
    }
    placements, PLACEMENTS {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        PERSON_KEY: text("person_key"),
        EPISODE_NO: int("episode_no"),
        JOB_ID: text("job_id"),
        EMPLOYER_KEY: text("employer_key"),
        START_ON: date("start_on"),
        END_ON: date("end_on"),
        SEPARATION_REASON: text("separation_reason"),
        HOURLY_WAGE: float("hourly_wage"),
        HOURS_PER_WEEK: float("hours_per_week"),
        WEEKLY_EARNINGS: float("weekly_earnings"),
        COMPETITIVE_INTEGRATED: boolean("competitive_integrated"),
        JOB_SEQ: int("job_seq"),
        DAYS_EMPLOYED: int("days_employed"),
        RETAINED_30D: boolean("retained_30d"),
        RETAINED_90D: boolean("retained_90d"),
        RETAINED_180D: boolean("retained_180d"),
        NEXT_START_ON: date("next_start_on"),
        WAGES_TOTAL: float("wages_total"),
        HOURS_TOTAL: float("hours_total"),
        WAGE_RECORDS: int("wage_records"),
    }
    cohort_timeliness, COHORT_TIMELINESS {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        COHORT_MONTH: text("cohort_month"),
        INTAKES: int("intakes"),
        SERVED: int("served"),
        STILL_WAITING: int("still_waiting"),
        MEDIAN_DAYS_TO_SERVICE: float("median_days_to_service"),
        P90_DAYS_TO_SERVICE: float("p90_days_to_service"),
        ELIGIBLE_30D: int("eligible_30d"),
        SERVED_WITHIN_30D: int("served_within_30d"),
        SERVED_WITHIN_30D_RATE: float("served_within_30d_rate"),
        PLACED: int("placed"),
        MEDIAN_DAYS_TO_PLACEMENT: float("median_days_to_placement"),
        P90_DAYS_TO_PLACEMENT: float("p90_days_to_placement"),
        ELIGIBLE_45D: int("eligible_45d"),
        PLACED_WITHIN_45D: int("placed_within_45d"),
        PLACED_WITHIN_45D_RATE: float("placed_within_45d_rate"),
        ASSESSED: int("assessed"),
        ASSESSED_NOT_PLACED: int("assessed_not_placed"),
        EXITED: int("exited"),
    }
    first_job_retention, FIRST_JOB_RETENTION {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        START_MONTH: text("start_month"),
        FIRST_JOBS: int("first_jobs"),
        ELIGIBLE_30D: int("eligible_30d"),
        RETAINED_30D: int("retained_30d"),
        RETENTION_30D_RATE: float("retention_30d_rate"),
        ELIGIBLE_90D: int("eligible_90d"),
        RETAINED_90D: int("retained_90d"),
        RETENTION_90D_RATE: float("retention_90d_rate"),
        ELIGIBLE_180D: int("eligible_180d"),
        RETAINED_180D: int("retained_180d"),
        RETENTION_180D_RATE: float("retention_180d_rate"),
        SEPARATED: int("separated"),
        MOVED_TO_SUBSEQUENT: int("moved_to_subsequent"),
        MEDIAN_DAYS_TO_NEXT_JOB: float("median_days_to_next_job"),
    }
    turnover, TURNOVER {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        MONTH: text("month"),
        ACTIVE_AT_START: int("active_at_start"),
        ACTIVE_AT_END: int("active_at_end"),
        STARTS: int("starts"),
        SEPARATIONS: int("separations"),
        SEPARATIONS_QUIT: int("separations_quit"),
        SEPARATIONS_LAID_OFF: int("separations_laid_off"),
        SEPARATIONS_FIRED: int("separations_fired"),
        SEPARATIONS_TEMPORARY_END: int("separations_temporary_end"),
        SEPARATIONS_OTHER: int("separations_other"),
        TURNOVER_RATE: float("turnover_rate"),
        PARTIAL_MONTH: boolean("partial_month"),
    }
    employment_outcomes, EMPLOYMENT_OUTCOMES {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        QUARTER: text("quarter"),
        PLACEMENTS: int("placements"),
        PERSONS_PLACED: int("persons_placed"),
        FIRST_PLACEMENTS: int("first_placements"),
        MEDIAN_HOURLY_WAGE: float("median_hourly_wage"),
        MEAN_HOURLY_WAGE: float("mean_hourly_wage"),
        MEDIAN_HOURS_PER_WEEK: float("median_hours_per_week"),
        MEDIAN_WEEKLY_EARNINGS: float("median_weekly_earnings"),
        AT_OR_ABOVE_WAGE_FLOOR: int("at_or_above_wage_floor"),
        WAGE_FLOOR: float("wage_floor"),
        COMPETITIVE_INTEGRATED: int("competitive_integrated"),
        WAGES_REPORTED: float("wages_reported"),
        HOURS_REPORTED: float("hours_reported"),
        PERSONS_WITH_WAGES: int("persons_with_wages"),
    }
    after_exit, AFTER_EXIT {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        EXIT_QUARTER: text("exit_quarter"),
        EXITERS: int("exiters"),
        ELIGIBLE_Q2: int("eligible_q2"),
        EMPLOYED_Q2: int("employed_q2"),
        EMPLOYMENT_RATE_Q2: float("employment_rate_q2"),
        MEDIAN_EARNINGS_Q2: float("median_earnings_q2"),
        ELIGIBLE_Q4: int("eligible_q4"),
        EMPLOYED_Q4: int("employed_q4"),
        EMPLOYMENT_RATE_Q4: float("employment_rate_q4"),
        EMPLOYED_Q2_WITH_EMPLOYER: int("employed_q2_with_employer"),
        RETAINED_SAME_EMPLOYER: int("retained_same_employer"),
        SAME_EMPLOYER_RATE: float("same_employer_rate"),
    }
    data_quality, DATA_QUALITY {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        ISSUE: text("issue"),
        EVENTS: int("events"),
    }
    wages_monthly, WAGES_MONTHLY {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        MONTH: text("month"),
        WAGES_REPORTED: float("wages_reported"),
        HOURS_REPORTED: float("hours_reported"),
        WAGE_RECORDS: int("wage_records"),
        PERSONS_WITH_WAGES: int("persons_with_wages"),
    }
    measures, MEASURES {
        CONSORTIUM_ID: text("consortium_id"),
        AGENCY_ID: text("agency_id"),
        PERIOD_KIND: text("period_kind"),
        PERIOD: text("period"),
        WAGE_FLOOR: float("wage_floor"),
        INTAKES: int("intakes"),
        MEDIAN_DAYS_TO_SERVICE: float("median_days_to_service"),
        MEDIAN_DAYS_TO_SERVICE_ITEMS: int("median_days_to_service_items"),
        STILL_WAITING: int("still_waiting"),
        SERVED_WITHIN_30D_RATE: float("served_within_30d_rate"),
        SERVED_WITHIN_30D_RATE_ITEMS: int("served_within_30d_rate_items"),
        FIRST_PLACEMENTS: int("first_placements"),
        MEDIAN_DAYS_TO_PLACEMENT: float("median_days_to_placement"),
        MEDIAN_DAYS_TO_PLACEMENT_ITEMS: int("median_days_to_placement_items"),
        PLACED_OVER_45D: int("placed_over_45d"),
        ACTION_NEEDED: boolean("action_needed"),
        ASSESSED: int("assessed"),
        ASSESSED_NOT_PLACED: int("assessed_not_placed"),
        STALLED_90D: int("stalled_90d"),
        PERSONS_PLACED: int("persons_placed"),
        PLACEMENTS: int("placements"),
        MEDIAN_HOURLY_WAGE: float("median_hourly_wage"),
        MEDIAN_HOURLY_WAGE_ITEMS: int("median_hourly_wage_items"),
        AT_OR_ABOVE_WAGE_FLOOR_RATE: float("at_or_above_wage_floor_rate"),
        AT_OR_ABOVE_WAGE_FLOOR_RATE_ITEMS: int("at_or_above_wage_floor_rate_items"),
        WAGES_REPORTED: float("wages_reported"),
        WAGES_REPORTED_ITEMS: int("wages_reported_items"),
        FIRST_JOBS_DUE_90D: int("first_jobs_due_90d"),
        RETAINED_90D: int("retained_90d"),
        RETENTION_90D_RATE: float("retention_90d_rate"),
        RETENTION_90D_RATE_ITEMS: int("retention_90d_rate_items"),
        PERSONS_MOVED_TO_SUBSEQUENT: int("persons_moved_to_subsequent"),
        ELIGIBLE_Q2: int("eligible_q2"),
        EMPLOYED_Q2: int("employed_q2"),
        EMPLOYMENT_RATE_Q2: float("employment_rate_q2"),
        EMPLOYMENT_RATE_Q2_ITEMS: int("employment_rate_q2_items"),
        MEDIAN_EARNINGS_Q2: float("median_earnings_q2"),
        MEDIAN_EARNINGS_Q2_ITEMS: int("median_earnings_q2_items"),
        ELIGIBLE_Q4: int("eligible_q4"),
        EMPLOYED_Q4: int("employed_q4"),
        EMPLOYMENT_RATE_Q4: float("employment_rate_q4"),
        EMPLOYMENT_RATE_Q4_ITEMS: int("employment_rate_q4_items"),
        EMPLOYED_Q2_WITH_EMPLOYER: int("employed_q2_with_employer"),
        RETAINED_SAME_EMPLOYER: int("retained_same_employer"),
        SAME_EMPLOYER_RATE: float("same_employer_rate"),
        SAME_EMPLOYER_RATE_ITEMS: int("same_employer_rate_items"),
    }
}

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
    /// 6: exits of quarter Q − 2 whose 2nd quarter after exit (Q) is observable at D.
    EligibleQ2,
    /// 6: of those, employed in that quarter.
    EmployedQ2,
    /// 6: employed / eligible, 2nd quarter.
    EmploymentRateQ2,
    /// 6: median earnings in the 2nd quarter of those employed in it.
    MedianEarningsQ2,
    /// 6: exits of quarter Q − 4 whose 4th quarter after exit (Q) is observable at D.
    EligibleQ4,
    /// 6: of those, employed in that quarter.
    EmployedQ4,
    /// 6: employed / eligible, 4th quarter.
    EmploymentRateQ4,
    /// 6: exits of quarter Q − 4 with an employer's evidence in their 2nd quarter.
    EmployedQ2WithEmployer,
    /// 6: of those, one employer with evidence in both the 2nd and the 4th quarter.
    RetainedSameEmployer,
    /// 6: retained / employed with an employer.
    SameEmployerRate,
}

impl Measure {
    /// Every measure in report order (the order of the `measures` columns).
    pub const ALL: [Measure; 30] = [
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
        Measure::EligibleQ2,
        Measure::EmployedQ2,
        Measure::EmploymentRateQ2,
        Measure::MedianEarningsQ2,
        Measure::EligibleQ4,
        Measure::EmployedQ4,
        Measure::EmploymentRateQ4,
        Measure::EmployedQ2WithEmployer,
        Measure::RetainedSameEmployer,
        Measure::SameEmployerRate,
    ];

    /// The measure's column name.
    pub fn name(self) -> &'static str {
        use columns::measures;
        match self {
            Measure::Intakes => measures::INTAKES,
            Measure::MedianDaysToService => measures::MEDIAN_DAYS_TO_SERVICE,
            Measure::StillWaiting => measures::STILL_WAITING,
            Measure::ServedWithin30dRate => measures::SERVED_WITHIN_30D_RATE,
            Measure::FirstPlacements => measures::FIRST_PLACEMENTS,
            Measure::MedianDaysToPlacement => measures::MEDIAN_DAYS_TO_PLACEMENT,
            Measure::PlacedOver45d => measures::PLACED_OVER_45D,
            Measure::ActionNeeded => measures::ACTION_NEEDED,
            Measure::Assessed => measures::ASSESSED,
            Measure::AssessedNotPlaced => measures::ASSESSED_NOT_PLACED,
            Measure::Stalled90d => measures::STALLED_90D,
            Measure::PersonsPlaced => measures::PERSONS_PLACED,
            Measure::Placements => measures::PLACEMENTS,
            Measure::MedianHourlyWage => measures::MEDIAN_HOURLY_WAGE,
            Measure::AtOrAboveWageFloorRate => measures::AT_OR_ABOVE_WAGE_FLOOR_RATE,
            Measure::WagesReported => measures::WAGES_REPORTED,
            Measure::FirstJobsDue90d => measures::FIRST_JOBS_DUE_90D,
            Measure::Retained90d => measures::RETAINED_90D,
            Measure::Retention90dRate => measures::RETENTION_90D_RATE,
            Measure::PersonsMovedToSubsequent => measures::PERSONS_MOVED_TO_SUBSEQUENT,
            Measure::EligibleQ2 => measures::ELIGIBLE_Q2,
            Measure::EmployedQ2 => measures::EMPLOYED_Q2,
            Measure::EmploymentRateQ2 => measures::EMPLOYMENT_RATE_Q2,
            Measure::MedianEarningsQ2 => measures::MEDIAN_EARNINGS_Q2,
            Measure::EligibleQ4 => measures::ELIGIBLE_Q4,
            Measure::EmployedQ4 => measures::EMPLOYED_Q4,
            Measure::EmploymentRateQ4 => measures::EMPLOYMENT_RATE_Q4,
            Measure::EmployedQ2WithEmployer => measures::EMPLOYED_Q2_WITH_EMPLOYER,
            Measure::RetainedSameEmployer => measures::RETAINED_SAME_EMPLOYER,
            Measure::SameEmployerRate => measures::SAME_EMPLOYER_RATE,
        }
    }

    /// The indicator (1 to 6) the measure belongs to.
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
            Measure::EligibleQ2
            | Measure::EmployedQ2
            | Measure::EmploymentRateQ2
            | Measure::MedianEarningsQ2
            | Measure::EligibleQ4
            | Measure::EmployedQ4
            | Measure::EmploymentRateQ4
            | Measure::EmployedQ2WithEmployer
            | Measure::RetainedSameEmployer
            | Measure::SameEmployerRate => 6,
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
            | Measure::Retention90dRate
            | Measure::EmploymentRateQ2
            | Measure::MedianEarningsQ2
            | Measure::EmploymentRateQ4
            | Measure::SameEmployerRate => ColumnType::Float,
            _ => ColumnType::Int,
        }
    }

    /// The column holding how many items a median, rate or sum is over (`<name>_items`);
    /// `None` for counts and flags.
    pub fn items_column(self) -> Option<&'static str> {
        use columns::measures;
        Some(match self {
            Measure::MedianDaysToService => measures::MEDIAN_DAYS_TO_SERVICE_ITEMS,
            Measure::ServedWithin30dRate => measures::SERVED_WITHIN_30D_RATE_ITEMS,
            Measure::MedianDaysToPlacement => measures::MEDIAN_DAYS_TO_PLACEMENT_ITEMS,
            Measure::MedianHourlyWage => measures::MEDIAN_HOURLY_WAGE_ITEMS,
            Measure::AtOrAboveWageFloorRate => measures::AT_OR_ABOVE_WAGE_FLOOR_RATE_ITEMS,
            Measure::WagesReported => measures::WAGES_REPORTED_ITEMS,
            Measure::Retention90dRate => measures::RETENTION_90D_RATE_ITEMS,
            Measure::EmploymentRateQ2 => measures::EMPLOYMENT_RATE_Q2_ITEMS,
            Measure::MedianEarningsQ2 => measures::MEDIAN_EARNINGS_Q2_ITEMS,
            Measure::EmploymentRateQ4 => measures::EMPLOYMENT_RATE_Q4_ITEMS,
            Measure::SameEmployerRate => measures::SAME_EMPLOYER_RATE_ITEMS,
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
