-- Stage 5: INDICATORS.md 1.3 Episodes.
-- "Per person (consortium_id, person_key), walk the intake and exit events in order of
--  (occurred_on, recorded_at, event_id). An intake with no open episode opens episode number
--  1, 2, ... (owned by the intake's agency_id; intake_on). An intake while one is open is
--  ignored (repeat_intake). An exit closes the open episode (exit_on, exit_outcome); an exit
--  with none open is ignored (exit_without_episode)."
-- Set-based form of the walk: after any intake an episode is open, after any exit none is
-- (whether the token was effective or ignored). So a token is effective exactly when its type
-- differs from the previous token's type, with a virtual 'exit' before the first token.
CREATE TABLE tokens AS
SELECT consortium_id, person_key, event_id, event_type, agency_id, occurred_on, recorded_at,
       exit_outcome,
       event_type <> coalesce(
           lag(event_type) OVER (PARTITION BY consortium_id, person_key
                                 ORDER BY occurred_on, recorded_at, event_id),
           'exit') AS effective
FROM facts
WHERE event_type IN ('intake', 'exit');

INSERT INTO dq_items
SELECT consortium_id, agency_id,
       CASE event_type WHEN 'intake' THEN 'repeat_intake' ELSE 'exit_without_episode' END
FROM tokens
WHERE NOT effective;

-- Effective tokens alternate intake, exit, intake, ...: the running count of effective intakes
-- is the episode number, for the intake that opens it and for the exit that closes it.
CREATE TABLE eff_tokens AS
SELECT *,
       sum(CASE WHEN event_type = 'intake' THEN 1 ELSE 0 END) OVER (
           PARTITION BY consortium_id, person_key
           ORDER BY occurred_on, recorded_at, event_id
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS episode_no
FROM tokens
WHERE effective;

CREATE TABLE episode_base AS
SELECT i.consortium_id, i.agency_id, i.person_key, CAST(i.episode_no AS BIGINT) AS episode_no,
       i.occurred_on AS intake_on, x.occurred_on AS exit_on, x.exit_outcome
FROM eff_tokens i
LEFT JOIN eff_tokens x
       ON x.consortium_id = i.consortium_id AND x.person_key = i.person_key
      AND x.episode_no = i.episode_no AND x.event_type = 'exit'
WHERE i.event_type = 'intake';

DROP TABLE tokens;
DROP TABLE eff_tokens;

-- INDICATORS.md 1.4 Attribution: "An assessment, service or placement belongs to the latest
-- episode of the same person with intake_on <= occurred_on and (exit_on null or
-- occurred_on <= exit_on); with none, it is ignored (outside_episode). On a day with an exit
-- and a new intake, that day's events belong to the new episode." (latest = highest episode_no)
CREATE TABLE acts AS
WITH attr AS (
    SELECT a.consortium_id, a.event_id, max(ep.episode_no) AS episode_no
    FROM facts a
    JOIN episode_base ep
      ON ep.consortium_id = a.consortium_id AND ep.person_key = a.person_key
     AND ep.intake_on <= a.occurred_on
     AND (ep.exit_on IS NULL OR a.occurred_on <= ep.exit_on)
    WHERE a.event_type IN ('assessment', 'service', 'placement')
    GROUP BY a.consortium_id, a.event_id
)
SELECT a.*, attr.episode_no
FROM facts a
LEFT JOIN attr ON attr.consortium_id = a.consortium_id AND attr.event_id = a.event_id
WHERE a.event_type IN ('assessment', 'service', 'placement');

INSERT INTO dq_items
SELECT consortium_id, agency_id, 'outside_episode' FROM acts WHERE episode_no IS NULL;
