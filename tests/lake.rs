//! The Delta lake as other tools and the maintenance commands see it: the delta-rs Python
//! package and Polars read exactly what was stored; compaction while ingest runs changes no
//! row and no table; a version-1 lake converts with every event, rejection and position.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{compare_with_reference, outcomes, python, repo, run, scratch};

/// Non-blank lines of the NDJSON files in `feed`: the messages produced.
fn produced(feed: &Path) -> u64 {
    let mut lines = 0;
    for entry in std::fs::read_dir(feed).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        lines += text.lines().filter(|line| !line.trim().is_empty()).count() as u64;
    }
    lines
}

/// `(events rows, rejected rows, distinct positions)` of the lake, read by `reader`:
/// `deltalake` (the delta-rs Python package, `to_pyarrow_table`) or `polars` (`scan_delta`).
fn counted_by(reader: &str, lake: &Path) -> (u64, u64, u64) {
    let script = r#"
import sys
lake, reader = sys.argv[1], sys.argv[2]
if reader == "deltalake":
    from deltalake import DeltaTable
    import pyarrow as pa
    events = DeltaTable(f"{lake}/events").to_pyarrow_table()
    rejected = DeltaTable(f"{lake}/rejected").to_pyarrow_table()
    cols = ["consortium_id", "file_name", "line"]
    both = pa.concat_tables([events.select(cols), rejected.select(cols)])
    distinct = both.group_by(cols).aggregate([]).num_rows
    print(events.num_rows, rejected.num_rows, distinct)
else:
    import polars as pl
    cols = ["consortium_id", "file_name", "line"]
    events = pl.scan_delta(f"{lake}/events")
    rejected = pl.scan_delta(f"{lake}/rejected")
    distinct = pl.concat([events.select(cols), rejected.select(cols)]).unique().select(pl.len()).collect().item()
    print(events.select(pl.len()).collect().item(), rejected.select(pl.len()).collect().item(), distinct)
"#;
    let output = run(python().args(["-c", script]).arg(lake).arg(reader));
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u64> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

fn generate(feed: &Path, participants: &str) {
    run(outcomes()
        .args([
            "generate",
            "--consortia",
            "1",
            "--participants",
            participants,
            "--months",
            "24",
            "--seed",
            "11",
            "--out",
        ])
        .arg(feed));
}

/// `outcomes ingest` of `path` (a file, or a folder named after its consortium).
fn ingest_command(lake: &Path, path: &Path) -> Command {
    let folder = if path.is_dir() {
        path
    } else {
        path.parent().unwrap()
    };
    let consortium = folder.file_name().unwrap().to_str().unwrap();
    let mut command = outcomes();
    command
        .args(["ingest", "--demo-key", "--consortium", consortium, "--lake"])
        .arg(lake)
        .arg("--from-file")
        .arg(path);
    command
}

fn consortium_folder(feed: &Path) -> std::path::PathBuf {
    std::fs::read_dir(feed)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.is_dir())
        .unwrap()
}

#[test]
fn delta_readers_get_exactly_the_stored_events() {
    let dir = scratch();
    let feed = dir.path().join("feed");
    generate(&feed, "300");
    let folder = consortium_folder(&feed);
    let lake = dir.path().join("lake");
    let lines = produced(&folder);
    run(&mut ingest_command(&lake, &folder));
    // Loading the same files again stores nothing: the txn versions say they are held.
    let again = run(&mut ingest_command(&lake, &folder));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains(" 0 stored, 0 rejected"), "{text}");

    for reader in ["deltalake", "polars"] {
        let (events, rejected, distinct) = counted_by(reader, &lake);
        assert_eq!(
            events + rejected,
            lines,
            "{reader}: every produced line is stored once"
        );
        assert_eq!(distinct, lines, "{reader}: no position twice");
        assert!(events > 0 && rejected > 0, "{reader}: {events} {rejected}");
    }
}

#[test]
fn compaction_while_ingest_runs_changes_no_row_and_no_table() {
    let dir = scratch();
    let feed = dir.path().join("feed");
    generate(&feed, "1500");
    let folder = consortium_folder(&feed);
    // Many small sources: each line range its own file, so each its own commits.
    let split = dir.path().join(folder.file_name().unwrap());
    std::fs::create_dir_all(&split).unwrap();
    let mut chunks = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for chunk in lines.chunks(50) {
            std::fs::write(
                split.join(format!("part-{chunks:05}.ndjson")),
                chunk.join("\n") + "\n",
            )
            .unwrap();
            chunks += 1;
        }
    }
    assert!(chunks > 150, "{chunks} files");
    let lines = produced(&split);
    let lake = dir.path().join("lake");
    // The tables exist before compaction starts.
    run(&mut ingest_command(&lake, &split.join("part-00000.ndjson")));
    let mut ingest = ingest_command(&lake, &split)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut compactions = 0;
    while ingest.try_wait().unwrap().is_none() {
        run(outcomes()
            .args(["lake", "compact", "--target-mib", "1", "--lake"])
            .arg(&lake));
        compactions += 1;
    }
    assert!(ingest.wait().unwrap().success());
    assert!(compactions > 1, "compaction ran {compactions} times");
    let (events, rejected, distinct) = counted_by("deltalake", &lake);
    assert_eq!((events + rejected, distinct), (lines, lines));

    let transform = |out: &Path| {
        run(outcomes()
            .args(["transform", "--as-of", "2026-10-31", "--lake"])
            .arg(&lake)
            .arg("--out")
            .arg(out));
    };
    let before = dir.path().join("before");
    transform(&before);
    let files = |table: &str| {
        let output = run(python()
            .args([
                "-c",
                "import sys; from deltalake import DeltaTable; print(len(DeltaTable(sys.argv[1]).file_uris()))",
            ])
            .arg(lake.join(table)));
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse::<usize>()
            .unwrap()
    };
    let files_before = files("events");
    run(outcomes().args(["lake", "compact", "--lake"]).arg(&lake));
    assert!(files("events") < files_before && files("events") <= 2);
    let after = dir.path().join("after");
    transform(&after);
    for table in outcomes_schemas::tables::Table::ALL {
        let name = table.file_name();
        let left = std::fs::read(before.join("tables").join(&name)).unwrap();
        let right = std::fs::read(after.join("tables").join(&name)).unwrap();
        assert!(left == right, "{name} differs after compaction");
    }
    // The replaced files stay until vacuum; with no retention they go, and the rows stay.
    let vacuumed = run(outcomes()
        .args(["lake", "vacuum", "--retention-hours", "0", "--lake"])
        .arg(&lake));
    let text = String::from_utf8_lossy(&vacuumed.stdout);
    assert!(!text.contains("events: deleted 0 files"), "{text}");
    assert_eq!(counted_by("polars", &lake), (events, rejected, distinct));
    compare_with_reference(&lake, &after, "2026-10-31", dir.path());
}

/// The reference's fixture lake is a version-1 lake exactly per the old layout, with an
/// overlap of two committed files and a crash leftover (a rejected file without its events
/// file). Converted, each source's `txn` in both tables is its version-1 watermark (the highest
/// `<last>` of its events files' names), and a second conversion stores nothing. (That the rows
/// are the old rule's, cell for cell, is `pipeline::hand_worked_fixture_lake_matches_the_reference`.)
#[test]
fn a_version_1_lake_converts_with_every_position() {
    let dir = scratch();
    let old = dir.path().join("old");
    run(python()
        .arg(repo().join("tests/reference/make_fixture_lake.py"))
        .arg(&old));
    let new = dir.path().join("new");
    let convert = || {
        let output = run(outcomes()
            .args(["lake", "convert", "--from"])
            .arg(&old)
            .arg("--to")
            .arg(&new));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = convert();
    assert!(!first.contains(": 0 events"), "{first}");
    let second = convert();
    assert!(second.contains(": 0 events, 0 rejections"), "{second}");

    let script = r#"
import pathlib, re, sys, urllib.parse
from deltalake import DeltaTable
old, new = pathlib.Path(sys.argv[1]), sys.argv[2]
marks = {}
for path in (old / "events").rglob("*.parquet"):
    consortium = path.parent.parent.name.removeprefix("consortium=")
    stem, first, last = re.fullmatch(r"(.+)\+(\d+)-(\d+)\.parquet", path.name).groups()
    if stem.startswith("kafka."):
        topic, partition = stem.removeprefix("kafka.").rsplit(".", 1)
        app = f"kafka:{urllib.parse.unquote(topic)}:{partition}"
    else:
        app = f"file:{consortium}/{urllib.parse.unquote(stem.removeprefix('file.'))}"
    marks[app] = max(marks.get(app, -1), int(last))
for table in ("events", "rejected"):
    delta = DeltaTable(f"{new}/{table}")
    for app, last in sorted(marks.items()):
        assert delta.transaction_version(app) == last, (table, app, delta.transaction_version(app), last)
print(len(marks))
"#;
    let output = run(python().args(["-c", script]).arg(&old).arg(&new));
    let sources: usize = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(sources > 3, "{sources} sources checked");
}
