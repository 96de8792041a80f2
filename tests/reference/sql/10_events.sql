-- Stage 3: from lake rows to the deduped visible events E.
-- For speed the rules run on narrow tables of row ids (rid = raw_events.rowid); the wide rows
-- are copied once, for the kept events, at the end.

-- LAKE.md: "Should two committed files ever overlap ..., readers keep one row per position: rows
-- are unique by (source_kind, topic, partition, offset, file_name, line)."
-- A file name is "the file's identity within its consortium", so the position also includes
-- consortium_id. Overlapping copies of one position hold the same message; should they differ,
-- the row ingested first (then the lowest lake file path) is kept.
-- Only positions that occur more than once need a choice: candidates are found by a 64-bit
-- hash of the position (cheap), then ranked exactly.
CREATE TABLE pos_drop AS
WITH pos AS (
    SELECT rowid AS rid,
           hash(consortium_id, source_kind, topic, "partition", "offset", file_name, line) AS h
    FROM raw_events
),
cand AS (SELECT h FROM pos GROUP BY h HAVING count(*) > 1)
SELECT r.rowid AS rid
FROM raw_events r
WHERE r.rowid IN (SELECT rid FROM pos WHERE h IN (SELECT h FROM cand))
QUALIFY row_number() OVER (
    PARTITION BY r.consortium_id, r.source_kind, r.topic, r."partition", r."offset", r.file_name, r.line
    ORDER BY r.ingested_at NULLS LAST, r.src_file) > 1;

CREATE TABLE lake_rejected AS
SELECT * EXCLUDE (src_file)
FROM raw_rejected
QUALIFY row_number() OVER (
    PARTITION BY consortium_id, source_kind, topic, "partition", "offset", file_name, line
    ORDER BY ingested_at NULLS LAST, src_file) = 1;

-- INDICATORS.md 0: "An event is visible when its recorded_at, converted to UTC, falls on or
-- before D, and its occurred_on <= D. Nothing else exists for that run."
-- (the session time zone is UTC, so CAST(TIMESTAMPTZ AS DATE) is the UTC calendar date)
CREATE TABLE vis AS
SELECT r.rowid AS rid, hash(r.consortium_id, r.event_id) AS h
FROM raw_events r, params p
WHERE CAST(r.recorded_at AS DATE) <= p.as_of
  AND r.occurred_on <= p.as_of
  AND r.rowid NOT IN (SELECT rid FROM pos_drop);

DROP TABLE pos_drop;

-- INDICATORS.md 1.1 Dedupe: "Group visible events by event_id and keep one copy: the earliest
-- recorded_at; on a tie, the lower (topic, partition, offset), Kafka copies before file copies,
-- files by (path, line)." Event ids are unique per consortium, so the group is
-- (consortium_id, event_id). Only ids seen more than once need ranking (candidates by hash,
-- as above); every other visible row is its id's only copy.
CREATE TABLE ranked AS
WITH cand AS (SELECT h FROM vis GROUP BY h HAVING count(*) > 1)
SELECT r.rowid AS rid, r.consortium_id, r.event_id,
       row_number() OVER (
           PARTITION BY r.consortium_id, r.event_id
           ORDER BY r.recorded_at,
                    CASE WHEN r.source_kind = 'kafka' THEN 0 ELSE 1 END,
                    r.topic NULLS LAST, r."partition" NULLS LAST, r."offset" NULLS LAST,
                    r.file_name NULLS LAST, r.line NULLS LAST) AS copy_rank
FROM raw_events r
WHERE r.rowid IN (SELECT rid FROM vis WHERE h IN (SELECT h FROM cand));

-- "Each discarded copy counts one item: exact_duplicate when its content equals the kept
-- copy's, else conflicting_duplicate, under the discarded copy's agency."
-- Content = every events column except the transport metadata (source_kind, topic, partition,
-- offset, file_name, line, ingested_at); NULL equals NULL; timestamps compare as instants.
CREATE TABLE dq_items (consortium_id VARCHAR, agency_id VARCHAR, issue VARCHAR);

INSERT INTO dq_items
WITH pairs AS (
    SELECT d.rid AS d_rid, k.rid AS k_rid
    FROM ranked d
    JOIN ranked k ON k.consortium_id = d.consortium_id AND k.event_id = d.event_id
                 AND k.copy_rank = 1
    WHERE d.copy_rank > 1
),
d AS (SELECT r.*, r.rowid AS rid FROM raw_events r WHERE r.rowid IN (SELECT d_rid FROM pairs)),
k AS (SELECT r.*, r.rowid AS rid FROM raw_events r WHERE r.rowid IN (SELECT k_rid FROM pairs))
SELECT d.consortium_id, d.agency_id,
       CASE WHEN d.event_type             IS NOT DISTINCT FROM k.event_type
             AND d.agency_id              IS NOT DISTINCT FROM k.agency_id
             AND d.person_key             IS NOT DISTINCT FROM k.person_key
             AND d.occurred_on            IS NOT DISTINCT FROM k.occurred_on
             AND d.recorded_at            IS NOT DISTINCT FROM k.recorded_at
             AND d.supersedes             IS NOT DISTINCT FROM k.supersedes
             AND d.referral_source        IS NOT DISTINCT FROM k.referral_source
             AND d.program                IS NOT DISTINCT FROM k.program
             AND d.assessment_type        IS NOT DISTINCT FROM k.assessment_type
             AND d.service_type           IS NOT DISTINCT FROM k.service_type
             AND d.job_id                 IS NOT DISTINCT FROM k.job_id
             AND d.employer_key           IS NOT DISTINCT FROM k.employer_key
             AND d.hourly_wage            IS NOT DISTINCT FROM k.hourly_wage
             AND d.hours_per_week         IS NOT DISTINCT FROM k.hours_per_week
             AND d.competitive_integrated IS NOT DISTINCT FROM k.competitive_integrated
             AND d.occupation_code        IS NOT DISTINCT FROM k.occupation_code
             AND d.period_start           IS NOT DISTINCT FROM k.period_start
             AND d.period_end             IS NOT DISTINCT FROM k.period_end
             AND d.gross_wages            IS NOT DISTINCT FROM k.gross_wages
             AND d.hours_worked           IS NOT DISTINCT FROM k.hours_worked
             AND d.separation_reason      IS NOT DISTINCT FROM k.separation_reason
             AND d.exit_outcome           IS NOT DISTINCT FROM k.exit_outcome
             AND d.retracted_event_id     IS NOT DISTINCT FROM k.retracted_event_id
             AND d.retraction_reason      IS NOT DISTINCT FROM k.retraction_reason
            THEN 'exact_duplicate' ELSE 'conflicting_duplicate' END
FROM pairs
JOIN d ON d.rid = pairs.d_rid
JOIN k ON k.rid = pairs.k_rid;

-- E: the kept copies, with the columns the later rules use.
CREATE TABLE e AS
SELECT r.event_id, r.event_type, r.consortium_id, r.agency_id, r.person_key, r.occurred_on,
       r.recorded_at, r.supersedes, r.job_id, r.employer_key, r.hourly_wage, r.hours_per_week,
       r.competitive_integrated, r.period_end, r.gross_wages, r.hours_worked,
       r.separation_reason, r.exit_outcome, r.retracted_event_id
FROM raw_events r
WHERE r.rowid IN (SELECT rid FROM vis)
  AND r.rowid NOT IN (SELECT rid FROM ranked WHERE copy_rank > 1);

DROP TABLE ranked;
DROP TABLE vis;
DROP TABLE raw_events;
