-- Stage 0: the lake's tables as LAKE.md declares them ("events columns", "rejected columns"),
-- plus `src_file` (the Parquet file a row came from; used only to break ties between
-- overlapping committed files, see 10_events.sql).
-- `params` (as_of) and `wage_floors` are created by reference.py before this file runs.

CREATE TABLE raw_events (
    event_id               VARCHAR,
    event_type             VARCHAR,
    consortium_id          VARCHAR,
    agency_id              VARCHAR,
    person_key             VARCHAR,
    occurred_on            DATE,
    recorded_at            TIMESTAMPTZ,   -- Timestamp(Microsecond, "UTC"): an instant
    supersedes             VARCHAR,
    referral_source        VARCHAR,
    program                VARCHAR,
    assessment_type        VARCHAR,
    service_type           VARCHAR,
    job_id                 VARCHAR,
    employer_key           VARCHAR,
    hourly_wage            DOUBLE,
    hours_per_week         DOUBLE,
    competitive_integrated BOOLEAN,
    occupation_code        VARCHAR,
    period_start           DATE,
    period_end             DATE,
    gross_wages            DOUBLE,
    hours_worked           DOUBLE,
    separation_reason      VARCHAR,
    exit_outcome           VARCHAR,
    retracted_event_id     VARCHAR,
    retraction_reason      VARCHAR,
    source_kind            VARCHAR,
    topic                  VARCHAR,
    "partition"            INTEGER,
    "offset"               BIGINT,
    file_name              VARCHAR,
    line                   BIGINT,
    ingested_at            TIMESTAMPTZ,
    src_file               VARCHAR
);

CREATE TABLE raw_rejected (
    consortium_id VARCHAR,
    agency_id     VARCHAR,
    reason        VARCHAR,
    detail        VARCHAR,
    source_kind   VARCHAR,
    topic         VARCHAR,
    "partition"   INTEGER,
    "offset"      BIGINT,
    file_name     VARCHAR,
    line          BIGINT,
    ingested_at   TIMESTAMPTZ,
    src_file      VARCHAR
);
