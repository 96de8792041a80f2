//! INDICATORS.md section 3: the indicator snapshot of a consortium for a period, and its
//! small-cell suppression.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::ALL;
use crate::input::{EpisodeRow, Inputs, JobRow};
use crate::period::Period;

/// The published measures, grouped by indicator.
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
    /// 4: gross wages reported for pay periods ending in P (withheld when fewer than k
    /// people earned them).
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

/// How a measure is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A count of people, episodes or jobs; agency values add up to the ALL value (or nearly,
    /// for distinct persons), so complementary suppression applies.
    Count,
    /// A median, rate or sum over items: withheld when over fewer than k items.
    Statistic,
    /// A yes/no derived from another measure, withheld with it.
    Flag(Measure),
}

impl Measure {
    /// Every measure in report order.
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

    fn kind(self) -> Kind {
        match self {
            Measure::ActionNeeded => Kind::Flag(Measure::MedianDaysToPlacement),
            Measure::MedianDaysToService
            | Measure::ServedWithin30dRate
            | Measure::MedianDaysToPlacement
            | Measure::MedianHourlyWage
            | Measure::AtOrAboveWageFloorRate
            | Measure::WagesReported
            | Measure::Retention90dRate => Kind::Statistic,
            _ => Kind::Count,
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A computed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count.
    Count(i64),
    /// A median, rate or amount; `None` over an empty set.
    Number(Option<f64>),
    /// A yes/no; `None` when undefined.
    Flag(Option<bool>),
}

/// Why a value is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Withholding {
    /// A count from 1 to k-1.
    SmallCount,
    /// A median, rate or sum over fewer than k items.
    FewItems,
    /// Withheld so that another withheld value cannot be recovered by subtraction.
    Complementary,
    /// Derived from a withheld value.
    Derived,
}

impl Withholding {
    /// The reason as written in the snapshot.
    pub fn code(self) -> &'static str {
        match self {
            Withholding::SmallCount => "count_below_k",
            Withholding::FewItems => "fewer_than_k_items",
            Withholding::Complementary => "complementary",
            Withholding::Derived => "derived_from_withheld",
        }
    }
}

/// A published cell: a value, or the reason it is withheld.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// Published.
    Shown(Value),
    /// Withheld.
    Withheld(Withholding),
}

/// One row of the snapshot: an agency, or `ALL`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The agency, or `ALL`.
    pub agency_id: String,
    /// A cell per measure, in [`Measure::ALL`] order.
    pub cells: Vec<(Measure, Cell)>,
}

impl Row {
    /// The cell of `measure`.
    pub fn cell(&self, measure: Measure) -> Option<Cell> {
        self.cells
            .iter()
            .find(|(m, _)| *m == measure)
            .map(|(_, cell)| *cell)
    }
}

/// Exact values of one row before suppression, with the item count behind each statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// The agency, or `ALL`.
    pub agency_id: String,
    /// `(measure, value, items)`; `items` is the number of things a statistic is over.
    pub values: Vec<(Measure, Value, i64)>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    percentile(&mut values, 0.5)
}

/// Hyndman-Fan type 7 (linear interpolation), as INDICATORS.md defines.
fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let h = (values.len() - 1) as f64 * p;
    let low = h.floor() as usize;
    let high = (low + 1).min(values.len() - 1);
    Some(values[low] + (h - h.floor()) * (values[high] - values[low]))
}

fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn month_label(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// Computes one row's exact values over the given episodes and jobs.
#[expect(
    clippy::too_many_arguments,
    reason = "section 3 moves to the transform's measures table (issue 15), which removes this function"
)]
fn raw_row(
    agency_id: &str,
    episodes: &[&EpisodeRow],
    jobs: &[&JobRow],
    wages: f64,
    wage_earners: i64,
    period: Period,
    as_of: NaiveDate,
    wage_floor: f64,
) -> RawRow {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    // 1: episodes with intake in P.
    let cohort: Vec<_> = episodes
        .iter()
        .filter(|e| period.contains(e.intake_on))
        .collect();
    let served: Vec<f64> = cohort
        .iter()
        .filter_map(|e| e.days_to_service)
        .map(|d| d as f64)
        .collect();
    let eligible_30: Vec<_> = cohort
        .iter()
        .filter(|e| e.intake_on + chrono::Duration::days(30) <= as_of)
        .collect();
    let within_30 = eligible_30
        .iter()
        .filter(|e| e.days_to_service.is_some_and(|d| d <= 30))
        .count();
    // 2: episodes whose first job started in P.
    let placed: Vec<_> = episodes
        .iter()
        .filter(|e| e.first_placement_on.is_some_and(|d| period.contains(d)))
        .collect();
    let placement_days: Vec<f64> = placed
        .iter()
        .filter_map(|e| e.days_to_placement)
        .map(|d| d as f64)
        .collect();
    let median_placement = median(placement_days.clone());
    // 3: episodes first assessed in P; stalled at t = min(p1, D).
    let assessed: Vec<_> = episodes
        .iter()
        .filter(|e| e.first_assessment_on.is_some_and(|d| period.contains(d)))
        .collect();
    let t = period.end().min(as_of);
    let stalled = episodes
        .iter()
        .filter(|e| {
            e.intake_on <= t
                && e.exit_on.is_none_or(|x| x > t)
                && e.first_assessment_on
                    .is_some_and(|a| a + chrono::Duration::days(90) <= t)
                && e.first_placement_on.is_none_or(|p| p > t)
        })
        .count();
    // 4: jobs starting in P.
    let starting: Vec<_> = jobs
        .iter()
        .filter(|j| period.contains(j.start_on))
        .collect();
    let persons: BTreeSet<&str> = starting.iter().map(|j| j.person_key.as_str()).collect();
    let wages_hourly: Vec<f64> = starting.iter().map(|j| j.hourly_wage).collect();
    let at_floor = starting
        .iter()
        .filter(|j| j.hourly_wage >= wage_floor)
        .count();
    // 5: first jobs due for their 90-day check in P (and by D).
    let due: Vec<_> = jobs
        .iter()
        .filter(|j| {
            let day_90 = j.start_on + chrono::Duration::days(90);
            j.job_seq == 1 && period.contains(day_90) && day_90 <= as_of
        })
        .collect();
    let retained = due.iter().filter(|j| j.retained_90d == Some(true)).count();
    let moved: BTreeSet<&str> = starting
        .iter()
        .filter(|j| j.job_seq >= 2)
        .map(|j| j.person_key.as_str())
        .collect();

    let values = vec![
        (
            Measure::Intakes,
            Value::Count(count(cohort.len())),
            count(cohort.len()),
        ),
        (
            Measure::MedianDaysToService,
            Value::Number(median(served.clone())),
            count(served.len()),
        ),
        (
            Measure::StillWaiting,
            Value::Count(count(cohort.len() - served.len())),
            0,
        ),
        (
            Measure::ServedWithin30dRate,
            Value::Number(rate(count(within_30), count(eligible_30.len()))),
            count(eligible_30.len()),
        ),
        (
            Measure::FirstPlacements,
            Value::Count(count(placed.len())),
            0,
        ),
        (
            Measure::MedianDaysToPlacement,
            Value::Number(median_placement),
            count(placement_days.len()),
        ),
        (
            Measure::PlacedOver45d,
            Value::Count(count(
                placed
                    .iter()
                    .filter(|e| e.days_to_placement.is_some_and(|d| d > 45))
                    .count(),
            )),
            0,
        ),
        (
            Measure::ActionNeeded,
            Value::Flag(median_placement.map(|m| m > 45.0)),
            0,
        ),
        (Measure::Assessed, Value::Count(count(assessed.len())), 0),
        (
            Measure::AssessedNotPlaced,
            Value::Count(count(
                assessed
                    .iter()
                    .filter(|e| e.first_placement_on.is_none())
                    .count(),
            )),
            0,
        ),
        (Measure::Stalled90d, Value::Count(count(stalled)), 0),
        (
            Measure::PersonsPlaced,
            Value::Count(count(persons.len())),
            0,
        ),
        (Measure::Placements, Value::Count(count(starting.len())), 0),
        (
            Measure::MedianHourlyWage,
            Value::Number(median(wages_hourly)),
            count(starting.len()),
        ),
        (
            Measure::AtOrAboveWageFloorRate,
            Value::Number(rate(count(at_floor), count(starting.len()))),
            count(starting.len()),
        ),
        (
            Measure::WagesReported,
            Value::Number(Some(wages)),
            wage_earners,
        ),
        (Measure::FirstJobsDue90d, Value::Count(count(due.len())), 0),
        (Measure::Retained90d, Value::Count(count(retained)), 0),
        (
            Measure::Retention90dRate,
            Value::Number(rate(count(retained), count(due.len()))),
            count(due.len()),
        ),
        (
            Measure::PersonsMovedToSubsequent,
            Value::Count(count(moved.len())),
            0,
        ),
    ];
    RawRow {
        agency_id: agency_id.to_owned(),
        values,
    }
}

/// Exact rows for a period: one per agency that owns an episode or a job, then `ALL`.
pub fn compute_raw(inputs: &Inputs, period: Period, as_of: NaiveDate) -> Vec<RawRow> {
    let agencies: BTreeSet<&str> = inputs
        .episodes
        .iter()
        .map(|e| e.agency_id.as_str())
        .chain(inputs.jobs.iter().map(|j| j.agency_id.as_str()))
        .collect();
    let months: BTreeSet<String> = {
        let mut months = BTreeSet::new();
        let mut day = period.start();
        while day <= period.end() {
            months.insert(month_label(day));
            day = day
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(period.end().succ_opt().unwrap_or(period.end()));
        }
        months
    };
    // Wages and the people behind them. Distinct persons over several months are at least the
    // largest monthly count, so that is the (conservative) item count for suppression.
    let wages_of = |agency: &str| {
        inputs
            .wages
            .iter()
            .filter(|w| months.contains(&w.month) && w.agency_id == agency)
            .fold((0.0, 0i64), |(sum, persons), w| {
                (sum + w.wages_reported, persons.max(w.persons_with_wages))
            })
    };
    let mut rows = Vec::new();
    for agency in &agencies {
        let episodes: Vec<_> = inputs
            .episodes
            .iter()
            .filter(|e| e.agency_id == *agency)
            .collect();
        let jobs: Vec<_> = inputs
            .jobs
            .iter()
            .filter(|j| j.agency_id == *agency)
            .collect();
        let (wages, persons) = wages_of(agency);
        rows.push(raw_row(
            agency,
            &episodes,
            &jobs,
            wages,
            persons,
            period,
            as_of,
            inputs.wage_floor,
        ));
    }
    let episodes: Vec<_> = inputs.episodes.iter().collect();
    let jobs: Vec<_> = inputs.jobs.iter().collect();
    let (wages, persons) = wages_of(ALL);
    rows.push(raw_row(
        ALL,
        &episodes,
        &jobs,
        wages,
        persons,
        period,
        as_of,
        inputs.wage_floor,
    ));
    rows
}

/// Applies small-cell suppression with threshold `k` to exact rows (the last row is `ALL`).
///
/// Primary: counts from 1 to k-1, and statistics over fewer than k items. Complementary: for
/// each count measure, agency values add up to the ALL value, so exactly one withheld cell
/// among them could be recovered by subtraction; while that is so, the smallest published cell
/// (an agency's, else ALL) is withheld too. Derived: a flag whose source is withheld, and a rate
/// whose numerator count is withheld while its denominator is shown.
pub fn suppress(raw: &[RawRow], k: i64) -> Vec<Row> {
    let mut cells: Vec<BTreeMap<Measure, Cell>> = raw
        .iter()
        .map(|row| {
            row.values
                .iter()
                .map(|(measure, value, items)| {
                    let cell = match (measure.kind(), value) {
                        (Kind::Count, Value::Count(n)) if (1..k).contains(n) => {
                            Cell::Withheld(Withholding::SmallCount)
                        }
                        (Kind::Statistic, _) if *items < k => Cell::Withheld(Withholding::FewItems),
                        _ => Cell::Shown(*value),
                    };
                    (*measure, cell)
                })
                .collect()
        })
        .collect();

    for measure in Measure::ALL.into_iter().filter(|m| m.kind() == Kind::Count) {
        loop {
            let withheld = cells
                .iter()
                .filter(|row| matches!(row.get(&measure), Some(Cell::Withheld(_))))
                .count();
            if withheld != 1 {
                break;
            }
            let last = cells.len() - 1;
            let pick = (0..cells.len())
                .filter(|&i| matches!(cells[i].get(&measure), Some(Cell::Shown(_))))
                .min_by_key(|&i| {
                    let value = match cells[i].get(&measure) {
                        Some(Cell::Shown(Value::Count(n))) => *n,
                        _ => i64::MAX,
                    };
                    (i == last, value, i)
                });
            match pick {
                Some(i) => {
                    cells[i].insert(measure, Cell::Withheld(Withholding::Complementary));
                }
                None => break,
            }
        }
    }

    for row in &mut cells {
        for measure in Measure::ALL {
            if let Kind::Flag(source) = measure.kind()
                && matches!(row.get(&source), Some(Cell::Withheld(_)))
            {
                row.insert(measure, Cell::Withheld(Withholding::Derived));
            }
        }
        if matches!(row.get(&Measure::Retained90d), Some(Cell::Withheld(_)))
            && matches!(row.get(&Measure::Retention90dRate), Some(Cell::Shown(_)))
        {
            row.insert(
                Measure::Retention90dRate,
                Cell::Withheld(Withholding::Derived),
            );
        }
    }

    raw.iter()
        .zip(cells)
        .map(|(row, cells)| Row {
            agency_id: row.agency_id.clone(),
            cells: Measure::ALL
                .iter()
                .filter_map(|m| cells.get(m).map(|cell| (*m, *cell)))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentile_is_type_7() {
        // numpy.percentile([1, 2, 3, 4], 90) = 3.7; median of [1, 2, 3, 4] = 2.5.
        assert_eq!(percentile(&mut [4.0, 1.0, 3.0, 2.0], 0.9), Some(3.7));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0]), Some(5.0));
    }

    fn counts_row(agency: &str, intakes: i64) -> RawRow {
        RawRow {
            agency_id: agency.into(),
            values: vec![(Measure::Intakes, Value::Count(intakes), intakes)],
        }
    }

    #[test]
    fn a_lone_small_cell_gets_a_complement() {
        let raw = vec![
            counts_row("a", 3),
            counts_row("b", 40),
            counts_row("c", 25),
            counts_row(ALL, 68),
        ];
        let rows = suppress(&raw, 10);
        let cell = |i: usize| rows[i].cell(Measure::Intakes);
        assert_eq!(cell(0), Some(Cell::Withheld(Withholding::SmallCount)));
        assert_eq!(cell(2), Some(Cell::Withheld(Withholding::Complementary)));
        assert_eq!(cell(1), Some(Cell::Shown(Value::Count(40))));
        assert_eq!(cell(3), Some(Cell::Shown(Value::Count(68))));
    }

    #[test]
    fn with_one_agency_the_all_row_is_withheld_with_it() {
        let rows = suppress(&[counts_row("a", 4), counts_row(ALL, 4)], 10);
        assert!(
            rows.iter()
                .all(|r| matches!(r.cell(Measure::Intakes), Some(Cell::Withheld(_))))
        );
    }

    proptest! {
        /// No withheld agency or ALL count can be recovered by subtraction: for every count
        /// measure, agency values sum to ALL, so a lone withheld cell would be exactly the
        /// difference; the suppression must leave none or at least two. Every count from 1 to
        /// k-1 must be withheld.
        #[test]
        fn nothing_withheld_is_recoverable(agency_counts in proptest::collection::vec(0i64..40, 1..8), k in 2i64..15) {
            let total: i64 = agency_counts.iter().sum();
            let mut raw: Vec<RawRow> = agency_counts
                .iter()
                .enumerate()
                .map(|(i, n)| counts_row(&format!("agency-{i}"), *n))
                .collect();
            raw.push(counts_row(ALL, total));
            let rows = suppress(&raw, k);
            let withheld: Vec<bool> = rows
                .iter()
                .map(|r| matches!(r.cell(Measure::Intakes), Some(Cell::Withheld(_))))
                .collect();
            let count = withheld.iter().filter(|w| **w).count();
            prop_assert!(count != 1, "a lone withheld cell is recoverable: {:?} -> {:?}", raw, withheld);
            for (row, hidden) in raw.iter().zip(&withheld) {
                if let Value::Count(n) = row.values[0].1
                    && (1..k).contains(&n)
                {
                    prop_assert!(hidden);
                }
            }
            // Recovering by subtraction needs the other values of the equation: check that no
            // withheld value equals ALL minus the published agency values when two are hidden.
            if count >= 2 && !withheld[withheld.len() - 1] {
                let published: i64 = raw[..raw.len() - 1]
                    .iter()
                    .zip(&withheld)
                    .filter(|(_, hidden)| !**hidden)
                    .filter_map(|(row, _)| match row.values[0].1 { Value::Count(n) => Some(n), _ => None })
                    .sum();
                let hidden_sum = total - published;
                let hidden_values: Vec<i64> = raw[..raw.len() - 1]
                    .iter()
                    .zip(&withheld)
                    .filter(|(_, hidden)| **hidden)
                    .filter_map(|(row, _)| match row.values[0].1 { Value::Count(n) => Some(n), _ => None })
                    .collect();
                prop_assert_eq!(hidden_values.iter().sum::<i64>(), hidden_sum);
                prop_assert!(hidden_values.len() >= 2);
            }
        }
    }
}
