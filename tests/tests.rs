//! Integration tests, one binary: each module drives the real pipeline (files, Parquet,
//! Kafka, S3, Chromium) in its own scratch folder. `tests/run.sh` starts what they need.

// A test stops at the first step that fails, and the panic's message and location are its
// report: helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod configuration;
mod kafka;
mod lake;
mod object_storage;
mod pipeline;
mod report_page;
mod transform_rules;
