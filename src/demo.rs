//! `outcomes demo`: the whole pipeline on a synthetic feed, from files, in one command.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Duration;
use comfy_table::{Cell as TableCell, Table};
use outcomes_report::{Cadence, Cell, DEFAULT_SUPPRESSION_K, Measure, Period, Value};
use outcomes_synth::Scenario;

use crate::commands;

/// The measures shown in the terminal summary, with short headings.
const HEADLINE: [(Measure, &str); 11] = [
    (Measure::Intakes, "intakes"),
    (Measure::MedianDaysToService, "days to\nservice"),
    (Measure::MedianDaysToPlacement, "days to\njob"),
    (Measure::AssessedNotPlaced, "assessed,\nno job"),
    (Measure::PersonsPlaced, "placed"),
    (Measure::MedianHourlyWage, "median\nwage"),
    (Measure::Retention90dRate, "kept\n90 days"),
    (Measure::PersonsMovedToSubsequent, "next\njob"),
    (Measure::EmploymentRateQ2, "employed\nQ2 after\nexit"),
    (Measure::EmploymentRateQ4, "employed\nQ4 after\nexit"),
    (Measure::SameEmployerRate, "same\nemployer\nQ2, Q4"),
];

fn shown(cell: Option<Cell>, k: i64) -> String {
    match cell {
        Some(Cell::Withheld(_)) => format!("<{k}"),
        Some(Cell::Shown(Value::Count(n))) => n.to_string(),
        Some(Cell::Shown(Value::Number(Some(x)))) => format!("{x:.2}"),
        Some(Cell::Shown(Value::Flag(Some(b)))) => b.to_string(),
        _ => "–".to_owned(),
    }
}

/// Runs the demo into `out`.
pub fn run(out: &Path, participants: u32) -> anyhow::Result<ExitCode> {
    let scenario = Scenario {
        consortia: 2,
        participants,
        ..Scenario::default()
    };
    let as_of = scenario.end;
    let period = Period::last_complete(as_of + Duration::days(1), Cadence::Quarterly);
    println!(
        "outcomes demo: {} consortia of {} people, {} months of events up to {}",
        scenario.consortia, scenario.participants, scenario.months, scenario.end
    );

    let feed = out.join("feed");
    let (messages, folders) =
        commands::write_feed(&scenario, &feed).context("generating the feed")?;
    println!(
        "1. generated {messages} messages (with late records, corrections, duplicates and ~1% invalid) in {}",
        feed.display()
    );

    let lake = out.join("lake");
    let pseudonymizer = commands::pseudonymizer(true, None)?;
    for (consortium, folder) in &folders {
        let tally = commands::load_files(&lake, folder, consortium, pseudonymizer.clone())?;
        println!(
            "2. ingested {consortium}: {} stored, {} rejected (dead letters kept in the lake's rejected table), {} already there",
            tally.stored,
            tally.rejected_total(),
            tally.already_stored
        );
    }

    let summary = outcomes_transform::run(&outcomes_transform::TransformSettings {
        lake: lake.clone().into(),
        out: out.to_path_buf(),
        as_of,
        config: outcomes_transform::Config::default(),
    })?;
    println!(
        "3. built {} tables as of {as_of} in {}",
        summary.tables.len(),
        out.join("tables").display()
    );

    let reports = out.join("reports");
    let tables = out.join("tables");
    let k = DEFAULT_SUPPRESSION_K;
    for consortium in folders.keys() {
        let (snapshot, published) =
            commands::publish_report(&tables, consortium, period, as_of, k, &reports)?;
        println!("4. report {consortium} {period} as of {as_of}:");
        let mut table = Table::new();
        let mut header = vec![TableCell::new("agency")];
        header.extend(HEADLINE.iter().map(|(_, heading)| TableCell::new(heading)));
        table.set_header(header);
        for row in &snapshot.rows {
            let mut cells = vec![TableCell::new(&row.agency_id)];
            cells.extend(
                HEADLINE
                    .iter()
                    .map(|(m, _)| TableCell::new(shown(row.cell(*m), k))),
            );
            table.add_row(cells);
        }
        println!("{table}");
        println!(
            "   HTML report: {}",
            published.folder.join("index.html").display()
        );
    }
    println!(
        "\nlake:   {}\ntables: {}\nreports: {}",
        lake.display(),
        tables.display(),
        reports.display()
    );
    Ok(ExitCode::SUCCESS)
}
