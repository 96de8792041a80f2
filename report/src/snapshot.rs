//! The snapshot's rows and their small-cell suppression (INDICATORS.md section 3). The values
//! themselves come from the transform's `measures` table; this module only decides what may be
//! published.

use std::collections::BTreeMap;

pub use outcomes_schemas::tables::Measure;

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

/// How `measure` is suppressed.
fn kind(measure: Measure) -> Kind {
    match measure {
        Measure::ActionNeeded => Kind::Flag(Measure::MedianDaysToPlacement),
        // The contract gives an item count to exactly the medians, rates and sums.
        measure if measure.items_column().is_some() => Kind::Statistic,
        _ => Kind::Count,
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
pub(crate) struct RawRow {
    /// The agency, or `ALL`.
    pub(crate) agency_id: String,
    /// `(measure, value, items)`; `items` is the number of things a statistic is over.
    pub(crate) values: Vec<(Measure, Value, i64)>,
}

/// Applies small-cell suppression with threshold `k` to exact rows (the last row is `ALL`).
///
/// Primary: counts from 1 to k-1, and statistics over fewer than k items. Complementary: for
/// each count measure, agency values add up to the ALL value, so exactly one withheld cell
/// among them could be recovered by subtraction; while that is so, the smallest published cell
/// (an agency's, else ALL) is withheld too. Derived: a flag whose source is withheld, and a rate
/// whose numerator count is withheld while its denominator is shown.
pub(crate) fn suppress(raw: &[RawRow], k: i64) -> Vec<Row> {
    let mut cells: Vec<Cells> = raw.iter().map(|row| primary(row, k)).collect();
    for measure in Measure::ALL.into_iter().filter(|m| kind(*m) == Kind::Count) {
        complementary(&mut cells, measure);
    }
    for row in &mut cells {
        derived(row);
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

/// One row's cells while suppression is worked out.
type Cells = BTreeMap<Measure, Cell>;

/// "A count from 1 to k-1 is withheld (shown as `<k`), and so is any median or rate over fewer
/// than k items."
fn primary(row: &RawRow, k: i64) -> Cells {
    row.values
        .iter()
        .map(|(measure, value, items)| {
            let cell = match (kind(*measure), value) {
                (Kind::Count, Value::Count(n)) if (1..k).contains(n) => {
                    Cell::Withheld(Withholding::SmallCount)
                }
                (Kind::Statistic, _) if *items < k => Cell::Withheld(Withholding::FewItems),
                _ => Cell::Shown(*value),
            };
            (*measure, cell)
        })
        .collect()
}

/// "No withheld value may be recoverable by subtracting published agency values from the
/// published ALL value (complementary suppression)." A count's agency values add up to its ALL
/// value, so a single withheld cell among them could be recovered: while exactly one is
/// withheld, the smallest published cell (an agency's, else ALL's) is withheld too. `cells`
/// ends with the ALL row.
fn complementary(cells: &mut [Cells], measure: Measure) {
    let last = cells.len().saturating_sub(1);
    loop {
        let withheld = cells
            .iter()
            .filter(|row| matches!(row.get(&measure), Some(Cell::Withheld(_))))
            .count();
        if withheld != 1 {
            return;
        }
        let pick = (0..cells.len())
            .filter_map(|i| match cells[i].get(&measure) {
                Some(Cell::Shown(value)) => {
                    let count = match value {
                        Value::Count(n) => *n,
                        _ => i64::MAX,
                    };
                    Some((i == last, count, i))
                }
                _ => None,
            })
            .min();
        let Some((_, _, i)) = pick else {
            return;
        };
        cells[i].insert(measure, Cell::Withheld(Withholding::Complementary));
    }
}

/// Our reading of "recoverable" beyond subtraction: a flag whose source is withheld would give
/// the source away, and so would a rate whose numerator count is withheld while its
/// denominator is shown; both are withheld too.
fn derived(row: &mut Cells) {
    for measure in Measure::ALL {
        if let Kind::Flag(source) = kind(measure)
            && matches!(row.get(&source), Some(Cell::Withheld(_)))
        {
            row.insert(measure, Cell::Withheld(Withholding::Derived));
        }
    }
    for measure in Measure::ALL {
        if let Some(numerator) = published_numerator(measure)
            && matches!(row.get(&numerator), Some(Cell::Withheld(_)))
            && matches!(row.get(&measure), Some(Cell::Shown(_)))
        {
            row.insert(measure, Cell::Withheld(Withholding::Derived));
        }
    }
}

/// The count a rate's numerator is published as, when it is: with the rate and its item count
/// (the denominator) shown, a withheld numerator would be their product.
fn published_numerator(rate: Measure) -> Option<Measure> {
    match rate {
        Measure::Retention90dRate => Some(Measure::Retained90d),
        Measure::EmploymentRateQ2 => Some(Measure::EmployedQ2),
        Measure::EmploymentRateQ4 => Some(Measure::EmployedQ4),
        Measure::SameEmployerRate => Some(Measure::RetainedSameEmployer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ALL;
    use proptest::prelude::*;

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

    /// Measure 6 at k = 10. Agency a: 30 eligible exits, 4 employed (withheld: a count under
    /// 10), rate 4/30 over 30 items (shown by itself, but 4 = rate × 30, so withheld as
    /// derived), median earnings over the 4 employed (fewer than 10 items). Agency b: 40 of 50,
    /// median over 40. ALL: 44 of 80; employed_q2 of b (40) is the smallest published cell, so
    /// it is withheld as the complement of a's 4 and b's rate goes with it; ALL's 44 stays.
    #[test]
    fn after_exit_rates_and_medians_are_suppressed_by_their_items() {
        let exits = |agency: &str, eligible: i64, employed: i64| RawRow {
            agency_id: agency.into(),
            values: vec![
                (Measure::EligibleQ2, Value::Count(eligible), eligible),
                (Measure::EmployedQ2, Value::Count(employed), employed),
                (
                    Measure::EmploymentRateQ2,
                    Value::Number(Some(employed as f64 / eligible as f64)),
                    eligible,
                ),
                (
                    Measure::MedianEarningsQ2,
                    Value::Number(Some(2500.0)),
                    employed,
                ),
            ],
        };
        let rows = suppress(
            &[exits("a", 30, 4), exits("b", 50, 40), exits(ALL, 80, 44)],
            10,
        );
        let cell = |i: usize, m| rows[i].cell(m);
        assert_eq!(
            cell(0, Measure::EligibleQ2),
            Some(Cell::Shown(Value::Count(30)))
        );
        assert_eq!(
            cell(0, Measure::EmployedQ2),
            Some(Cell::Withheld(Withholding::SmallCount))
        );
        assert_eq!(
            cell(0, Measure::EmploymentRateQ2),
            Some(Cell::Withheld(Withholding::Derived))
        );
        assert_eq!(
            cell(0, Measure::MedianEarningsQ2),
            Some(Cell::Withheld(Withholding::FewItems))
        );
        assert_eq!(
            cell(1, Measure::EmployedQ2),
            Some(Cell::Withheld(Withholding::Complementary))
        );
        assert_eq!(
            cell(1, Measure::EmploymentRateQ2),
            Some(Cell::Withheld(Withholding::Derived))
        );
        assert_eq!(
            cell(1, Measure::MedianEarningsQ2),
            Some(Cell::Shown(Value::Number(Some(2500.0))))
        );
        assert_eq!(
            cell(2, Measure::EmployedQ2),
            Some(Cell::Shown(Value::Count(44)))
        );
        assert_eq!(
            cell(2, Measure::EmploymentRateQ2),
            Some(Cell::Shown(Value::Number(Some(0.55))))
        );
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
