//! Parsing + validation + pseudonymization of a typical message, next to serde_json parsing
//! the same bytes into a `Value` (a peer measured in the same run).

// Fixed inputs known to be valid: a failure here is a broken benchmark, and panicking says so.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use outcomes_schemas::{ConsortiumId, Origin, Pseudonymizer, Validator};

const MESSAGE: &[u8] = br#"{"event_id":"6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f","event_type":"placement","schema_version":1,"consortium_id":"north-shore","agency_id":"vr-east","participant_id":"P-0012345","occurred_on":"2026-08-14","recorded_at":"2026-08-15T09:30:00-05:00","payload":{"job_id":"J1","employer_id":"E-0042","hourly_wage":15.5,"hours_per_week":24,"competitive_integrated":true}}"#;

fn bench(c: &mut Criterion) {
    let validator = Validator::new(Pseudonymizer::new(b"benchmark secret").unwrap());
    let consortium = ConsortiumId::new("north-shore").unwrap();
    let origin = Origin {
        consortium: &consortium,
        topic_event_type: Some("placement"),
    };
    assert!(validator.validate(MESSAGE, &origin).is_ok());
    let mut group = c.benchmark_group("message");
    group.throughput(Throughput::Bytes(MESSAGE.len() as u64));
    group.bench_function("outcomes validate+pseudonymize", |b| {
        b.iter(|| validator.validate(std::hint::black_box(MESSAGE), &origin))
    });
    group.bench_function("serde_json to Value (peer)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(std::hint::black_box(MESSAGE)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
