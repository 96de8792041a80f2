//! The version-1 lake (Parquet files whose names carry their source range, a rename as the
//! commit) and its conversion into the Delta lake.
//!
//! Version 1's commit rule, kept here only to read old lakes: an `events` file is committed
//! when it exists; a `rejected` file counts only beside an `events` file of the same relative
//! path; a source's watermark is the highest `<last>` of its `events` files; should two files
//! of one source overlap, one row per position is kept.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, BooleanArray, RecordBatch};
use outcomes_schemas::ConsortiumId;
use outcomes_schemas::lake::{self, FileName};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tracing::info;

use crate::{Lake, LakeError, Location, Positions, Stream, Table};

/// Rows gathered from consecutive version-1 files of one source before one commit: large
/// enough that a lake of many small files converts into few large ones.
const ROWS_PER_COMMIT: usize = 500_000;

/// What a conversion stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Converted {
    /// Sources (Kafka partitions, files) carried over.
    pub sources: usize,
    /// Version-1 `events` files read.
    pub files: usize,
    /// Events stored.
    pub events: usize,
    /// Rejections stored.
    pub rejected: usize,
}

/// One committed version-1 file pair.
struct Pair {
    first: i64,
    last: i64,
    events: PathBuf,
    rejected: Option<PathBuf>,
}

/// Copies every committed event and rejection of the version-1 lake at `from` into the Delta
/// lake at `to`, source by source in position order, each source's `txn` ending at its
/// version-1 watermark, so that ingest resumes where the old lake ended. Running it again (or
/// after an interruption) stores nothing twice: what the Delta tables hold is skipped.
pub async fn convert(from: &Path, to: &Location) -> Result<Converted, LakeError> {
    let sources = committed_pairs(from)?;
    let mut lake = Lake::open(to).await?;
    let mut converted = Converted {
        sources: sources.len(),
        ..Converted::default()
    };
    for (stream, pairs) in sources {
        let mut held = lake.positions(&stream).await?;
        let mut pending = Pending::default();
        for pair in pairs {
            converted.files += 1;
            if held.holds(Table::Events, pair.last) && held.holds(Table::Rejected, pair.last) {
                continue;
            }
            let after = pending.last.map_or(held, |last| held.after(last));
            pending
                .events
                .extend(read_unheld(&pair.events, Table::Events, &after)?);
            if let Some(path) = &pair.rejected {
                pending
                    .rejected
                    .extend(read_unheld(path, Table::Rejected, &after)?);
            }
            pending.last = Some(pair.last.max(pending.last.unwrap_or(pair.first)));
            if pending.rows() >= ROWS_PER_COMMIT {
                pending
                    .commit(&mut lake, &stream, &mut held, &mut converted)
                    .await?;
            }
        }
        pending
            .commit(&mut lake, &stream, &mut held, &mut converted)
            .await?;
        info!(source = %stream.app_id(), "source converted");
    }
    Ok(converted)
}

/// Rows read but not yet committed, and the last position they cover.
#[derive(Default)]
struct Pending {
    events: Vec<RecordBatch>,
    rejected: Vec<RecordBatch>,
    last: Option<i64>,
}

impl Pending {
    fn rows(&self) -> usize {
        self.events
            .iter()
            .chain(&self.rejected)
            .map(RecordBatch::num_rows)
            .sum()
    }

    async fn commit(
        &mut self,
        lake: &mut Lake,
        stream: &Stream,
        held: &mut Positions,
        converted: &mut Converted,
    ) -> Result<(), LakeError> {
        let Some(last) = self.last.take() else {
            return Ok(());
        };
        let events = std::mem::take(&mut self.events);
        let rejected = std::mem::take(&mut self.rejected);
        let committed = lake
            .commit_batches(stream, held, last, &events, &rejected)
            .await?;
        converted.events += committed.events;
        converted.rejected += committed.rejected;
        Ok(())
    }
}

/// The committed file pairs of a version-1 lake, by source, in position order.
fn committed_pairs(root: &Path) -> Result<BTreeMap<Stream, Vec<Pair>>, LakeError> {
    let events_root = root.join(lake::EVENTS_TABLE);
    if !events_root.is_dir() {
        return Err(LakeError::Legacy {
            path: root.to_path_buf(),
            problem: "not a version-1 lake: it has no events folder".into(),
        });
    }
    let mut sources: BTreeMap<Stream, Vec<Pair>> = BTreeMap::new();
    for consortium_dir in read_dir(&events_root)? {
        let Some(consortium) = partition_value(&consortium_dir, lake::CONSORTIUM_PARTITION)
            .and_then(|id| ConsortiumId::new(id).ok())
        else {
            continue;
        };
        for date_dir in read_dir(&consortium_dir)? {
            for file in read_dir(&date_dir)? {
                let Some(FileName {
                    source,
                    first,
                    last,
                }) = file
                    .file_name()
                    .and_then(|name| name.to_str())
                    .and_then(FileName::parse)
                else {
                    continue;
                };
                let relative = file.strip_prefix(&events_root).unwrap_or(&file);
                let rejected = root.join(lake::REJECTED_TABLE).join(relative);
                let stream = Stream {
                    consortium: consortium.clone(),
                    source,
                };
                sources.entry(stream).or_default().push(Pair {
                    first,
                    last,
                    rejected: rejected.is_file().then_some(rejected),
                    events: file,
                });
            }
        }
    }
    for pairs in sources.values_mut() {
        pairs.sort_by_key(|pair| (pair.first, pair.last));
    }
    Ok(sources)
}

/// The rows of a version-1 file at positions `table` does not hold per `held`.
fn read_unheld(path: &Path, table: Table, held: &Positions) -> Result<Vec<RecordBatch>, LakeError> {
    let parquet = |source| LakeError::Parquet {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(|source| LakeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet)?
        .build()
        .map_err(parquet)?;
    let mut batches = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|source| LakeError::Arrow {
            what: path.display().to_string(),
            source,
        })?;
        batches.push(unheld_rows(path, &batch, table, held)?);
    }
    Ok(batches)
}

/// A batch's rows whose source position (`offset` for Kafka, `line` for files) `table` does
/// not hold yet: the guard against overlapping files, and what makes a rerun store nothing.
fn unheld_rows(
    path: &Path,
    batch: &RecordBatch,
    table: Table,
    held: &Positions,
) -> Result<RecordBatch, LakeError> {
    let Some(last_held) = held.of(table) else {
        return Ok(batch.clone());
    };
    let legacy = |problem: &str| LakeError::Legacy {
        path: path.to_path_buf(),
        problem: problem.to_owned(),
    };
    let kind = batch
        .column_by_name(lake::col::SOURCE_KIND)
        .and_then(|kind| kind.as_string_opt::<i32>())
        .ok_or_else(|| legacy("no source_kind column"))?;
    let offsets = batch
        .column_by_name(lake::col::OFFSET)
        .and_then(|column| column.as_primitive_opt::<Int64Type>());
    let lines = batch
        .column_by_name(lake::col::LINE)
        .and_then(|column| column.as_primitive_opt::<Int64Type>());
    let keep: BooleanArray = (0..batch.num_rows())
        .map(|row| {
            let positions = if kind.value(row) == lake::source_kind::KAFKA {
                offsets
            } else {
                lines
            };
            let position = positions
                .filter(|column| column.is_valid(row))
                .map(|column| column.value(row));
            Some(position.is_none_or(|position| position > last_held))
        })
        .collect();
    arrow_select::filter::filter_record_batch(batch, &keep).map_err(|source| LakeError::Arrow {
        what: path.display().to_string(),
        source,
    })
}

fn partition_value<'p>(dir: &'p Path, key: &str) -> Option<&'p str> {
    dir.file_name()?
        .to_str()?
        .strip_prefix(key)?
        .strip_prefix('=')
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, LakeError> {
    let io = |source| LakeError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        paths.push(entry.map_err(io)?.path());
    }
    paths.sort();
    Ok(paths)
}
