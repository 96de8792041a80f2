//! The transform's configuration file (TOML).
//!
//! ```toml
//! # Hourly wage floor for `at_or_above_wage_floor`, for consortia not listed below.
//! wage_floor = 7.25
//! # Visible events per pass of the per-person steps; fewer use less memory.
//! events_per_part = 20000000
//!
//! [consortia.north-shore]
//! wage_floor = 15.00
//! ```

use std::collections::BTreeMap;

use polars::prelude::{Expr, lit, when};
use serde::Deserialize;

/// The federal minimum wage, the floor unless a consortium sets its own.
pub const DEFAULT_WAGE_FLOOR: f64 = 7.25;

/// Visible events per pass of the per-person steps by default: about 5 GiB at the peak.
pub const DEFAULT_EVENTS_PER_PART: u64 = 20_000_000;

/// Transform settings read from a file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Hourly wage floor for consortia without their own (default 7.25).
    #[serde(default = "default_wage_floor")]
    pub wage_floor: f64,
    /// Per-consortium settings, keyed by consortium id.
    #[serde(default)]
    pub consortia: BTreeMap<String, ConsortiumConfig>,
    /// A lake with more visible events than this is processed in parts of about this many
    /// events, split by person, one part after the other (the tables are the same up to the
    /// last binary digit of float sums). Lower it on a machine with less memory.
    #[serde(default = "default_events_per_part")]
    pub events_per_part: u64,
}

/// Settings of one consortium.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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

/// The configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not valid TOML, or unknown or mistyped keys.
    #[error("invalid configuration")]
    Syntax(#[source] toml::de::Error),
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
    /// Parses and checks a configuration file's text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(ConfigError::Syntax)?;
        let floors = std::iter::once(("the default".to_owned(), config.wage_floor)).chain(
            config
                .consortia
                .iter()
                .map(|(id, c)| (format!("consortium {id}"), c.wage_floor)),
        );
        for (scope, value) in floors {
            if !value.is_finite() || value < 0.0 {
                return Err(ConfigError::WageFloor { scope, value });
            }
        }
        if config.events_per_part == 0 {
            return Err(ConfigError::EventsPerPart);
        }
        Ok(config)
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

    #[test]
    fn defaults_overrides_and_errors() {
        let config = Config::from_toml("[consortia.north-shore]\nwage_floor = 15.0\n").unwrap();
        assert_eq!(config.wage_floor("north-shore"), 15.0);
        assert_eq!(config.wage_floor("south-bay"), 7.25);
        assert!(Config::from_toml("wage_flor = 1").is_err());
        assert!(Config::from_toml("wage_floor = -1.0").is_err());
        assert!(Config::from_toml("events_per_part = 0").is_err());
        assert_eq!(
            Config::from_toml("events_per_part = 5")
                .unwrap()
                .events_per_part,
            5
        );
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }
}
