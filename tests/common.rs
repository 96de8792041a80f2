//! Helpers shared by the integration tests.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;

/// A fresh scratch folder, removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("outcomes-test-")
        .tempdir()
        .expect("a temporary folder")
}

/// The Python with DuckDB and pyarrow that `tests/run.sh` prepares.
pub fn python() -> Command {
    Command::new(std::env::var("OUTCOMES_PYTHON").unwrap_or_else(|_| "python3".into()))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `outcomes` binary built for these tests.
pub fn outcomes() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outcomes"))
}

/// Runs a command and fails the test, showing its output, unless it succeeds.
pub fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A valid intake event of north-shore as one NDJSON line, its event id made from `n`.
pub fn intake(n: u32, person: &str) -> String {
    format!(
        r#"{{"event_id":"3f2b8c1e-5a4d-4e6f-9b7a-{n:012}","event_type":"intake","schema_version":1,"consortium_id":"north-shore","agency_id":"harbor-works","participant_id":"{person}","occurred_on":"2026-01-05","recorded_at":"2026-01-05T10:00:00Z","payload":{{"referral_source":"school"}}}}"#
    )
}

/// Reads a Parquet table written by the pipeline.
pub fn table(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file)
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of `frame` where every `(column, value)` matches (values compared as text).
pub fn rows(frame: &DataFrame, filters: &[(&str, &str)]) -> DataFrame {
    let mut mask = lit(true);
    for (column, value) in filters {
        mask = mask.and(col(*column).cast(DataType::String).eq(lit(*value)));
    }
    frame
        .clone()
        .lazy()
        .filter(mask)
        .collect()
        .expect("a filter")
}

/// The single row matching `filters`, as (column → value) text, nulls as "null".
pub fn row(
    frame: &DataFrame,
    filters: &[(&str, &str)],
) -> std::collections::BTreeMap<String, String> {
    let matched = rows(frame, filters);
    assert_eq!(
        matched.height(),
        1,
        "expected one row for {filters:?}, found {}:\n{matched}",
        matched.height()
    );
    matched
        .columns()
        .iter()
        .map(|column| {
            let value = column.get(0).expect("a cell");
            let text = match value {
                AnyValue::Null => "null".to_owned(),
                AnyValue::String(s) => s.to_owned(),
                AnyValue::StringOwned(s) => s.to_string(),
                // Full precision: the shortest text that reads back as the same float.
                AnyValue::Float64(x) => x.to_string(),
                other => other.to_string(),
            };
            (column.name().to_string(), text)
        })
        .collect()
}

/// Runs the DuckDB reference (`tests/reference`) on `lake` at `as_of` and compares its tables
/// with ours under `ours/tables` cell by cell.
pub fn compare_with_reference(lake: &Path, ours: &Path, as_of: &str, scratch: &Path) {
    compare_with_reference_on(lake.as_os_str(), &[], ours, as_of, scratch);
}

/// [`compare_with_reference`] of a lake at any location (an `s3://` URL), the reference run
/// with `env` (the lake's connection).
pub fn compare_with_reference_on(
    lake: &OsStr,
    env: &[(&str, String)],
    ours: &Path,
    as_of: &str,
    scratch: &Path,
) {
    let reference = scratch.join(format!("reference-{as_of}"));
    run(python()
        .arg(repo().join("tests/reference/reference.py"))
        .arg("--lake")
        .arg(lake)
        .args(["--as-of", as_of, "--out"])
        .arg(&reference)
        .envs(env.iter().map(|(key, value)| (key, value))));
    run(python()
        .arg(repo().join("tests/reference/compare.py"))
        .arg(ours.join("tables"))
        .arg(&reference));
}
