//! The event contract of the outcomes pipeline (`shared/spec/EVENTS.md`, version 1).
//!
//! Partner agencies' case-management systems send one JSON object per event. This crate turns
//! those bytes into a typed, pseudonymized [`Event`], or into a [`Rejection`] carrying one of the
//! contract's reason codes and a detail that names the field. It also holds the other shared
//! definitions: topic names, the pseudonymization rule, the Arrow schema of the event lake, and the
//! contract of the tables between transform and report.
//! It does no I/O.
//!
//! ```
//! use outcomes_schemas::{ConsortiumId, Origin, Pseudonymizer, Reason, Validator};
//!
//! let validator = Validator::new(Pseudonymizer::new(b"a long random secret")?);
//! let consortium = ConsortiumId::new("north-shore")?;
//! let origin = Origin { consortium: &consortium, topic_event_type: Some("exit") };
//! let message = br#"{"event_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "event_type": "exit",
//!     "schema_version": 1, "consortium_id": "north-shore", "agency_id": "vr-east",
//!     "participant_id": "P-0001", "occurred_on": "2026-03-02",
//!     "recorded_at": "2026-03-02T09:15:00-05:00", "payload": {"outcome": "employed"}}"#;
//! let event = validator.validate(message, &origin).expect("a valid message");
//! assert_eq!(event.person_key.as_str().len(), 64);
//!
//! let rejection = validator.validate(b"{\"event_type\": \"hire\"}", &origin).unwrap_err();
//! assert_eq!(rejection.reason, Reason::UnknownEventType);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod event;
mod json;
pub mod lake;
mod pseudonym;
mod reject;
pub mod tables;
mod topic;
mod validate;

pub use event::{
    AgencyId, AssessmentType, ConsortiumId, Event, EventId, EventType, ExitOutcome, InvalidId,
    Payload, Placement, SeparationReason, UNKNOWN_AGENCY, Wage,
};
pub use pseudonym::{DEMO_KEY, EmployerKey, KEY_ENV, KeyError, PersonKey, Pseudonymizer};
pub use reject::{Reason, Rejection};
pub use topic::{DEFAULT_TOPIC_PATTERN, DLQ_TOPIC, SNAPSHOT_TOPIC, parse_topic, topic_name};
pub use validate::{MAX_MESSAGE_BYTES, Origin, Validator};
