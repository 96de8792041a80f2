//! The contract, checked two ways: every corpus case (`tests/corpus/cases.json`, verdicts worked
//! out by hand from EVENTS.md) goes through the Rust parser and, where JSON Schema can judge
//! it, through the published schema files with an independent validator. Any disagreement
//! fails, so the Rust types and the files producers use cannot drift apart.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use outcomes_schemas::{ConsortiumId, Origin, Pseudonymizer, Validator, parse_topic};
use serde_json::Value;

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schema_validators() -> BTreeMap<String, jsonschema::Validator> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("json");
    let mut validators = BTreeMap::new();
    for name in [
        "envelope",
        "intake",
        "assessment",
        "service",
        "placement",
        "wage",
        "separation",
        "exit",
        "retraction",
    ] {
        let schema = load(&folder.join(format!("{name}.schema.json")));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{name}.schema.json: {e}"));
        validators.insert(name.to_owned(), validator);
    }
    validators
}

#[test]
fn corpus_agrees_with_the_parser_and_the_schema_files() {
    let cases = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases.json"));
    let cases = cases.as_array().expect("an array of cases");
    assert!(cases.len() > 150, "the corpus is too small");
    let validator = Validator::new(Pseudonymizer::new(b"contract-test").unwrap());
    let schemas = schema_validators();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let bytes = match case["raw_base64"].as_str() {
            Some(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
            None => case["raw"].as_str().unwrap().as_bytes().to_vec(),
        };
        let consortium = ConsortiumId::new(case["consortium"].as_str().unwrap()).unwrap();
        let topic = case["topic"].as_str();
        let topic_event_type = topic.map(|t| parse_topic(t).expect("a contract topic").1);
        let origin = Origin {
            consortium: &consortium,
            topic_event_type,
        };
        let expect = case["expect"].as_str().unwrap();
        let verdict = validator.validate(&bytes, &origin);
        let got = match &verdict {
            Ok(_) => "ok",
            Err(rejection) => rejection.reason.code(),
        };
        if got != expect {
            failures.push(format!(
                "{name}: parser says {got} ({:?}), corpus says {expect}",
                verdict.as_ref().err().map(|r| &r.detail)
            ));
            continue;
        }
        if let (Err(rejection), Some(field)) = (&verdict, case["field"].as_str())
            && !rejection.detail.starts_with(&format!("{field}:"))
        {
            failures.push(format!(
                "{name}: detail {:?} does not name {field}",
                rejection.detail
            ));
        }
        if case["schema_expressible"].as_bool() == Some(true) {
            let instance: Value = serde_json::from_slice(&bytes).unwrap();
            let file = instance["event_type"]
                .as_str()
                .filter(|t| schemas.contains_key(*t) && *t != "envelope")
                .unwrap_or("envelope");
            let valid = schemas[file].is_valid(&instance);
            if valid != (expect == "ok") {
                failures.push(format!(
                    "{name}: {file}.schema.json says valid={valid}, corpus says {expect}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_reason_code_is_in_the_corpus() {
    let cases = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases.json"));
    for reason in outcomes_schemas::Reason::ALL {
        assert!(
            cases
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["expect"] == reason.code()),
            "no case for {reason}"
        );
    }
}

/// How long the fuzz driver runs: a few seconds in the test suite, as long as asked by hand
/// (`OUTCOMES_FUZZ_SECONDS=600`; docs/RELIABILITY.md records the long runs).
fn fuzz_seconds() -> u64 {
    std::env::var("OUTCOMES_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

/// A corpus message with a few random edits: a byte replaced, removed or inserted, or the rest
/// cut off. Edits of valid messages reach far deeper into the parser than random bytes do.
fn mutate((mut bytes, edits): (Vec<u8>, Vec<(usize, u8, u8)>)) -> Vec<u8> {
    for (at, byte, kind) in edits {
        let at = if bytes.is_empty() {
            0
        } else {
            at % bytes.len()
        };
        match kind {
            0 if !bytes.is_empty() => bytes[at] = byte,
            1 if !bytes.is_empty() => {
                bytes.remove(at);
            }
            2 => bytes.insert(at, byte),
            _ => bytes.truncate(at),
        }
    }
    bytes
}

/// The string values of `participant_id` and of `payload.employer_id`, if the input is a JSON
/// object holding them: what no rejection detail may repeat.
fn person_ids(bytes: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Vec::new();
    };
    [&value["participant_id"], &value["payload"]["employer_id"]]
        .into_iter()
        .filter_map(Value::as_str)
        .filter(|id| id.len() >= 4)
        .map(str::to_owned)
        .collect()
}

/// Fuzzing the message parser (issue 13): random bytes and edited corpus messages, as many as
/// fit in the time. Every input gets a verdict, never a panic; a rejection always says what was
/// wrong and never repeats a person's or employer's id.
#[test]
fn the_parser_answers_every_input_without_a_panic_or_a_raw_id() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let cases = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases.json"));
    let seeds: Vec<Vec<u8>> = cases
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|case| case["raw"].as_str())
        .map(|raw| raw.as_bytes().to_vec())
        .collect();
    let inputs = prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        4 => (
            proptest::sample::select(seeds),
            proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..6),
        )
            .prop_map(mutate),
    ];
    let validator = Validator::new(Pseudonymizer::new(b"fuzz").unwrap());
    let consortium = ConsortiumId::new("north-shore").unwrap();
    let tried = std::sync::atomic::AtomicU64::new(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(fuzz_seconds());
    while std::time::Instant::now() < deadline {
        let mut runner = TestRunner::new(Config {
            cases: 5_000,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&inputs, |bytes| {
            tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for topic_event_type in [None, Some("placement")] {
                let origin = Origin {
                    consortium: &consortium,
                    topic_event_type,
                };
                if let Err(rejection) = validator.validate(&bytes, &origin) {
                    prop_assert!(!rejection.detail.is_empty());
                    for id in person_ids(&bytes) {
                        prop_assert!(
                            !rejection.detail.contains(&id),
                            "the detail {:?} repeats the id {id:?}",
                            rejection.detail
                        );
                    }
                }
            }
            Ok(())
        });
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
    }
    println!(
        "parser fuzzed with {} inputs in {} s",
        tried.into_inner(),
        fuzz_seconds()
    );
}
