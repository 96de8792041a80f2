//! The file path end to end, through the `outcomes` command as a user runs it: generate,
//! ingest (twice: the second load stores nothing), transform, compare every cell with the
//! independent DuckDB implementation, check reproducibility, report and publish.

use std::path::Path;

use crate::common::{compare_with_reference, intake, outcomes, python, repo, run, scratch};

fn ingest_feed(feed: &Path, lake: &Path) -> Vec<String> {
    let mut outputs = Vec::new();
    for consortium in ["north-shore", "south-bay"] {
        let output = run(outcomes()
            .args(["ingest", "--demo-key", "--consortium", consortium, "--lake"])
            .arg(lake)
            .arg("--from-file")
            .arg(feed.join(consortium)));
        outputs.push(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    outputs
}

fn transform(lake: &Path, out: &Path, as_of: &str) {
    run(outcomes()
        .args(["transform", "--as-of", as_of, "--lake"])
        .arg(lake)
        .arg("--out")
        .arg(out));
}

fn files_identical(a: &Path, b: &Path) {
    for table in outcomes_schemas::tables::Table::ALL {
        let name = table.file_name();
        let left = std::fs::read(a.join("tables").join(&name)).unwrap();
        let right = std::fs::read(b.join("tables").join(&name)).unwrap();
        assert!(
            left == right,
            "{name} differs between two runs on the same lake and as_of"
        );
    }
}

#[test]
fn generated_feed_through_files_matches_the_reference_and_reproduces() {
    let dir = scratch();
    let feed = dir.path().join("feed");
    let lake = dir.path().join("lake");
    run(outcomes()
        .args([
            "generate",
            "--consortia",
            "2",
            "--participants",
            "1500",
            "--months",
            "24",
            "--seed",
            "7",
            "--out",
        ])
        .arg(&feed));

    let first = ingest_feed(&feed, &lake);
    assert!(
        first
            .iter()
            .all(|o| o.contains("rejected") && !o.contains(" 0 stored")),
        "{first:?}"
    );
    let again = ingest_feed(&feed, &lake);
    for output in &again {
        assert!(
            output.contains(" 0 stored, 0 rejected"),
            "a second load must store nothing: {output}"
        );
    }

    let out = dir.path().join("out");
    transform(&lake, &out, "2026-10-31");
    compare_with_reference(&lake, &out, "2026-10-31", dir.path());

    // The same lake and as_of give byte-identical tables.
    let out_again = dir.path().join("out-again");
    transform(&lake, &out_again, "2026-10-31");
    files_identical(&out, &out_again);

    // Done in parts, the tables still match the reference. Each consortium holds about 17,500
    // events: in parts of 5,000 each is split by person into parts of its own; in parts of
    // 20,000 each consortium is one part, read from its own files alone.
    for events_per_part in [5000, 20000] {
        let config = dir.path().join(format!("parts-{events_per_part}.toml"));
        std::fs::write(
            &config,
            format!("[transform]\nevents_per_part = {events_per_part}\n"),
        )
        .unwrap();
        let in_parts = dir.path().join(format!("out-in-parts-{events_per_part}"));
        run(outcomes()
            .args(["transform", "--as-of", "2026-10-31", "--lake"])
            .arg(&lake)
            .arg("--out")
            .arg(&in_parts)
            .arg("--config")
            .arg(&config));
        compare_with_reference(&lake, &in_parts, "2026-10-31", dir.path());
    }

    // An earlier as_of reproduces what was known then, and still matches the reference.
    let earlier = dir.path().join("out-earlier");
    transform(&lake, &earlier, "2026-03-15");
    compare_with_reference(&lake, &earlier, "2026-03-15", dir.path());

    // Report the last complete quarter, twice: the second run finds the same snapshot.
    let reports = dir.path().join("reports");
    let report = |tables: &Path| {
        outcomes()
            .args([
                "report",
                "--consortium",
                "north-shore",
                "--period",
                "2026Q3",
                "--as-of",
                "2026-10-31",
                "--tables",
            ])
            .arg(tables)
            .arg("--out")
            .arg(&reports)
            .output()
            .unwrap()
    };
    let published = report(&out.join("tables"));
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    let folder = reports.join("north-shore/2026Q3/as-of-2026-10-31");
    let json = std::fs::read(folder.join("snapshot.json")).unwrap();
    for name in ["snapshot.csv", "index.html"] {
        assert!(folder.join(name).is_file(), "{name}");
    }
    let repeated = report(&out_again.join("tables"));
    assert!(repeated.status.success());
    assert!(String::from_utf8_lossy(&repeated.stdout).contains("already published"));
    assert_eq!(std::fs::read(folder.join("snapshot.json")).unwrap(), json);

    let snapshot: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(snapshot["period"], "2026Q3");
    assert_eq!(snapshot["as_of"], "2026-10-31");
    let rows = snapshot["rows"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["agency_id"], "ALL");
    assert!(rows.len() >= 3, "agency rows and ALL: {rows:?}");
    assert_eq!(snapshot["history"].as_array().unwrap().len(), 8);

    // New events for the same as_of change the tables; publishing over the old snapshot is
    // refused with a clear message.
    let extra = dir.path().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(
        extra.join("late.ndjson"),
        r#"{"event_id":"00000000-0000-4000-8000-00000000abcd","event_type":"intake","schema_version":1,"consortium_id":"north-shore","agency_id":"vr-east","participant_id":"NEW-1","occurred_on":"2026-08-01","recorded_at":"2026-08-01T10:00:00Z","payload":{}}"#,
    )
    .unwrap();
    run(outcomes()
        .args([
            "ingest",
            "--demo-key",
            "--consortium",
            "north-shore",
            "--lake",
        ])
        .arg(&lake)
        .arg("--from-file")
        .arg(&extra));
    let changed = dir.path().join("out-changed");
    transform(&lake, &changed, "2026-10-31");
    let refused = report(&changed.join("tables"));
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("never overwritten"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(std::fs::read(folder.join("snapshot.json")).unwrap(), json);
}

#[test]
fn validate_reports_each_line_and_fails_on_rejections() {
    let dir = scratch();
    let file = dir.path().join("mixed.ndjson");
    std::fs::write(
        &file,
        concat!(
            r#"{"event_id":"00000000-0000-4000-8000-000000000001","event_type":"exit","schema_version":1,"consortium_id":"north-shore","agency_id":"vr-east","participant_id":"P1","occurred_on":"2026-03-02","recorded_at":"2026-03-02T09:00:00-05:00","payload":{"outcome":"employed"}}"#,
            "\n\n",
            r#"{"event_id":"00000000-0000-4000-8000-000000000002","event_type":"placement","schema_version":1,"consortium_id":"north-shore","agency_id":"vr-east","participant_id":"P1","occurred_on":"2026-03-02","recorded_at":"2026-03-02T09:00:00Z","payload":{"job_id":"J1","hourly_wage":-3,"hours_per_week":20,"competitive_integrated":true}}"#,
            "\n"
        ),
    )
    .unwrap();
    let output = outcomes()
        .args(["validate", "--consortium", "north-shore"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("line 1: OK"), "{text}");
    assert!(
        text.contains("line 3: out_of_range payload.hourly_wage: -3 is below 0"),
        "{text}"
    );
    assert!(
        text.contains("1 valid, 1 rejected") && text.contains("out_of_range: 1"),
        "{text}"
    );
    assert!(
        !text.contains("P1"),
        "details must not echo participant ids: {text}"
    );
}

#[test]
fn ingest_refuses_to_run_without_a_key() {
    let dir = scratch();
    let output = outcomes()
        .env_remove(outcomes_schemas::KEY_ENV)
        .args(["ingest", "--consortium", "north-shore", "--lake"])
        .arg(dir.path().join("lake"))
        .arg("--from-file")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("no pseudonymization key") && text.contains("OUTCOMES_PSEUDONYM_KEY"),
        "{text}"
    );
}

/// The reference's fixture lake has a hand-worked expected value for every cell
/// (`tests/reference/test_reference.py`); it is a version-1 lake (the layout before Delta, with
/// an overlap and a crash leftover the old commit rule must handle). Converted to the Delta
/// lake, our transform must agree with the reference reading the old lake by the old rule.
#[test]
fn hand_worked_fixture_lake_matches_the_reference() {
    let dir = scratch();
    let old = dir.path().join("old");
    run(python()
        .arg(repo().join("tests/reference/make_fixture_lake.py"))
        .arg(&old));
    let lake = dir.path().join("lake");
    run(outcomes()
        .args(["lake", "convert", "--from"])
        .arg(&old)
        .arg("--to")
        .arg(&lake));
    // The as_of of the hand-worked values, and an earlier one.
    let config = dir.path().join("floors.toml");
    std::fs::write(&config, "[transform.consortia.harbor]\nwage_floor = 15.5\n").unwrap();
    for as_of in ["2024-06-15", "2024-02-29"] {
        let out = dir.path().join(format!("out-{as_of}"));
        run(outcomes()
            .args(["transform", "--as-of", as_of, "--lake"])
            .arg(&lake)
            .arg("--out")
            .arg(&out)
            .arg("--config")
            .arg(&config));
        let reference = dir.path().join(format!("reference-{as_of}"));
        run(python()
            .arg(repo().join("tests/reference/reference.py"))
            .arg("--lake")
            .arg(&old)
            .args(["--as-of", as_of, "--out"])
            .arg(&reference)
            .args(["--wage-floor-for", "harbor=15.5"]));
        run(python()
            .arg(repo().join("tests/reference/compare.py"))
            .arg(out.join("tables"))
            .arg(&reference));
    }
}

#[test]
fn a_cut_off_file_keeps_its_last_line_for_later_and_a_binary_one_is_refused() {
    let dir = scratch();
    let lake = dir.path().join("lake");
    let feed = dir.path().join("feed.ndjson");
    let ingest = || {
        let output = outcomes()
            .args([
                "ingest",
                "--demo-key",
                "--consortium",
                "north-shore",
                "--lake",
            ])
            .arg(&lake)
            .arg("--from-file")
            .arg(&feed)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // A writer has written one line and half of the second.
    let second = intake(2, "person-2");
    let (head, tail) = second.split_at(second.len() / 2);
    std::fs::write(&feed, format!("{}\n{head}", intake(1, "person-1"))).unwrap();
    let (code, stdout, _) = ingest();
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1 stored, 0 rejected"), "{stdout}");
    assert!(stdout.contains("end inside their last line"), "{stdout}");
    let validated = outcomes()
        .args(["validate", "--consortium", "north-shore"])
        .arg(&feed)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&validated.stdout);
    assert_eq!(validated.status.code(), Some(1), "{text}");
    assert!(text.contains("line 2: incomplete"), "{text}");

    // The writer finishes the line: the next load stores it, and nothing is rejected.
    std::fs::write(&feed, format!("{}\n{head}{tail}\n", intake(1, "person-1"))).unwrap();
    let (code, stdout, _) = ingest();
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("1 stored, 0 rejected, 1 already in the lake"),
        "{stdout}"
    );

    // A compressed file is refused whole, by name, for ingest and validate alike.
    let gzipped = dir.path().join("feed-2.ndjson");
    std::fs::write(&gzipped, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]).unwrap();
    for command in [
        vec![
            "ingest",
            "--demo-key",
            "--consortium",
            "north-shore",
            "--lake",
            "lake",
            "--from-file",
        ],
        vec!["validate", "--consortium", "north-shore"],
    ] {
        let output = outcomes()
            .args(&command)
            .arg(&gzipped)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(
            text.contains("feed-2.ndjson") && text.contains("gzip"),
            "{text}"
        );
    }
}
