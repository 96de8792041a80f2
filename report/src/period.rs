//! Reporting periods: a calendar month (`2026-08`) or quarter (`2026Q3`).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};

/// A month or a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// A calendar month.
    Month {
        /// Year.
        year: i32,
        /// Month, 1 to 12.
        month: u32,
    },
    /// A calendar quarter.
    Quarter {
        /// Year.
        year: i32,
        /// Quarter, 1 to 4.
        quarter: u32,
    },
}

/// A period label that is neither `YYYY-MM` nor `YYYYQn`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a period: write a month as YYYY-MM (2026-08) or a quarter as YYYYQn (2026Q3)"
)]
pub struct InvalidPeriod(String);

/// How often scheduled reports run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// Every month, for the previous month.
    Monthly,
    /// Every quarter, for the previous quarter.
    Quarterly,
}

impl Period {
    /// First day.
    pub fn start(self) -> NaiveDate {
        let (year, month) = match self {
            Period::Month { year, month } => (year, month),
            Period::Quarter { year, quarter } => (year, quarter * 3 - 2),
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default()
    }

    fn months(self) -> u32 {
        match self {
            Period::Month { .. } => 1,
            Period::Quarter { .. } => 3,
        }
    }

    /// Last day.
    pub fn end(self) -> NaiveDate {
        self.start()
            .checked_add_months(Months::new(self.months()))
            .and_then(|next| next.pred_opt())
            .unwrap_or_default()
    }

    /// Whether `date` falls in the period.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.start() <= date && date <= self.end()
    }

    /// The period before this one, of the same kind.
    pub fn previous(self) -> Period {
        Period::of(
            self.start()
                .checked_sub_months(Months::new(self.months()))
                .unwrap_or_default(),
            self.cadence(),
        )
    }

    /// Whether this is a month or a quarter.
    pub fn cadence(self) -> Cadence {
        match self {
            Period::Month { .. } => Cadence::Monthly,
            Period::Quarter { .. } => Cadence::Quarterly,
        }
    }

    /// The period of the given cadence that contains `date`.
    pub fn of(date: NaiveDate, cadence: Cadence) -> Period {
        match cadence {
            Cadence::Monthly => Period::Month {
                year: date.year(),
                month: date.month(),
            },
            Cadence::Quarterly => Period::Quarter {
                year: date.year(),
                quarter: date.month0() / 3 + 1,
            },
        }
    }

    /// The last period of the cadence that ended before `today`.
    pub fn last_complete(today: NaiveDate, cadence: Cadence) -> Period {
        Period::of(today, cadence).previous()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year:04}Q{quarter}"),
        }
    }
}

impl FromStr for Period {
    type Err = InvalidPeriod;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPeriod(text.to_owned());
        let year_of = |digits: &str| -> Result<i32, InvalidPeriod> {
            if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
                digits.parse().map_err(|_| invalid())
            } else {
                Err(invalid())
            }
        };
        if let Some((year, quarter)) = text.split_once('Q') {
            let quarter = match quarter {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                _ => return Err(invalid()),
            };
            return Ok(Period::Quarter {
                year: year_of(year)?,
                quarter,
            });
        }
        let (year, month) = text.split_once('-').ok_or_else(invalid)?;
        if month.len() != 2 {
            return Err(invalid());
        }
        let month: u32 = month.parse().map_err(|_| invalid())?;
        if !(1..=12).contains(&month) {
            return Err(invalid());
        }
        Ok(Period::Month {
            year: year_of(year)?,
            month,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn parses_bounds_and_steps_back() {
        let q: Period = "2026Q3".parse().unwrap();
        assert_eq!((q.start(), q.end()), (date(2026, 7, 1), date(2026, 9, 30)));
        assert_eq!(q.previous().to_string(), "2026Q2");
        let m: Period = "2024-02".parse().unwrap();
        assert_eq!(m.end(), date(2024, 2, 29));
        assert_eq!(
            "2026-01".parse::<Period>().unwrap().previous().to_string(),
            "2025-12"
        );
        for bad in [
            "2026Q5", "2026-13", "2026-1", "26Q1", "2026", "Q3", "2026-00",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn last_complete_period() {
        assert_eq!(
            Period::last_complete(date(2026, 11, 23), Cadence::Quarterly).to_string(),
            "2026Q3"
        );
        assert_eq!(
            Period::last_complete(date(2026, 1, 1), Cadence::Monthly).to_string(),
            "2025-12"
        );
    }
}
