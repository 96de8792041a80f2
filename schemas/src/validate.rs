//! From message bytes to a typed, pseudonymized [`Event`] or a [`Rejection`].
//!
//! The checks run in the contract's order of precedence (size, JSON, event type, schema version,
//! schema, ranges, dates, consortium, topic), so the first reason found is the one reported. The
//! schema pass records the first violation and the first out-of-range value it meets and goes on,
//! because a later schema violation outranks an earlier range error.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use crate::event::{
    AgencyId, AssessmentType, ConsortiumId, Event, EventId, EventType, ExitOutcome, Payload,
    Placement, SeparationReason, Wage, is_agency, is_slug,
};
use crate::json::{self, Json, Object};
use crate::pseudonym::Pseudonymizer;
use crate::reject::{Reason, Rejection};

/// The largest message value accepted, in bytes (1 MiB).
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The envelope fields, in the order they are checked.
const ENVELOPE_FIELDS: [&str; 10] = [
    "event_id",
    "event_type",
    "schema_version",
    "consortium_id",
    "agency_id",
    "participant_id",
    "occurred_on",
    "recorded_at",
    "supersedes",
    "payload",
];

/// A reason and its detail, before the agency is attached.
type Failure = (Reason, String);

/// The first two checks: size, then one JSON object.
fn parse(bytes: &[u8]) -> Result<Object<'_>, Rejection> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Rejection {
            reason: Reason::TooLarge,
            detail: format!(
                "the value is {} bytes, over the limit of {MAX_MESSAGE_BYTES}",
                bytes.len()
            ),
            agency_id: None,
        });
    }
    json::parse_object(bytes).map_err(|error| Rejection {
        reason: Reason::MalformedJson,
        detail: format!("byte {}: {}", error.offset, error.what),
        agency_id: None,
    })
}

/// An event type we know and schema version 1, checked before the schema because a message of
/// another type or version is not expected to match this one.
fn type_and_version(object: &Object) -> Result<(), Failure> {
    if let Some(Json::String(text)) = object.get("event_type")
        && EventType::parse(text).is_none()
    {
        return Err((
            Reason::UnknownEventType,
            format!(
                "event_type: {} is not one of {}",
                quote(text),
                list(EventType::ALL.iter().map(|t| t.as_str()))
            ),
        ));
    }
    if let Some(Json::Number(version)) = object.get("schema_version")
        && *version != 1.0
    {
        return Err((
            Reason::UnsupportedSchemaVersion,
            format!(
                "schema_version: {} is not supported (only 1)",
                number(*version)
            ),
        ));
    }
    Ok(())
}

/// The checks on a well-formed event: its wage period, its dates, and its source.
fn after_schema(event: &Event, origin: &Origin<'_>) -> Result<(), Failure> {
    if let Payload::Wage(wage) = &event.payload {
        wage_period_rule(wage, event.occurred_on).map_err(|d| (Reason::OutOfRange, d))?;
    }
    let recorded_on = event.recorded_at.date_naive();
    if event.occurred_on > recorded_on {
        return Err((
            Reason::OccurredAfterRecorded,
            format!(
                "occurred_on: {} is after {recorded_on}, the date of recorded_at",
                event.occurred_on
            ),
        ));
    }
    if event.consortium_id != *origin.consortium {
        return Err((
            Reason::ConsortiumMismatch,
            format!(
                "consortium_id: {} differs from the source's consortium {}",
                quote(event.consortium_id.as_str()),
                quote(origin.consortium.as_str())
            ),
        ));
    }
    if let Some(topic_type) = origin.topic_event_type
        && topic_type != event.event_type().as_str()
    {
        return Err((
            Reason::TopicMismatch,
            format!(
                "event_type: {} differs from the topic's event type {}",
                quote(event.event_type().as_str()),
                quote(topic_type)
            ),
        ));
    }
    Ok(())
}

/// `supersedes` names another event, and never on a retraction, which voids by
/// `retracted_event_id` instead.
fn supersedes_rules(
    event_type: Option<EventType>,
    event_id: Option<&EventId>,
    supersedes: Option<&Option<EventId>>,
    check: &mut Check,
) {
    if let (Some(Some(replaced)), Some(own)) = (supersedes, event_id)
        && replaced == own
    {
        check.violation("supersedes: an event cannot supersede itself".to_owned());
    }
    if event_type == Some(EventType::Retraction) && matches!(supersedes, Some(Some(_))) {
        check.violation(
            "supersedes: a retraction cannot supersede; it voids its retracted_event_id".to_owned(),
        );
    }
}

/// Where a message came from, as far as validation cares.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The consortium of the topic or of the file.
    pub consortium: &'a ConsortiumId,
    /// The event type named by the Kafka topic; `None` for files.
    pub topic_event_type: Option<&'a str>,
}

/// Validates messages and pseudonymizes the valid ones.
#[derive(Debug, Clone)]
pub struct Validator {
    pseudonymizer: Pseudonymizer,
}

impl Validator {
    /// A validator hashing ids with `pseudonymizer`.
    pub fn new(pseudonymizer: Pseudonymizer) -> Self {
        Self { pseudonymizer }
    }

    /// Parses and validates one message value. Never panics, whatever the bytes.
    pub fn validate(&self, bytes: &[u8], origin: &Origin<'_>) -> Result<Event, Rejection> {
        let object = parse(bytes)?;
        let agency_id = match object.get("agency_id") {
            Some(Json::String(text)) => AgencyId::new(text.as_ref()).ok(),
            _ => None,
        };
        let reject = |(reason, detail)| Rejection {
            reason,
            detail,
            agency_id: agency_id.clone(),
        };
        type_and_version(&object).map_err(reject)?;

        let mut check = Check::default();
        let event = self.read_event(&object, &mut check);
        if let Some(detail) = check.violation {
            return Err(reject((Reason::SchemaViolation, detail)));
        }
        if let Some(detail) = check.out_of_range {
            return Err(reject((Reason::OutOfRange, detail)));
        }
        let Some(event) = event else {
            return Err(reject((
                Reason::SchemaViolation,
                "the message does not match the contract".to_owned(),
            )));
        };
        after_schema(&event, origin).map_err(reject)?;
        Ok(event)
    }

    /// Reads every field, recording problems in `check`; the event only when all are readable.
    fn read_event(&self, object: &Object, check: &mut Check) -> Option<Event> {
        if let Some(key) = object.repeated_key() {
            check.violation(format!("{}: the key appears more than once", key_name(key)));
        }
        for key in object.keys() {
            if !ENVELOPE_FIELDS.contains(&key) {
                check.violation(format!("{}: unknown field", key_name(key)));
            }
        }
        let event_id = check.uuid(object, "event_id", "event_id");
        let event_type = match object.get("event_type") {
            Some(Json::String(text)) => EventType::parse(text),
            other => {
                check.violation(type_error("event_type", "a string", other));
                None
            }
        };
        match object.get("schema_version") {
            Some(Json::Number(_)) => {}
            other => check.violation(type_error("schema_version", "the number 1", other)),
        }
        let consortium_id = check.consortium(object);
        let agency_id = check.agency(object);
        let participant_id = check
            .string(object, "participant_id", "participant_id")
            .and_then(|text| check.length_secret("participant_id", text, 1, 128));
        let occurred_on = check.date(object, "occurred_on", "occurred_on");
        let recorded_at = check.timestamp(object, "recorded_at", "recorded_at");
        let supersedes = check.optional_uuid(object, "supersedes", "supersedes");
        supersedes_rules(event_type, event_id.as_ref(), supersedes.as_ref(), check);
        let payload = match (object.get("payload"), event_type) {
            (Some(Json::Object(payload)), Some(event_type)) => {
                let consortium = consortium_id.as_ref().map(ConsortiumId::as_str);
                self.read_payload(payload, event_type, consortium, check)
            }
            (Some(Json::Object(_)), None) => None,
            (other, _) => {
                check.violation(type_error("payload", "an object", other));
                None
            }
        };

        let consortium_id = consortium_id?;
        let person_key = self
            .pseudonymizer
            .person_key(consortium_id.as_str(), participant_id?);
        Some(Event {
            event_id: event_id?,
            agency_id: agency_id?,
            person_key,
            occurred_on: occurred_on?,
            recorded_at: recorded_at?,
            supersedes: supersedes?,
            payload: payload?,
            consortium_id,
        })
    }

    fn read_payload(
        &self,
        payload: &Object,
        event_type: EventType,
        consortium: Option<&str>,
        check: &mut Check,
    ) -> Option<Payload> {
        payload_keys(payload, event_type, check);
        let p = payload;
        Some(match event_type {
            EventType::Intake => read_intake(p, check)?,
            EventType::Assessment => Payload::Assessment {
                assessment_type: check.choice(
                    p,
                    "assessment_type",
                    "payload.assessment_type",
                    AssessmentType::parse,
                    AssessmentType::ALL.iter().map(|t| t.as_str()),
                )?,
            },
            EventType::Service => Payload::Service {
                service_type: check
                    .bounded_string(p, "service_type", "payload.service_type", 1, 64)?
                    .to_owned(),
            },
            EventType::Placement => self.read_placement(p, consortium, check)?,
            EventType::Wage => read_wage(p, check)?,
            EventType::Separation => read_separation(p, check)?,
            EventType::Exit => Payload::Exit {
                outcome: check.choice(
                    p,
                    "outcome",
                    "payload.outcome",
                    ExitOutcome::parse,
                    ExitOutcome::ALL.iter().map(|o| o.as_str()),
                )?,
            },
            EventType::Retraction => read_retraction(p, check)?,
        })
    }

    /// A placement's payload; the employer id is pseudonymized with the consortium, so the
    /// payload is unreadable when the consortium is not known.
    fn read_placement(
        &self,
        p: &Object,
        consortium: Option<&str>,
        check: &mut Check,
    ) -> Option<Payload> {
        let job_id = check.bounded_string(p, "job_id", "payload.job_id", 1, 64);
        let employer_id = check.optional_string(p, "employer_id", "payload.employer_id");
        let hourly_wage = check.number(
            p,
            "hourly_wage",
            "payload.hourly_wage",
            Bound::Closed(0.0),
            1000.0,
        );
        let hours_per_week = check.number(
            p,
            "hours_per_week",
            "payload.hours_per_week",
            Bound::Open(0.0),
            80.0,
        );
        let competitive_integrated = match p.get("competitive_integrated") {
            Some(Json::Bool(value)) => Some(*value),
            other => {
                check.violation(type_error(
                    "payload.competitive_integrated",
                    "a boolean",
                    other,
                ));
                None
            }
        };
        let occupation_code =
            check.optional_string(p, "occupation_code", "payload.occupation_code");
        let employer_key = match (employer_id?, consortium) {
            (None, _) => None,
            (Some(id), Some(consortium)) => Some(self.pseudonymizer.employer_key(consortium, id)),
            (Some(_), None) => return None,
        };
        Some(Payload::Placement(Placement {
            job_id: job_id?.to_owned(),
            employer_key,
            hourly_wage: hourly_wage?,
            hours_per_week: hours_per_week?,
            competitive_integrated: competitive_integrated?,
            occupation_code: occupation_code?.map(str::to_owned),
        }))
    }
}

/// No key twice, and none the event type does not define.
fn payload_keys(payload: &Object, event_type: EventType, check: &mut Check) {
    if let Some(key) = payload.repeated_key() {
        check.violation(format!(
            "payload.{}: the key appears more than once",
            key_name(key)
        ));
    }
    let fields = payload_fields(event_type);
    for key in payload.keys() {
        if !fields.contains(&key) {
            check.violation(format!(
                "payload.{}: unknown field for a {event_type} event",
                key_name(key)
            ));
        }
    }
}

/// An intake's payload.
fn read_intake(p: &Object, check: &mut Check) -> Option<Payload> {
    let referral_source = check.optional_string(p, "referral_source", "payload.referral_source");
    let program = check.optional_string(p, "program", "payload.program");
    Some(Payload::Intake {
        referral_source: referral_source?.map(str::to_owned),
        program: program?.map(str::to_owned),
    })
}

/// A separation's payload.
fn read_separation(p: &Object, check: &mut Check) -> Option<Payload> {
    let job_id = check.bounded_string(p, "job_id", "payload.job_id", 1, 64);
    let reason = check.choice(
        p,
        "reason",
        "payload.reason",
        SeparationReason::parse,
        SeparationReason::ALL.iter().map(|r| r.as_str()),
    );
    Some(Payload::Separation {
        job_id: job_id?.to_owned(),
        reason: reason?,
    })
}

/// A retraction's payload.
fn read_retraction(p: &Object, check: &mut Check) -> Option<Payload> {
    let retracted = check.uuid(p, "retracted_event_id", "payload.retracted_event_id");
    let reason = check.optional_string(p, "reason", "payload.reason");
    Some(Payload::Retraction {
        retracted_event_id: retracted?,
        reason: reason?.map(str::to_owned),
    })
}

/// A wage record's payload.
fn read_wage(p: &Object, check: &mut Check) -> Option<Payload> {
    let job_id = check.bounded_string(p, "job_id", "payload.job_id", 1, 64);
    let period_start = check.date(p, "period_start", "payload.period_start");
    let period_end = check.date(p, "period_end", "payload.period_end");
    let gross_wages = check.number(
        p,
        "gross_wages",
        "payload.gross_wages",
        Bound::Closed(0.0),
        100_000.0,
    );
    let hours_worked = check.number(
        p,
        "hours_worked",
        "payload.hours_worked",
        Bound::Closed(0.0),
        744.0,
    );
    Some(Payload::Wage(Wage {
        job_id: job_id?.to_owned(),
        period_start: period_start?,
        period_end: period_end?,
        gross_wages: gross_wages?,
        hours_worked: hours_worked?,
    }))
}

/// The payload fields of each event type (EVENTS.md); any other field is a violation.
fn payload_fields(event_type: EventType) -> &'static [&'static str] {
    match event_type {
        EventType::Intake => &["referral_source", "program"],
        EventType::Assessment => &["assessment_type"],
        EventType::Service => &["service_type"],
        EventType::Placement => &[
            "job_id",
            "employer_id",
            "hourly_wage",
            "hours_per_week",
            "competitive_integrated",
            "occupation_code",
        ],
        EventType::Wage => &[
            "job_id",
            "period_start",
            "period_end",
            "gross_wages",
            "hours_worked",
        ],
        EventType::Separation => &["job_id", "reason"],
        EventType::Exit => &["outcome"],
        EventType::Retraction => &["retracted_event_id", "reason"],
    }
}

/// The wage rules JSON Schema cannot express: order, length, and `occurred_on == period_end`.
fn wage_period_rule(wage: &Wage, occurred_on: NaiveDate) -> Result<(), String> {
    let days = (wage.period_end - wage.period_start).num_days();
    if days < 0 {
        return Err(format!(
            "payload.period_start: {} is after period_end {}",
            wage.period_start, wage.period_end
        ));
    }
    if days > 30 {
        return Err(format!(
            "payload.period_end: the period {}..{} covers {} days, over 31",
            wage.period_start,
            wage.period_end,
            days + 1
        ));
    }
    if occurred_on != wage.period_end {
        return Err(format!(
            "occurred_on: {occurred_on} must equal payload.period_end {}",
            wage.period_end
        ));
    }
    Ok(())
}

/// The lower end of a numeric range.
#[derive(Clone, Copy)]
enum Bound {
    Closed(f64),
    Open(f64),
}

/// The first schema violation and the first range error met while reading a message.
#[derive(Default)]
struct Check {
    violation: Option<String>,
    out_of_range: Option<String>,
}

impl Check {
    fn violation(&mut self, detail: String) {
        self.violation.get_or_insert(detail);
    }

    fn out_of_range(&mut self, detail: String) {
        self.out_of_range.get_or_insert(detail);
    }

    /// A required string. `None` (recorded) when missing, null or not a string.
    fn string<'o>(&mut self, object: &'o Object, key: &str, path: &str) -> Option<&'o str> {
        match object.get(key) {
            Some(Json::String(text)) => Some(text),
            other => {
                self.violation(type_error(path, "a string", other));
                None
            }
        }
    }

    /// An optional string: `Some(None)` when absent or null, `None` (recorded) when not a string.
    fn optional_string<'o>(
        &mut self,
        object: &'o Object,
        key: &str,
        path: &str,
    ) -> Option<Option<&'o str>> {
        match object.get(key) {
            None | Some(Json::Null) => Some(None),
            Some(Json::String(text)) => Some(Some(text)),
            Some(other) => {
                self.violation(type_error(path, "a string or null", Some(other)));
                None
            }
        }
    }

    fn bounded_string<'o>(
        &mut self,
        object: &'o Object,
        key: &str,
        path: &str,
        min: usize,
        max: usize,
    ) -> Option<&'o str> {
        let text = self.string(object, key, path)?;
        let length = text.chars().count();
        if (min..=max).contains(&length) {
            Some(text)
        } else {
            self.violation(format!(
                "{path}: {length} characters, must be {min} to {max}"
            ));
            None
        }
    }

    /// Like `bounded_string`, but the detail never quotes the value (it identifies a person).
    fn length_secret<'t>(
        &mut self,
        path: &str,
        text: &'t str,
        min: usize,
        max: usize,
    ) -> Option<&'t str> {
        let length = text.chars().count();
        if (min..=max).contains(&length) {
            Some(text)
        } else {
            self.violation(format!(
                "{path}: {length} characters, must be {min} to {max}"
            ));
            None
        }
    }

    fn pattern<'t>(
        &mut self,
        path: &str,
        text: &'t str,
        matches: bool,
        rule: &str,
    ) -> Option<&'t str> {
        if matches {
            Some(text)
        } else {
            self.violation(format!("{path}: {} does not match {rule}", quote(text)));
            None
        }
    }

    fn uuid(&mut self, object: &Object, key: &str, path: &str) -> Option<EventId> {
        let text = self.string(object, key, path)?;
        self.uuid_text(path, text)
    }

    fn optional_uuid(&mut self, object: &Object, key: &str, path: &str) -> Option<Option<EventId>> {
        match self.optional_string(object, key, path)? {
            None => Some(None),
            Some(text) => self.uuid_text(path, text).map(Some),
        }
    }

    fn uuid_text(&mut self, path: &str, text: &str) -> Option<EventId> {
        let id = EventId::new(text).ok();
        if id.is_none() {
            self.violation(format!(
                "{path}: {} is not a UUID (8-4-4-4-12 hexadecimal digits)",
                quote(text)
            ));
        }
        id
    }

    fn consortium(&mut self, object: &Object) -> Option<ConsortiumId> {
        let text = self.string(object, "consortium_id", "consortium_id")?;
        self.pattern("consortium_id", text, is_slug(text), "[a-z0-9-]{1,64}")
            .and_then(|text| ConsortiumId::new(text).ok())
    }

    fn agency(&mut self, object: &Object) -> Option<AgencyId> {
        let text = self.string(object, "agency_id", "agency_id")?;
        self.pattern(
            "agency_id",
            text,
            is_agency(text),
            "[a-z0-9-]{1,64}, not \"unknown\"",
        )
        .and_then(|text| AgencyId::new(text).ok())
    }

    fn timestamp(
        &mut self,
        object: &Object,
        key: &str,
        path: &str,
    ) -> Option<DateTime<FixedOffset>> {
        let text = self.string(object, key, path)?;
        let at = parse_timestamp(text);
        if at.is_none() {
            self.violation(format!(
                "{path}: {} is not an RFC 3339 timestamp \
                 (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±HH:MM)",
                quote(text)
            ));
        }
        at
    }

    fn date(&mut self, object: &Object, key: &str, path: &str) -> Option<NaiveDate> {
        let text = self.string(object, key, path)?;
        let date = parse_date(text);
        if date.is_none() {
            self.violation(format!(
                "{path}: {} is not a calendar date (YYYY-MM-DD)",
                quote(text)
            ));
        }
        date
    }

    fn choice<T>(
        &mut self,
        object: &Object,
        key: &str,
        path: &str,
        parse: fn(&str) -> Option<T>,
        allowed: impl Iterator<Item = &'static str>,
    ) -> Option<T> {
        let text = self.string(object, key, path)?;
        let value = parse(text);
        if value.is_none() {
            self.violation(format!(
                "{path}: {} is not one of {}",
                quote(text),
                list(allowed)
            ));
        }
        value
    }

    /// A required number in [lower, max] (or (lower, max]); a range error is recorded, not fatal.
    fn number(
        &mut self,
        object: &Object,
        key: &str,
        path: &str,
        lower: Bound,
        max: f64,
    ) -> Option<f64> {
        let value = match object.get(key) {
            Some(Json::Number(value)) => *value,
            other => {
                self.violation(type_error(path, "a number", other));
                return None;
            }
        };
        if !value.is_finite() {
            self.out_of_range(format!("{path}: the number is too large for float64"));
            return None;
        }
        let low_ok = match lower {
            Bound::Closed(min) => value >= min,
            Bound::Open(min) => value > min,
        };
        if !low_ok {
            let (word, min) = match lower {
                Bound::Closed(min) => ("below", min),
                Bound::Open(min) => ("not above", min),
            };
            self.out_of_range(format!(
                "{path}: {} is {word} {}",
                number(value),
                number(min)
            ));
            None
        } else if value > max {
            self.out_of_range(format!(
                "{path}: {} is above {}",
                number(value),
                number(max)
            ));
            None
        } else {
            Some(value)
        }
    }
}

fn type_error(path: &str, wanted: &str, found: Option<&Json>) -> String {
    match found {
        None => format!("{path}: required field is missing"),
        Some(value) => format!("{path}: expected {wanted}, found {}", value.type_name()),
    }
}

/// Quotes user text for a detail, shortened so that details stay one readable line.
fn quote(text: &str) -> String {
    const LIMIT: usize = 40;
    if text.chars().count() > LIMIT {
        let head: String = text.chars().take(LIMIT).collect();
        format!("{:?}…", head)
    } else {
        format!("{text:?}")
    }
}

/// A member name for a detail: as written when it is a plain identifier, else quoted.
fn key_name(key: &str) -> String {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        key.to_owned()
    } else {
        quote(key)
    }
}

fn number(value: f64) -> String {
    if value.is_finite() {
        value.to_string()
    } else {
        "a number too large for float64".to_owned()
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// A strict `YYYY-MM-DD` calendar date.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// A strict RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, no leap second.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    let b = text.as_bytes();
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = parse_date(text.get(..10)?)?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if rest.first() == Some(&b'.') {
        let count = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        // Digits past nanoseconds cannot change the stored instant; they are read and dropped.
        for (i, &digit) in rest[1..=count].iter().enumerate() {
            if i < 9 {
                nanos += u32::from(digit - b'0') * 10u32.pow(8 - i as u32);
            }
        }
        rest = &rest[count + 1..];
    }
    let offset_seconds = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let offset = FixedOffset::east_opt(offset_seconds)?;
    let local = NaiveDateTime::new(
        date,
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?,
    );
    offset.from_local_datetime(&local).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        let cases = [
            ("2026-02-28", true),
            ("2024-02-29", true),
            ("2026-02-29", false),
            ("2026-2-28", false),
            ("2026-02-28 ", false),
            ("26-02-28", false),
            ("2026/02/28", false),
            ("+026-02-28", false),
        ];
        for (text, ok) in cases {
            assert_eq!(parse_date(text).is_some(), ok, "{text}");
        }
    }

    #[test]
    fn timestamps_are_strict_and_keep_the_local_date() {
        let cases = [
            ("2026-03-02T01:00:00+05:00", true),
            ("2026-03-02T01:00:00Z", true),
            ("2026-03-02T01:00:00.123456789123Z", true),
            ("2026-03-02t01:00:00Z", false),
            ("2026-03-02T01:00:00z", false),
            ("2026-03-02T01:00:00", false),
            ("2026-03-02T23:59:60Z", false),
            ("2026-03-02T24:00:00Z", false),
            ("2026-03-02T01:00:00+24:00", false),
            ("2026-03-02T01:00:00+0500", false),
            ("2026-03-02T01:00:00.Z", false),
            ("2026-03-02 01:00:00Z", false),
        ];
        for (text, ok) in cases {
            assert_eq!(parse_timestamp(text).is_some(), ok, "{text}");
        }
        let at = parse_timestamp("2026-03-02T01:00:00+05:00").unwrap();
        assert_eq!(
            at.date_naive(),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
        assert_eq!(
            at.naive_utc().date(),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        let fraction = parse_timestamp("2026-03-02T01:00:00.5Z").unwrap();
        assert_eq!(fraction.timestamp_subsec_millis(), 500);
    }
}
