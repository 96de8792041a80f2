//! Integration tests, one binary: each module drives the real pipeline (files, Parquet,
//! Kafka, Chromium) in its own scratch folder. `tests/run.sh` starts what they need.

mod common;
mod kafka;
mod pipeline;
mod report_page;
mod transform_rules;
