//! Why a message was not accepted.

use std::fmt;

use crate::event::{AgencyId, UNKNOWN_AGENCY};

/// The reason codes of the contract, in its order of precedence: when a message breaks several
/// rules, the earliest reason here is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The value is over 1 MiB.
    TooLarge,
    /// Not UTF-8, or not exactly one JSON object.
    MalformedJson,
    /// `event_type` is a string outside the eight types.
    UnknownEventType,
    /// `schema_version` is a number other than 1.
    UnsupportedSchemaVersion,
    /// A field is missing, of the wrong type, unknown, or breaks its pattern.
    SchemaViolation,
    /// A number or a wage period is outside its range.
    OutOfRange,
    /// `occurred_on` is later than the local date of `recorded_at`.
    OccurredAfterRecorded,
    /// The envelope's consortium is not the topic's or file's.
    ConsortiumMismatch,
    /// The envelope's event type is not the topic's.
    TopicMismatch,
}

impl Reason {
    /// Every reason, in order of precedence.
    pub const ALL: [Reason; 9] = [
        Reason::TooLarge,
        Reason::MalformedJson,
        Reason::UnknownEventType,
        Reason::UnsupportedSchemaVersion,
        Reason::SchemaViolation,
        Reason::OutOfRange,
        Reason::OccurredAfterRecorded,
        Reason::ConsortiumMismatch,
        Reason::TopicMismatch,
    ];

    /// The reason code as the contract spells it.
    pub fn code(self) -> &'static str {
        match self {
            Reason::TooLarge => "too_large",
            Reason::MalformedJson => "malformed_json",
            Reason::UnknownEventType => "unknown_event_type",
            Reason::UnsupportedSchemaVersion => "unsupported_schema_version",
            Reason::SchemaViolation => "schema_violation",
            Reason::OutOfRange => "out_of_range",
            Reason::OccurredAfterRecorded => "occurred_after_recorded",
            Reason::ConsortiumMismatch => "consortium_mismatch",
            Reason::TopicMismatch => "topic_mismatch",
        }
    }

    /// The reason spelled `code`, if it is one.
    pub fn from_code(code: &str) -> Option<Self> {
        Reason::ALL.into_iter().find(|reason| reason.code() == code)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejected message: the reason, a detail naming the field, and the agency to file it under.
///
/// Details never quote a `participant_id` or `employer_id`, so they are safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The reason code.
    pub reason: Reason,
    /// What was wrong, naming the field (e.g. `payload.hourly_wage: -3 is below 0`).
    pub detail: String,
    /// The message's own agency, when it named a valid one and the message was readable.
    pub agency_id: Option<AgencyId>,
}

impl Rejection {
    /// The agency the rejection is counted under: the message's, or `unknown`.
    pub fn agency(&self) -> &str {
        self.agency_id
            .as_ref()
            .map_or(UNKNOWN_AGENCY, AgencyId::as_str)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}
