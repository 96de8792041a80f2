//! Reading the event lake: which files are committed, and what they hold.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use outcomes_schemas::lake;
use polars::prelude::*;

use crate::error::TransformError;

/// The committed files of a lake and its watermark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LakeFiles {
    /// Committed `events` files, in path order.
    pub events: Vec<PathBuf>,
    /// `rejected` files whose `events` pair exists, in path order.
    pub rejected: Vec<PathBuf>,
    /// Highest committed position per `<consortium>/<source>`.
    pub watermark: BTreeMap<String, i64>,
    /// Whether two `events` files of one source cover a common position (a zombie writer's
    /// leftovers, `docs/LAKE.md`); only then must readers drop repeated positions row by row.
    pub overlapping: bool,
}

impl LakeFiles {
    /// Lists the lake at `root` by the commit rule of `docs/LAKE.md`.
    pub fn list(root: &Path) -> Result<Self, TransformError> {
        let mut files = LakeFiles::default();
        let mut ranges: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        let events_root = root.join(lake::EVENTS_TABLE);
        if !events_root.is_dir() {
            return Err(TransformError::NoLake {
                path: root.to_path_buf(),
            });
        }
        for path in parquet_files(&events_root)? {
            let relative = path
                .strip_prefix(&events_root)
                .unwrap_or(&path)
                .to_path_buf();
            if let Some((consortium, source, first, last)) = describe(&relative) {
                let stream = format!("{consortium}/{source}");
                let mark = files.watermark.entry(stream.clone()).or_insert(last);
                *mark = (*mark).max(last);
                ranges.entry(stream).or_default().push((first, last));
            } else {
                // A committed file whose name does not say what it holds: trust nothing.
                files.overlapping = true;
            }
            let rejected = root.join(lake::REJECTED_TABLE).join(&relative);
            if rejected.is_file() {
                files.rejected.push(rejected);
            }
            files.events.push(path);
        }
        files.overlapping |= ranges.into_values().any(|mut ranges| {
            ranges.sort_unstable();
            ranges.windows(2).any(|pair| pair[1].0 <= pair[0].1)
        });
        Ok(files)
    }

    /// The watermark as one line of JSON, for file metadata.
    pub fn watermark_json(&self) -> String {
        let entries = self
            .watermark
            .iter()
            .map(|(source, last)| (source.clone(), serde_json::Value::from(*last)));
        serde_json::Value::Object(entries.collect()).to_string()
    }
}

/// `consortium=<id>/ingest_date=<d>/<file name>` → (id, source stem, first, last).
fn describe(relative: &Path) -> Option<(String, String, i64, i64)> {
    let mut parts = relative.iter().filter_map(|p| p.to_str());
    let consortium = parts
        .next()?
        .strip_prefix(lake::CONSORTIUM_PARTITION)?
        .strip_prefix('=')?
        .to_owned();
    let name = lake::FileName::parse(parts.nth(1)?)?;
    Some((consortium, name.source.file_stem(), name.first, name.last))
}

fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>, TransformError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).map_err(|source| TransformError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| TransformError::Io {
                    path: dir.clone(),
                    source,
                })?
                .path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".parquet") && !name.starts_with('.') {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn polars_type(data_type: &arrow_schema::DataType) -> DataType {
    use arrow_schema::DataType as Arrow;
    match data_type {
        Arrow::Utf8 => DataType::String,
        Arrow::Date32 => DataType::Date,
        Arrow::Timestamp(_, _) => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
        Arrow::Float64 => DataType::Float64,
        Arrow::Boolean => DataType::Boolean,
        Arrow::Int32 => DataType::Int32,
        Arrow::Int64 => DataType::Int64,
        _ => DataType::Binary,
    }
}

fn polars_schema(schema: &arrow_schema::Schema) -> Schema {
    schema
        .fields()
        .iter()
        .map(|field| Field::new(field.name().as_str().into(), polars_type(field.data_type())))
        .collect()
}

/// Scans `files` lazily, or an empty frame of `schema` when there are none.
pub(crate) fn scan(
    files: &[PathBuf],
    schema: &arrow_schema::Schema,
) -> Result<LazyFrame, TransformError> {
    if files.is_empty() {
        return Ok(DataFrame::empty_with_schema(&polars_schema(schema)).lazy());
    }
    let paths: Vec<PlRefPath> = files
        .iter()
        .map(|path| PlRefPath::new(path.to_string_lossy().as_ref()))
        .collect();
    let args = ScanArgsParquet {
        glob: false,
        ..ScanArgsParquet::default()
    };
    LazyFrame::scan_parquet_files(paths.into_iter().collect(), args).map_err(TransformError::Polars)
}

/// The first committed lake file that cannot be read whole, as an error naming it. Reading
/// every file is slow on a large lake; it runs only after a scan has failed.
pub(crate) fn find_damaged(files: &LakeFiles) -> Option<TransformError> {
    files.events.iter().chain(&files.rejected).find_map(|path| {
        let read = std::fs::File::open(path)
            .map_err(PolarsError::from)
            .and_then(|file| ParquetReader::new(file).finish());
        read.err().map(|source| TransformError::DamagedLakeFile {
            path: path.clone(),
            source,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_describe_their_source() {
        let relative = Path::new(
            "consortium=north-shore/ingest_date=2026-11-23/file.a.ndjson+00000000000000000001-00000000000000000042.parquet",
        );
        assert_eq!(
            describe(relative),
            Some(("north-shore".into(), "file.a.ndjson".into(), 1, 42))
        );
    }

    fn lake_with(names: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for name in names {
            let path = root.path().join(lake::EVENTS_TABLE).join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, b"").unwrap();
        }
        root
    }

    #[test]
    fn overlapping_files_of_one_source_are_noticed() {
        let disjoint = lake_with(&[
            "consortium=a/ingest_date=2026-11-01/kafka.t.0+1-10.parquet",
            "consortium=a/ingest_date=2026-11-02/kafka.t.0+11-20.parquet",
            "consortium=a/ingest_date=2026-11-02/kafka.t.1+5-20.parquet",
            "consortium=b/ingest_date=2026-11-02/kafka.t.0+5-20.parquet",
        ]);
        let files = LakeFiles::list(disjoint.path()).unwrap();
        assert!(!files.overlapping);
        assert_eq!(files.watermark["a/kafka.t.0"], 20);
        assert_eq!(
            files.watermark_json(),
            r#"{"a/kafka.t.0":20,"a/kafka.t.1":20,"b/kafka.t.0":20}"#
        );

        // The second file of partition 0 repeats position 10, across ingest dates.
        let overlapping = lake_with(&[
            "consortium=a/ingest_date=2026-11-01/kafka.t.0+1-10.parquet",
            "consortium=a/ingest_date=2026-11-02/kafka.t.0+10-20.parquet",
        ]);
        assert!(LakeFiles::list(overlapping.path()).unwrap().overlapping);
    }
}
