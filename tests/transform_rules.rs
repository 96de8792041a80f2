//! Hand-worked fixtures for INDICATORS.md: small event sets through the real file ingest and
//! transform, with every expected value worked out by hand in the comments.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use outcomes_ingest::{BatchLimits, FileIngest, Lake};
use outcomes_schemas::{ConsortiumId, Pseudonymizer, Validator};
use outcomes_transform::{Config, TransformSettings};

use crate::common::{row, rows, scratch, table};

const CONSORTIUM: &str = "fixture";

/// Builds NDJSON lines with readable ids.
#[derive(Default)]
struct Feed {
    lines: Vec<String>,
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

impl Feed {
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        n: u32,
        event_type: &str,
        agency: &str,
        person: &str,
        occurred: &str,
        recorded: &str,
        supersedes: Option<u32>,
        payload: &str,
    ) {
        let supersedes = supersedes
            .map(|s| format!(r#""supersedes":"{}","#, id(s)))
            .unwrap_or_default();
        self.lines.push(format!(
            r#"{{"event_id":"{}","event_type":"{event_type}","schema_version":1,"consortium_id":"{CONSORTIUM}","agency_id":"{agency}","participant_id":"{person}","occurred_on":"{occurred}","recorded_at":"{recorded}",{supersedes}"payload":{{{payload}}}}}"#,
            id(n)
        ));
    }

    fn raw(&mut self, line: &str) {
        self.lines.push(line.to_owned());
    }

    fn load(&self, lake: &Path) {
        let file = lake.with_extension("ndjson");
        std::fs::write(&file, self.lines.join("\n")).unwrap();
        let loader = FileIngest::new(
            Lake::open(lake).unwrap(),
            Validator::new(Pseudonymizer::demo()),
            ConsortiumId::new(CONSORTIUM).unwrap(),
            BatchLimits::default(),
        );
        loader.load(&file, &mut |_| {}).unwrap();
    }
}

fn person(name: &str) -> String {
    Pseudonymizer::demo()
        .person_key(CONSORTIUM, name)
        .to_string()
}

fn transform(
    lake: &Path,
    out: &Path,
    as_of: &str,
) -> BTreeMap<&'static str, polars::prelude::DataFrame> {
    let summary = outcomes_transform::run(&TransformSettings {
        lake: lake.to_path_buf(),
        out: out.to_path_buf(),
        as_of: as_of.parse::<NaiveDate>().unwrap(),
        config: Config::default(),
    })
    .unwrap();
    summary
        .tables
        .into_iter()
        .map(|t| (t.table.name(), table(&t.path)))
        .collect()
}

fn num(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {} is not a number", row[column]))
}

fn assert_close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{got} != {want}"
    );
}

#[test]
fn episodes_attribution_and_issues() {
    let dir = scratch();
    let lake = dir.path().join("lake");
    let mut feed = Feed::default();
    let t = "T10:00:00Z";
    // p1: intake, a repeated intake, assessment, service, job, exit; a service between
    // episodes; a second episode; an exit with no open episode.
    feed.event(
        1,
        "intake",
        "a1",
        "p1",
        "2026-01-05",
        &format!("2026-01-05{t}"),
        None,
        "",
    );
    feed.event(
        2,
        "intake",
        "a1",
        "p1",
        "2026-01-10",
        &format!("2026-01-10{t}"),
        None,
        "",
    );
    feed.event(
        3,
        "assessment",
        "a1",
        "p1",
        "2026-01-20",
        &format!("2026-01-20{t}"),
        None,
        r#""assessment_type":"vocational""#,
    );
    feed.event(
        4,
        "service",
        "a1",
        "p1",
        "2026-01-25",
        &format!("2026-01-25{t}"),
        None,
        r#""service_type":"job-coaching""#,
    );
    feed.event(
        5,
        "placement",
        "a1",
        "p1",
        "2026-02-14",
        &format!("2026-02-14{t}"),
        None,
        r#""job_id":"J1","hourly_wage":15.0,"hours_per_week":20,"competitive_integrated":true"#,
    );
    feed.event(
        6,
        "exit",
        "a1",
        "p1",
        "2026-03-31",
        &format!("2026-03-31{t}"),
        None,
        r#""outcome":"employed""#,
    );
    feed.event(
        7,
        "service",
        "a1",
        "p1",
        "2026-04-10",
        &format!("2026-04-10{t}"),
        None,
        r#""service_type":"training""#,
    );
    feed.event(
        8,
        "intake",
        "a1",
        "p1",
        "2026-05-01",
        &format!("2026-05-01{t}"),
        None,
        "",
    );
    feed.event(
        9,
        "exit",
        "a1",
        "p1",
        "2026-06-01",
        &format!("2026-06-01{t}"),
        None,
        r#""outcome":"not_employed""#,
    );
    feed.event(
        10,
        "exit",
        "a1",
        "p1",
        "2026-06-15",
        &format!("2026-06-15{t}"),
        None,
        r#""outcome":"other""#,
    );
    feed.load(&lake);
    let tables = transform(&lake, &dir.path().join("out"), "2026-09-30");
    let p1 = person("p1");

    let first = row(
        &tables["episodes"],
        &[("person_key", &p1), ("episode_no", "1")],
    );
    assert_eq!(first["intake_on"], "2026-01-05");
    assert_eq!(first["exit_on"], "2026-03-31");
    assert_eq!(first["cohort_month"], "2026-01");
    // First service: the assessment on 01-20, before the service and the job: 15 days.
    assert_eq!(first["first_service_on"], "2026-01-20");
    assert_eq!(first["days_to_service"], "15");
    // Job on 02-14: 26 days of January after the 5th plus 14 = 40 days.
    assert_eq!(first["first_placement_on"], "2026-02-14");
    assert_eq!(first["days_to_placement"], "40");
    assert_eq!(
        (
            first["assessments"].as_str(),
            first["services"].as_str(),
            first["placements"].as_str()
        ),
        ("1", "1", "1")
    );

    let second = row(
        &tables["episodes"],
        &[("person_key", &p1), ("episode_no", "2")],
    );
    assert_eq!(second["intake_on"], "2026-05-01");
    assert_eq!(second["exit_on"], "2026-06-01");
    assert_eq!(second["first_service_on"], "null");
    assert_eq!(second["services"], "0");

    // The job runs from 02-14 to as_of 09-30: 14 + 31+30+31+30+31+31 + 30 = 228 days; each
    // retention horizon (03-16, 05-15, 08-13) has passed.
    let job = row(
        &tables["placements"],
        &[("person_key", &p1), ("job_id", "J1")],
    );
    assert_eq!(job["days_employed"], "228");
    assert_eq!(job["job_seq"], "1");
    assert_eq!(job["episode_no"], "1");
    assert_close(num(&job, "weekly_earnings"), 300.0);
    for horizon in ["retained_30d", "retained_90d", "retained_180d"] {
        assert_eq!(job[horizon], "true", "{horizon}");
    }

    let quality = &tables["data_quality"];
    for issue in ["repeat_intake", "outside_episode", "exit_without_episode"] {
        assert_eq!(
            row(quality, &[("agency_id", "a1"), ("issue", issue)])["events"],
            "1",
            "{issue}"
        );
        assert_eq!(
            row(quality, &[("agency_id", "ALL"), ("issue", issue)])["events"],
            "1",
            "{issue}"
        );
    }
    assert_eq!(
        quality.height(),
        6,
        "only the three issues, each with its ALL row:\n{quality}"
    );

    // Cohort 2026-01 of a1: one intake, served in 15 days (eligible: 01-05 + 30 <= 09-30),
    // placed in 40 days (eligible at 45 days, but 40 <= 45 so within).
    let cohort = row(
        &tables["cohort_timeliness"],
        &[("agency_id", "a1"), ("cohort_month", "2026-01")],
    );
    assert_eq!(
        (
            cohort["intakes"].as_str(),
            cohort["served"].as_str(),
            cohort["still_waiting"].as_str()
        ),
        ("1", "1", "0")
    );
    assert_close(num(&cohort, "median_days_to_service"), 15.0);
    assert_close(num(&cohort, "served_within_30d_rate"), 1.0);
    assert_close(num(&cohort, "placed_within_45d_rate"), 1.0);
    assert_eq!(
        (
            cohort["assessed"].as_str(),
            cohort["assessed_not_placed"].as_str(),
            cohort["exited"].as_str()
        ),
        ("1", "0", "1")
    );
    let may = row(
        &tables["cohort_timeliness"],
        &[("agency_id", "a1"), ("cohort_month", "2026-05")],
    );
    assert_eq!(
        (
            may["intakes"].as_str(),
            may["served"].as_str(),
            may["still_waiting"].as_str()
        ),
        ("1", "0", "1")
    );
    assert_eq!(may["median_days_to_service"], "null");
    assert_close(num(&may, "served_within_30d_rate"), 0.0);
}

#[test]
fn retention_boundaries_turnover_and_the_partial_month() {
    let dir = scratch();
    let lake = dir.path().join("lake");
    let mut feed = Feed::default();
    let t = "T09:00:00Z";
    let job = |id: &str| {
        format!(
            r#""job_id":"{id}","hourly_wage":9.0,"hours_per_week":30,"competitive_integrated":false"#
        )
    };
    // p2: first job 03-01..03-31 (30 days: kept 30 days, not 90), second job from 04-10.
    feed.event(
        1,
        "intake",
        "a2",
        "p2",
        "2026-01-01",
        &format!("2026-01-01{t}"),
        None,
        "",
    );
    feed.event(
        2,
        "placement",
        "a2",
        "p2",
        "2026-03-01",
        &format!("2026-03-01{t}"),
        None,
        &job("J1"),
    );
    feed.event(
        3,
        "separation",
        "a2",
        "p2",
        "2026-03-31",
        &format!("2026-03-31{t}"),
        None,
        r#""job_id":"J1","reason":"quit""#,
    );
    feed.event(
        4,
        "placement",
        "a2",
        "p2",
        "2026-04-10",
        &format!("2026-04-10{t}"),
        None,
        &job("J2"),
    );
    // p3: 03-01..03-30, 29 days: not kept 30 days.
    feed.event(
        5,
        "intake",
        "a2",
        "p3",
        "2026-01-01",
        &format!("2026-01-01{t}"),
        None,
        "",
    );
    feed.event(
        6,
        "placement",
        "a2",
        "p3",
        "2026-03-01",
        &format!("2026-03-01{t}"),
        None,
        &job("J1"),
    );
    feed.event(
        7,
        "separation",
        "a2",
        "p3",
        "2026-03-30",
        &format!("2026-03-30{t}"),
        None,
        r#""job_id":"J1","reason":"fired""#,
    );
    // p4: from 03-01, still working; 03-01 + 90 days = 05-30 = as_of: retained 90 days exactly.
    feed.event(
        8,
        "intake",
        "a2",
        "p4",
        "2026-02-01",
        &format!("2026-02-01{t}"),
        None,
        "",
    );
    feed.event(
        9,
        "placement",
        "a2",
        "p4",
        "2026-03-01",
        &format!("2026-03-01{t}"),
        None,
        &job("J1"),
    );
    feed.load(&lake);
    let tables = transform(&lake, &dir.path().join("out"), "2026-05-30");
    let placements = &tables["placements"];

    let p2j1 = row(
        placements,
        &[("person_key", &person("p2")), ("job_id", "J1")],
    );
    assert_eq!(
        (
            p2j1["retained_30d"].as_str(),
            p2j1["retained_90d"].as_str(),
            p2j1["retained_180d"].as_str()
        ),
        ("true", "false", "false")
    );
    assert_eq!(p2j1["next_start_on"], "2026-04-10");
    assert_eq!(p2j1["days_employed"], "30");
    let p2j2 = row(
        placements,
        &[("person_key", &person("p2")), ("job_id", "J2")],
    );
    // 04-10 + 30 = 05-10 <= 05-30; + 90 = 07-09 > 05-30: not yet observable.
    assert_eq!(
        (
            p2j2["job_seq"].as_str(),
            p2j2["retained_30d"].as_str(),
            p2j2["retained_90d"].as_str()
        ),
        ("2", "true", "null")
    );
    let p3 = row(
        placements,
        &[("person_key", &person("p3")), ("job_id", "J1")],
    );
    assert_eq!(p3["retained_30d"], "false");
    let p4 = row(
        placements,
        &[("person_key", &person("p4")), ("job_id", "J1")],
    );
    assert_eq!(
        (p4["retained_90d"].as_str(), p4["retained_180d"].as_str()),
        ("true", "null")
    );

    // First jobs started 2026-03: p2, p3, p4. 30 days: 3 eligible, 2 kept. 90 days: 3
    // eligible, 1 kept (p4). 180 days: p4 not yet observable: 2 eligible, 0 kept.
    let retention = row(
        &tables["first_job_retention"],
        &[("agency_id", "a2"), ("start_month", "2026-03")],
    );
    assert_eq!(retention["first_jobs"], "3");
    assert_eq!(
        (
            retention["eligible_30d"].as_str(),
            retention["retained_30d"].as_str()
        ),
        ("3", "2")
    );
    assert_close(num(&retention, "retention_30d_rate"), 2.0 / 3.0);
    assert_eq!(
        (
            retention["eligible_90d"].as_str(),
            retention["retained_90d"].as_str()
        ),
        ("3", "1")
    );
    assert_eq!(
        (
            retention["eligible_180d"].as_str(),
            retention["retained_180d"].as_str()
        ),
        ("2", "0")
    );
    assert_close(num(&retention, "retention_180d_rate"), 0.0);
    assert_eq!(
        (
            retention["separated"].as_str(),
            retention["moved_to_subsequent"].as_str()
        ),
        ("2", "1")
    );
    // p2: next job 04-10, first ended 03-31: 10 days.
    assert_close(num(&retention, "median_days_to_next_job"), 10.0);

    // Turnover of a2, months 2026-03 to 2026-05 (the month of as_of).
    let turnover = &tables["turnover"];
    assert_eq!(rows(turnover, &[("agency_id", "a2")]).height(), 3);
    // March: on 03-01 three jobs are active (all start that day); on 03-31 p2's (ends that
    // day, still active) and p4's: 2. Three starts, two separations: 2 / ((3 + 2) / 2) = 0.8.
    let march = row(turnover, &[("agency_id", "a2"), ("month", "2026-03")]);
    assert_eq!(
        (
            march["active_at_start"].as_str(),
            march["active_at_end"].as_str()
        ),
        ("3", "2")
    );
    assert_eq!(
        (march["starts"].as_str(), march["separations"].as_str()),
        ("3", "2")
    );
    assert_eq!(
        (
            march["separations_quit"].as_str(),
            march["separations_fired"].as_str(),
            march["separations_laid_off"].as_str()
        ),
        ("1", "1", "0")
    );
    assert_close(num(&march, "turnover_rate"), 0.8);
    assert_eq!(march["partial_month"], "false");
    // April: p4 at the start; p4 and p2's second job at the end; one start.
    let april = row(turnover, &[("agency_id", "a2"), ("month", "2026-04")]);
    assert_eq!(
        (
            april["active_at_start"].as_str(),
            april["active_at_end"].as_str(),
            april["starts"].as_str()
        ),
        ("1", "2", "1")
    );
    assert_close(num(&april, "turnover_rate"), 0.0);
    // May ends at as_of 05-30, which is not May's last day: a partial month.
    let may = row(turnover, &[("agency_id", "a2"), ("month", "2026-05")]);
    assert_eq!(
        (
            may["active_at_start"].as_str(),
            may["active_at_end"].as_str()
        ),
        ("2", "2")
    );
    assert_eq!(may["partial_month"], "true");
    assert_eq!(
        row(turnover, &[("agency_id", "ALL"), ("month", "2026-03")])["active_at_start"],
        "3"
    );

    // Employment outcomes, 2026Q1: the three March starts; Q2: p2's April start. Wage 9.00 is
    // over the 7.25 floor.
    let q1 = row(
        &tables["employment_outcomes"],
        &[("agency_id", "a2"), ("quarter", "2026Q1")],
    );
    assert_eq!(
        (
            q1["placements"].as_str(),
            q1["persons_placed"].as_str(),
            q1["first_placements"].as_str()
        ),
        ("3", "3", "3")
    );
    assert_eq!(
        (
            q1["at_or_above_wage_floor"].as_str(),
            q1["competitive_integrated"].as_str()
        ),
        ("3", "0")
    );
    assert_close(num(&q1, "median_weekly_earnings"), 270.0);
    assert_close(num(&q1, "wage_floor"), 7.25);
    assert_close(num(&q1, "wages_reported"), 0.0);
    let q2 = row(
        &tables["employment_outcomes"],
        &[("agency_id", "a2"), ("quarter", "2026Q2")],
    );
    assert_eq!(
        (q2["placements"].as_str(), q2["first_placements"].as_str()),
        ("1", "0")
    );
}

#[test]
fn corrections_duplicates_visibility_and_late_records() {
    let dir = scratch();
    let lake = dir.path().join("lake");
    let mut feed = Feed::default();
    let t = "T10:00:00Z";
    feed.event(
        1,
        "intake",
        "a1",
        "p5",
        "2026-01-05",
        &format!("2026-01-05{t}"),
        None,
        "",
    );
    // A service sent twice, byte for byte: one exact duplicate.
    feed.event(
        2,
        "service",
        "a1",
        "p5",
        "2026-01-20",
        &format!("2026-01-20{t}"),
        None,
        r#""service_type":"training""#,
    );
    feed.event(
        2,
        "service",
        "a1",
        "p5",
        "2026-01-20",
        &format!("2026-01-20{t}"),
        None,
        r#""service_type":"training""#,
    );
    // A service superseding an event that never existed: it stands, and is counted.
    feed.event(
        3,
        "service",
        "a1",
        "p5",
        "2026-01-22",
        &format!("2026-01-22{t}"),
        Some(999),
        r#""service_type":"coaching""#,
    );
    // Placement X at 10.00; Y supersedes it at 12.00; Y is retracted, so X stands at 10.00.
    feed.event(
        4,
        "placement",
        "a1",
        "p5",
        "2026-02-01",
        &format!("2026-02-01{t}"),
        None,
        r#""job_id":"J1","hourly_wage":10.0,"hours_per_week":10,"competitive_integrated":true"#,
    );
    feed.event(
        5,
        "placement",
        "a1",
        "p5",
        "2026-02-01",
        &format!("2026-02-03{t}"),
        Some(4),
        r#""job_id":"J1","hourly_wage":12.0,"hours_per_week":10,"competitive_integrated":true"#,
    );
    feed.event(
        6,
        "retraction",
        "a1",
        "p5",
        "2026-02-01",
        &format!("2026-02-05{t}"),
        None,
        &format!(r#""retracted_event_id":"{}""#, id(5)),
    );
    // Retracting a retraction is left alone; retracting an unknown id has no effect.
    feed.event(
        7,
        "retraction",
        "a1",
        "p5",
        "2026-02-01",
        &format!("2026-02-06{t}"),
        None,
        &format!(r#""retracted_event_id":"{}""#, id(6)),
    );
    feed.event(
        8,
        "retraction",
        "a1",
        "p5",
        "2026-02-01",
        &format!("2026-02-06{t}"),
        None,
        &format!(r#""retracted_event_id":"{}""#, id(998)),
    );
    // The exit, sent twice with one id but different content: the earlier record is kept.
    feed.event(
        9,
        "exit",
        "a1",
        "p5",
        "2026-03-01",
        &format!("2026-03-01{t}"),
        None,
        r#""outcome":"employed""#,
    );
    feed.event(
        9,
        "exit",
        "a1",
        "p5",
        "2026-03-01",
        &format!("2026-03-02{t}"),
        None,
        r#""outcome":"other""#,
    );
    // A wage after the exit counts; one recorded after as_of does not, yet.
    feed.event(10, "wage", "a1", "p5", "2026-03-14", &format!("2026-03-15{t}"), None, r#""job_id":"J1","period_start":"2026-03-01","period_end":"2026-03-14","gross_wages":100.0,"hours_worked":10"#);
    feed.event(11, "wage", "a1", "p5", "2026-03-28", "2026-10-05T10:00:00Z", None, r#""job_id":"J1","period_start":"2026-03-15","period_end":"2026-03-28","gross_wages":100.0,"hours_worked":10"#);
    // p6: assessed on 09-30 at 20:00 in UTC-5, which is 10-01 in UTC: invisible at 09-30.
    feed.event(
        12,
        "intake",
        "a1",
        "p6",
        "2026-09-01",
        &format!("2026-09-01{t}"),
        None,
        "",
    );
    feed.event(
        13,
        "assessment",
        "a1",
        "p6",
        "2026-09-30",
        "2026-09-30T20:00:00-05:00",
        None,
        r#""assessment_type":"benefits""#,
    );
    feed.raw("{not json");
    feed.load(&lake);

    let out = dir.path().join("out");
    let tables = transform(&lake, &out, "2026-09-30");
    let job = row(
        &tables["placements"],
        &[("person_key", &person("p5")), ("job_id", "J1")],
    );
    assert_close(num(&job, "hourly_wage"), 10.0);
    assert_eq!(job["wage_records"], "1");
    assert_close(num(&job, "wages_total"), 100.0);
    let episode = row(&tables["episodes"], &[("person_key", &person("p5"))]);
    assert_eq!(
        (
            episode["exit_on"].as_str(),
            episode["exit_outcome"].as_str()
        ),
        ("2026-03-01", "employed")
    );
    assert_eq!(
        (
            episode["services"].as_str(),
            episode["first_service_on"].as_str(),
            episode["days_to_service"].as_str()
        ),
        ("2", "2026-01-20", "15")
    );
    assert_eq!(episode["days_to_placement"], "27");
    let p6 = row(&tables["episodes"], &[("person_key", &person("p6"))]);
    assert_eq!(p6["first_service_on"], "null");

    let quality = &tables["data_quality"];
    for issue in [
        "exact_duplicate",
        "conflicting_duplicate",
        "unknown_supersedes_target",
        "bad_retraction_target",
        "unknown_retraction_target",
    ] {
        assert_eq!(
            row(quality, &[("agency_id", "a1"), ("issue", issue)])["events"],
            "1",
            "{issue}"
        );
    }
    assert_eq!(
        row(
            quality,
            &[
                ("agency_id", "unknown"),
                ("issue", "rejected:malformed_json")
            ]
        )["events"],
        "1"
    );
    assert_eq!(
        row(
            quality,
            &[("agency_id", "ALL"), ("issue", "rejected:malformed_json")]
        )["events"],
        "1"
    );

    // A later as_of takes in the late wage and the assessment across the UTC date line.
    let later = transform(&lake, &dir.path().join("later"), "2026-10-31");
    let job = row(
        &later["placements"],
        &[("person_key", &person("p5")), ("job_id", "J1")],
    );
    assert_eq!(job["wage_records"], "2");
    let p6 = row(&later["episodes"], &[("person_key", &person("p6"))]);
    assert_eq!(
        (
            p6["first_assessment_on"].as_str(),
            p6["days_to_service"].as_str()
        ),
        ("2026-09-30", "29")
    );

    // An earlier as_of reproduces what was known then: before 02-03 the placement at 10.00
    // had not been superseded, and before 03-01 there was no exit.
    let early = transform(&lake, &dir.path().join("early"), "2026-02-02");
    let episode = row(&early["episodes"], &[("person_key", &person("p5"))]);
    assert_eq!(episode["exit_on"], "null");
    assert_eq!(
        rows(&early["placements"], &[("person_key", &person("p5"))]).height(),
        1
    );
}

/// INDICATORS.md section 3 in the `measures` table, with D = 2026-05-20 (inside May and Q2).
///
/// Agency a1 (intakes only, no jobs):
/// - p1: intake 01-05, assessment 01-30, open, no job. Stalled from t >= 01-30 + 90 = 04-30.
/// - p2: intake 01-05, assessment 01-31, open, no job. Stalled from t >= 05-01.
/// - p7: intake 01-02, assessment 01-02, exit 04-15. Stalled only on 04-02..04-14, which holds
///   no period's t (03-31, 04-30, D), so never counted.
///
/// Agency a2 (intakes and placements): p4 intake 01-10, job J1 01-20 at $9 and J2 04-10 at
/// $10; p3 intake 02-01, job 03-20 at $9; p6 intake 02-10, job 02-20 at $7 (under the $7.25
/// floor); p5 intake 02-15, job 02-19 at $12. Wages: p4 $500 in April, p5 $300 in May.
#[test]
fn snapshot_measures_by_month_and_quarter() {
    let dir = scratch();
    let lake = dir.path().join("lake");
    let mut feed = Feed::default();
    let t = "T10:00:00Z";
    let at = |day: &str| format!("2026-{day}{t}");
    let job = |id: &str, wage: f64| {
        format!(
            r#""job_id":"{id}","hourly_wage":{wage},"hours_per_week":20,"competitive_integrated":true"#
        )
    };
    let assessment = r#""assessment_type":"vocational""#;
    let mut n = 0;
    let mut add = |kind: &str, agency: &str, who: &str, day: &str, payload: &str| {
        n += 1;
        feed.event(
            n,
            kind,
            agency,
            who,
            &format!("2026-{day}"),
            &at(day),
            None,
            payload,
        );
    };
    add("intake", "a1", "p1", "01-05", "");
    add("assessment", "a1", "p1", "01-30", assessment);
    add("intake", "a1", "p2", "01-05", "");
    add("assessment", "a1", "p2", "01-31", assessment);
    add("intake", "a1", "p7", "01-02", "");
    add("assessment", "a1", "p7", "01-02", assessment);
    add("exit", "a1", "p7", "04-15", r#""outcome":"other""#);
    add("intake", "a2", "p4", "01-10", "");
    add("placement", "a2", "p4", "01-20", &job("J1", 9.0));
    add("placement", "a2", "p4", "04-10", &job("J2", 10.0));
    add("intake", "a2", "p3", "02-01", "");
    add("placement", "a2", "p3", "03-20", &job("J3", 9.0));
    add("intake", "a2", "p6", "02-10", "");
    add("placement", "a2", "p6", "02-20", &job("J4", 7.0));
    add("intake", "a2", "p5", "02-15", "");
    add("placement", "a2", "p5", "02-19", &job("J5", 12.0));
    let wage = |id: &str, start: &str, end: &str, amount: f64| {
        format!(
            r#""job_id":"{id}","period_start":"2026-{start}","period_end":"2026-{end}","gross_wages":{amount},"hours_worked":20"#
        )
    };
    add(
        "wage",
        "a2",
        "p4",
        "04-14",
        &wage("J1", "04-01", "04-14", 500.0),
    );
    add(
        "wage",
        "a2",
        "p5",
        "05-14",
        &wage("J5", "05-01", "05-14", 300.0),
    );
    feed.load(&lake);
    let tables = transform(&lake, &dir.path().join("out"), "2026-05-20");
    let measures = &tables["measures"];
    let at =
        |agency: &str, period: &str| row(measures, &[("agency_id", agency), ("period", period)]);

    // The grid: a1, a2 and ALL for the months 2026-01 (first intake, 01-02) to 2026-05 (D)
    // and the quarters 2026Q1 and 2026Q2: 3 × (5 + 2) = 21 rows.
    assert_eq!(measures.height(), 21);
    assert_eq!(at("a2", "2026Q2")["period_kind"], "quarter");
    assert_eq!(at("a1", "2026-03")["wage_floor"], "7.25");

    // 1. January, a1: intakes p1, p2, p7, served after 25, 26 and 0 days → median 25, over 3;
    // all three are 30 days past intake by D and were served within 30 → rate 3/3 = 1.
    let jan_a1 = at("a1", "2026-01");
    assert_eq!(jan_a1["intakes"], "3");
    assert_eq!(jan_a1["median_days_to_service"], "25");
    assert_eq!(jan_a1["median_days_to_service_items"], "3");
    assert_eq!(jan_a1["still_waiting"], "0");
    assert_eq!(jan_a1["served_within_30d_rate"], "1");
    assert_eq!(jan_a1["served_within_30d_rate_items"], "3");
    // February, a2: p3 (47 days), p6 (10), p5 (4) → median 10; within 30: p6, p5 → 2/3.
    let feb_a2 = at("a2", "2026-02");
    assert_eq!(feb_a2["intakes"], "3");
    assert_eq!(feb_a2["median_days_to_service"], "10");
    assert_close(num(&feb_a2, "served_within_30d_rate"), 2.0 / 3.0);

    // 2. action_needed: March, a2: p3's first job after 47 days → median 47 > 45 → true,
    // placed_over_45d 1. January, a2: p4 after 10 days → false. March, a1: no first job, no
    // median → null. Q1, a2: 10 (p4), 4 (p5), 10 (p6), 47 (p3) → median (10 + 10) / 2 = 10.
    let mar_a2 = at("a2", "2026-03");
    assert_eq!(mar_a2["first_placements"], "1");
    assert_eq!(mar_a2["median_days_to_placement"], "47");
    assert_eq!(mar_a2["placed_over_45d"], "1");
    assert_eq!(mar_a2["action_needed"], "true");
    assert_eq!(at("a2", "2026-01")["action_needed"], "false");
    let mar_a1 = at("a1", "2026-03");
    assert_eq!(mar_a1["median_days_to_placement"], "null");
    assert_eq!(mar_a1["action_needed"], "null");
    assert_eq!(mar_a1["median_days_to_placement_items"], "0");
    let q1_a2 = at("a2", "2026Q1");
    assert_eq!(q1_a2["first_placements"], "4");
    assert_eq!(q1_a2["median_days_to_placement"], "10");
    assert_eq!(q1_a2["action_needed"], "false");

    // 3. January, a1: p1, p2, p7 first assessed, none placed by D.
    assert_eq!(jan_a1["assessed"], "3");
    assert_eq!(jan_a1["assessed_not_placed"], "3");
    // stalled_90d at t = 04-30 (April): t - 90 = 01-30, so p1 (assessed 01-30) counts and p2
    // (01-31) does not; p7 exited 04-15 <= t. At t = D = 05-20 (May and Q2): t - 90 = 02-19,
    // p1 and p2 count. At t = 03-31 (March, Q1): t - 90 = 12-31 of 2025, nobody.
    assert_eq!(at("a1", "2026-04")["stalled_90d"], "1");
    assert_eq!(at("a1", "2026-05")["stalled_90d"], "2");
    assert_eq!(at("a1", "2026Q2")["stalled_90d"], "2");
    assert_eq!(at("a1", "2026-03")["stalled_90d"], "0");
    assert_eq!(at("a1", "2026Q1")["stalled_90d"], "0");
    assert_eq!(at("ALL", "2026-04")["stalled_90d"], "1");

    // 4. February, a2: J4 ($7) and J5 ($12) start → 2 jobs, 2 persons, median 9.5, at or
    // above $7.25: 1 of 2. April, a2: J2 ($10), p4's second job → moved to subsequent 1.
    assert_eq!(feb_a2["placements"], "2");
    assert_eq!(feb_a2["persons_placed"], "2");
    assert_eq!(feb_a2["median_hourly_wage"], "9.5");
    assert_eq!(feb_a2["at_or_above_wage_floor_rate"], "0.5");
    assert_eq!(feb_a2["at_or_above_wage_floor_rate_items"], "2");
    let apr_a2 = at("a2", "2026-04");
    assert_eq!(apr_a2["placements"], "1");
    assert_eq!(apr_a2["median_hourly_wage"], "10");
    assert_eq!(apr_a2["persons_moved_to_subsequent"], "1");
    assert_eq!(feb_a2["persons_moved_to_subsequent"], "0");
    // Wages: April $500 from p4, May $300 from p5; Q2 $800 from 2 distinct persons (one per
    // month, so no month alone shows 2).
    assert_eq!(apr_a2["wages_reported"], "500");
    assert_eq!(apr_a2["wages_reported_items"], "1");
    let q2_a2 = at("a2", "2026Q2");
    assert_eq!(q2_a2["wages_reported"], "800");
    assert_eq!(q2_a2["wages_reported_items"], "2");
    assert_eq!(at("a1", "2026Q2")["wages_reported"], "0");

    // 5. First jobs due: J1 (01-20 + 90 = 04-20) in April; J5 (02-19 + 90 = 05-20 = D) in May,
    // due at D; J4 (02-20 + 90 = 05-21 > D) and J3 (03-20 + 90 = 06-18) not yet. None ended:
    // both due jobs retained → May 1 of 1, Q2 2 of 2. J2 is a second job, never due.
    assert_eq!(apr_a2["first_jobs_due_90d"], "1");
    let may_a2 = at("a2", "2026-05");
    assert_eq!(may_a2["first_jobs_due_90d"], "1");
    assert_eq!(may_a2["retained_90d"], "1");
    assert_eq!(may_a2["retention_90d_rate"], "1");
    assert_eq!(may_a2["retention_90d_rate_items"], "1");
    assert_eq!(q2_a2["first_jobs_due_90d"], "2");
    assert_eq!(q2_a2["retained_90d"], "2");
    assert_eq!(at("a1", "2026-05")["retention_90d_rate"], "null");
}
