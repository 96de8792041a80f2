//! The transform's settings: wage floors and the memory knob. The `outcomes` binary reads them
//! from the `[transform]` section of its configuration file:
//!
//! ```toml
//! [transform]
//! # Hourly wage floor for `at_or_above_wage_floor`, for consortia not listed below.
//! wage_floor = 7.25
//! # Visible events per pass of the per-person steps; fewer use less memory.
//! events_per_part = 20000000
//!
//! [transform.consortia.north-shore]
//! wage_floor = 15.00
//! ```

use std::collections::BTreeMap;

use polars::prelude::{Expr, lit, when};
use serde::{Deserialize, Serialize};

/// The federal minimum wage, the floor unless a consortium sets its own.
pub const DEFAULT_WAGE_FLOOR: f64 = 7.25;

/// Visible events per pass of the per-person steps by default: about 5 GiB at the peak.
pub const DEFAULT_EVENTS_PER_PART: u64 = 20_000_000;

/// Transform settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Hourly wage floor for consortia without their own (default 7.25).
    #[serde(default = "default_wage_floor")]
    pub wage_floor: f64,
    /// Per-consortium settings, keyed by consortium id.
    #[serde(default)]
    pub consortia: BTreeMap<String, ConsortiumConfig>,
    /// A lake with more events than this is processed in parts of about this many events,
    /// one part after the other: whole consortia packed together, a larger consortium split
    /// by person (the tables are the same up to the last binary digit of float sums). Lower
    /// it on a machine with less memory.
    #[serde(default = "default_events_per_part")]
    pub events_per_part: u64,
}

/// Settings of one consortium.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsortiumConfig {
    /// This consortium's hourly wage floor (a state or local minimum wage).
    pub wage_floor: f64,
}

fn default_wage_floor() -> f64 {
    DEFAULT_WAGE_FLOOR
}

fn default_events_per_part() -> u64 {
    DEFAULT_EVENTS_PER_PART
}

impl Default for Config {
    fn default() -> Self {
        Self {
            wage_floor: DEFAULT_WAGE_FLOOR,
            consortia: BTreeMap::new(),
            events_per_part: DEFAULT_EVENTS_PER_PART,
        }
    }
}

/// The settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A wage floor that is not a finite, non-negative number.
    #[error("wage_floor {value} for {scope} must be a finite number of at least 0")]
    WageFloor {
        /// Where it was set.
        scope: String,
        /// The value given.
        value: f64,
    },
    /// `events_per_part` of 0.
    #[error("events_per_part must be at least 1")]
    EventsPerPart,
}

impl Config {
    /// The settings if every value is usable.
    pub fn checked(self) -> Result<Self, ConfigError> {
        let floors = std::iter::once(("the default".to_owned(), self.wage_floor)).chain(
            self.consortia
                .iter()
                .map(|(id, c)| (format!("consortium {id}"), c.wage_floor)),
        );
        for (scope, value) in floors {
            if !value.is_finite() || value < 0.0 {
                return Err(ConfigError::WageFloor { scope, value });
            }
        }
        if self.events_per_part == 0 {
            return Err(ConfigError::EventsPerPart);
        }
        Ok(self)
    }

    /// The wage floor of a consortium.
    pub fn wage_floor(&self, consortium: &str) -> f64 {
        self.consortia
            .get(consortium)
            .map_or(self.wage_floor, |c| c.wage_floor)
    }

    /// An expression giving each row's floor from its consortium column.
    pub(crate) fn wage_floor_expr(&self, consortium: Expr) -> Expr {
        self.consortia
            .iter()
            .fold(lit(self.wage_floor), |otherwise, (id, c)| {
                when(consortium.clone().eq(lit(id.as_str())))
                    .then(lit(c.wage_floor))
                    .otherwise(otherwise)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(wage_floor: f64, events_per_part: u64) -> Config {
        Config {
            wage_floor,
            events_per_part,
            ..Config::default()
        }
    }

    #[test]
    fn floors_fall_back_to_the_default_and_unusable_values_are_refused() {
        let mut config = Config::default();
        config
            .consortia
            .insert("north-shore".into(), ConsortiumConfig { wage_floor: 15.0 });
        let config = config.checked().unwrap();
        assert_eq!(config.wage_floor("north-shore"), 15.0);
        assert_eq!(config.wage_floor("south-bay"), 7.25);
        assert!(with(-1.0, 5).checked().is_err());
        assert!(with(f64::NAN, 5).checked().is_err());
        assert!(with(7.25, 0).checked().is_err());
        assert_eq!(with(0.0, 5).checked().unwrap().events_per_part, 5);
    }
}
