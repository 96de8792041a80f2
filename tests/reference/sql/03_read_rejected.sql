-- Stage 2b: read the rejections ({{SOURCE}} and {{SRC_FILE}} as in 02_read_events.sql).
INSERT INTO raw_rejected
SELECT consortium_id, agency_id, reason, detail, source_kind, topic, "partition", "offset",
       file_name, line, CAST(ingested_at AS TIMESTAMPTZ), {{SRC_FILE}}
FROM {{SOURCE}};
