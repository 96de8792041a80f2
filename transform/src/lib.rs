//! Transform: rebuilds the indicator tables from the event lake for an `as_of` date.
//!
//! The definitions are `shared/spec/INDICATORS.md`. A run reads the active files of the lake's
//! two Delta tables at their current versions, keeps the events visible at `as_of`, derives facts (section 1: dedupe, corrections,
//! episodes, attribution, jobs, after exit) and writes the eight tables of section 2,
//! `wages_monthly` and `measures` (every snapshot value of section 3), as Parquet under
//! `OUT/tables/`, each
//! sorted by its key, checked against the contract of `outcomes_schemas::tables` and carrying
//! provenance metadata (`as_of`, definitions version, program version, lake table versions).
//!
//! Each rule of section 1 is one function beside the spec's sentences: rules 1 and 2 in
//! `resolve` (set operations on Polars frames), rules 3 to 5 in `rules` (plain functions over
//! one person's events), rule 6 in `after_exit` (expressions over exits and the person's jobs
//! and wage sums). How they are executed (what is read when, in which order, in how
//! many parts) is the `plan` module's alone; the tables of section 2 are `tables`, section 3 is
//! `measures`.
//!
//! ```no_run
//! use chrono::NaiveDate;
//! use outcomes_transform::{Config, TransformSettings, run};
//!
//! let summary = run(&TransformSettings {
//!     lake: std::path::PathBuf::from("lake").into(),
//!     out: "out".into(),
//!     as_of: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
//!     config: Config::default(),
//! })?;
//! for table in &summary.tables {
//!     println!("{} rows in {}", table.rows, table.path.display());
//! }
//! # Ok::<(), outcomes_transform::TransformError>(())
//! ```

mod after_exit;
mod config;
mod contract;
mod error;
mod lake;
mod measures;
mod names;
mod plan;
mod resolve;
mod rules;
mod tables;

use outcomes_schemas::lake::col as event;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use outcomes_lake::{Listing, Location};
use outcomes_schemas::lake::{content_columns, events_schema, rejected_schema};
use outcomes_schemas::tables::{DEFINITIONS_VERSION, Issue, Table, meta};
use polars::prelude::*;

pub use config::{
    Config, ConfigError, ConsortiumConfig, DEFAULT_EVENTS_PER_PART, DEFAULT_WAGE_FLOOR,
};
pub use error::TransformError;

/// What to transform.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformSettings {
    /// The event lake.
    pub lake: Location,
    /// The output folder; tables go to `OUT/tables/`.
    pub out: PathBuf,
    /// The knowledge date D.
    pub as_of: NaiveDate,
    /// Wage floors and other settings.
    pub config: Config,
}

/// One table written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenTable {
    /// Which table.
    pub table: Table,
    /// Its Parquet file.
    pub path: PathBuf,
    /// Its row count.
    pub rows: usize,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Active lake data files read.
    pub lake_files: usize,
    /// Tables written, in INDICATORS.md order.
    pub tables: Vec<WrittenTable>,
}

/// Computes the tables of section 2, lazily, from lake frames: the pure core of a run.
///
/// `events` (one shard per consortium) and `rejected` have the lake's columns
/// (`docs/LAKE.md`), `events` with each row's number in [`plan::ROW`].
fn compute(
    events: Vec<lake::Shard>,
    rejected: LazyFrame,
    as_of: NaiveDate,
    config: &Config,
) -> Result<tables::Tables, TransformError> {
    let as_of_days = i32::try_from((as_of - NaiveDate::default()).num_days()).map_err(|_| {
        TransformError::Polars(PolarsError::ComputeError("as_of out of range".into()))
    })?;
    let content: Vec<&str> = content_columns().collect();
    let mut facts = plan::derive(&events, &content, as_of_days, config.events_per_part)
        .map_err(TransformError::Polars)?;
    let rejections = rejected.select([
        col(names::CONSORTIUM),
        col(names::AGENCY),
        concat_str([lit(Issue::REJECTED_PREFIX), col(event::REASON)], "", false)
            .alias(names::ISSUE),
        lit(1i64).cast(DataType::Int64).alias(names::ITEMS),
    ]);
    facts.issues =
        concat([facts.issues, rejections], UnionArgs::default()).map_err(TransformError::Polars)?;
    tables::build(facts, as_of, config).map_err(TransformError::Polars)
}

/// Runs a transform: reads the lake, writes the tables.
pub fn run(settings: &TransformSettings) -> Result<Summary, TransformError> {
    let files = lake::list(&settings.lake)?;
    let mut staged = Staged::default();
    match build(settings, &files, &mut staged) {
        Ok(summary) => {
            staged.publish()?;
            Ok(summary)
        }
        // Polars' reader does not say which file it failed on: find it, so the user can.
        Err(TransformError::Polars(error)) => {
            Err(lake::find_damaged(&files).unwrap_or(TransformError::Polars(error)))
        }
        Err(error) => Err(error),
    }
}

/// The run's work: every table computed and written under a temporary name.
fn build(
    settings: &TransformSettings,
    files: &Listing,
    staged: &mut Staged,
) -> Result<Summary, TransformError> {
    let events = lake::shards(&files.events, &events_schema(), Some(plan::ROW))?;
    let rejected = lake::scan(&files.rejected, &rejected_schema())?;
    let tables = compute(events, rejected, settings.as_of, &settings.config)?;

    let folder = settings.out.join("tables");
    fs::create_dir_all(&folder).map_err(|source| TransformError::Io {
        path: folder.clone(),
        source,
    })?;
    let metadata = provenance(settings, files);
    // One table at a time: the facts they share are already computed, and grouping the
    // wage records for several tables at once would hold each grouping's state together.
    // The tables grouped from `episodes` and `placements` alone, and `measures` last, read
    // those two as just written.
    let mut write = |table, frame| sort_check_write(table, frame, &folder, &metadata, staged);
    let mut written = Vec::new();
    let (mut episodes, mut placements) = (None, None);
    for (table, frame) in tables.tables {
        let (rows, table_written) = write(table, frame)?;
        match table {
            Table::Episodes => episodes = Some(rows.lazy()),
            Table::Placements => placements = Some(rows.lazy()),
            _ => {}
        }
        written.push(table_written);
    }
    let (Some(episodes), Some(placements)) = (episodes, placements) else {
        return Err(TransformError::Polars(PolarsError::ComputeError(
            "episodes and placements must be computed first".into(),
        )));
    };
    let grouped = tables::from_written(episodes.clone(), placements.clone(), settings.as_of)
        .map_err(TransformError::Polars)?;
    for (table, frame) in grouped {
        written.push(write(table, frame)?.1);
    }
    let sources = measures::Sources {
        episodes,
        placements,
        wages: tables.wages,
    };
    let frame = measures::build(&sources, settings.as_of, &settings.config)
        .map_err(TransformError::Polars)?;
    written.push(write(Table::Measures, frame)?.1);
    written.sort_by_key(|w| w.table);
    Ok(Summary {
        lake_files: files.events.files.len() + files.rejected.files.len(),
        tables: written,
    })
}

/// The key-value metadata every table file carries.
fn provenance(settings: &TransformSettings, files: &Listing) -> Vec<(String, String)> {
    vec![
        (meta::AS_OF.to_owned(), settings.as_of.to_string()),
        (
            meta::DEFINITIONS_VERSION.to_owned(),
            DEFINITIONS_VERSION.to_owned(),
        ),
        (
            meta::PROGRAM_VERSION.to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
        (meta::LAKE_VERSIONS.to_owned(), files.versions_json()),
    ]
}

/// Sorts `frame` by the table's key, checks it against the contract and writes it; returns the
/// rows for the tables computed from them.
fn sort_check_write(
    table: Table,
    frame: LazyFrame,
    folder: &Path,
    metadata: &[(String, String)],
    staged: &mut Staged,
) -> Result<(DataFrame, WrittenTable), TransformError> {
    let started = std::time::Instant::now();
    let mut rows = frame
        .sort(
            table.key().to_vec(),
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
        .map_err(TransformError::Polars)?;
    contract::check(table, rows.schema())?;
    let path = folder.join(table.file_name());
    staged.add(
        write_table(&mut rows, &path, metadata.to_vec())?,
        path.clone(),
    );
    tracing::debug!(
        %table,
        seconds = started.elapsed().as_secs_f64(),
        "table written"
    );
    let written = WrittenTable {
        table,
        path,
        rows: rows.height(),
    };
    Ok((rows, written))
}

/// Writes a table under a temporary name beside `path`, zstd-compressed, with metadata; returns
/// the temporary name.
fn write_table(
    table: &mut DataFrame,
    path: &Path,
    metadata: Vec<(String, String)>,
) -> Result<PathBuf, TransformError> {
    let io = |source| TransformError::Io {
        path: path.to_path_buf(),
        source,
    };
    let temporary = path.with_extension("parquet.tmp");
    let file = File::create(&temporary).map_err(io)?;
    // zstd's level 1: with its default (3), writing the 10M-event run's `episodes` took 0.53 s
    // against 0.31 s, for a file of about the same size (28.9 MB against 27.5 MB).
    let level =
        polars::polars_utils::compression::ZstdLevel::try_new(1).map_err(TransformError::Polars)?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(Some(level)))
        .with_statistics(StatisticsOptions::full())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
        .finish(table)
        .map_err(TransformError::Polars)?;
    Ok(temporary)
}

/// Tables written under temporary names, renamed into place together once every table of the
/// run is written: a run that fails (a damaged lake file, a full disk) leaves the previous
/// tables as they were, never some tables of the new run beside old ones.
#[derive(Default)]
struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    fn add(&mut self, temporary: PathBuf, path: PathBuf) {
        self.files.push((temporary, path));
    }

    fn publish(mut self) -> Result<(), TransformError> {
        for (temporary, path) in std::mem::take(&mut self.files) {
            fs::rename(&temporary, &path).map_err(|source| TransformError::Io { path, source })?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    /// Removes what a failed run wrote.
    fn drop(&mut self) {
        for (temporary, _) in &self.files {
            let _ = fs::remove_file(temporary);
        }
    }
}
