//! Kafka topic names of the contract.

use crate::event::{ConsortiumId, EventType};

/// The topic pattern ingest subscribes to by default.
pub const DEFAULT_TOPIC_PATTERN: &str = r"^outcomes\.[a-z0-9-]+\.[a-z]+$";

/// The dead-letter topic.
pub const DLQ_TOPIC: &str = "outcomes.dlq";

/// The topic indicator snapshots are published to.
pub const SNAPSHOT_TOPIC: &str = "outcomes.snapshots";

/// The topic for one consortium's events of one type: `outcomes.<consortium_id>.<event_type>`.
pub fn topic_name(consortium: &ConsortiumId, event_type: EventType) -> String {
    format!("outcomes.{consortium}.{event_type}")
}

/// A topic's consortium and event-type segment, when the name has the contract's shape.
///
/// The event-type segment is returned as written (`[a-z]+`): a topic named after no known type
/// still identifies its consortium, and its messages are rejected as `topic_mismatch`.
pub fn parse_topic(topic: &str) -> Option<(ConsortiumId, &str)> {
    let rest = topic.strip_prefix("outcomes.")?;
    let (consortium, event_type) = rest.rsplit_once('.')?;
    if event_type.is_empty() || !event_type.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    Some((ConsortiumId::new(consortium).ok()?, event_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_odd_names_are_refused() {
        let north = ConsortiumId::new("north-shore").unwrap();
        let name = topic_name(&north, EventType::Placement);
        assert_eq!(name, "outcomes.north-shore.placement");
        assert_eq!(parse_topic(&name), Some((north, "placement")));
        for odd in [
            "outcomes.dlq",
            "outcomes.North.intake",
            "other.a.intake",
            "outcomes.a.b.c",
            "outcomes.a.intake1",
        ] {
            assert_eq!(parse_topic(odd), None, "{odd}");
        }
    }
}
