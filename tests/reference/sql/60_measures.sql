-- Stage 8: INDICATORS.md section 3 for every period, as the table `measures`: a second
-- implementation of the transform's, written from the section's sentences one period at a time
-- (every agency's row of every period joined with the episodes or jobs that fall in it), where
-- the transform groups each item by its date and runs a sum over the periods for stalled_90d.
--
-- Periods: every month and every quarter of a consortium from the first with an intake, a job
-- or an attached wage record through the period of D. Rows: "Every agency that owns an episode
-- or a job in the consortium's visible data gets a row", plus ALL, over the whole consortium.
-- "Eligibility windows use D"; t = min(p1, D). Items (what suppression compares with k): for
-- a median the non-null values, for a rate its denominator, for wages_reported the distinct
-- persons with a wage record in P.

CREATE TABLE m_periods AS
WITH firsts AS (
    SELECT consortium_id, min(d) AS first_day
    FROM (SELECT consortium_id, intake_on AS d FROM out_episodes
          UNION ALL SELECT consortium_id, start_on FROM out_placements
          UNION ALL SELECT consortium_id, occurred_on FROM wages)
    GROUP BY consortium_id
),
starts AS (
    SELECT f.consortium_id, 'month' AS period_kind,
           unnest(generate_series(date_trunc('month', f.first_day), date_trunc('month', p.as_of),
                                  INTERVAL 1 MONTH)) AS s
    FROM firsts f CROSS JOIN params p
    UNION ALL
    SELECT f.consortium_id, 'quarter' AS period_kind,
           unnest(generate_series(date_trunc('quarter', f.first_day), date_trunc('quarter', p.as_of),
                                  INTERVAL 3 MONTH)) AS s
    FROM firsts f CROSS JOIN params p
)
SELECT consortium_id, period_kind,
       CASE period_kind WHEN 'month' THEN strftime(s, '%Y-%m')
            ELSE strftime(s, '%Y') || 'Q' || CAST(quarter(s) AS VARCHAR) END AS period,
       CAST(s AS DATE) AS p0,
       CAST(s + CASE period_kind WHEN 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 3 MONTH END
            - INTERVAL 1 DAY AS DATE) AS p1
FROM starts;

CREATE TABLE m_grid AS
WITH owners AS (
    SELECT consortium_id, agency_id FROM out_episodes
    UNION SELECT consortium_id, agency_id FROM out_placements
    UNION SELECT DISTINCT consortium_id, 'ALL' FROM m_periods
)
SELECT o.consortium_id, o.agency_id, p.period_kind, p.period, p.p0, p.p1,
       least(p.p1, params.as_of) AS t, params.as_of AS d,
       coalesce(w.wage_floor, params.default_wage_floor) AS wage_floor
FROM owners o
JOIN m_periods p ON p.consortium_id = o.consortium_id
CROSS JOIN params
LEFT JOIN wage_floors w ON w.consortium_id = o.consortium_id;

-- 1. "intakes, median_days_to_service (those served by D), still_waiting,
-- served_within_30d_rate (eligible as above): over episodes with intake_on in P."
-- 2. "first_placements, median_days_to_placement, placed_over_45d, action_needed (median over
-- 45; null without a median): over episodes whose first_placement_on is in P."
-- 3. "assessed, assessed_not_placed (no job by D): over episodes whose first_assessment_on is
-- in P; and stalled_90d: of all the agency's episodes, those open at t = min(p1, D) (intake_on
-- <= t and exit_on null or > t), first assessed on or before t - 90, with no job started on or
-- before t."
CREATE TABLE m_episodes AS
SELECT g.consortium_id, g.agency_id, g.period_kind, g.period,
       count(e.person_key) FILTER (WHERE e.intake_on BETWEEN g.p0 AND g.p1) AS intakes,
       quantile_cont(CAST(e.days_to_service AS DOUBLE), 0.5)
           FILTER (WHERE e.intake_on BETWEEN g.p0 AND g.p1) AS median_days_to_service,
       count(e.days_to_service) FILTER (WHERE e.intake_on BETWEEN g.p0 AND g.p1) AS served,
       count(e.person_key)
           FILTER (WHERE e.intake_on BETWEEN g.p0 AND g.p1 AND e.intake_on + 30 <= g.d) AS eligible_30d,
       count(e.person_key)
           FILTER (WHERE e.intake_on BETWEEN g.p0 AND g.p1 AND e.intake_on + 30 <= g.d
                   AND e.days_to_service <= 30) AS within_30d,
       count(e.person_key) FILTER (WHERE e.first_placement_on BETWEEN g.p0 AND g.p1) AS first_placements,
       quantile_cont(CAST(e.days_to_placement AS DOUBLE), 0.5)
           FILTER (WHERE e.first_placement_on BETWEEN g.p0 AND g.p1) AS median_days_to_placement,
       count(e.days_to_placement) FILTER (WHERE e.first_placement_on BETWEEN g.p0 AND g.p1) AS placed_known,
       count(e.person_key)
           FILTER (WHERE e.first_placement_on BETWEEN g.p0 AND g.p1 AND e.days_to_placement > 45) AS placed_over_45d,
       count(e.person_key) FILTER (WHERE e.first_assessment_on BETWEEN g.p0 AND g.p1) AS assessed,
       count(e.person_key)
           FILTER (WHERE e.first_assessment_on BETWEEN g.p0 AND g.p1 AND e.first_placement_on IS NULL)
           AS assessed_not_placed,
       count(e.person_key)
           FILTER (WHERE e.intake_on <= g.t AND (e.exit_on IS NULL OR e.exit_on > g.t)
                   AND e.first_assessment_on <= g.t - 90
                   AND (e.first_placement_on IS NULL OR e.first_placement_on > g.t)) AS stalled_90d
FROM m_grid g
LEFT JOIN out_episodes e
       ON e.consortium_id = g.consortium_id AND (g.agency_id = 'ALL' OR e.agency_id = g.agency_id)
GROUP BY ALL;

-- 4. "persons_placed, placements, median_hourly_wage, at_or_above_wage_floor_rate,
-- wages_reported: jobs starting in P; wage records with occurred_on in P."
-- 5. "first_jobs_due_90d (first jobs with start_on + 90 in P and <= D), retained_90d,
-- retention_90d_rate, persons_moved_to_subsequent (distinct persons with a job of job_seq >= 2
-- starting in P)."
CREATE TABLE m_jobs AS
SELECT g.consortium_id, g.agency_id, g.period_kind, g.period,
       count(j.person_key) FILTER (WHERE j.start_on BETWEEN g.p0 AND g.p1) AS placements,
       count(DISTINCT j.person_key) FILTER (WHERE j.start_on BETWEEN g.p0 AND g.p1) AS persons_placed,
       quantile_cont(j.hourly_wage, 0.5) FILTER (WHERE j.start_on BETWEEN g.p0 AND g.p1) AS median_hourly_wage,
       count(j.hourly_wage) FILTER (WHERE j.start_on BETWEEN g.p0 AND g.p1) AS wages_known,
       count(j.person_key)
           FILTER (WHERE j.start_on BETWEEN g.p0 AND g.p1 AND j.hourly_wage >= g.wage_floor) AS at_floor,
       count(j.person_key)
           FILTER (WHERE j.job_seq = 1 AND j.start_on + 90 BETWEEN g.p0 AND g.p1
                   AND j.start_on + 90 <= g.d) AS first_jobs_due_90d,
       count(j.person_key)
           FILTER (WHERE j.job_seq = 1 AND j.start_on + 90 BETWEEN g.p0 AND g.p1
                   AND j.start_on + 90 <= g.d AND j.retained_90d) AS retained_90d,
       count(DISTINCT j.person_key)
           FILTER (WHERE j.start_on BETWEEN g.p0 AND g.p1 AND j.job_seq >= 2) AS persons_moved_to_subsequent
FROM m_grid g
LEFT JOIN out_placements j
       ON j.consortium_id = g.consortium_id AND (g.agency_id = 'ALL' OR j.agency_id = g.agency_id)
GROUP BY ALL;

CREATE TABLE m_wages AS
SELECT g.consortium_id, g.agency_id, g.period_kind, g.period,
       coalesce(fsum(w.gross_wages ORDER BY w.gross_wages), 0.0) AS wages_reported,
       count(DISTINCT w.person_key) AS earners
FROM m_grid g
LEFT JOIN wages w
       ON w.consortium_id = g.consortium_id AND (g.agency_id = 'ALL' OR w.job_agency_id = g.agency_id)
      AND w.occurred_on BETWEEN g.p0 AND g.p1
GROUP BY ALL;

-- 6. "With Q the quarter of p0 (P itself, or the quarter that contains the month P), over the
-- exits of the agency's episodes (the episode's agency, as for 1-3): eligible_q2, employed_q2,
-- employment_rate_q2, median_earnings_q2 over exits with exit_quarter = Q - 2 (measured in Q),
-- and eligible_q4, employed_q4, employment_rate_q4, employed_q2_with_employer,
-- retained_same_employer, same_employer_rate over exits with exit_quarter = Q - 4; each as in
-- after_exit." Items: a rate's are its denominator, the median's the employed_q2 exits.
CREATE TABLE m_after_exit AS
WITH x AS (
    SELECT g.consortium_id, g.agency_id, g.period_kind, g.period, e.*
           EXCLUDE (consortium_id, agency_id),
           date_trunc('quarter', e.exit_on) = date_trunc('quarter', g.p0) - INTERVAL 6 MONTH AS back2,
           date_trunc('quarter', e.exit_on) = date_trunc('quarter', g.p0) - INTERVAL 12 MONTH AS back4
    FROM m_grid g
    LEFT JOIN out_episodes e
           ON e.consortium_id = g.consortium_id AND (g.agency_id = 'ALL' OR e.agency_id = g.agency_id)
          AND e.exit_on IS NOT NULL
)
SELECT consortium_id, agency_id, period_kind, period,
       count(employed_q2) FILTER (WHERE back2) AS eligible_q2,
       count(*) FILTER (WHERE back2 AND employed_q2) AS employed_q2,
       quantile_cont(earnings_q2, 0.5) FILTER (WHERE back2 AND employed_q2) AS median_earnings_q2,
       count(employed_q4) FILTER (WHERE back4) AS eligible_q4,
       count(*) FILTER (WHERE back4 AND employed_q4) AS employed_q4,
       count(same_employer_q4) FILTER (WHERE back4) AS employed_q2_with_employer,
       count(*) FILTER (WHERE back4 AND same_employer_q4) AS retained_same_employer
FROM x
GROUP BY ALL;

CREATE TABLE out_measures AS
SELECT g.consortium_id, g.agency_id, g.period_kind, g.period,
       CAST(g.wage_floor AS DOUBLE) AS wage_floor,
       e.intakes,
       CAST(e.median_days_to_service AS DOUBLE) AS median_days_to_service,
       e.served AS median_days_to_service_items,
       e.intakes - e.served AS still_waiting,
       CAST(e.within_30d AS DOUBLE) / nullif(e.eligible_30d, 0) AS served_within_30d_rate,
       e.eligible_30d AS served_within_30d_rate_items,
       e.first_placements,
       CAST(e.median_days_to_placement AS DOUBLE) AS median_days_to_placement,
       e.placed_known AS median_days_to_placement_items,
       e.placed_over_45d,
       e.median_days_to_placement > 45 AS action_needed,
       e.assessed, e.assessed_not_placed, e.stalled_90d,
       j.persons_placed, j.placements,
       CAST(j.median_hourly_wage AS DOUBLE) AS median_hourly_wage,
       j.wages_known AS median_hourly_wage_items,
       CAST(j.at_floor AS DOUBLE) / nullif(j.wages_known, 0) AS at_or_above_wage_floor_rate,
       j.wages_known AS at_or_above_wage_floor_rate_items,
       CAST(w.wages_reported AS DOUBLE) AS wages_reported,
       w.earners AS wages_reported_items,
       j.first_jobs_due_90d, j.retained_90d,
       CAST(j.retained_90d AS DOUBLE) / nullif(j.first_jobs_due_90d, 0) AS retention_90d_rate,
       j.first_jobs_due_90d AS retention_90d_rate_items,
       j.persons_moved_to_subsequent,
       a.eligible_q2, a.employed_q2,
       CAST(a.employed_q2 AS DOUBLE) / nullif(a.eligible_q2, 0) AS employment_rate_q2,
       a.eligible_q2 AS employment_rate_q2_items,
       CAST(a.median_earnings_q2 AS DOUBLE) AS median_earnings_q2,
       a.employed_q2 AS median_earnings_q2_items,
       a.eligible_q4, a.employed_q4,
       CAST(a.employed_q4 AS DOUBLE) / nullif(a.eligible_q4, 0) AS employment_rate_q4,
       a.eligible_q4 AS employment_rate_q4_items,
       a.employed_q2_with_employer, a.retained_same_employer,
       CAST(a.retained_same_employer AS DOUBLE) / nullif(a.employed_q2_with_employer, 0)
           AS same_employer_rate,
       a.employed_q2_with_employer AS same_employer_rate_items
FROM m_grid g
JOIN m_episodes e USING (consortium_id, agency_id, period_kind, period)
JOIN m_jobs j USING (consortium_id, agency_id, period_kind, period)
JOIN m_wages w USING (consortium_id, agency_id, period_kind, period)
JOIN m_after_exit a USING (consortium_id, agency_id, period_kind, period);
