//! The README's demo command end to end, and its HTML report rendered in headless Chromium.

use std::path::Path;
use std::process::Command;

use crate::common::{outcomes, repo, run, scratch};

#[test]
fn demo_runs_and_its_report_renders_in_chromium() {
    let dir = scratch();
    let out = dir.path().join("demo");
    let output = run(outcomes()
        .args(["demo", "--participants", "800", "--out"])
        .arg(&out));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("report north-shore 2026Q3 as of 2026-10-31"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("DEMO pseudonymization key"));

    // A scheduled run reports the last complete quarter before today, from the same tables.
    let scheduled = dir.path().join("scheduled");
    run(outcomes()
        .args([
            "report",
            "--consortium",
            "north-shore",
            "--schedule",
            "quarterly",
            "--as-of",
            "2026-10-31",
            "--tables",
        ])
        .arg(out.join("tables"))
        .arg("--out")
        .arg(&scheduled));
    let today = chrono::Utc::now().date_naive();
    let quarter =
        outcomes_report::Period::last_complete(today, outcomes_report::Cadence::Quarterly);
    assert!(
        scheduled
            .join(format!(
                "north-shore/{quarter}/as-of-2026-10-31/snapshot.json"
            ))
            .is_file()
    );

    let page = out.join("reports/north-shore/2026Q3/as-of-2026-10-31/index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for needle in [
        "<svg",
        "Time waiting for services",
        "All agencies",
        "wage floor $7.25",
    ] {
        assert!(html.contains(needle), "the page lacks {needle:?}");
    }
    for forbidden in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(
            !html.contains(forbidden),
            "the page must be self-contained, found {forbidden:?}"
        );
    }

    // The screenshot is kept under target/ so a person can look at it after the run.
    let artifacts = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("report.png");
    let chromium = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,3200",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium must be installed (tests/run.sh in CI installs it)");
    assert!(
        chromium.status.success(),
        "{}",
        String::from_utf8_lossy(&chromium.stderr)
    );
    let log = String::from_utf8_lossy(&chromium.stderr);
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(":CONSOLE") || line.contains("Uncaught"))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors: {console_errors:?}"
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real screenshot, {} bytes",
        png.len()
    );

    let dom = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom.matches("<section id=\"indicator-").count(),
        6,
        "six indicators rendered"
    );
    assert_eq!(dom.matches("<svg").count(), 6, "a chart per indicator");
    assert!(
        dom.contains("6. Employment and earnings after exit"),
        "the after-exit indicator has its section"
    );
}

/// The README's DuckDB and pandas examples, and `transform/README.md`'s worked after-exit
/// query, run as written against a demo's tables.
#[test]
fn readme_queries_run_against_the_demo_tables() {
    let dir = scratch();
    let out = dir.path().join("demo-out");
    run(outcomes()
        .args(["demo", "--participants", "400", "--out"])
        .arg(&out));
    for readme in ["README.md", "transform/README.md"] {
        let output = run(crate::common::python()
            .arg("-c")
            .arg(readme_script(readme, &out)));
        assert!(
            !String::from_utf8_lossy(&output.stdout).trim().is_empty(),
            "{readme}"
        );
    }
}

/// A Python script running the first `sql` block of `readme` with DuckDB (it must return rows)
/// and then its first `python` block, both reading the tables under `out`.
fn readme_script(readme: &str, out: &Path) -> String {
    let readme = std::fs::read_to_string(repo().join(readme)).unwrap();
    let block = |language: &str| {
        let start = readme
            .find(&format!("```{language}\n"))
            .unwrap_or_else(|| panic!("no {language} block"))
            + language.len()
            + 4;
        readme[start..start + readme[start..].find("```").unwrap()].to_owned()
    };
    let sql = block("sql").replace("demo-out/", &format!("{}/", out.display()));
    format!(
        "import duckdb\nrows = duckdb.sql({sql:?}).fetchall()\nassert len(rows) > 0, rows\nprint(len(rows))\n{}",
        block("python").replace("demo-out/", &format!("{}/", out.display()))
    )
}

/// Every table the demo writes has exactly its declared columns, in order, with the declared
/// types, as DuckDB (an analyst's tool, not ours) reads the files.
#[test]
fn written_tables_match_the_contract_as_duckdb_reads_them() {
    use outcomes_schemas::tables::{ColumnType, Table};
    let dir = scratch();
    let out = dir.path().join("demo-out");
    run(outcomes()
        .args(["demo", "--participants", "200", "--out"])
        .arg(&out));
    for table in Table::ALL {
        let path = out.join("tables").join(table.file_name());
        let script = format!(
            "import duckdb\nfor name, kind, *_ in duckdb.sql(\"DESCRIBE SELECT * FROM read_parquet('{}')\").fetchall():\n    print(name, kind)\n",
            path.display()
        );
        let output = run(crate::common::python().arg("-c").arg(&script));
        let described = String::from_utf8_lossy(&output.stdout).into_owned();
        let declared: String = table
            .columns()
            .iter()
            .map(|column| {
                let kind = match column.kind {
                    ColumnType::Text => "VARCHAR",
                    ColumnType::Int => "BIGINT",
                    ColumnType::Float => "DOUBLE",
                    ColumnType::Date => "DATE",
                    ColumnType::Bool => "BOOLEAN",
                };
                format!("{} {kind}\n", column.name)
            })
            .collect();
        assert_eq!(described, declared, "{table}");
    }
}

/// `transform/README.md` explains every declared column: each table's section names each of
/// its columns (the declaration is the one list; this keeps the explanations complete).
#[test]
fn the_transform_readme_names_every_declared_column() {
    use outcomes_schemas::tables::Table;
    let readme = std::fs::read_to_string(repo().join("transform/README.md")).unwrap();
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for table in Table::ALL {
        let heading = format!("### `{table}`");
        let start = readme
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {heading}"));
        let rest = &readme[start + heading.len()..];
        let section = &rest[..rest.find("\n#").unwrap_or(rest.len())];
        let words: std::collections::BTreeSet<&str> =
            section.split(|c: char| !is_name(c)).collect();
        let missing: Vec<&str> = table
            .columns()
            .iter()
            .map(|column| column.name)
            .filter(|name| !words.contains(name))
            .collect();
        // Every table starts with these two, explained once above the sections.
        let missing: Vec<&str> = missing
            .into_iter()
            .filter(|name| !["consortium_id", "agency_id"].contains(name))
            .collect();
        assert!(missing.is_empty(), "{table}: {missing:?} not explained");
    }
}
