//! The message parser must never panic, whatever the bytes, and whatever the topic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outcomes_schemas::{ConsortiumId, Origin, Pseudonymizer, Validator};

fuzz_target!(|data: &[u8]| {
    let validator = Validator::new(Pseudonymizer::demo());
    let Ok(consortium) = ConsortiumId::new("north-shore") else { return };
    for topic_event_type in [None, Some("placement"), Some("wage")] {
        let origin = Origin { consortium: &consortium, topic_event_type };
        if let Err(rejection) = validator.validate(data, &origin) {
            // A rejection always names a reason and says something.
            assert!(!rejection.detail.is_empty());
        }
    }
});
