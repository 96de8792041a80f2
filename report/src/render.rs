//! Renderers: a snapshot to JSON, CSV and a self-contained HTML page. Each is a pure function
//! from the snapshot to bytes, so the same snapshot always renders to the same bytes.

use std::fmt::Write as _;

use chrono::NaiveDate;
use plotters::prelude::*;
use serde_json::{Map, Value as Json, json};

use crate::snapshot::{Cell, Measure, Row, Value};
use crate::{ALL, Snapshot};

fn withheld_text(k: i64) -> String {
    format!("<{k}")
}

fn cell_json(cell: Cell, k: i64) -> Json {
    match cell {
        Cell::Withheld(_) => Json::String(withheld_text(k)),
        Cell::Shown(Value::Count(n)) => json!(n),
        Cell::Shown(Value::Number(x)) => x.map_or(Json::Null, |x| json!(x)),
        Cell::Shown(Value::Flag(b)) => b.map_or(Json::Null, Json::Bool),
    }
}

fn row_json(row: &Row, k: i64) -> Json {
    let mut values = Map::new();
    values.insert("agency_id".into(), json!(row.agency_id));
    for (measure, cell) in &row.cells {
        values.insert(measure.name().into(), cell_json(*cell, k));
    }
    Json::Object(values)
}

/// `snapshot.json`: values, withheld cells with reasons, history and provenance.
pub fn json(snapshot: &Snapshot) -> Vec<u8> {
    let k = snapshot.suppression_k;
    let withheld: Vec<Json> = snapshot
        .rows
        .iter()
        .flat_map(|row| {
            row.cells.iter().filter_map(|(measure, cell)| match cell {
                Cell::Withheld(reason) => Some(json!({
                    "agency_id": row.agency_id,
                    "measure": measure.name(),
                    "reason": reason.code(),
                })),
                Cell::Shown(_) => None,
            })
        })
        .collect();
    let history: Vec<Json> = snapshot
        .history
        .iter()
        .map(|(period, row)| json!({"period": period.to_string(), "values": row_json(row, k)}))
        .collect();
    let versions: Json = serde_json::from_str(&snapshot.lake_versions)
        .unwrap_or_else(|_| Json::String(snapshot.lake_versions.clone()));
    let document = json!({
        "consortium_id": snapshot.consortium_id,
        "period": snapshot.period.to_string(),
        "period_start": snapshot.period.start().to_string(),
        "period_end": snapshot.period.end().to_string(),
        "as_of": snapshot.as_of.to_string(),
        "suppression_k": k,
        "wage_floor": snapshot.wage_floor,
        "rows": snapshot.rows.iter().map(|row| row_json(row, k)).collect::<Vec<_>>(),
        "withheld": withheld,
        "history": history,
        "provenance": {
            "definitions_version": snapshot.definitions_version,
            "program_version": snapshot.program_version,
            "lake_versions": versions,
            "input_tables_sha256": snapshot.input_tables,
        },
    });
    let mut bytes = serde_json::to_vec_pretty(&document).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '<']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn cell_text(cell: Cell, k: i64) -> String {
    match cell {
        Cell::Withheld(_) => withheld_text(k),
        Cell::Shown(Value::Count(n)) => n.to_string(),
        Cell::Shown(Value::Number(x)) => x.map(|x| x.to_string()).unwrap_or_default(),
        Cell::Shown(Value::Flag(b)) => b.map(|b| b.to_string()).unwrap_or_default(),
    }
}

/// `snapshot.csv`: a row per agency and ALL, a column per measure; withheld cells read `<k`.
pub fn csv(snapshot: &Snapshot) -> Vec<u8> {
    let mut out = String::from("consortium_id,period,as_of,agency_id");
    for measure in Measure::ALL {
        out.push(',');
        out.push_str(measure.name());
    }
    out.push('\n');
    for row in &snapshot.rows {
        let _ = write!(
            out,
            "{},{},{},{}",
            snapshot.consortium_id,
            snapshot.period,
            snapshot.as_of,
            csv_field(&row.agency_id)
        );
        for (_, cell) in &row.cells {
            out.push(',');
            out.push_str(&csv_field(&cell_text(*cell, snapshot.suppression_k)));
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// A cell for people: counts as integers, rates as percentages, days and dollars rounded.
fn display(measure: Measure, cell: Cell, k: i64) -> String {
    match cell {
        Cell::Withheld(_) => withheld_text(k),
        Cell::Shown(Value::Count(n)) => n.to_string(),
        Cell::Shown(Value::Flag(b)) => match b {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "–".into(),
        },
        Cell::Shown(Value::Number(None)) => "–".into(),
        Cell::Shown(Value::Number(Some(x))) => match measure {
            measure if is_rate(measure) => format!("{:.1}%", x * 100.0),
            Measure::MedianHourlyWage => format!("${x:.2}"),
            Measure::WagesReported | Measure::MedianEarningsQ2 => format!("${}", thousands(x)),
            _ => format!("{x:.1}"),
        },
    }
}

/// Whether `measure` is a share, shown (and charted) in percent.
fn is_rate(measure: Measure) -> bool {
    matches!(
        measure,
        Measure::ServedWithin30dRate
            | Measure::AtOrAboveWageFloorRate
            | Measure::Retention90dRate
            | Measure::EmploymentRateQ2
            | Measure::EmploymentRateQ4
            | Measure::SameEmployerRate
    )
}

fn thousands(x: f64) -> String {
    let whole = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

struct Indicator {
    number: u8,
    title: &'static str,
    definition: &'static str,
    /// The measure charted over the last eight periods (ALL row).
    headline: Measure,
}

const INDICATORS: [Indicator; 6] = [
    Indicator {
        number: 1,
        title: "Time waiting for services",
        definition: "People who applied (intake) in the period, how long they waited for a first service (an assessment, a service or a job start), how many are still waiting, and the share served within 30 days among those whose 30 days have passed.",
        headline: Measure::MedianDaysToService,
    },
    Indicator {
        number: 2,
        title: "Time from intake to job",
        definition: "Episodes whose first job started in the period and how long after intake it started. Action is needed when the median wait is over 45 days.",
        headline: Measure::MedianDaysToPlacement,
    },
    Indicator {
        number: 3,
        title: "Assessed but not placed",
        definition: "People first assessed in the period and, of them, those without a job by the report date; and people still open who were assessed 90 or more days before the period's end and have no job yet (stalled).",
        headline: Measure::AssessedNotPlaced,
    },
    Indicator {
        number: 4,
        title: "Employment outcomes and wages",
        definition: "Jobs that started in the period, the people placed, the median hourly wage, the share paying at least the wage floor, and the gross wages reported for pay periods ending in the period.",
        headline: Measure::PersonsPlaced,
    },
    Indicator {
        number: 5,
        title: "First-job success and moving on",
        definition: "First jobs that reached their 90th day in the period and the share still held at 90 days; and people who started a second or later job in the period.",
        headline: Measure::Retention90dRate,
    },
    Indicator {
        number: 6,
        title: "Employment and earnings after exit",
        definition: "People whose case closed (exit) two quarters before this period's quarter: how many were employed in this quarter (a job held for at least a day, or wages above zero reported for it) and their median earnings in it. And people who exited four quarters before: how many were employed in this quarter, and, of those employed by an employer two quarters after their exit, how many were with the same employer now. Each exit counts, also when the person came back for services. Shown once this quarter is over by the report date.",
        headline: Measure::EmploymentRateQ2,
    },
];

/// An inline SVG line chart of one measure's ALL values over the history periods.
fn chart(snapshot: &Snapshot, measure: Measure) -> String {
    let points = chart_points(snapshot, measure);
    let labels: Vec<String> = snapshot
        .history
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    let mut svg = String::new();
    let drawn = draw_chart(&mut svg, &points, &labels);
    if drawn.is_err() {
        return String::from("<p>(chart unavailable)</p>");
    }
    svg
}

/// The ALL value of `measure` in each history period, rates in percent; `None` where the value
/// is withheld or null.
fn chart_points(snapshot: &Snapshot, measure: Measure) -> Vec<Option<f64>> {
    snapshot
        .history
        .iter()
        .map(|(_, row)| {
            let value = match row.cell(measure) {
                Some(Cell::Shown(Value::Count(n))) => Some(n as f64),
                Some(Cell::Shown(Value::Number(x))) => x,
                _ => None,
            };
            if is_rate(measure) {
                value.map(|x| x * 100.0)
            } else {
                value
            }
        })
        .collect()
}

/// The runs of consecutive known points: withheld or empty periods break the line rather than
/// being drawn as zero.
fn line_runs(points: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![Vec::new()];
    for (i, value) in points.iter().enumerate() {
        match (value, runs.last_mut()) {
            (Some(v), Some(run)) => run.push((i as f64, *v)),
            _ => runs.push(Vec::new()),
        }
    }
    runs.retain(|run| !run.is_empty());
    runs
}

/// Draws the line chart of `points` under `labels` into `svg` with plotters.
fn draw_chart(
    svg: &mut String,
    points: &[Option<f64>],
    labels: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    let top = points
        .iter()
        .flatten()
        .fold(0.0_f64, |a, &b| a.max(b))
        .max(1.0)
        * 1.15;
    let root = SVGBackend::with_string(svg, (560, 240)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let count = points.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(-0.5..(count as f64 - 0.5), 0.0..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_labels(5)
        .draw()
        .map_err(|e| e.to_string())?;
    let color = RGBColor(31, 94, 153);
    for run in line_runs(points) {
        chart
            .draw_series(LineSeries::new(run.clone(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(run.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// One indicator's section of the page, as text: the template escapes every field but the
/// chart.
struct Section {
    number: u8,
    title: &'static str,
    definition: &'static str,
    headers: Vec<String>,
    rows: Vec<PageRow>,
    chart: String,
    caption: String,
    percent: bool,
}

struct PageRow {
    all: bool,
    name: String,
    cells: Vec<String>,
}

/// `report/templates/index.html`, compiled in by askama and escaped by construction.
#[derive(askama::Template)]
#[template(path = "index.html")]
struct Page {
    title: String,
    start: NaiveDate,
    end: NaiveDate,
    as_of: NaiveDate,
    wage_floor: String,
    k: i64,
    sections: Vec<Section>,
    history: usize,
    definitions_version: String,
    program_version: String,
    input_tables: String,
}

fn section(snapshot: &Snapshot, indicator: &Indicator) -> Section {
    let measures: Vec<Measure> = Measure::ALL
        .into_iter()
        .filter(|m| m.indicator() == indicator.number)
        .collect();
    let rows = snapshot
        .rows
        .iter()
        .map(|row| PageRow {
            all: row.agency_id == ALL,
            name: if row.agency_id == ALL {
                "All agencies".to_owned()
            } else {
                row.agency_id.clone()
            },
            cells: measures
                .iter()
                .map(|measure| {
                    let cell = row
                        .cell(*measure)
                        .unwrap_or(Cell::Shown(Value::Number(None)));
                    display(*measure, cell, snapshot.suppression_k)
                })
                .collect(),
        })
        .collect();
    Section {
        number: indicator.number,
        title: indicator.title,
        definition: indicator.definition,
        headers: measures
            .iter()
            .map(|m| m.name().replace('_', " "))
            .collect(),
        rows,
        chart: chart(snapshot, indicator.headline),
        caption: indicator.headline.name().replace('_', " "),
        percent: is_rate(indicator.headline),
    }
}

/// `index.html`: one self-contained page (inline CSS and SVG, no scripts or external files).
pub fn html(snapshot: &Snapshot) -> Result<Vec<u8>, askama::Error> {
    let page = Page {
        title: format!(
            "Employment outcomes — {} — {}",
            snapshot.consortium_id, snapshot.period
        ),
        start: snapshot.period.start(),
        end: snapshot.period.end(),
        as_of: snapshot.as_of,
        wage_floor: format!("{:.2}", snapshot.wage_floor),
        k: snapshot.suppression_k,
        sections: INDICATORS
            .iter()
            .map(|indicator| section(snapshot, indicator))
            .collect(),
        history: snapshot.history.len(),
        definitions_version: snapshot.definitions_version.clone(),
        program_version: snapshot.program_version.clone(),
        input_tables: snapshot
            .input_tables
            .iter()
            .map(|(name, hash)| format!("{name} {}", &hash[..hash.len().min(12)]))
            .collect::<Vec<_>>()
            .join(", "),
    };
    askama::Template::render(&page).map(String::into_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Period, Withholding};

    /// A withheld or empty period breaks the line: [1, -, 2, 3, -] draws (0, 1) alone, then
    /// (2, 2)-(3, 3); the trailing gap draws nothing.
    #[test]
    fn gaps_break_the_line() {
        let runs = line_runs(&[Some(1.0), None, Some(2.0), Some(3.0), None]);
        assert_eq!(runs, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
        assert!(line_runs(&[None, None]).is_empty());
    }

    fn snapshot(agency: &str) -> Snapshot {
        let row = |agency_id: &str| Row {
            agency_id: agency_id.to_owned(),
            cells: vec![
                (Measure::Intakes, Cell::Shown(Value::Count(12))),
                (
                    Measure::PersonsPlaced,
                    Cell::Withheld(Withholding::SmallCount),
                ),
            ],
        };
        let period: Period = "2026Q3".parse().unwrap();
        Snapshot {
            consortium_id: "north-shore".into(),
            period,
            as_of: period.end(),
            suppression_k: 10,
            wage_floor: 7.25,
            definitions_version: "2".into(),
            program_version: "0.1.0".into(),
            lake_versions: "{}".into(),
            input_tables: std::collections::BTreeMap::from([(
                "measures.parquet".into(),
                "ab".repeat(32),
            )]),
            rows: vec![row(agency), row(ALL)],
            history: vec![(period, row(ALL))],
        }
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let page = String::from_utf8(html(&snapshot("<b>a&b</b>")).unwrap()).unwrap();
        assert!(
            page.contains("<td>&#60;b&#62;a&#38;b&#60;/b&#62;</td>"),
            "{page}"
        );
        assert!(!page.contains("<b>"));
        // A withheld cell reads <k, escaped; the ALL row is labelled and marked.
        assert!(page.contains("<td>&#60;10</td>"));
        assert!(page.contains(r#"<tr class="all"><td>All agencies</td><td>12</td>"#));
        assert!(page.contains("<svg"));
    }
}
