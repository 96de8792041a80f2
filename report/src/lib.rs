//! Report: indicator snapshots for funders (INDICATORS.md section 3).
//!
//! A snapshot is computed from the transform's tables for a consortium, a period (a month or
//! a quarter) and a knowledge date `as_of`: one row per agency and one `ALL` row, small cells
//! withheld. It renders to `snapshot.json`, `snapshot.csv` and a self-contained `index.html`,
//! each a pure function of the snapshot, so the same tables and `as_of` give the same bytes.
//! Publishing never overwrites a snapshot with different content.
//!
//! ```no_run
//! use outcomes_report::{Inputs, Period, build_snapshot, publish};
//!
//! let inputs = Inputs::read("out/tables".as_ref(), "north-shore")?;
//! let period: Period = "2026Q3".parse()?;
//! let snapshot = build_snapshot(&inputs, "north-shore", period, inputs.as_of, 10)?;
//! let published = publish(&snapshot, "reports".as_ref())?;
//! println!("{}", published.folder.display());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod input;
mod period;
pub mod render;
mod snapshot;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use outcomes_schemas::tables::DEFINITIONS_VERSION;

pub use error::ReportError;
pub use input::Inputs;
pub use period::{Cadence, InvalidPeriod, Period};
use snapshot::suppress;
pub use snapshot::{Cell, Measure, Row, Value, Withholding};

pub use outcomes_schemas::tables::ALL_AGENCIES as ALL;

/// The default suppression threshold k.
pub const DEFAULT_SUPPRESSION_K: i64 = 10;

/// How many periods the charts cover, ending with the reported one.
pub const HISTORY_PERIODS: usize = 8;

/// A computed, suppressed indicator snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The consortium.
    pub consortium_id: String,
    /// The period reported.
    pub period: Period,
    /// The knowledge date.
    pub as_of: NaiveDate,
    /// The suppression threshold.
    pub suppression_k: i64,
    /// The wage floor used for `at_or_above_wage_floor_rate`.
    pub wage_floor: f64,
    /// INDICATORS.md version of the tables.
    pub definitions_version: String,
    /// This program's version.
    pub program_version: String,
    /// The lake table versions the tables were built from (JSON).
    pub lake_versions: String,
    /// SHA-256 of each input table.
    pub input_tables: BTreeMap<String, String>,
    /// One row per agency, then `ALL`.
    pub rows: Vec<Row>,
    /// The `ALL` row for the last [`HISTORY_PERIODS`] periods, oldest first, ending with `period`.
    pub history: Vec<(Period, Row)>,
}

/// Computes the snapshot of `consortium` for `period` as known on `as_of`.
pub fn build_snapshot(
    inputs: &Inputs,
    consortium: &str,
    period: Period,
    as_of: NaiveDate,
    suppression_k: i64,
) -> Result<Snapshot, ReportError> {
    if inputs.as_of != as_of {
        return Err(ReportError::AsOfMismatch {
            tables: inputs.as_of,
            asked: as_of,
        });
    }
    let exact = inputs.periods.get(&period).ok_or_else(|| {
        let mut known = inputs
            .periods
            .keys()
            .filter(|p| p.cadence() == period.cadence());
        let first = known.next().copied().unwrap_or(period);
        ReportError::UnknownPeriod {
            consortium: consortium.to_owned(),
            period,
            first,
            last: known.next_back().copied().unwrap_or(first),
        }
    })?;
    let rows = suppress(exact, suppression_k);
    let mut periods = vec![period];
    while periods.len() < HISTORY_PERIODS {
        let earliest = periods[periods.len() - 1];
        periods.push(earliest.previous());
    }
    periods.reverse();
    // Periods before the consortium's first with data have no rows and are not charted.
    let history = periods
        .into_iter()
        .filter_map(|p| {
            let rows = suppress(inputs.periods.get(&p)?, suppression_k);
            rows.into_iter()
                .find(|row| row.agency_id == ALL)
                .map(|row| (p, row))
        })
        .collect();
    Ok(Snapshot {
        consortium_id: consortium.to_owned(),
        period,
        as_of,
        suppression_k,
        wage_floor: inputs.wage_floor,
        definitions_version: DEFINITIONS_VERSION.to_owned(),
        program_version: env!("CARGO_PKG_VERSION").to_owned(),
        lake_versions: inputs.lake_versions.clone(),
        input_tables: inputs.table_hashes.clone(),
        rows,
        history,
    })
}

/// Where a snapshot was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// `OUT/<consortium>/<period>/as-of-<date>/`.
    pub folder: PathBuf,
    /// The files, JSON first.
    pub files: Vec<PathBuf>,
    /// False when an identical snapshot was already there and nothing was written.
    pub written: bool,
}

/// The folder a snapshot is published to under `out`.
pub fn snapshot_folder(out: &Path, snapshot: &Snapshot) -> PathBuf {
    out.join(&snapshot.consortium_id)
        .join(snapshot.period.to_string())
        .join(format!("as-of-{}", snapshot.as_of))
}

/// Writes `snapshot.json`, `snapshot.csv` and `index.html`; refuses to replace a different
/// snapshot already published for the same consortium, period and `as_of`.
pub fn publish(snapshot: &Snapshot, out: &Path) -> Result<Published, ReportError> {
    let folder = snapshot_folder(out, snapshot);
    let documents = [
        ("snapshot.json", render::json(snapshot)),
        ("snapshot.csv", render::csv(snapshot)),
        (
            "index.html",
            render::html(snapshot).map_err(ReportError::Render)?,
        ),
    ];
    let files: Vec<PathBuf> = documents
        .iter()
        .map(|(name, _)| folder.join(name))
        .collect();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let existing = folder.join("snapshot.json");
    match fs::read(&existing) {
        Ok(bytes) if bytes == documents[0].1 => {
            return Ok(Published {
                folder,
                files,
                written: false,
            });
        }
        Ok(_) => return Err(ReportError::AlreadyPublished { path: existing }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(io(&existing)(error)),
    }
    fs::create_dir_all(&folder).map_err(io(&folder))?;
    // The JSON goes last: its presence marks a complete publication.
    for (name, bytes) in documents.iter().rev() {
        let path = folder.join(name);
        let temporary = folder.join(format!(".{name}.tmp"));
        fs::write(&temporary, bytes).map_err(io(&temporary))?;
        fs::rename(&temporary, &path).map_err(io(&path))?;
    }
    Ok(Published {
        folder,
        files,
        written: true,
    })
}
