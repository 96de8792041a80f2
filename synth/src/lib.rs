//! Synthetic consortia: realistic, messy event feeds, the same for the same seed.
//!
//! Each consortium has several partner agencies that perform differently (how long people wait
//! for a first service and for a job, how often they place people, at what wages, how long jobs
//! last). People arrive in intake waves; some are assessed and never placed; jobs end and second
//! jobs follow; cases close and people come back; wage records arrive every pay period, also
//! after a case closes. The feed has the mess real ones have: records entered late, corrections
//! (`supersedes`), retractions, copies sent twice (some with changed content), and about 1%
//! invalid messages of every kind.
//!
//! Generation streams person by person, so memory stays flat however many events are asked for.
//!
//! ```
//! use chrono::NaiveDate;
//! use outcomes_synth::{Scenario, generate};
//!
//! let scenario = Scenario { participants: 50, ..Scenario::default() };
//! let mut count = 0;
//! generate(&scenario, &mut |message| {
//!     assert!(message.value.starts_with('{'));
//!     count += 1;
//! });
//! assert!(count > 50);
//! ```

use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// How many consortia.
    pub consortia: u32,
    /// People per consortium.
    pub participants: u32,
    /// How many months of history, ending at `end`.
    pub months: u32,
    /// The seed: the same seed and settings give the same messages, byte for byte.
    pub seed: u64,
    /// The extraction date: nothing is recorded after it.
    pub end: NaiveDate,
    /// Share of messages made invalid on purpose.
    pub invalid_share: f64,
}

impl Default for Scenario {
    /// One consortium of 2,000 people over 24 months ending 2026-10-31.
    fn default() -> Self {
        Self {
            consortia: 1,
            participants: 2_000,
            months: 24,
            seed: 42,
            end: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap_or_default(),
            invalid_share: 0.01,
        }
    }
}

/// One generated message, ready for a file line or a Kafka record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The consortium whose topic or file it belongs to.
    pub consortium: String,
    /// The event type its topic is for (`outcomes.<consortium>.<event_type>`).
    pub event_type: &'static str,
    /// The Kafka key, `<consortium_id>:<participant_id>`.
    pub key: String,
    /// The JSON value, one line.
    pub value: String,
    /// The month (`YYYY-MM`) it was recorded in, to split files as agencies would drop them.
    pub recorded_month: String,
}

/// Consortium names, in order; more consortia than names get numbered ids.
const CONSORTIA: [&str; 6] = [
    "north-shore",
    "south-bay",
    "east-valley",
    "west-ridge",
    "lake-county",
    "high-plains",
];

/// How one partner agency performs.
#[derive(Debug, Clone, Copy)]
struct Agency {
    id: &'static str,
    /// Share of intakes that go to this agency (relative weight).
    weight: f64,
    /// Median days from intake to first service.
    service_median_days: f64,
    /// Chance an episode ever leads to a job.
    placement_chance: f64,
    /// Median days from first service to job start.
    placement_median_days: f64,
    /// Mean hourly wage of placements.
    wage_mean: f64,
    /// Median job length in days.
    job_median_days: f64,
    /// The agency's UTC offset, in hours, for `recorded_at`.
    utc_offset_hours: i32,
}

const AGENCIES: [Agency; 5] = [
    Agency {
        id: "vr-east",
        weight: 3.0,
        service_median_days: 12.0,
        placement_chance: 0.55,
        placement_median_days: 35.0,
        wage_mean: 15.5,
        job_median_days: 320.0,
        utc_offset_hours: -5,
    },
    Agency {
        id: "vr-west",
        weight: 2.0,
        service_median_days: 30.0,
        placement_chance: 0.40,
        placement_median_days: 70.0,
        wage_mean: 13.0,
        job_median_days: 200.0,
        utc_offset_hours: -8,
    },
    Agency {
        id: "pathways",
        weight: 1.5,
        service_median_days: 8.0,
        placement_chance: 0.65,
        placement_median_days: 25.0,
        wage_mean: 11.0,
        job_median_days: 150.0,
        utc_offset_hours: -5,
    },
    Agency {
        id: "metro-works",
        weight: 1.0,
        service_median_days: 45.0,
        placement_chance: 0.30,
        placement_median_days: 110.0,
        wage_mean: 9.0,
        job_median_days: 90.0,
        utc_offset_hours: 1,
    },
    Agency {
        id: "school-transition",
        weight: 0.7,
        service_median_days: 20.0,
        placement_chance: 0.35,
        placement_median_days: 60.0,
        wage_mean: 8.2,
        job_median_days: 120.0,
        utc_offset_hours: -6,
    },
];

/// Generates the scenario's messages, calling `emit` for each in a stable order.
pub fn generate(scenario: &Scenario, emit: &mut dyn FnMut(&Message)) {
    for index in 0..scenario.consortia {
        let consortium = CONSORTIA.get(index as usize).map_or_else(
            || format!("consortium-{}", index + 1),
            |name| (*name).to_owned(),
        );
        let seed = scenario.seed ^ (u64::from(index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut person = Person::new(scenario, &consortium);
        for number in 1..=scenario.participants {
            person.reset(number);
            person.live(&mut rng);
            person.send(&mut rng, emit);
        }
    }
}

/// One fact about a person before it becomes a message.
#[derive(Debug, Clone)]
struct Fact {
    event_type: &'static str,
    agency: Agency,
    occurred_on: NaiveDate,
    /// Days between the fact and its recording.
    lag_days: i64,
    /// Payload JSON (without braces).
    payload: String,
}

/// The generator's state for one consortium, reused person after person.
struct Person<'s> {
    scenario: &'s Scenario,
    consortium: String,
    start: NaiveDate,
    participant_id: String,
    facts: Vec<Fact>,
    job_counter: u32,
}

fn lognormal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    // Box-Muller: a normal deviate from two uniforms.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * normal).exp()
}

fn days(value: f64) -> Duration {
    Duration::days(value.round().clamp(0.0, 3650.0) as i64)
}

impl<'s> Person<'s> {
    fn new(scenario: &'s Scenario, consortium: &str) -> Self {
        let start = scenario
            .end
            .checked_sub_months(chrono::Months::new(scenario.months))
            .unwrap_or(scenario.end);
        Self {
            scenario,
            consortium: consortium.to_owned(),
            start,
            participant_id: String::new(),
            facts: Vec::new(),
            job_counter: 0,
        }
    }

    fn reset(&mut self, number: u32) {
        self.participant_id = format!("P-{number:07}");
        self.facts.clear();
        self.job_counter = 0;
    }

    fn pick_agency(rng: &mut impl Rng) -> Agency {
        let total: f64 = AGENCIES.iter().map(|a| a.weight).sum();
        let mut pick = rng.random_range(0.0..total);
        for agency in AGENCIES {
            if pick < agency.weight {
                return agency;
            }
            pick -= agency.weight;
        }
        AGENCIES[0]
    }

    /// An intake date with waves: more intakes in late spring (school leavers) and in January.
    fn intake_date(&self, rng: &mut impl Rng) -> NaiveDate {
        let span = (self.scenario.end - self.start).num_days().max(1);
        loop {
            let date = self.start + Duration::days(rng.random_range(0..span));
            let weight = match date.month() {
                5 | 6 => 1.0,
                1 => 0.9,
                12 => 0.4,
                _ => 0.6,
            };
            if rng.random::<f64>() < weight {
                return date;
            }
        }
    }

    fn fact(
        &mut self,
        rng: &mut impl Rng,
        event_type: &'static str,
        agency: Agency,
        on: NaiveDate,
        payload: String,
    ) {
        if on > self.scenario.end {
            return;
        }
        // Most records are entered within days; one in twenty weeks or months late.
        let lag_days = if rng.random::<f64>() < 0.05 {
            rng.random_range(20..120)
        } else {
            rng.random_range(0..4)
        };
        self.facts.push(Fact {
            event_type,
            agency,
            occurred_on: on,
            lag_days,
            payload,
        });
    }

    /// Lives one person's story: one or more episodes with services, jobs, wages and exits.
    fn live(&mut self, rng: &mut impl Rng) {
        let mut agency = Self::pick_agency(rng);
        let mut intake_on = self.intake_date(rng);
        loop {
            let referral =
                ["school", "self", "medical", "family", "workforce-board"][rng.random_range(0..5)];
            self.fact(
                rng,
                "intake",
                agency,
                intake_on,
                format!(r#""referral_source":"{referral}","program":"supported-employment""#),
            );
            let closed_on = self.episode(rng, agency, intake_on);
            // About one in eight people come back after their case closes.
            match closed_on {
                Some(closed) if rng.random::<f64>() < 0.12 => {
                    intake_on = closed + days(lognormal(rng, 120.0, 0.6));
                    if intake_on > self.scenario.end {
                        break;
                    }
                    if rng.random::<f64>() < 0.3 {
                        agency = Self::pick_agency(rng);
                    }
                }
                _ => break,
            }
        }
    }

    /// One episode; returns the exit date when the case closes within the timeline.
    fn episode(
        &mut self,
        rng: &mut impl Rng,
        agency: Agency,
        intake_on: NaiveDate,
    ) -> Option<NaiveDate> {
        let end = self.scenario.end;
        let first_service = intake_on + days(lognormal(rng, agency.service_median_days, 0.9));
        if rng.random::<f64>() < 0.8 {
            let kind = ["vocational", "situational", "benefits", "other"][rng.random_range(0..4)];
            self.fact(
                rng,
                "assessment",
                agency,
                first_service,
                format!(r#""assessment_type":"{kind}""#),
            );
        }
        let services = rng.random_range(1..4);
        let mut on = first_service;
        for _ in 0..services {
            let kind = [
                "job-development",
                "job-coaching",
                "training",
                "benefits-planning",
            ][rng.random_range(0..4)];
            self.fact(
                rng,
                "service",
                agency,
                on,
                format!(r#""service_type":"{kind}""#),
            );
            on += days(lognormal(rng, 20.0, 0.7));
        }
        let mut last_activity = on;
        let mut employed = false;
        if rng.random::<f64>() < agency.placement_chance {
            let mut job_start =
                first_service + days(lognormal(rng, agency.placement_median_days, 0.8));
            // First job, and with luck a second after the first ends.
            for job_number in 0..2 {
                if job_start > end {
                    break;
                }
                let ended = self.job(rng, agency, job_start);
                employed = ended.is_none();
                // A case with a job that lasts is closed as employed once the job has held
                // about 90 days, as vocational rehabilitation does; the job goes on after it.
                last_activity = ended.unwrap_or(job_start + days(90.0)).max(job_start);
                match ended {
                    Some(ended) if job_number == 0 && rng.random::<f64>() < 0.55 => {
                        job_start = ended + days(lognormal(rng, 40.0, 0.8));
                    }
                    _ => break,
                }
            }
        }
        // Cases close some months after the last activity; many stay open.
        if rng.random::<f64>() < 0.55 {
            let exit_on = last_activity + days(lognormal(rng, 90.0, 0.6));
            if exit_on <= end {
                let outcome = if employed {
                    "employed"
                } else if rng.random::<f64>() < 0.8 {
                    "not_employed"
                } else {
                    "other"
                };
                self.fact(
                    rng,
                    "exit",
                    agency,
                    exit_on,
                    format!(r#""outcome":"{outcome}""#),
                );
                return Some(exit_on);
            }
        }
        None
    }

    /// One job with its wage records; returns its last day when it ends within the timeline.
    fn job(&mut self, rng: &mut impl Rng, agency: Agency, start: NaiveDate) -> Option<NaiveDate> {
        self.job_counter += 1;
        let job_id = format!("J{}", self.job_counter);
        let hourly_wage =
            (agency.wage_mean + lognormal(rng, 1.0, 0.5) * 3.0 - 3.0).clamp(5.0, 60.0);
        let hourly_wage = (hourly_wage * 100.0).round() / 100.0;
        let hours = f64::from(rng.random_range(8..=40u32));
        let employer = rng.random_range(1..400u32);
        let competitive = rng.random::<f64>() < 0.8;
        let soc = ["35-2021", "37-2011", "43-4051", "53-7062", "41-2031"][rng.random_range(0..5)];
        self.fact(
            rng,
            "placement",
            agency,
            start,
            format!(
                r#""job_id":"{job_id}","employer_id":"E-{employer:04}","hourly_wage":{hourly_wage},"hours_per_week":{hours},"competitive_integrated":{competitive},"occupation_code":"{soc}""#
            ),
        );
        let length = lognormal(rng, agency.job_median_days, 1.0);
        let last_day = start + days(length);
        let ended = (last_day <= self.scenario.end).then_some(last_day);
        // Biweekly wage records, continuing whatever happens to the case.
        let mut period_start = start;
        while period_start <= last_day.min(self.scenario.end) {
            let period_end = (period_start + Duration::days(13)).min(last_day);
            if period_end > self.scenario.end {
                break;
            }
            let worked_days = (period_end - period_start).num_days() + 1;
            let worked =
                (hours * worked_days as f64 / 7.0 * rng.random_range(0.7..1.05)).min(744.0);
            let worked = (worked * 100.0).round() / 100.0;
            let gross = (worked * hourly_wage * 100.0).round() / 100.0;
            self.fact(
                rng,
                "wage",
                agency,
                period_end,
                format!(
                    r#""job_id":"{job_id}","period_start":"{period_start}","period_end":"{period_end}","gross_wages":{gross},"hours_worked":{worked}"#
                ),
            );
            period_start = period_end + Duration::days(1);
        }
        if let Some(ended) = ended {
            let reason =
                ["quit", "laid_off", "fired", "temporary_end", "other"][rng.random_range(0..5)];
            self.fact(
                rng,
                "separation",
                agency,
                ended,
                format!(r#""job_id":"{job_id}","reason":"{reason}""#),
            );
        }
        ended
    }

    /// Turns the facts into messages, adding corrections, retractions, copies and invalid ones.
    fn send(&mut self, rng: &mut impl Rng, emit: &mut dyn FnMut(&Message)) {
        let facts = std::mem::take(&mut self.facts);
        let key = format!("{}:{}", self.consortium, self.participant_id);
        for fact in &facts {
            let recorded_on = fact.occurred_on + Duration::days(fact.lag_days);
            if recorded_on > self.scenario.end {
                continue;
            }
            let event_id = uuid(rng);
            let hour = rng.random_range(7..24);
            let value = self.envelope(
                fact,
                &event_id,
                recorded_on,
                hour,
                rng.random_range(0..60),
                None,
                &fact.payload,
            );
            let message = |value: String, event_type: &'static str| Message {
                consortium: self.consortium.clone(),
                event_type,
                key: key.clone(),
                value,
                recorded_month: format!("{:04}-{:02}", recorded_on.year(), recorded_on.month()),
            };
            let roll: f64 = rng.random();
            if roll < self.scenario.invalid_share {
                emit(&message(self.break_message(rng, &value), fact.event_type));
                continue;
            }
            emit(&message(value.clone(), fact.event_type));
            let roll: f64 = rng.random();
            if roll < 0.005 {
                // Sent twice, byte for byte.
                emit(&message(value, fact.event_type));
            } else if roll < 0.007 {
                // Sent twice with the same id but an edited payload: a conflicting duplicate.
                let edited =
                    self.envelope(fact, &event_id, recorded_on, hour, 59, None, &fact.payload);
                emit(&message(
                    edited.replacen("\"schema_version\":1", "\"schema_version\":1.0", 1),
                    fact.event_type,
                ));
            } else if roll < 0.012 && recorded_on + Duration::days(7) <= self.scenario.end {
                // Corrected a week later by a superseding event with the same facts.
                let correction = self.envelope(
                    fact,
                    &uuid(rng),
                    recorded_on + Duration::days(7),
                    10,
                    0,
                    Some(&event_id),
                    &fact.payload,
                );
                emit(&message(correction, fact.event_type));
            } else if roll < 0.015 && recorded_on + Duration::days(3) <= self.scenario.end {
                // Entered by mistake and voided.
                let retraction = Fact {
                    event_type: "retraction",
                    occurred_on: fact.occurred_on,
                    ..fact.clone()
                };
                let payload =
                    format!(r#""retracted_event_id":"{event_id}","reason":"entered in error""#);
                let value = self.envelope(
                    &retraction,
                    &uuid(rng),
                    recorded_on + Duration::days(3),
                    9,
                    30,
                    None,
                    &payload,
                );
                emit(&message(value, "retraction"));
            }
        }
        self.facts = facts;
    }

    #[allow(clippy::too_many_arguments)]
    fn envelope(
        &self,
        fact: &Fact,
        event_id: &str,
        recorded_on: NaiveDate,
        hour: u32,
        minute: u32,
        supersedes: Option<&str>,
        payload: &str,
    ) -> String {
        let offset = fact.agency.utc_offset_hours;
        let sign = if offset < 0 { '-' } else { '+' };
        let mut value = String::with_capacity(420);
        let _ = write!(
            value,
            r#"{{"event_id":"{event_id}","event_type":"{}","schema_version":1,"consortium_id":"{}","agency_id":"{}","participant_id":"{}","occurred_on":"{}","recorded_at":"{}T{hour:02}:{minute:02}:00{sign}{:02}:00""#,
            fact.event_type,
            self.consortium,
            fact.agency.id,
            self.participant_id,
            fact.occurred_on,
            recorded_on,
            offset.abs(),
        );
        if let Some(replaced) = supersedes {
            let _ = write!(value, r#","supersedes":"{replaced}""#);
        }
        let _ = write!(value, r#","payload":{{{payload}}}}}"#);
        value
    }

    /// An invalid variant of a valid message, one kind of breakage at a time.
    fn break_message(&self, rng: &mut impl Rng, value: &str) -> String {
        match rng.random_range(0..8) {
            0 => value[..value.len() / 2].to_owned(),
            1 => value.replacen("\"schema_version\":1", "\"schema_version\":2", 1),
            2 => value.replacen("\"event_type\":\"", "\"event_type\":\"x", 1),
            3 => value.replacen("\"agency_id\":", "\"agency\":", 1),
            4 => value.replacen("\"occurred_on\":\"", "\"occurred_on\":\"3", 1),
            5 => value.replacen(
                &format!("\"consortium_id\":\"{}\"", self.consortium),
                "\"consortium_id\":\"elsewhere\"",
                1,
            ),
            6 => value.replacen("\"payload\":{", "\"payload\":{\"note\":\"free text\",", 1),
            _ => value.replacen(":00\"", ":00", 1),
        }
    }
}

/// A random version-4 UUID, lower case.
fn uuid(rng: &mut impl Rng) -> String {
    let bits: u128 = rng.random();
    let bits = (bits & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(scenario: &Scenario) -> Vec<Message> {
        let mut out = Vec::new();
        generate(scenario, &mut |m| out.push(m.clone()));
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_messages() {
        let scenario = Scenario {
            participants: 200,
            ..Scenario::default()
        };
        assert_eq!(all(&scenario), all(&scenario));
        let other = all(&Scenario {
            seed: 7,
            ..scenario.clone()
        });
        assert_ne!(all(&scenario), other);
    }

    #[test]
    fn every_event_type_and_the_expected_mess_appear() {
        let messages = all(&Scenario {
            participants: 3_000,
            consortia: 2,
            ..Scenario::default()
        });
        for event_type in [
            "intake",
            "assessment",
            "service",
            "placement",
            "wage",
            "separation",
            "exit",
            "retraction",
        ] {
            assert!(
                messages.iter().any(|m| m.event_type == event_type),
                "{event_type}"
            );
        }
        assert!(messages.iter().any(|m| m.value.contains("\"supersedes\"")));
        assert!(messages.iter().any(|m| m.consortium == "south-bay"));
        let mut values: Vec<&str> = messages.iter().map(|m| m.value.as_str()).collect();
        values.sort_unstable();
        let before = values.len();
        values.dedup();
        assert!(values.len() < before, "some copies are sent twice");
    }

    #[test]
    fn uuids_have_the_version_4_form() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let id = uuid(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }
}
