//! The file source: NDJSON files dropped by consortia without Kafka.
//!
//! A file goes through the same validation, batching and lake writer as Kafka messages; line
//! numbers stand in for offsets and the file name for the partition, so loading the same file
//! again stores nothing twice, and loading a file that has grown stores only its new lines.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::Utc;
use outcomes_schemas::{ConsortiumId, Validator};
use tracing::{info, warn};

use outcomes_lake::{Lake, Stream};

use crate::batch::{Batch, BatchLimits, Tally};
use crate::error::IngestError;
use crate::ndjson::{Line, NdjsonReader};
use crate::source::SourceId;

/// File extensions taken from a folder.
const EXTENSIONS: [&str; 2] = ["ndjson", "jsonl"];

/// Loads NDJSON files into a lake for one consortium.
#[derive(Debug, Clone)]
pub struct FileIngest {
    lake: Lake,
    validator: Validator,
    consortium: ConsortiumId,
    limits: BatchLimits,
}

impl FileIngest {
    /// A loader for `consortium`'s files into `lake`.
    pub fn new(
        lake: Lake,
        validator: Validator,
        consortium: ConsortiumId,
        limits: BatchLimits,
    ) -> Self {
        Self {
            lake,
            validator,
            consortium,
            limits,
        }
    }

    /// The files a path stands for: the file itself, or a folder's `.ndjson`/`.jsonl` files in
    /// name order.
    pub fn files(path: &Path) -> Result<Vec<PathBuf>, IngestError> {
        let io = |source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        };
        if !path.is_dir() {
            return Ok(vec![path.to_path_buf()]);
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let file = entry.map_err(io)?.path();
            let wanted = file
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| EXTENSIONS.contains(&ext));
            if wanted && file.is_file() {
                files.push(file);
            }
        }
        files.sort();
        Ok(files)
    }

    /// Loads one file; `progress` is told the bytes read so far after each batch.
    pub async fn load(
        &mut self,
        path: &Path,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<Tally, IngestError> {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| IngestError::Unnamed {
                path: path.to_path_buf(),
            })?;
        let stream = Stream {
            consortium: self.consortium.clone(),
            source: SourceId::File {
                name: name.to_owned(),
            },
        };
        let held = self.lake.positions(&stream).await?;
        // Lines at or below this are in both tables.
        let watermark = held.both().unwrap_or(0);
        let io = |source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let mut reader = NdjsonReader::new(BufReader::with_capacity(1 << 18, file));
        if let Some(what) = reader.not_text().map_err(io)? {
            return Err(IngestError::NotText {
                path: path.to_path_buf(),
                what,
            });
        }
        let mut batch = Batch::new(stream, held);
        let mut tally = Tally::default();
        let mut skipped = 0;
        while let Some((number, line)) = reader.next_line().map_err(io)? {
            if number <= watermark {
                if line != Line::Blank {
                    skipped += 1;
                }
                continue;
            }
            match line {
                Line::Blank => batch.cover(number),
                Line::Message(value) => batch.push(&self.validator, value, number, Utc::now()),
                // The last line; left out of the batch, so the grown file's next load reads it.
                Line::Incomplete(_) => {
                    warn!(
                        file = %path.display(),
                        line = number,
                        "the file ends inside line {number} (still being written, or cut off); \
                         it is left for the next load"
                    );
                    tally.incomplete += 1;
                }
            }
            if batch.is_full(&self.limits) {
                tally.add(&batch.seal()?.commit(&mut self.lake).await?.tally);
                progress(reader.bytes_read());
            }
        }
        if !batch.is_empty() {
            tally.add(&batch.seal()?.commit(&mut self.lake).await?.tally);
        }
        progress(reader.bytes_read());
        tally.already_stored += skipped;
        info!(
            file = %path.display(),
            consortium = %self.consortium,
            stored = tally.stored,
            rejected = tally.rejected_total(),
            already_stored = tally.already_stored,
            "file loaded"
        );
        Ok(tally)
    }
}
