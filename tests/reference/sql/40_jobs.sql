-- Stage 6: INDICATORS.md 1.5 Jobs. "Each ignored item is counted once, under the first rule
-- that drops it."

-- "A kept placement creates a job keyed by (consortium_id, person_key, job_id). A second
--  placement with the same key is ignored (duplicate_placement); the first in (occurred_on,
--  recorded_at, event_id) order wins. ... Only kept placements make jobs: a placement ignored
--  as outside_episode does not make a later placement of the same job a duplicate."
CREATE TABLE kept_placements AS
SELECT *,
       row_number() OVER (PARTITION BY consortium_id, person_key, job_id
                          ORDER BY occurred_on, recorded_at, event_id) AS placement_rank
FROM acts
WHERE event_type = 'placement' AND episode_no IS NOT NULL;

INSERT INTO dq_items
SELECT consortium_id, agency_id, 'duplicate_placement' FROM kept_placements WHERE placement_rank > 1;

-- The job: start_on = the placement's occurred_on; agency = the placement event's agency.
CREATE TABLE jobs AS
SELECT consortium_id, agency_id, person_key, episode_no, job_id, employer_key,
       occurred_on AS start_on, recorded_at, event_id,
       hourly_wage, hours_per_week, competitive_integrated
FROM kept_placements
WHERE placement_rank = 1;

-- "Separations and wages attach to a job by key, whatever episode or exit. With no such job:
--  unknown_job. A separation before the job's start: separation_before_start, ignored. Of the
--  remaining separations of a job, the first in (occurred_on, recorded_at, event_id) order
--  counts and the rest are duplicate_separation."
CREATE TABLE separations AS
SELECT s.consortium_id, s.agency_id, s.person_key, s.job_id, s.occurred_on, s.recorded_at,
       s.event_id, s.separation_reason, j.start_on,
       CASE WHEN j.start_on IS NULL THEN 'unknown_job'
            WHEN s.occurred_on < j.start_on THEN 'separation_before_start'
            ELSE NULL END AS issue
FROM facts s
LEFT JOIN jobs j
       ON j.consortium_id = s.consortium_id AND j.person_key = s.person_key AND j.job_id = s.job_id
WHERE s.event_type = 'separation';

CREATE TABLE separations_ranked AS
SELECT *,
       row_number() OVER (PARTITION BY consortium_id, person_key, job_id
                          ORDER BY occurred_on, recorded_at, event_id) AS sep_rank
FROM separations
WHERE issue IS NULL;

INSERT INTO dq_items
SELECT consortium_id, agency_id, issue FROM separations WHERE issue IS NOT NULL
UNION ALL
SELECT consortium_id, agency_id, 'duplicate_separation' FROM separations_ranked WHERE sep_rank > 1;

-- "A wage whose period_end is before the start: wage_before_start, ignored."
CREATE TABLE wages_all AS
SELECT w.consortium_id, w.agency_id, w.person_key, w.job_id, w.occurred_on, w.period_end,
       w.gross_wages, w.hours_worked,
       j.agency_id AS job_agency_id,
       CASE WHEN j.start_on IS NULL THEN 'unknown_job'
            WHEN w.period_end < j.start_on THEN 'wage_before_start'
            ELSE NULL END AS issue
FROM facts w
LEFT JOIN jobs j
       ON j.consortium_id = w.consortium_id AND j.person_key = w.person_key AND j.job_id = w.job_id
WHERE w.event_type = 'wage';

INSERT INTO dq_items
SELECT consortium_id, agency_id, issue FROM wages_all WHERE issue IS NOT NULL;

-- The attached wage records.
CREATE TABLE wages AS SELECT * EXCLUDE (issue) FROM wages_all WHERE issue IS NULL;

-- placements.job_seq: "numbers the episode's jobs 1, 2, ... by (start_on, recorded_at,
-- event_id)"; next_start_on: "start of job job_seq + 1 of the same episode, else null".
-- end_on / separation_reason from the counting separation; wage sums over attached wages.
-- Float sums are fsum (compensated) over the values in sorted order, so that the result does
-- not depend on the order in which parallel threads meet the rows (deterministic files).
CREATE TABLE job_facts AS
WITH seq AS (
    SELECT *,
           row_number() OVER (PARTITION BY consortium_id, person_key, episode_no
                              ORDER BY start_on, recorded_at, event_id) AS job_seq,
           lead(start_on) OVER (PARTITION BY consortium_id, person_key, episode_no
                                ORDER BY start_on, recorded_at, event_id) AS next_start_on
    FROM jobs
),
sep AS (
    SELECT consortium_id, person_key, job_id, occurred_on AS end_on, separation_reason
    FROM separations_ranked WHERE sep_rank = 1
),
wg AS (
    SELECT consortium_id, person_key, job_id,
           fsum(gross_wages ORDER BY gross_wages) AS wages_total,
           fsum(hours_worked ORDER BY hours_worked) AS hours_total,
           count(*) AS wage_records
    FROM wages
    GROUP BY consortium_id, person_key, job_id
)
SELECT seq.*, sep.end_on, sep.separation_reason,
       coalesce(wg.wages_total, 0.0) AS wages_total,
       coalesce(wg.hours_total, 0.0) AS hours_total,
       coalesce(wg.wage_records, 0) AS wage_records
FROM seq
LEFT JOIN sep ON sep.consortium_id = seq.consortium_id AND sep.person_key = seq.person_key
             AND sep.job_id = seq.job_id
LEFT JOIN wg ON wg.consortium_id = seq.consortium_id AND wg.person_key = seq.person_key
            AND wg.job_id = seq.job_id;
