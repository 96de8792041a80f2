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
