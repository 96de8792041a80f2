-- Stage 2a: read the events: {{SOURCE}} is a FROM-clause source (the Delta table, or a version-1
-- lake's committed files), {{SRC_FILE}} the file a row came from (substituted by reference.py).
-- Hive partitioning off for version-1 files: they carry consortium_id themselves (LAKE.md).
INSERT INTO raw_events
SELECT event_id, event_type, consortium_id, agency_id, person_key,
       CAST(occurred_on AS DATE), CAST(recorded_at AS TIMESTAMPTZ), supersedes,
       referral_source, program, assessment_type, service_type, job_id, employer_key,
       CAST(hourly_wage AS DOUBLE), CAST(hours_per_week AS DOUBLE), competitive_integrated,
       occupation_code, CAST(period_start AS DATE), CAST(period_end AS DATE),
       CAST(gross_wages AS DOUBLE), CAST(hours_worked AS DOUBLE), separation_reason, exit_outcome,
       retracted_event_id, retraction_reason, source_kind, topic, "partition", "offset",
       file_name, line, CAST(ingested_at AS TIMESTAMPTZ), {{SRC_FILE}}
FROM {{SOURCE}};
