-- Stage 1: which files of the lake count.
-- LAKE.md layout: LAKE/{events,rejected}/consortium=<c>/ingest_date=<d>/<source>+<first>-<last>.parquet
-- {{EVENTS_DIR}} and {{REJECTED_DIR}} are the two folders (string literals, trailing '/'),
-- substituted by reference.py.
-- Files whose name starts with '.' (a writer's temporary name before the atomic rename) and
-- files not ending in '.parquet' are not part of the lake.

CREATE TABLE lake_files AS
WITH g AS (
    SELECT 'events' AS kind, file AS path, substr(file, length({{EVENTS_DIR}}) + 1) AS rel
    FROM glob({{EVENTS_DIR}} || '**/*.parquet')
    UNION ALL
    SELECT 'rejected' AS kind, file AS path, substr(file, length({{REJECTED_DIR}}) + 1) AS rel
    FROM glob({{REJECTED_DIR}} || '**/*.parquet')
)
SELECT kind, path, rel
FROM g
WHERE NOT starts_with(parse_filename(path), '.');

-- "The events file is the commit. A rejected file counts only when an events file of the same
--  name (same consortium, date, source and range) exists; an unpaired rejected file is the
--  leftover of a crash and is ignored."
CREATE TABLE committed_files AS
SELECT e.kind, e.path, e.rel FROM lake_files e WHERE e.kind = 'events'
UNION ALL
SELECT r.kind, r.path, r.rel
FROM lake_files r
WHERE r.kind = 'rejected'
  AND EXISTS (SELECT 1 FROM lake_files e WHERE e.kind = 'events' AND e.rel = r.rel);
