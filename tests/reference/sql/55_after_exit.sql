-- Stage 7b (version 2): INDICATORS.md rule 1.6, the five `episodes` columns it adds and the
-- table `after_exit`. Written from the sentences with calendar dates (quarter bounds from
-- date_trunc), one wage record at a time; the transform works on quarter numbers and per-job
-- monthly wage sums.
--
-- "Each episode with exit_on is one exit, whatever its exit_outcome. Its exit quarter X is the
--  quarter of exit_on; quarter n after exit is the n-th calendar quarter after X. A quarter
--  [q0, q1] is observable when q1 <= D; a measure of a quarter that is not observable is null."
CREATE TABLE ax_quarters AS
SELECT e.consortium_id, e.person_key, e.episode_no, n.n,
       CAST(date_trunc('quarter', e.exit_on) + to_months(3 * n.n) AS DATE) AS q0,
       CAST(date_trunc('quarter', e.exit_on) + to_months(3 * n.n + 3) - INTERVAL 1 DAY AS DATE) AS q1
FROM out_episodes e
CROSS JOIN (VALUES (2), (4)) AS n(n)
WHERE e.exit_on IS NOT NULL;

-- "The evidence is the person's: every job of the same (consortium_id, person_key) from rule
--  5, of any episode and any agency, and the wage records attached to them."
-- "a job is active when start_on <= q1 and (end_on null or end_on >= q0)"
-- "a wage record is in the quarter when its occurred_on (= period_end) is in [q0, q1],
--  wherever its period_start falls, and also after its job's end_on"
CREATE TABLE ax_job_quarters AS
SELECT q.consortium_id, q.person_key, q.episode_no, q.n, j.job_id, j.employer_key,
       (j.start_on <= q.q1 AND (j.end_on IS NULL OR j.end_on >= q.q0)) AS active,
       coalesce((SELECT fsum(w.gross_wages ORDER BY w.gross_wages) FROM wages w
                 WHERE w.consortium_id = j.consortium_id AND w.person_key = j.person_key
                   AND w.job_id = j.job_id AND w.occurred_on BETWEEN q.q0 AND q.q1), 0.0) AS earnings,
       EXISTS (SELECT 1 FROM wages w
               WHERE w.consortium_id = j.consortium_id AND w.person_key = j.person_key
                 AND w.job_id = j.job_id AND w.occurred_on BETWEEN q.q0 AND q.q1
                 AND w.gross_wages > 0) AS paid
FROM ax_quarters q
JOIN job_facts j ON j.consortium_id = q.consortium_id AND j.person_key = q.person_key;

-- "the person is employed when a wage record in the quarter has gross_wages > 0 or a job is
--  active; earnings: the sum of gross_wages over the wage records in the quarter (0 when none)"
-- "an employer (a non-null employer_key) has evidence when a job with that employer_key is
--  active, or has a wage record in the quarter with gross_wages > 0"
-- "retained with the same employer when one employer has evidence in both quarter 2 and
--  quarter 4 after exit, through one job or two jobs with that employer_key"
CREATE TABLE ax_exits AS
WITH per_quarter AS (
    SELECT consortium_id, person_key, episode_no, n,
           bool_or(active OR paid) AS employed,
           fsum(earnings ORDER BY earnings) AS earnings
    FROM ax_job_quarters
    GROUP BY ALL
),
employer_evidence AS (
    SELECT consortium_id, person_key, episode_no, employer_key,
           bool_or((active OR paid) AND n = 2) AS in_q2,
           bool_or((active OR paid) AND n = 4) AS in_q4
    FROM ax_job_quarters
    WHERE employer_key IS NOT NULL
    GROUP BY ALL
),
employers AS (
    SELECT consortium_id, person_key, episode_no,
           bool_or(in_q2) AS any_q2, bool_or(in_q2 AND in_q4) AS retained
    FROM employer_evidence
    GROUP BY ALL
)
SELECT q2.consortium_id, q2.person_key, q2.episode_no,
       q2.q1 <= p.as_of AS q2_observable, q4.q1 <= p.as_of AS q4_observable,
       coalesce(e2.employed, false) AS employed_q2, coalesce(e2.earnings, 0.0) AS earnings_q2,
       coalesce(e4.employed, false) AS employed_q4,
       coalesce(em.any_q2, false) AS employer_q2, coalesce(em.retained, false) AS retained
FROM ax_quarters q2
JOIN ax_quarters q4 USING (consortium_id, person_key, episode_no)
CROSS JOIN params p
LEFT JOIN per_quarter e2 ON e2.consortium_id = q2.consortium_id AND e2.person_key = q2.person_key
      AND e2.episode_no = q2.episode_no AND e2.n = 2
LEFT JOIN per_quarter e4 ON e4.consortium_id = q2.consortium_id AND e4.person_key = q2.person_key
      AND e4.episode_no = q2.episode_no AND e4.n = 4
LEFT JOIN employers em ON em.consortium_id = q2.consortium_id AND em.person_key = q2.person_key
      AND em.episode_no = q2.episode_no
WHERE q2.n = 2 AND q4.n = 4;

-- episodes, version 2, at the end: "exit_quarter: the quarter of exit_on, null without one.
-- employed_q2, employed_q4: employed in quarter 2 (resp. 4) after exit; null without an exit
-- or while that quarter is not observable. earnings_q2: earnings in quarter 2 after exit (0
-- when not employed), null when employed_q2 is null. same_employer_q4: null without an exit,
-- while quarter 4 is not observable, or when no employer has evidence in quarter 2; else true
-- when the exit is retained with the same employer."
CREATE OR REPLACE TABLE out_episodes AS
SELECT e.*,
       CASE WHEN e.exit_on IS NOT NULL
            THEN strftime(e.exit_on, '%Y') || 'Q' || CAST(quarter(e.exit_on) AS VARCHAR) END AS exit_quarter,
       CASE WHEN x.q2_observable THEN x.employed_q2 END AS employed_q2,
       CASE WHEN x.q2_observable THEN x.earnings_q2 END AS earnings_q2,
       CASE WHEN x.q4_observable THEN x.employed_q4 END AS employed_q4,
       CASE WHEN x.q4_observable AND x.employer_q2 THEN x.retained END AS same_employer_q4
FROM out_episodes e
LEFT JOIN ax_exits x ON x.consortium_id = e.consortium_id AND x.person_key = e.person_key
      AND x.episode_no = e.episode_no;

-- after_exit: "Over exits, grouped by consortium_id, agency_id (the episode's), exit_quarter;
-- rows only for exit quarters with exits."
CREATE TABLE out_after_exit AS
WITH x AS (
    SELECT *, agency_id AS grp FROM out_episodes WHERE exit_on IS NOT NULL
    UNION ALL
    SELECT *, 'ALL' AS grp FROM out_episodes WHERE exit_on IS NOT NULL
),
g AS (
    SELECT consortium_id, grp AS agency_id, exit_quarter,
           count(*) AS exiters,
           count(employed_q2) AS eligible_q2,
           count(*) FILTER (WHERE employed_q2) AS employed_q2,
           -- "median of earnings_q2 over the exits with employed_q2 true (an earnings of 0 is
           -- one of the values)"
           quantile_cont(earnings_q2, 0.5) FILTER (WHERE employed_q2) AS median_earnings_q2,
           count(employed_q4) AS eligible_q4,
           count(*) FILTER (WHERE employed_q4) AS employed_q4,
           count(same_employer_q4) AS employed_q2_with_employer,
           count(*) FILTER (WHERE same_employer_q4) AS retained_same_employer
    FROM x
    GROUP BY ALL
)
SELECT consortium_id, agency_id, exit_quarter,
       CAST(exiters AS BIGINT) AS exiters,
       CAST(eligible_q2 AS BIGINT) AS eligible_q2,
       CAST(employed_q2 AS BIGINT) AS employed_q2,
       CASE WHEN eligible_q2 > 0 THEN employed_q2 / eligible_q2 END AS employment_rate_q2,
       median_earnings_q2,
       CAST(eligible_q4 AS BIGINT) AS eligible_q4,
       CAST(employed_q4 AS BIGINT) AS employed_q4,
       CASE WHEN eligible_q4 > 0 THEN employed_q4 / eligible_q4 END AS employment_rate_q4,
       CAST(employed_q2_with_employer AS BIGINT) AS employed_q2_with_employer,
       CAST(retained_same_employer AS BIGINT) AS retained_same_employer,
       CASE WHEN employed_q2_with_employer > 0
            THEN retained_same_employer / employed_q2_with_employer END AS same_employer_rate
FROM g;
