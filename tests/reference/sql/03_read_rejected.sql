-- Stage 2b: read the committed rejected files ({{FILES}}: a list literal, substituted by reference.py).
INSERT INTO raw_rejected
SELECT consortium_id, agency_id, reason, detail, source_kind, topic, "partition", "offset",
       file_name, line, CAST(ingested_at AS TIMESTAMPTZ), filename
FROM read_parquet({{FILES}}, hive_partitioning = false, union_by_name = true, filename = true);
