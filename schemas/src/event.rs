//! The typed event: what a valid message becomes once parsed and pseudonymized.
//!
//! No type here can hold a `participant_id` or an `employer_id`: the parser hashes them before
//! it builds an [`Event`], so code downstream cannot write them by mistake.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::pseudonym::{EmployerKey, PersonKey};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value as the contract spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value spelled `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// The eight kinds of event.
    EventType {
        /// The person applies or is taken in; opens an episode.
        Intake => "intake",
        /// An assessment was carried out.
        Assessment => "assessment",
        /// A service started.
        Service => "service",
        /// The person started a job.
        Placement => "placement",
        /// Wages earned in a pay period.
        Wage => "wage",
        /// A job ended.
        Separation => "separation",
        /// The case is closed; closes the episode.
        Exit => "exit",
        /// Voids an earlier event.
        Retraction => "retraction",
    }
}

string_enum! {
    /// The kind of an assessment.
    AssessmentType {
        /// Vocational assessment.
        Vocational => "vocational",
        /// Situational assessment.
        Situational => "situational",
        /// Benefits counselling assessment.
        Benefits => "benefits",
        /// Any other assessment.
        Other => "other",
    }
}

string_enum! {
    /// Why a job ended.
    SeparationReason {
        /// The person quit.
        Quit => "quit",
        /// The person was laid off.
        LaidOff => "laid_off",
        /// The person was dismissed.
        Fired => "fired",
        /// A temporary job came to its planned end.
        TemporaryEnd => "temporary_end",
        /// Any other reason.
        Other => "other",
    }
}

string_enum! {
    /// How a case closed.
    ExitOutcome {
        /// Closed while employed.
        Employed => "employed",
        /// Closed without employment.
        NotEmployed => "not_employed",
        /// Any other outcome.
        Other => "other",
    }
}

macro_rules! checked_id {
    ($(#[$meta:meta])* $name:ident, $check:path, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks `text` against the contract's rule for this id.
            pub fn new(text: impl Into<String>) -> Result<Self, InvalidId> {
                let text = text.into();
                if $check(&text) {
                    Ok(Self(text))
                } else {
                    Err(InvalidId { what: $what, text })
                }
            }

            /// The id as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A string that breaks the rule for an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a valid {what}")]
pub struct InvalidId {
    what: &'static str,
    text: String,
}

checked_id!(
    /// A consortium id: `[a-z0-9-]{1,64}`.
    ConsortiumId,
    is_slug,
    "consortium id ([a-z0-9-]{1,64})"
);
checked_id!(
    /// A partner agency id: `[a-z0-9-]{1,64}` and not the reserved `unknown`.
    AgencyId,
    is_agency,
    "agency id ([a-z0-9-]{1,64}, not \"unknown\")"
);
checked_id!(
    /// An event id: a UUID in 8-4-4-4-12 hexadecimal form, either case, compared as written.
    EventId,
    is_uuid,
    "event id (UUID)"
);

impl ConsortiumId {
    /// The consortium `unknown`, for messages from a topic that names none.
    pub fn unknown() -> Self {
        Self(UNKNOWN_AGENCY.to_owned())
    }
}

/// The agency that rejections are filed under when the message names none usable.
pub const UNKNOWN_AGENCY: &str = "unknown";

pub(crate) fn is_slug(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(crate) fn is_agency(text: &str) -> bool {
    is_slug(text) && text != UNKNOWN_AGENCY
}

pub(crate) fn is_uuid(text: &str) -> bool {
    // Every byte tested against its place in one pass without an early exit, which the compiler
    // turns into vector compares: every event id is checked, and testing group by group with
    // `all` (which stops at the first bad byte) was 2 % of a Kafka worker's time.
    const DASH: [bool; 36] = {
        let mut dash = [false; 36];
        dash[8] = true;
        dash[13] = true;
        dash[18] = true;
        dash[23] = true;
        dash
    };
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().zip(DASH).fold(true, |ok, (&byte, dash)| {
            ok & if dash {
                byte == b'-'
            } else {
                byte.is_ascii_hexdigit()
            }
        })
}

/// A valid, pseudonymized event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The producer's idempotency key.
    pub event_id: EventId,
    /// The consortium the event belongs to.
    pub consortium_id: ConsortiumId,
    /// The partner agency that recorded it.
    pub agency_id: AgencyId,
    /// The keyed hash standing for the person.
    pub person_key: PersonKey,
    /// When the fact happened.
    pub occurred_on: NaiveDate,
    /// When the agency recorded it, with the recorder's UTC offset.
    pub recorded_at: DateTime<FixedOffset>,
    /// The earlier event this one replaces.
    pub supersedes: Option<EventId>,
    /// The type-specific fields.
    pub payload: Payload,
}

impl Event {
    /// The event's type, implied by its payload.
    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }
}

/// The fields particular to each event type.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// See [`EventType::Intake`].
    Intake {
        /// Who referred the person.
        referral_source: Option<String>,
        /// The program the person entered.
        program: Option<String>,
    },
    /// See [`EventType::Assessment`].
    Assessment {
        /// The kind of assessment.
        assessment_type: AssessmentType,
    },
    /// See [`EventType::Service`].
    Service {
        /// The kind of service (1 to 64 characters).
        service_type: String,
    },
    /// See [`EventType::Placement`].
    Placement(Placement),
    /// See [`EventType::Wage`].
    Wage(Wage),
    /// See [`EventType::Separation`].
    Separation {
        /// The job that ended.
        job_id: String,
        /// Why it ended.
        reason: SeparationReason,
    },
    /// See [`EventType::Exit`].
    Exit {
        /// How the case closed.
        outcome: ExitOutcome,
    },
    /// See [`EventType::Retraction`].
    Retraction {
        /// The event that is void.
        retracted_event_id: EventId,
        /// Why, in the agency's words.
        reason: Option<String>,
    },
}

impl Payload {
    /// The event type this payload belongs to.
    pub fn event_type(&self) -> EventType {
        match self {
            Payload::Intake { .. } => EventType::Intake,
            Payload::Assessment { .. } => EventType::Assessment,
            Payload::Service { .. } => EventType::Service,
            Payload::Placement(_) => EventType::Placement,
            Payload::Wage(_) => EventType::Wage,
            Payload::Separation { .. } => EventType::Separation,
            Payload::Exit { .. } => EventType::Exit,
            Payload::Retraction { .. } => EventType::Retraction,
        }
    }
}

/// A job start.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The consortium's id for the job (1 to 64 characters).
    pub job_id: String,
    /// The keyed hash standing for the employer.
    pub employer_key: Option<EmployerKey>,
    /// Hourly wage, 0 to 1000.
    pub hourly_wage: f64,
    /// Hours per week, above 0 up to 80.
    pub hours_per_week: f64,
    /// Whether the job is competitive integrated employment.
    pub competitive_integrated: bool,
    /// An occupation code (e.g. SOC).
    pub occupation_code: Option<String>,
}

/// Wages earned in one pay period.
#[derive(Debug, Clone, PartialEq)]
pub struct Wage {
    /// The job the wages were earned in.
    pub job_id: String,
    /// First day of the pay period.
    pub period_start: NaiveDate,
    /// Last day of the pay period (equals the event's `occurred_on`).
    pub period_end: NaiveDate,
    /// Gross wages, 0 to 100000.
    pub gross_wages: f64,
    /// Hours worked, 0 to 744.
    pub hours_worked: f64,
}

#[cfg(test)]
mod tests {
    use super::is_uuid;

    #[test]
    fn a_uuid_is_five_groups_of_hex_digits_in_either_case() {
        assert!(is_uuid("3f2b8c1e-5a4d-4e6f-9b7a-000000000001"));
        assert!(is_uuid("3F2B8C1E-5A4D-4E6F-9B7A-ABCDEFABCDEF"));
        let bad = [
            "",
            "3f2b8c1e5a4d4e6f9b7a000000000001",
            "3f2b8c1e-5a4d-4e6f-9b7a-00000000000",
            "3f2b8c1e-5a4d-4e6f-9b7a-0000000000011",
            "3f2b8c1e5-a4d-4e6f-9b7a-000000000001",
            "3f2b8c1e-5a4d-4e6f-9b7a0-00000000001",
            "g f2b8c1-5a4d-4e6f-9b7a-000000000001",
            "3f2b8c1e-5a4g-4e6f-9b7a-000000000001",
            "3f2b8c1e-5a4d-4e6x-9b7a-000000000001",
            "3f2b8c1e-5a4d-4e6f-9b7-a000000000001",
            "3f2b8c1e-5a4d-4e6f-9b7a-00000000000z",
            "3f2b8c1e-5a4d-4e6f-9b7a-0000000000é",
        ];
        for text in bad {
            assert!(!is_uuid(text), "{text}");
        }
    }
}
