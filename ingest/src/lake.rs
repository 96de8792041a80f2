//! The lake writer: batches become Parquet files that appear atomically, named by what they hold.
//!
//! The commit protocol is in `docs/LAKE.md`: a batch's `rejected` file is written first, then
//! its `events` file, which is the commit. Each file is written under a temporary name, fsynced,
//! renamed into place, and its folder fsynced, so a reader (or a restarted worker) sees a whole
//! file or none. File names carry the source and the position range, so the lake itself records
//! what it holds and ingest needs no other state to resume.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use chrono::{DateTime, Utc};
use outcomes_schemas::{ConsortiumId, lake};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::error::IngestError;
use crate::source::Stream;

/// The highest committed position of every stream in a lake.
pub type Watermarks = HashMap<Stream, i64>;

/// What one commit wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The `events` file (the commit itself).
    pub events_file: PathBuf,
    /// The `rejected` file, when the batch rejected anything.
    pub rejected_file: Option<PathBuf>,
    /// Events stored.
    pub events: usize,
    /// Messages rejected.
    pub rejected: usize,
}

/// An event lake on a local or mounted file system.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl Lake {
    /// Opens (creating if needed) the lake at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, IngestError> {
        let root = root.into();
        for table in [lake::EVENTS_TABLE, lake::REJECTED_TABLE] {
            let folder = root.join(table);
            fs::create_dir_all(&folder).map_err(|source| IngestError::Io {
                path: folder.clone(),
                source,
            })?;
        }
        Ok(Self { root })
    }

    /// The lake's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads every stream's watermark from the names of the committed `events` files.
    pub fn watermarks(&self) -> Result<Watermarks, IngestError> {
        let mut marks = Watermarks::new();
        for file in self.committed_files()? {
            let mark = marks.entry(file.stream).or_insert(file.last);
            *mark = (*mark).max(file.last);
        }
        Ok(marks)
    }

    fn committed_files(&self) -> Result<Vec<CommittedName>, IngestError> {
        let mut found = Vec::new();
        let events = self.root.join(lake::EVENTS_TABLE);
        for consortium_dir in read_dir(&events)? {
            let Some(consortium) = partition_value(&consortium_dir, lake::CONSORTIUM_PARTITION)
                .and_then(|id| ConsortiumId::new(id).ok())
            else {
                continue;
            };
            for date_dir in read_dir(&consortium_dir)? {
                for file in read_dir(&date_dir)? {
                    if let Some(lake::FileName { source, last, .. }) = file
                        .file_name()
                        .and_then(|name| name.to_str())
                        .and_then(lake::FileName::parse)
                    {
                        found.push(CommittedName {
                            stream: Stream {
                                consortium: consortium.clone(),
                                source,
                            },
                            last,
                        });
                    }
                }
            }
        }
        Ok(found)
    }

    /// Writes one batch covering positions `first..=last` of `stream`, atomically.
    pub(crate) fn commit(
        &self,
        stream: &Stream,
        first: i64,
        last: i64,
        events: &RecordBatch,
        rejected: Option<&RecordBatch>,
        now: DateTime<Utc>,
    ) -> Result<Committed, IngestError> {
        let name = lake::FileName {
            source: stream.source.clone(),
            first,
            last,
        }
        .to_string();
        let partition = format!(
            "{}={}/{}={}",
            lake::CONSORTIUM_PARTITION,
            stream.consortium,
            lake::INGEST_DATE_PARTITION,
            now.date_naive()
        );
        let metadata = |table: &str| {
            vec![
                KeyValue::new(
                    lake::meta::LAKE_VERSION.to_owned(),
                    lake::LAKE_VERSION.to_owned(),
                ),
                KeyValue::new(lake::meta::TABLE.to_owned(), table.to_owned()),
                KeyValue::new(lake::meta::SOURCE.to_owned(), stream.source.file_stem()),
                KeyValue::new(lake::meta::FIRST.to_owned(), first.to_string()),
                KeyValue::new(lake::meta::LAST.to_owned(), last.to_string()),
            ]
        };
        let rejected_file = match rejected {
            Some(batch) if batch.num_rows() > 0 => {
                let path = self
                    .root
                    .join(lake::REJECTED_TABLE)
                    .join(&partition)
                    .join(&name);
                write_atomically(&path, batch, metadata(lake::REJECTED_TABLE))?;
                Some(path)
            }
            _ => None,
        };
        let events_file = self
            .root
            .join(lake::EVENTS_TABLE)
            .join(&partition)
            .join(&name);
        write_atomically(&events_file, events, metadata(lake::EVENTS_TABLE))?;
        Ok(Committed {
            events_file,
            rejected_file,
            events: events.num_rows(),
            rejected: rejected.map_or(0, RecordBatch::num_rows),
        })
    }
}

struct CommittedName {
    stream: Stream,
    last: i64,
}

fn partition_value<'p>(dir: &'p Path, key: &str) -> Option<&'p str> {
    dir.file_name()?
        .to_str()?
        .strip_prefix(key)?
        .strip_prefix('=')
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let io = |source| IngestError::Io {
        path: dir.to_path_buf(),
        source,
    };
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut paths = Vec::new();
            for entry in entries {
                paths.push(entry.map_err(io)?.path());
            }
            paths.sort();
            Ok(paths)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(io(error)),
    }
}

fn write_atomically(
    path: &Path,
    batch: &RecordBatch,
    metadata: Vec<KeyValue>,
) -> Result<(), IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let parquet = |source| IngestError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let folder = path.parent().ok_or_else(|| IngestError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other("a lake file must have a folder"),
    })?;
    fs::create_dir_all(folder).map_err(io)?;
    let temporary = folder.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("batch")
    ));
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(metadata))
        .build();
    let file = File::create(&temporary).map_err(io)?;
    let mut writer =
        ArrowWriter::try_new(file, batch.schema(), Some(properties)).map_err(parquet)?;
    writer.write(batch).map_err(parquet)?;
    let file = writer.into_inner().map_err(parquet)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&temporary, path).map_err(io)?;
    File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(io)?;
    Ok(())
}
