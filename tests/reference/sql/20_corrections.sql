-- Stage 4: INDICATORS.md 1.2 Corrections. Targets are found by id alone, within the consortium.

-- "A retraction whose target is in E and is not itself a retraction removes its target.
--  A target that is a retraction is left alone (bad_retraction_target); a target not in E
--  has no effect (unknown_retraction_target)." Counted under the retraction's agency.
CREATE TABLE retraction_outcome AS
SELECT r.consortium_id, r.agency_id, r.retracted_event_id AS target_id,
       CASE WHEN t.event_id IS NULL THEN 'unknown_retraction_target'
            WHEN t.event_type = 'retraction' THEN 'bad_retraction_target'
            ELSE 'removes' END AS outcome
FROM e r
LEFT JOIN e t ON t.consortium_id = r.consortium_id AND t.event_id = r.retracted_event_id
WHERE r.event_type = 'retraction';

INSERT INTO dq_items
SELECT consortium_id, agency_id, outcome FROM retraction_outcome WHERE outcome <> 'removes';

-- "Retraction events take no further part." The remaining events: E without retractions and
-- without retracted targets (ids only; the rows are copied once, into `facts`).
CREATE TABLE remaining AS
SELECT x.consortium_id, x.event_id, x.agency_id, x.supersedes
FROM e x
WHERE x.event_type <> 'retraction'
  AND NOT EXISTS (SELECT 1 FROM retraction_outcome o
                  WHERE o.outcome = 'removes'
                    AND o.consortium_id = x.consortium_id AND o.target_id = x.event_id);

-- "Then, all at once, every remaining event with supersedes = X removes X when X is among the
--  remaining events; otherwise it has no effect (unknown_supersedes_target ...). A superseding
--  event that was itself retracted supersedes nothing." (a retracted event is not in
--  `remaining`, so it neither supersedes nor counts). Counted under the superseding event's agency.
-- "In a chain where B supersedes A and C supersedes B, both A and B go and C stands": all at
-- once, so a superseded event's own `supersedes` still applies.
CREATE TABLE superseded_ids AS
SELECT DISTINCT s.consortium_id, s.supersedes AS event_id
FROM remaining s
JOIN remaining x ON x.consortium_id = s.consortium_id AND x.event_id = s.supersedes;

INSERT INTO dq_items
SELECT s.consortium_id, s.agency_id, 'unknown_supersedes_target'
FROM remaining s
WHERE s.supersedes IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM remaining x
                  WHERE x.consortium_id = s.consortium_id AND x.event_id = s.supersedes);

-- F: the facts every later rule works on: the remaining events that are not superseded.
CREATE TABLE facts AS
SELECT x.*
FROM e x
WHERE x.event_type <> 'retraction'
  AND NOT EXISTS (SELECT 1 FROM retraction_outcome o
                  WHERE o.outcome = 'removes'
                    AND o.consortium_id = x.consortium_id AND o.target_id = x.event_id)
  AND NOT EXISTS (SELECT 1 FROM superseded_ids s
                  WHERE s.consortium_id = x.consortium_id AND s.event_id = x.event_id);

DROP TABLE remaining;
DROP TABLE e;
