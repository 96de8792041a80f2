//! Hand-worked fixtures for INDICATORS.md: small event sets through the real file ingest and
//! transform, with every expected value worked out by hand in the comments.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use outcomes_ingest::{BatchLimits, FileIngest, Lake};
use outcomes_schemas::{ConsortiumId, Pseudonymizer, Validator};
use outcomes_transform::{Config, TransformSettings};

use crate::common::{compare_with_reference, row, rows, scratch, table};

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
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut loader = FileIngest::new(
            runtime.block_on(Lake::open(&lake.into())).unwrap(),
            Validator::new(Pseudonymizer::demo()),
            ConsortiumId::new(CONSORTIUM).unwrap(),
            BatchLimits::default(),
        );
        runtime.block_on(loader.load(&file, &mut |_| {})).unwrap();
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
        lake: lake.into(),
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

/// Rule 1.6 (after exit), the five `episodes` columns of version 2, `after_exit` and measure 6,
/// at D = 2026-12-31, the last day of 2026Q4, so 2026Q4 is the last observable quarter.
#[test]
fn after_exit_quarters_employers_and_visibility() {
    let dir = scratch();
    let lake = dir.path().join("lake");
    let mut feed = Feed::default();
    let mut ev = |n: u32, kind: &str, agency: &str, who: &str, on: &str, payload: String| {
        feed.event(
            n,
            kind,
            agency,
            who,
            on,
            &format!("{on}T10:00:00Z"),
            None,
            &payload,
        );
    };
    let placement = |job: &str, employer: Option<&str>| {
        let employer = employer
            .map(|e| format!(r#""employer_id":"{e}","#))
            .unwrap_or_default();
        format!(
            r#""job_id":"{job}",{employer}"hourly_wage":15.0,"hours_per_week":20,"competitive_integrated":true"#
        )
    };
    // A two-week pay period ending on `end` (its start may fall in the quarter before).
    let wage = |job: &str, end: &str, gross: f64| {
        let end_on: NaiveDate = end.parse().unwrap();
        let start = end_on - chrono::Duration::days(13);
        format!(
            r#""job_id":"{job}","period_start":"{start}","period_end":"{end}","gross_wages":{gross},"hours_worked":10"#
        )
    };
    let separation = |job: &str| format!(r#""job_id":"{job}","reason":"quit""#);
    let exit = || r#""outcome":"employed""#.to_owned();
    let intake = String::new;

    // p1: exit on the last day of a quarter (2025-03-31: X = 2025Q1, measured in 2025Q3 and
    // 2026Q1). J1 (employer E1) never separates, so it is active in both; wages in 2025Q3: 500
    // (period ending 07-14) + 300 (ending 09-30, the quarter's last day) = 800.
    ev(101, "intake", "a1", "p1", "2025-01-10", intake());
    ev(
        102,
        "placement",
        "a1",
        "p1",
        "2025-02-01",
        placement("J1", Some("E1")),
    );
    ev(103, "exit", "a1", "p1", "2025-03-31", exit());
    ev(
        104,
        "wage",
        "a1",
        "p1",
        "2025-07-14",
        wage("J1", "2025-07-14", 500.0),
    );
    ev(
        105,
        "wage",
        "a1",
        "p1",
        "2025-09-30",
        wage("J1", "2025-09-30", 300.0),
    );
    // p2: exit on the first day of a quarter (2025-04-01: X = 2025Q2, measured in 2025Q4 and
    // 2026Q2). J1 ends 2025-09-30, before 2025Q4 starts: not employed in either quarter (had
    // the exit counted in 2025Q1, J1 would be active in 2025Q3). No employer has evidence in
    // quarter 2, so same_employer_q4 is null.
    ev(201, "intake", "a1", "p2", "2025-02-03", intake());
    ev(
        202,
        "placement",
        "a1",
        "p2",
        "2025-03-01",
        placement("J1", Some("E2")),
    );
    ev(203, "exit", "a1", "p2", "2025-04-01", exit());
    ev(
        204,
        "separation",
        "a1",
        "p2",
        "2025-09-30",
        separation("J1"),
    );
    // p3: the year wrap from Q3 (2025-08-15: X = 2025Q3, measured in 2026Q1 and 2026Q3). J1
    // (E3) ends 2026-01-01, the first day of 2026Q1: one day is enough, so employed in quarter
    // 2 with earnings exactly 0 (no wage record in 2026Q1). In 2026Q3 its only record, after
    // its end, pays 0: no evidence, not employed; E3 had evidence in quarter 2 only: false.
    ev(301, "intake", "a1", "p3", "2025-06-01", intake());
    ev(
        302,
        "placement",
        "a1",
        "p3",
        "2025-07-01",
        placement("J1", Some("E3")),
    );
    ev(303, "exit", "a1", "p3", "2025-08-15", exit());
    ev(
        304,
        "separation",
        "a1",
        "p3",
        "2026-01-01",
        separation("J1"),
    );
    ev(
        305,
        "wage",
        "a1",
        "p3",
        "2026-08-01",
        wage("J1", "2026-08-01", 0.0),
    );
    // p4: the year wrap from Q4 (2025-11-15: X = 2025Q4, measured in 2026Q2 and 2026Q4, which
    // ends exactly on D: observable). No job in that episode; the person re-enters with a2
    // (episode 2, 2026-03-01) and is placed in J2 (E4) on 2026-04-10: the evidence is the
    // person's, of any episode and agency. Employed in both quarters, 1200 earned in 2026Q2,
    // E4 in both: retained. Episode 2 has no exit: its five columns are null.
    ev(401, "intake", "a1", "p4", "2025-09-01", intake());
    ev(402, "exit", "a1", "p4", "2025-11-15", exit());
    ev(403, "intake", "a2", "p4", "2026-03-01", intake());
    ev(
        404,
        "placement",
        "a2",
        "p4",
        "2026-04-10",
        placement("J2", Some("E4")),
    );
    ev(
        405,
        "wage",
        "a2",
        "p4",
        "2026-06-30",
        wage("J2", "2026-06-30", 1200.0),
    );
    // p5: X = 2025Q1 (exit 02-15), measured in 2025Q3 and 2026Q1. J1 has no employer_key and
    // is active through 2025-12-31 with no wage records: employed in 2025Q3, but for no
    // employer. J2 (E5) ended 2025-03-15 but has a 250 record ending 2025-07-31: E5 has
    // evidence in 2025Q3 and earnings are 250. In 2026Q1 only J3 (E6) has evidence, a 400
    // record after its end: employed, but E5 and E6 differ: same_employer_q4 false.
    ev(501, "intake", "a1", "p5", "2025-01-05", intake());
    ev(
        502,
        "placement",
        "a1",
        "p5",
        "2025-01-20",
        placement("J1", None),
    );
    ev(
        503,
        "placement",
        "a1",
        "p5",
        "2025-02-01",
        placement("J2", Some("E5")),
    );
    ev(
        504,
        "placement",
        "a1",
        "p5",
        "2025-02-10",
        placement("J3", Some("E6")),
    );
    ev(
        505,
        "separation",
        "a1",
        "p5",
        "2025-02-12",
        separation("J3"),
    );
    ev(506, "exit", "a1", "p5", "2025-02-15", exit());
    ev(
        507,
        "separation",
        "a1",
        "p5",
        "2025-03-15",
        separation("J2"),
    );
    ev(
        508,
        "wage",
        "a1",
        "p5",
        "2025-07-31",
        wage("J2", "2025-07-31", 250.0),
    );
    ev(
        509,
        "separation",
        "a1",
        "p5",
        "2025-12-31",
        separation("J1"),
    );
    ev(
        510,
        "wage",
        "a1",
        "p5",
        "2026-02-28",
        wage("J3", "2026-02-28", 400.0),
    );
    // p6: one employer through two jobs. X = 2025Q1 (exit 02-20). J1 (E7) ended 06-30; its
    // record ending 2025-07-10 (period from 06-27) is in 2025Q3: 100. J2 (E7) ended 03-01; its
    // record ending 2026-03-31 is in 2026Q1: 200. E7 has evidence in both: retained.
    ev(601, "intake", "a1", "p6", "2025-01-05", intake());
    ev(
        602,
        "placement",
        "a1",
        "p6",
        "2025-01-15",
        placement("J1", Some("E7")),
    );
    ev(
        603,
        "placement",
        "a1",
        "p6",
        "2025-02-01",
        placement("J2", Some("E7")),
    );
    ev(604, "exit", "a1", "p6", "2025-02-20", exit());
    ev(
        605,
        "separation",
        "a1",
        "p6",
        "2025-03-01",
        separation("J2"),
    );
    ev(
        606,
        "separation",
        "a1",
        "p6",
        "2025-06-30",
        separation("J1"),
    );
    ev(
        607,
        "wage",
        "a1",
        "p6",
        "2025-07-10",
        wage("J1", "2025-07-10", 100.0),
    );
    ev(
        608,
        "wage",
        "a1",
        "p6",
        "2026-03-31",
        wage("J2", "2026-03-31", 200.0),
    );
    // p7: two exits. Episode 1: X = 2025Q1 (exit 03-10), no job of its own, but J1 (E8) of
    // episode 2, placed 2025-05-10 and never ended, is the person's: active in 2025Q3 (no wage
    // record there: earnings 0) and 2026Q1, E8 in both: retained. Episode 2: X = 2026Q2 (exit
    // 05-20): quarter 2 is 2026Q4,
    // ending on D, observable; quarter 4 is 2027Q2, not: employed_q4 and same_employer_q4
    // null. J1 (E8) is active; its record ending 2026-12-31 (= D) pays 900; one ending
    // 12-20 but recorded 2027-01-05, after D, is not visible.
    ev(701, "intake", "a1", "p7", "2025-01-05", intake());
    ev(702, "exit", "a1", "p7", "2025-03-10", exit());
    ev(703, "intake", "a1", "p7", "2025-05-01", intake());
    ev(
        704,
        "placement",
        "a1",
        "p7",
        "2025-05-10",
        placement("J1", Some("E8")),
    );
    ev(705, "exit", "a1", "p7", "2026-05-20", exit());
    ev(
        706,
        "wage",
        "a1",
        "p7",
        "2026-12-31",
        wage("J1", "2026-12-31", 900.0),
    );
    // p8: X = 2025Q1 (exit 02-01). J1's placement is retracted, so its 700 record in 2025Q3
    // is an unknown_job and no evidence. J2 (no employer) ended 01-31; its 300 record ending
    // 2025-08-15 is superseded by one of 0: not employed in 2025Q3, earnings 0; nothing in
    // 2026Q1; no employer: same_employer_q4 null.
    ev(801, "intake", "a1", "p8", "2025-01-05", intake());
    ev(
        802,
        "placement",
        "a1",
        "p8",
        "2025-01-10",
        placement("J1", Some("E9")),
    );
    ev(
        803,
        "placement",
        "a1",
        "p8",
        "2025-01-12",
        placement("J2", None),
    );
    ev(
        804,
        "separation",
        "a1",
        "p8",
        "2025-01-31",
        separation("J2"),
    );
    ev(805, "exit", "a1", "p8", "2025-02-01", exit());
    ev(
        806,
        "retraction",
        "a1",
        "p8",
        "2025-02-02",
        format!(r#""retracted_event_id":"{}""#, id(802)),
    );
    ev(
        807,
        "wage",
        "a1",
        "p8",
        "2025-08-01",
        wage("J1", "2025-08-01", 700.0),
    );
    ev(
        808,
        "wage",
        "a1",
        "p8",
        "2025-08-15",
        wage("J2", "2025-08-15", 300.0),
    );
    // Recorded after D (p7), and superseding 808 (p8).
    feed.event(
        707,
        "wage",
        "a1",
        "p7",
        "2026-12-20",
        "2027-01-05T10:00:00Z",
        None,
        &wage("J1", "2026-12-20", 50.0),
    );
    feed.event(
        809,
        "wage",
        "a1",
        "p8",
        "2025-08-15",
        "2025-08-20T10:00:00Z",
        Some(808),
        &wage("J2", "2025-08-15", 0.0),
    );
    feed.load(&lake);
    let tables = transform(&lake, &dir.path().join("out"), "2026-12-31");

    let episode = |who: &str, no: &str| {
        row(
            &tables["episodes"],
            &[("person_key", &person(who)), ("episode_no", no)],
        )
    };
    let after = |e: &BTreeMap<String, String>| {
        [
            "exit_quarter",
            "employed_q2",
            "earnings_q2",
            "employed_q4",
            "same_employer_q4",
        ]
        .map(|c| e[c].clone())
    };
    let expect = |values: [&str; 5]| values.map(str::to_owned);
    assert_eq!(
        after(&episode("p1", "1")),
        expect(["2025Q1", "true", "800", "true", "true"])
    );
    assert_eq!(
        after(&episode("p2", "1")),
        expect(["2025Q2", "false", "0", "false", "null"])
    );
    assert_eq!(
        after(&episode("p3", "1")),
        expect(["2025Q3", "true", "0", "false", "false"])
    );
    assert_eq!(
        after(&episode("p4", "1")),
        expect(["2025Q4", "true", "1200", "true", "true"])
    );
    assert_eq!(
        after(&episode("p4", "2")),
        expect(["null", "null", "null", "null", "null"])
    );
    assert_eq!(
        after(&episode("p5", "1")),
        expect(["2025Q1", "true", "250", "true", "false"])
    );
    assert_eq!(
        after(&episode("p6", "1")),
        expect(["2025Q1", "true", "100", "true", "true"])
    );
    assert_eq!(
        after(&episode("p7", "1")),
        expect(["2025Q1", "true", "0", "true", "true"])
    );
    assert_eq!(
        after(&episode("p7", "2")),
        expect(["2026Q2", "true", "900", "null", "null"])
    );
    assert_eq!(
        after(&episode("p8", "1")),
        expect(["2025Q1", "false", "0", "false", "null"])
    );

    // after_exit, a1 (every exit is a1's; ALL is the same):
    // 2025Q1: p1, p5, p6, p7 (episode 1), p8 → 5 exits, all eligible in both quarters;
    //   employed in quarter 2: p1, p5, p6, p7 → 4, rate 0.8, median of (0, 100, 250, 800) =
    //   (100 + 250) / 2 = 175; in quarter 4: p1, p5, p6, p7 → 4, 0.8; an employer in quarter
    //   2: p1, p5, p6, p7 → 4, of whom p1, p6 and p7 kept it → 3, 0.75.
    // 2025Q2: p2 → eligible 1 and 1, employed 0 and 0, rates 0, no median, no employer.
    // 2025Q3: p3 → employed in quarter 2 with earnings 0 (median 0), not in quarter 4;
    //   E3 in quarter 2, not kept → 1, 0, 0.
    // 2025Q4: p4 → 1 of 1 twice, median 1200, retained 1 of 1.
    // 2026Q2: p7 (episode 2) → quarter 2 only: 1 of 1, median 900; quarter 4 not observable.
    let columns = [
        "exiters",
        "eligible_q2",
        "employed_q2",
        "employment_rate_q2",
        "median_earnings_q2",
        "eligible_q4",
        "employed_q4",
        "employment_rate_q4",
        "employed_q2_with_employer",
        "retained_same_employer",
        "same_employer_rate",
    ];
    let quarter = |agency: &str, q: &str| {
        let r = row(
            &tables["after_exit"],
            &[("agency_id", agency), ("exit_quarter", q)],
        );
        columns.map(|c| r[c].clone())
    };
    let expect = |values: [&str; 11]| values.map(str::to_owned);
    let q1 = quarter("a1", "2025Q1");
    assert_eq!(
        q1,
        expect([
            "5", "5", "4", "0.8", "175", "5", "4", "0.8", "4", "3", "0.75"
        ])
    );
    assert_eq!(quarter("ALL", "2025Q1"), q1);
    assert_eq!(
        quarter("a1", "2025Q2"),
        expect(["1", "1", "0", "0", "null", "1", "0", "0", "0", "0", "null"])
    );
    assert_eq!(
        quarter("a1", "2025Q3"),
        expect(["1", "1", "1", "1", "0", "1", "0", "0", "1", "0", "0"])
    );
    assert_eq!(
        quarter("a1", "2025Q4"),
        expect(["1", "1", "1", "1", "1200", "1", "1", "1", "1", "1", "1"])
    );
    assert_eq!(
        quarter("a1", "2026Q2"),
        expect([
            "1", "1", "1", "1", "900", "0", "0", "null", "0", "0", "null"
        ])
    );
    assert_eq!(
        rows(&tables["after_exit"], &[]).height(),
        10,
        "5 quarters, a1 and ALL"
    );

    // Measure 6 in `measures`: a period looks back from its quarter Q to exits of Q − 2 and
    // Q − 4. 2026Q1: quarter 2 of 2025Q3's exits (p3: 1 of 1, median 0 over 1 item) and
    // quarter 4 of 2025Q1's (4 of 5; 4 with an employer, 3 kept). February 2026 is in 2026Q1:
    // the same values. 2026Q4: 2026Q2's exits (p7: 900) and 2025Q4's (p4: kept). 2025Q3:
    // 2025Q1's quarter 2 (4 of 5, median 175 over 4 items), nothing four quarters back.
    let measure = |kind: &str, period: &str| {
        row(
            &tables["measures"],
            &[
                ("agency_id", "a1"),
                ("period_kind", kind),
                ("period", period),
            ],
        )
    };
    let six = [
        "eligible_q2",
        "employed_q2",
        "employment_rate_q2",
        "employment_rate_q2_items",
        "median_earnings_q2",
        "median_earnings_q2_items",
        "eligible_q4",
        "employed_q4",
        "employment_rate_q4",
        "employment_rate_q4_items",
        "employed_q2_with_employer",
        "retained_same_employer",
        "same_employer_rate_items",
    ];
    let values = |m: &BTreeMap<String, String>| six.map(|c| m[c].clone());
    let expect = |v: [&str; 13]| v.map(str::to_owned);
    let q2026q1 = measure("quarter", "2026Q1");
    assert_eq!(
        values(&q2026q1),
        expect([
            "1", "1", "1", "1", "0", "1", "5", "4", "0.8", "5", "4", "3", "4"
        ])
    );
    assert_eq!(q2026q1["same_employer_rate"], "0.75");
    assert_eq!(values(&measure("month", "2026-02")), values(&q2026q1));
    assert_eq!(
        values(&measure("quarter", "2026Q4")),
        expect([
            "1", "1", "1", "1", "900", "1", "1", "1", "1", "1", "1", "1", "1"
        ])
    );
    let q2025q3 = measure("quarter", "2025Q3");
    assert_eq!(
        values(&q2025q3),
        expect([
            "5", "4", "0.8", "5", "175", "4", "0", "0", "null", "0", "0", "0", "0"
        ])
    );
    assert_eq!(q2025q3["same_employer_rate"], "null");

    // The DuckDB reference, written from the same sentences with calendar dates and single
    // wage records, agrees cell by cell on this lake.
    compare_with_reference(&lake, &dir.path().join("out"), "2026-12-31", dir.path());
}
