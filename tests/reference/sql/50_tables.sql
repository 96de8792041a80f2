-- Stage 7: the seven tables of INDICATORS.md 2, with exactly the listed columns, in order.
-- Types: counts/episode_no/job_seq/days_* BIGINT; medians, percentiles, rates, wages, hours,
-- earnings DOUBLE; dates DATE; labels VARCHAR; booleans BOOLEAN.
-- Percentiles: Hyndman-Fan type 7 = quantile_cont (NULL inputs ignored; NULL over an empty set).
-- Rates: numerator / denominator as DOUBLE, NULL when the denominator is 0.
-- "ALL" rows: every grouped table is computed over the rows duplicated under grp = agency_id
-- and grp = 'ALL', so the ALL row is computed over the whole consortium, never a sum of rates.

------------------------------------------------------------------------------------------------
-- episodes: "one row per episode"
-- first_service_on: "the earliest of the episode's assessment and service dates and its jobs'
--   start dates (a placement ends the wait too; ignored placements do not count)."
-- first_placement_on: "earliest start of the episode's jobs."
-- days_to_service = first_service_on - intake_on; days_to_placement = first_placement_on - intake_on.
-- assessments, services: "the episode's kept events of that type"; placements: "the episode's jobs".
CREATE TABLE out_episodes AS
WITH a AS (
    SELECT consortium_id, person_key, episode_no,
           min(occurred_on) FILTER (WHERE event_type = 'assessment') AS first_assessment_on,
           min(occurred_on) FILTER (WHERE event_type = 'service')    AS first_svc_on,
           count(*) FILTER (WHERE event_type = 'assessment')         AS assessments,
           count(*) FILTER (WHERE event_type = 'service')            AS services
    FROM acts
    WHERE episode_no IS NOT NULL AND event_type IN ('assessment', 'service')
    GROUP BY consortium_id, person_key, episode_no
),
j AS (
    SELECT consortium_id, person_key, episode_no,
           min(start_on) AS first_placement_on, count(*) AS placements
    FROM jobs
    GROUP BY consortium_id, person_key, episode_no
),
x AS (
    SELECT ep.*, a.first_assessment_on, j.first_placement_on,
           -- least() skips NULLs (NULL only when all are NULL)
           least(a.first_assessment_on, a.first_svc_on, j.first_placement_on) AS first_service_on,
           a.assessments, a.services, j.placements
    FROM episode_base ep
    LEFT JOIN a ON a.consortium_id = ep.consortium_id AND a.person_key = ep.person_key
               AND a.episode_no = ep.episode_no
    LEFT JOIN j ON j.consortium_id = ep.consortium_id AND j.person_key = ep.person_key
               AND j.episode_no = ep.episode_no
)
SELECT consortium_id, agency_id, person_key,
       CAST(episode_no AS BIGINT)                              AS episode_no,
       intake_on,
       strftime(intake_on, '%Y-%m')                            AS cohort_month,
       exit_on, exit_outcome,
       first_service_on, first_assessment_on, first_placement_on,
       CAST(first_service_on - intake_on AS BIGINT)            AS days_to_service,
       CAST(first_placement_on - intake_on AS BIGINT)          AS days_to_placement,
       CAST(coalesce(assessments, 0) AS BIGINT)                AS assessments,
       CAST(coalesce(services, 0) AS BIGINT)                   AS services,
       CAST(coalesce(placements, 0) AS BIGINT)                 AS placements
FROM x;

------------------------------------------------------------------------------------------------
-- placements: "one row per job"
-- weekly_earnings = hourly_wage * hours_per_week. days_employed = (end_on or D) - start_on.
-- retained_Nd: "false if end_on is set and end_on - start_on < N; else true if
--   start_on + N <= D; else null (not yet observable)."
-- wages_total, hours_total: sums over the job's wage records (0 when none); wage_records: count.
CREATE TABLE out_placements AS
SELECT j.consortium_id, j.agency_id, j.person_key,
       CAST(j.episode_no AS BIGINT)                             AS episode_no,
       j.job_id, j.employer_key, j.start_on, j.end_on, j.separation_reason,
       CAST(j.hourly_wage AS DOUBLE)                            AS hourly_wage,
       CAST(j.hours_per_week AS DOUBLE)                         AS hours_per_week,
       CAST(j.hourly_wage * j.hours_per_week AS DOUBLE)         AS weekly_earnings,
       j.competitive_integrated,
       CAST(j.job_seq AS BIGINT)                                AS job_seq,
       CAST(coalesce(j.end_on, p.as_of) - j.start_on AS BIGINT) AS days_employed,
       CASE WHEN j.end_on IS NOT NULL AND j.end_on - j.start_on < 30 THEN false
            WHEN j.start_on + 30 <= p.as_of THEN true END       AS retained_30d,
       CASE WHEN j.end_on IS NOT NULL AND j.end_on - j.start_on < 90 THEN false
            WHEN j.start_on + 90 <= p.as_of THEN true END       AS retained_90d,
       CASE WHEN j.end_on IS NOT NULL AND j.end_on - j.start_on < 180 THEN false
            WHEN j.start_on + 180 <= p.as_of THEN true END      AS retained_180d,
       j.next_start_on,
       CAST(j.wages_total AS DOUBLE)                            AS wages_total,
       CAST(j.hours_total AS DOUBLE)                            AS hours_total,
       CAST(j.wage_records AS BIGINT)                           AS wage_records
FROM job_facts j, params p;

------------------------------------------------------------------------------------------------
-- cohort_timeliness: grouped by consortium_id, agency_id (the intake's), cohort_month;
-- rows only for months with intakes.
-- served: episodes with first_service_on; still_waiting = intakes - served.
-- Medians and p90 over the served (resp. placed) episodes' days.
-- eligible_30d: intake_on + 30 <= D; served_within_30d: of those, days_to_service <= 30.
-- eligible_45d, placed_within_45d: the same with 45 and days_to_placement.
-- placed: at least one job. assessed: an assessment; assessed_not_placed: of those, no job.
-- exited: exit_on set.
CREATE TABLE out_cohort_timeliness AS
WITH x AS (
    SELECT *, agency_id AS grp FROM out_episodes
    UNION ALL
    SELECT *, 'ALL' AS grp FROM out_episodes
),
g AS (
    SELECT x.consortium_id, x.grp AS agency_id, x.cohort_month,
           count(*)                                                          AS intakes,
           count(x.first_service_on)                                         AS served,
           quantile_cont(CAST(x.days_to_service AS DOUBLE), 0.5)             AS median_days_to_service,
           quantile_cont(CAST(x.days_to_service AS DOUBLE), 0.9)             AS p90_days_to_service,
           count(*) FILTER (WHERE x.intake_on + 30 <= p.as_of)               AS eligible_30d,
           count(*) FILTER (WHERE x.intake_on + 30 <= p.as_of
                              AND x.days_to_service <= 30)                   AS served_within_30d,
           count(x.first_placement_on)                                       AS placed,
           quantile_cont(CAST(x.days_to_placement AS DOUBLE), 0.5)           AS median_days_to_placement,
           quantile_cont(CAST(x.days_to_placement AS DOUBLE), 0.9)           AS p90_days_to_placement,
           count(*) FILTER (WHERE x.intake_on + 45 <= p.as_of)               AS eligible_45d,
           count(*) FILTER (WHERE x.intake_on + 45 <= p.as_of
                              AND x.days_to_placement <= 45)                 AS placed_within_45d,
           count(*) FILTER (WHERE x.assessments > 0)                         AS assessed,
           count(*) FILTER (WHERE x.assessments > 0 AND x.placements = 0)    AS assessed_not_placed,
           count(x.exit_on)                                                  AS exited
    FROM x, params p
    GROUP BY x.consortium_id, x.grp, x.cohort_month
)
SELECT consortium_id, agency_id, cohort_month,
       CAST(intakes AS BIGINT)                                           AS intakes,
       CAST(served AS BIGINT)                                            AS served,
       CAST(intakes - served AS BIGINT)                                  AS still_waiting,
       CAST(median_days_to_service AS DOUBLE)                            AS median_days_to_service,
       CAST(p90_days_to_service AS DOUBLE)                               AS p90_days_to_service,
       CAST(eligible_30d AS BIGINT)                                      AS eligible_30d,
       CAST(served_within_30d AS BIGINT)                                 AS served_within_30d,
       CAST(served_within_30d AS DOUBLE) / CAST(nullif(eligible_30d, 0) AS DOUBLE)
                                                                         AS served_within_30d_rate,
       CAST(placed AS BIGINT)                                            AS placed,
       CAST(median_days_to_placement AS DOUBLE)                          AS median_days_to_placement,
       CAST(p90_days_to_placement AS DOUBLE)                             AS p90_days_to_placement,
       CAST(eligible_45d AS BIGINT)                                      AS eligible_45d,
       CAST(placed_within_45d AS BIGINT)                                 AS placed_within_45d,
       CAST(placed_within_45d AS DOUBLE) / CAST(nullif(eligible_45d, 0) AS DOUBLE)
                                                                         AS placed_within_45d_rate,
       CAST(assessed AS BIGINT)                                          AS assessed,
       CAST(assessed_not_placed AS BIGINT)                               AS assessed_not_placed,
       CAST(exited AS BIGINT)                                            AS exited
FROM g;

------------------------------------------------------------------------------------------------
-- first_job_retention: "Over jobs with job_seq = 1, grouped by consortium_id, agency_id (the
-- placement's), start_month."
-- eligible_Nd: retained_Nd not null; retained_Nd: true; rate = retained / eligible.
-- separated: first jobs with end_on. moved_to_subsequent: next_start_on set.
-- median_days_to_next_job: median of next_start_on - end_on over first jobs with both set.
CREATE TABLE out_first_job_retention AS
WITH f AS (SELECT * FROM out_placements WHERE job_seq = 1),
x AS (
    SELECT *, agency_id AS grp FROM f
    UNION ALL
    SELECT *, 'ALL' AS grp FROM f
),
g AS (
    SELECT consortium_id, grp AS agency_id, strftime(start_on, '%Y-%m') AS start_month,
           count(*)                                   AS first_jobs,
           count(retained_30d)                        AS eligible_30d,
           count(*) FILTER (WHERE retained_30d)       AS retained_30d,
           count(retained_90d)                        AS eligible_90d,
           count(*) FILTER (WHERE retained_90d)       AS retained_90d,
           count(retained_180d)                       AS eligible_180d,
           count(*) FILTER (WHERE retained_180d)      AS retained_180d,
           count(end_on)                              AS separated,
           count(next_start_on)                       AS moved_to_subsequent,
           quantile_cont(CAST(next_start_on - end_on AS DOUBLE), 0.5) AS median_days_to_next_job
    FROM x
    GROUP BY consortium_id, grp, strftime(start_on, '%Y-%m')
)
SELECT consortium_id, agency_id, start_month,
       CAST(first_jobs AS BIGINT)    AS first_jobs,
       CAST(eligible_30d AS BIGINT)  AS eligible_30d,
       CAST(retained_30d AS BIGINT)  AS retained_30d,
       CAST(retained_30d AS DOUBLE) / CAST(nullif(eligible_30d, 0) AS DOUBLE)   AS retention_30d_rate,
       CAST(eligible_90d AS BIGINT)  AS eligible_90d,
       CAST(retained_90d AS BIGINT)  AS retained_90d,
       CAST(retained_90d AS DOUBLE) / CAST(nullif(eligible_90d, 0) AS DOUBLE)   AS retention_90d_rate,
       CAST(eligible_180d AS BIGINT) AS eligible_180d,
       CAST(retained_180d AS BIGINT) AS retained_180d,
       CAST(retained_180d AS DOUBLE) / CAST(nullif(eligible_180d, 0) AS DOUBLE) AS retention_180d_rate,
       CAST(separated AS BIGINT)     AS separated,
       CAST(moved_to_subsequent AS BIGINT) AS moved_to_subsequent,
       CAST(median_days_to_next_job AS DOUBLE) AS median_days_to_next_job
FROM g;

------------------------------------------------------------------------------------------------
-- turnover: grouped by consortium_id, agency_id (the placement's), month: "every month from the
-- group's first job start (the agency's own; for ALL, the consortium's) through the month of D,
-- zero months included. With s = first day of the month and e = min(last day of the month, D):
-- active_at_start (jobs with start_on <= s and (end_on null or end_on >= s)), active_at_end
-- (the same at e), starts (start_on in [s, e]), separations (end_on in [s, e]),
-- separations_<reason>, turnover_rate = separations / ((active_at_start + active_at_end) / 2),
-- partial_month (the month of D, when D is not its last day)."
-- Set-based form: a job's end_on is never before its start_on (earlier separations are
-- ignored), so active at t = #(start_on <= t) - #(end_on < t). Jobs are first reduced to daily
-- counts per group, then each month sums the days up to its e.
CREATE TABLE out_turnover AS
WITH j AS (
    SELECT consortium_id, agency_id AS grp, start_on, end_on, separation_reason FROM out_placements
    UNION ALL
    SELECT consortium_id, 'ALL' AS grp, start_on, end_on, separation_reason FROM out_placements
),
day_starts AS (
    SELECT consortium_id, grp, start_on AS d, count(*) AS n
    FROM j GROUP BY consortium_id, grp, start_on
),
day_ends AS (
    SELECT consortium_id, grp, end_on AS d, count(*) AS n,
           count(*) FILTER (WHERE separation_reason = 'quit')          AS n_quit,
           count(*) FILTER (WHERE separation_reason = 'laid_off')      AS n_laid_off,
           count(*) FILTER (WHERE separation_reason = 'fired')         AS n_fired,
           count(*) FILTER (WHERE separation_reason = 'temporary_end') AS n_temporary_end,
           count(*) FILTER (WHERE separation_reason = 'other')         AS n_other
    FROM j WHERE end_on IS NOT NULL GROUP BY consortium_id, grp, end_on
),
groups AS (
    SELECT consortium_id, grp, min(start_on) AS first_start FROM j GROUP BY consortium_id, grp
),
months AS (
    SELECT g.consortium_id, g.grp,
           CAST(unnest(generate_series(CAST(date_trunc('month', g.first_start) AS TIMESTAMP),
                                       CAST(date_trunc('month', p.as_of) AS TIMESTAMP),
                                       INTERVAL 1 MONTH)) AS DATE) AS s
    FROM groups g, params p
),
m AS (
    SELECT months.*, least(last_day(months.s), p.as_of) AS e,
           (months.s = CAST(date_trunc('month', p.as_of) AS DATE)
            AND p.as_of <> last_day(p.as_of)) AS partial_month
    FROM months, params p
),
st AS (
    SELECT m.consortium_id, m.grp, m.s,
           coalesce(sum(ds.n) FILTER (WHERE ds.d <= m.s), 0)               AS started_by_s,
           coalesce(sum(ds.n), 0)                                          AS started_by_e,
           coalesce(sum(ds.n) FILTER (WHERE ds.d >= m.s), 0)               AS starts
    FROM m JOIN day_starts ds
      ON ds.consortium_id = m.consortium_id AND ds.grp = m.grp AND ds.d <= m.e
    GROUP BY m.consortium_id, m.grp, m.s
),
en AS (
    SELECT m.consortium_id, m.grp, m.s,
           coalesce(sum(de.n) FILTER (WHERE de.d < m.s), 0)                AS ended_before_s,
           coalesce(sum(de.n) FILTER (WHERE de.d < m.e), 0)                AS ended_before_e,
           coalesce(sum(de.n) FILTER (WHERE de.d >= m.s), 0)               AS separations,
           coalesce(sum(de.n_quit) FILTER (WHERE de.d >= m.s), 0)          AS separations_quit,
           coalesce(sum(de.n_laid_off) FILTER (WHERE de.d >= m.s), 0)      AS separations_laid_off,
           coalesce(sum(de.n_fired) FILTER (WHERE de.d >= m.s), 0)         AS separations_fired,
           coalesce(sum(de.n_temporary_end) FILTER (WHERE de.d >= m.s), 0) AS separations_temporary_end,
           coalesce(sum(de.n_other) FILTER (WHERE de.d >= m.s), 0)         AS separations_other
    FROM m JOIN day_ends de
      ON de.consortium_id = m.consortium_id AND de.grp = m.grp AND de.d <= m.e
    GROUP BY m.consortium_id, m.grp, m.s
),
r AS (
    SELECT m.consortium_id, m.grp, m.s, m.partial_month,
           CAST(coalesce(st.started_by_s, 0) - coalesce(en.ended_before_s, 0) AS BIGINT) AS active_at_start,
           CAST(coalesce(st.started_by_e, 0) - coalesce(en.ended_before_e, 0) AS BIGINT) AS active_at_end,
           CAST(coalesce(st.starts, 0) AS BIGINT)                    AS starts,
           CAST(coalesce(en.separations, 0) AS BIGINT)               AS separations,
           CAST(coalesce(en.separations_quit, 0) AS BIGINT)          AS separations_quit,
           CAST(coalesce(en.separations_laid_off, 0) AS BIGINT)      AS separations_laid_off,
           CAST(coalesce(en.separations_fired, 0) AS BIGINT)         AS separations_fired,
           CAST(coalesce(en.separations_temporary_end, 0) AS BIGINT) AS separations_temporary_end,
           CAST(coalesce(en.separations_other, 0) AS BIGINT)         AS separations_other
    FROM m
    LEFT JOIN st ON st.consortium_id = m.consortium_id AND st.grp = m.grp AND st.s = m.s
    LEFT JOIN en ON en.consortium_id = m.consortium_id AND en.grp = m.grp AND en.s = m.s
)
SELECT consortium_id, grp AS agency_id, strftime(s, '%Y-%m') AS month,
       active_at_start, active_at_end, starts, separations,
       separations_quit, separations_laid_off, separations_fired,
       separations_temporary_end, separations_other,
       CASE WHEN active_at_start + active_at_end = 0 THEN NULL
            ELSE CAST(separations AS DOUBLE) / (CAST(active_at_start + active_at_end AS DOUBLE) / 2.0)
       END AS turnover_rate,
       partial_month
FROM r;

------------------------------------------------------------------------------------------------
-- employment_outcomes: grouped by consortium_id, agency_id (the placement's), quarter; "a row
-- for each quarter with a job start or a wage record."
-- Job measures over jobs starting in the quarter: placements, persons_placed (distinct
-- person_key), first_placements (job_seq = 1), median_hourly_wage, mean_hourly_wage,
-- median_hours_per_week, median_weekly_earnings, at_or_above_wage_floor (hourly_wage >=
-- wage_floor), wage_floor, competitive_integrated (count of jobs).
-- Wage measures over the attached wage records with occurred_on in the quarter, "attributed to
-- their job's agency": wages_reported, hours_reported, persons_with_wages (distinct person_key).
-- Sums and the mean: fsum over sorted values (deterministic; see 40_jobs.sql).
CREATE TABLE out_employment_outcomes AS
WITH floors AS (
    SELECT c.consortium_id, coalesce(w.wage_floor, p.default_wage_floor) AS wage_floor
    FROM (SELECT DISTINCT consortium_id FROM out_placements
          UNION SELECT DISTINCT consortium_id FROM wages) c
    CROSS JOIN params p
    LEFT JOIN wage_floors w ON w.consortium_id = c.consortium_id
),
jx AS (
    SELECT *, agency_id AS grp FROM out_placements
    UNION ALL
    SELECT *, 'ALL' AS grp FROM out_placements
),
jq AS (
    SELECT jx.consortium_id, jx.grp,
           strftime(jx.start_on, '%Y') || 'Q' || CAST(quarter(jx.start_on) AS VARCHAR) AS quarter,
           count(*)                                                   AS placements,
           count(DISTINCT jx.person_key)                              AS persons_placed,
           count(*) FILTER (WHERE jx.job_seq = 1)                     AS first_placements,
           quantile_cont(jx.hourly_wage, 0.5)                         AS median_hourly_wage,
           fsum(jx.hourly_wage ORDER BY jx.hourly_wage) / count(jx.hourly_wage) AS mean_hourly_wage,
           quantile_cont(jx.hours_per_week, 0.5)                      AS median_hours_per_week,
           quantile_cont(jx.weekly_earnings, 0.5)                     AS median_weekly_earnings,
           count(*) FILTER (WHERE jx.hourly_wage >= f.wage_floor)     AS at_or_above_wage_floor,
           count(*) FILTER (WHERE jx.competitive_integrated)          AS competitive_integrated
    FROM jx JOIN floors f ON f.consortium_id = jx.consortium_id
    GROUP BY jx.consortium_id, jx.grp, quarter
),
wx AS (
    SELECT consortium_id, job_agency_id AS grp, person_key, occurred_on, gross_wages, hours_worked FROM wages
    UNION ALL
    SELECT consortium_id, 'ALL' AS grp, person_key, occurred_on, gross_wages, hours_worked FROM wages
),
wq AS (
    SELECT consortium_id, grp,
           strftime(occurred_on, '%Y') || 'Q' || CAST(quarter(occurred_on) AS VARCHAR) AS quarter,
           fsum(gross_wages ORDER BY gross_wages)   AS wages_reported,
           fsum(hours_worked ORDER BY hours_worked) AS hours_reported,
           count(DISTINCT person_key) AS persons_with_wages
    FROM wx
    GROUP BY consortium_id, grp, quarter
),
k AS (
    SELECT consortium_id, grp, quarter FROM jq
    UNION
    SELECT consortium_id, grp, quarter FROM wq
)
SELECT k.consortium_id, k.grp AS agency_id, k.quarter,
       CAST(coalesce(jq.placements, 0) AS BIGINT)             AS placements,
       CAST(coalesce(jq.persons_placed, 0) AS BIGINT)         AS persons_placed,
       CAST(coalesce(jq.first_placements, 0) AS BIGINT)       AS first_placements,
       CAST(jq.median_hourly_wage AS DOUBLE)                  AS median_hourly_wage,
       CAST(jq.mean_hourly_wage AS DOUBLE)                    AS mean_hourly_wage,
       CAST(jq.median_hours_per_week AS DOUBLE)               AS median_hours_per_week,
       CAST(jq.median_weekly_earnings AS DOUBLE)              AS median_weekly_earnings,
       CAST(coalesce(jq.at_or_above_wage_floor, 0) AS BIGINT) AS at_or_above_wage_floor,
       CAST(f.wage_floor AS DOUBLE)                           AS wage_floor,
       CAST(coalesce(jq.competitive_integrated, 0) AS BIGINT) AS competitive_integrated,
       CAST(coalesce(wq.wages_reported, 0.0) AS DOUBLE)       AS wages_reported,
       CAST(coalesce(wq.hours_reported, 0.0) AS DOUBLE)       AS hours_reported,
       CAST(coalesce(wq.persons_with_wages, 0) AS BIGINT)     AS persons_with_wages
FROM k
JOIN floors f ON f.consortium_id = k.consortium_id
LEFT JOIN jq ON jq.consortium_id = k.consortium_id AND jq.grp = k.grp AND jq.quarter = k.quarter
LEFT JOIN wq ON wq.consortium_id = k.consortium_id AND wq.grp = k.grp AND wq.quarter = k.quarter;

------------------------------------------------------------------------------------------------
-- data_quality: "consortium_id, agency_id, issue, events for every issue code above with a
-- count above zero, with an ALL row per issue (the rejected:* issues included), plus the ingest
-- rejections by reason code under issue = 'rejected:<reason>' (... rejections are counted
-- whatever as_of)." Rejections: the committed rejected rows (one per position), under their
-- consortium_id and agency_id.
CREATE TABLE out_data_quality AS
WITH items AS (
    SELECT consortium_id, agency_id, issue FROM dq_items
    UNION ALL
    SELECT consortium_id, agency_id, 'rejected:' || reason FROM lake_rejected
)
SELECT consortium_id, agency_id, issue, CAST(count(*) AS BIGINT) AS events
FROM items GROUP BY consortium_id, agency_id, issue
UNION ALL
SELECT consortium_id, 'ALL' AS agency_id, issue, CAST(count(*) AS BIGINT) AS events
FROM items GROUP BY consortium_id, issue;
