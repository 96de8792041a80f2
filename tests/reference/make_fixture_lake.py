#!/usr/bin/env python3
"""Write a small event lake, exactly per docs/LAKE.md, for testing the reference implementation.

    python3 tests/reference/make_fixture_lake.py OUT_LAKE_DIR

Two consortia ("north-shore": agencies ag-a, ag-b; "harbor": agency hb-1). The cases, with the
person names used in test_reference.py (keys are HMAC-SHA256 with FIXTURE_KEY):
  alice  two jobs in one episode, wages (one after exit), duplicate separation, late-recorded
         (but visible) separation, an invisible late copy of a placement, exact duplicate
         (two Kafka copies), exit.
  bob    repeat intake, exit, exit without episode, service between episodes (outside_episode),
         re-entry with another agency, duplicate placement, separation before start, wage
         before start, wage and separation for unknown jobs.
  carol  exit and new intake on the same day (that day's service goes to the new episode),
         supersedes chain C7 -> C6 -> C5, retraction, retraction of a retraction, retraction of
         an unknown id.
  dave   exact duplicate (Kafka + file copy), conflicting duplicate (other agency), a placement
         recorded after as_of, a service recorded 2024-06-15T23:00Z (visible) and one recorded
         2024-06-15T23:30-05:00 = 2024-06-16T04:30Z (invisible).
  erin   placement before the intake (outside_episode) and a later placement of the same job
         (kept), two jobs starting the same day (recorded_at breaks the tie), a placement by
         another agency than the episode's, negative days to next job, supersedes of an unknown
         id, a retracted superseding event.
  fay    two intakes with the same occurred_on and recorded_at (event_id breaks the tie).
  hank, ivy (harbor)  a job in 2023Q4, a wage in 2024Q1, an event_id equal to one in north-shore.
Transport: overlapping committed Kafka batches (rows read once), a committed rejected file,
a committed rejected file next to an events file with zero rows, an unpaired rejected file
(crash leftover, ignored), an NDJSON file source.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import sys
import uuid
from collections import defaultdict

import pyarrow as pa
import pyarrow.parquet as pq

FIXTURE_KEY = b"fixture-pseudonym-key"
AS_OF = dt.date(2024, 6, 15)
WAGE_FLOORS = {"harbor": 15.5}  # north-shore uses the default 7.25
NS, HB = "north-shore", "harbor"
_NAMESPACE = uuid.UUID("6f1c3e52-3a8e-4f57-9b7a-0c2d61e5a001")

UTC = dt.timezone.utc

EVENTS_SCHEMA = pa.schema([
    ("event_id", pa.utf8()), ("event_type", pa.utf8()), ("consortium_id", pa.utf8()),
    ("agency_id", pa.utf8()), ("person_key", pa.utf8()), ("occurred_on", pa.date32()),
    ("recorded_at", pa.timestamp("us", tz="UTC")), ("supersedes", pa.utf8()),
    ("referral_source", pa.utf8()), ("program", pa.utf8()), ("assessment_type", pa.utf8()),
    ("service_type", pa.utf8()), ("job_id", pa.utf8()), ("employer_key", pa.utf8()),
    ("hourly_wage", pa.float64()), ("hours_per_week", pa.float64()),
    ("competitive_integrated", pa.bool_()), ("occupation_code", pa.utf8()),
    ("period_start", pa.date32()), ("period_end", pa.date32()), ("gross_wages", pa.float64()),
    ("hours_worked", pa.float64()), ("separation_reason", pa.utf8()), ("exit_outcome", pa.utf8()),
    ("retracted_event_id", pa.utf8()), ("retraction_reason", pa.utf8()),
    ("source_kind", pa.utf8()), ("topic", pa.utf8()), ("partition", pa.int32()),
    ("offset", pa.int64()), ("file_name", pa.utf8()), ("line", pa.int64()),
    ("ingested_at", pa.timestamp("us", tz="UTC")),
])
REJECTED_SCHEMA = pa.schema([
    ("consortium_id", pa.utf8()), ("agency_id", pa.utf8()), ("reason", pa.utf8()),
    ("detail", pa.utf8()), ("raw", pa.binary()), ("source_kind", pa.utf8()), ("topic", pa.utf8()),
    ("partition", pa.int32()), ("offset", pa.int64()), ("file_name", pa.utf8()),
    ("line", pa.int64()), ("ingested_at", pa.timestamp("us", tz="UTC")),
])


def _hash(consortium: str, ident: str) -> str:
    return hmac.new(FIXTURE_KEY, f"{consortium}:{ident}".encode(), hashlib.sha256).hexdigest()


def person_key(consortium: str, name: str) -> str:
    return _hash(consortium, name)


def employer_key(consortium: str, name: str) -> str:
    return _hash(consortium, "employer-" + name)


def event_id(label: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, label))


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def ts(s: str) -> dt.datetime:
    """RFC 3339 text -> aware datetime in UTC (the lake stores instants)."""
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


class Lake:
    def __init__(self) -> None:
        # messages per source: (consortium, kind, topic_or_file, partition) -> list of rows
        self.sources: dict[tuple, list[dict]] = defaultdict(list)

    def _place(self, consortium: str, row: dict, file: str | None, partition: int, topic: str | None) -> None:
        if file is not None:
            key = (consortium, "file", file, None)
        else:
            key = (consortium, "kafka", topic, partition)
        pos = len(self.sources[key])
        if file is not None:
            row.update(source_kind="file", topic=None, partition=None, offset=None,
                       file_name=file, line=pos + 1)
        else:
            row.update(source_kind="kafka", topic=topic, partition=partition, offset=pos,
                       file_name=None, line=None)
        self.sources[key].append(row)

    def ev(self, label: str, etype: str, consortium: str, agency: str, person: str,
           occurred: str, recorded: str | None = None, *, eid: str | None = None,
           supersedes: str | None = None, file: str | None = None, partition: int = 0,
           **payload) -> str:
        eid = eid or event_id(label)
        row = {c: None for c in EVENTS_SCHEMA.names}
        row.update(event_id=eid, event_type=etype, consortium_id=consortium, agency_id=agency,
                   person_key=person_key(consortium, person), occurred_on=d(occurred),
                   recorded_at=ts(recorded or occurred + "T15:00:00Z"), supersedes=supersedes)
        defaults = {
            "intake": {"referral_source": "self"},
            "assessment": {"assessment_type": "vocational"},
            "service": {"service_type": "job_development"},
        }.get(etype, {})
        for k, v in {**defaults, **payload}.items():
            if k == "employer":
                row["employer_key"] = employer_key(consortium, v)
            elif k in ("period_start", "period_end"):
                row[k] = d(v)
            else:
                assert k in row, k
                row[k] = v
        self._place(consortium, row, file, partition, f"outcomes.{consortium}.{etype}")
        return eid

    def rej(self, consortium: str, agency: str, reason: str, *, topic: str, partition: int = 0) -> None:
        row = {"consortium_id": consortium, "agency_id": agency, "reason": reason,
               "detail": f"fixture: {reason}", "raw": b"{}", "rejected": True}
        self._place(consortium, row, None, partition, topic)


def build() -> Lake:
    L = Lake()
    ev = L.ev
    # ---------------------------------------------------------------- north-shore: alice
    A1 = ev("A1", "intake", NS, "ag-a", "alice", "2024-01-10")
    ev("A2", "assessment", NS, "ag-a", "alice", "2024-01-20")
    ev("A3", "service", NS, "ag-a", "alice", "2024-01-25")
    ev("A3", "service", NS, "ag-a", "alice", "2024-01-25")        # producer resent: exact_duplicate
    ev("A4", "placement", NS, "ag-a", "alice", "2024-02-01", job_id="j1", employer="emp1",
       hourly_wage=15.0, hours_per_week=20.0, competitive_integrated=True)
    ev("A4", "placement", NS, "ag-a", "alice", "2024-02-01", "2024-06-20T09:00:00Z", job_id="j1",
       employer="emp1", hourly_wage=99.0, hours_per_week=20.0, competitive_integrated=True)  # invisible copy
    ev("A5", "wage", NS, "ag-a", "alice", "2024-02-14", job_id="j1", period_start="2024-02-01",
       period_end="2024-02-14", gross_wages=300.0, hours_worked=20.0)
    ev("A6", "wage", NS, "ag-a", "alice", "2024-02-28", job_id="j1", period_start="2024-02-15",
       period_end="2024-02-28", gross_wages=300.0, hours_worked=20.0)
    ev("A7", "separation", NS, "ag-a", "alice", "2024-03-15", "2024-06-01T10:00:00Z",
       job_id="j1", separation_reason="quit")                      # late-recorded, visible
    ev("A8", "separation", NS, "ag-a", "alice", "2024-03-20", job_id="j1",
       separation_reason="fired")                                  # duplicate_separation
    ev("A9", "placement", NS, "ag-a", "alice", "2024-04-01", job_id="j2", employer="emp2",
       hourly_wage=16.5, hours_per_week=30.0, competitive_integrated=True)
    ev("A10", "exit", NS, "ag-a", "alice", "2024-04-30", exit_outcome="employed")
    ev("A11", "wage", NS, "ag-a", "alice", "2024-05-14", job_id="j2", period_start="2024-05-01",
       period_end="2024-05-14", gross_wages=495.0, hours_worked=30.0)
    # ---------------------------------------------------------------- bob
    ev("B1", "intake", NS, "ag-a", "bob", "2024-01-15")
    ev("B2", "intake", NS, "ag-a", "bob", "2024-01-20")            # repeat_intake
    ev("B3", "assessment", NS, "ag-a", "bob", "2024-02-10")
    ev("B4", "exit", NS, "ag-a", "bob", "2024-03-01", exit_outcome="not_employed")
    ev("B5", "exit", NS, "ag-a", "bob", "2024-03-05", exit_outcome="other")  # exit_without_episode
    ev("B6", "service", NS, "ag-b", "bob", "2024-03-10")           # outside_episode
    # (the schema_violation rejection sits on the intake topic, inside the overlap, see below)
    ev("B7", "intake", NS, "ag-b", "bob", "2024-04-02")
    ev("B8", "placement", NS, "ag-b", "bob", "2024-04-20", job_id="j1", employer="emp3",
       hourly_wage=7.0, hours_per_week=10.0, competitive_integrated=False)
    ev("B9", "placement", NS, "ag-b", "bob", "2024-05-01", job_id="j1", employer="emp3",
       hourly_wage=8.0, hours_per_week=10.0, competitive_integrated=False)  # duplicate_placement
    ev("B10", "separation", NS, "ag-b", "bob", "2024-04-10", job_id="j1",
       separation_reason="quit")                                   # separation_before_start
    ev("B11", "wage", NS, "ag-b", "bob", "2024-04-19", job_id="j1", period_start="2024-04-06",
       period_end="2024-04-19", gross_wages=70.0, hours_worked=10.0)  # wage_before_start
    ev("B12", "wage", NS, "ag-b", "bob", "2024-05-10", job_id="j9", period_start="2024-05-01",
       period_end="2024-05-10", gross_wages=70.0, hours_worked=10.0)  # unknown_job
    ev("B13", "separation", NS, "ag-b", "bob", "2024-05-12", job_id="j7",
       separation_reason="other")                                  # unknown_job
    ev("B14", "separation", NS, "ag-b", "bob", "2024-05-20", job_id="j1",
       separation_reason="laid_off")
    # ---------------------------------------------------------------- carol
    ev("C1", "intake", NS, "ag-b", "carol", "2024-01-28")
    ev("C2", "exit", NS, "ag-b", "carol", "2024-03-10", "2024-03-10T10:00:00Z", exit_outcome="other")
    ev("C3", "intake", NS, "ag-b", "carol", "2024-03-10", "2024-03-10T11:00:00Z")
    ev("C4", "service", NS, "ag-b", "carol", "2024-03-10", "2024-03-10T12:00:00Z")
    C5 = ev("C5", "placement", NS, "ag-b", "carol", "2024-03-20", job_id="j1", employer="emp4",
            hourly_wage=12.0, hours_per_week=25.0, competitive_integrated=True)
    C6 = ev("C6", "placement", NS, "ag-b", "carol", "2024-03-20", "2024-03-22T09:00:00Z",
            supersedes=C5, job_id="j1", employer="emp4", hourly_wage=12.5, hours_per_week=25.0,
            competitive_integrated=True)
    ev("C7", "placement", NS, "ag-b", "carol", "2024-03-20", "2024-03-25T09:00:00Z",
       supersedes=C6, job_id="j1", employer="emp4", hourly_wage=13.0, hours_per_week=25.0,
       competitive_integrated=True)
    ev("C8", "assessment", NS, "ag-b", "carol", "2024-03-05")
    C9 = ev("C9", "service", NS, "ag-b", "carol", "2024-02-20")
    C10 = ev("C10", "retraction", NS, "ag-b", "carol", "2024-02-21", retracted_event_id=C9,
             retraction_reason="entered in error")
    ev("C11", "retraction", NS, "ag-b", "carol", "2024-02-22", retracted_event_id=C10)  # bad_retraction_target
    ev("C12", "retraction", NS, "ag-b", "carol", "2024-02-23",
       retracted_event_id=event_id("never-sent"))                  # unknown_retraction_target
    ev("C13", "wage", NS, "ag-b", "carol", "2024-04-30", job_id="j1", period_start="2024-04-01",
       period_end="2024-04-30", gross_wages=1300.0, hours_worked=100.0)
    # ---------------------------------------------------------------- dave
    ev("D1", "intake", NS, "ag-a", "dave", "2024-05-01", "2024-05-01T09:00:00Z")
    ev("D1", "intake", NS, "ag-a", "dave", "2024-05-01", "2024-05-01T09:00:00Z",
       file="ns batch 1.ndjson")                                   # file copy: exact_duplicate
    ev("D2", "assessment", NS, "ag-a", "dave", "2024-05-03", "2024-05-03T10:00:00Z",
       assessment_type="vocational")
    ev("D2", "assessment", NS, "ag-b", "dave", "2024-05-03", "2024-05-03T12:00:00Z",
       assessment_type="benefits", file="ns batch 1.ndjson")       # conflicting_duplicate (ag-b)
    ev("D3", "placement", NS, "ag-a", "dave", "2024-05-10", "2024-06-20T08:00:00Z", job_id="j1",
       employer="emp5", hourly_wage=11.0, hours_per_week=20.0, competitive_integrated=True)  # invisible
    ev("D4", "service", NS, "ag-a", "dave", "2024-06-12", "2024-06-15T23:00:00Z")  # visible
    ev("D5", "service", NS, "ag-a", "dave", "2024-06-14", "2024-06-15T23:30:00-05:00")  # invisible
    # ---------------------------------------------------------------- erin
    ev("E1", "placement", NS, "ag-a", "erin", "2024-01-05", job_id="j1", employer="emp6",
       hourly_wage=9.0, hours_per_week=40.0, competitive_integrated=False)  # outside_episode
    ev("E2", "intake", NS, "ag-a", "erin", "2024-01-08", file="ns batch 1.ndjson")
    ev("E3", "placement", NS, "ag-a", "erin", "2024-02-12", "2024-02-12T09:00:00Z", job_id="j1",
       employer="emp6", hourly_wage=10.0, hours_per_week=40.0, competitive_integrated=False)
    ev("E4", "placement", NS, "ag-b", "erin", "2024-02-12", "2024-02-12T08:00:00Z", job_id="j2",
       employer="emp7", hourly_wage=20.0, hours_per_week=10.0, competitive_integrated=True)
    ev("E5", "separation", NS, "ag-a", "erin", "2024-02-20", job_id="j2", separation_reason="other")
    ev("E6", "wage", NS, "ag-a", "erin", "2024-02-25", job_id="j1", period_start="2024-02-12",
       period_end="2024-02-25", gross_wages=400.0, hours_worked=40.0)
    ev("E7", "service", NS, "ag-a", "erin", "2024-01-20",
       supersedes=event_id("never-sent-either"))                   # unknown_supersedes_target
    E9 = ev("E9", "service", NS, "ag-a", "erin", "2024-01-25")
    E8 = ev("E8", "assessment", NS, "ag-a", "erin", "2024-01-22", "2024-01-26T10:00:00Z",
            supersedes=E9)
    ev("E10", "retraction", NS, "ag-a", "erin", "2024-01-27", retracted_event_id=E8)
    # ---------------------------------------------------------------- fay
    ev("F1", "intake", NS, "ag-a", "fay", "2024-05-10", "2024-05-10T09:00:00Z",
       eid="00000000-0000-4000-8000-000000000001")
    ev("F2", "intake", NS, "ag-b", "fay", "2024-05-10", "2024-05-10T09:00:00Z",
       eid="ffffffff-ffff-4fff-bfff-ffffffffffff")                # repeat_intake (ag-b)
    # ---------------------------------------------------------------- rejections (north-shore)
    L.rej(NS, "ag-a", "schema_violation", topic=f"outcomes.{NS}.intake")  # in both overlapping batches
    L.rej(NS, "unknown", "malformed_json", topic=f"outcomes.{NS}.service", partition=1)
    L.rej(NS, "ag-b", "out_of_range", topic=f"outcomes.{NS}.wage", partition=1)  # unpaired: ignored
    # ---------------------------------------------------------------- harbor
    ev("H1", "intake", HB, "hb-1", "hank", "2023-11-01")
    ev("H2", "placement", HB, "hb-1", "hank", "2023-12-01", eid=A1, job_id="j1", employer="emp1",
       hourly_wage=15.0, hours_per_week=40.0, competitive_integrated=True)  # same id as north-shore A1
    ev("H3", "wage", HB, "hb-1", "hank", "2024-01-14", job_id="j1", period_start="2024-01-01",
       period_end="2024-01-14", gross_wages=600.0, hours_worked=40.0)
    ev("H4", "separation", HB, "hb-1", "hank", "2024-01-31", job_id="j1",
       separation_reason="temporary_end")
    ev("H5", "intake", HB, "hb-1", "ivy", "2024-06-01")
    L.rej(HB, "hb-1", "occurred_after_recorded", topic=f"outcomes.{HB}.intake")
    return L


def _encode(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), s)


def _write(path: str, rows: list[dict], schema: pa.Schema, table: str, source: str, first: int, last: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cols = {name: [r[name] for r in rows] for name in schema.names}
    meta = {"outcomes.lake_version": "1", "outcomes.table": table, "outcomes.source": source,
            "outcomes.first": str(first), "outcomes.last": str(last)}
    t = pa.Table.from_pydict(cols, schema=schema.with_metadata(meta))
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    pq.write_table(t, tmp, compression="zstd")
    os.replace(tmp, path)


def write(lake_dir: str) -> None:
    L = build()
    # Batches: (first, last, ingest_date, commit). Default: one committed batch per source.
    special = {
        # two committed batches that overlap (positions 6.. are in both)
        (NS, "kafka", f"outcomes.{NS}.intake", 0): [(0, None, "2024-06-20", True), (6, None, "2024-06-21", True)],
        # a crash leftover: the rejected file without its events file
        (NS, "kafka", f"outcomes.{NS}.wage", 1): [(0, None, "2024-06-20", False)],
        # rejections are counted whatever as_of
        (HB, "kafka", f"outcomes.{HB}.intake", 0): [(0, None, "2024-07-01", True)],
    }
    for key, rows in sorted(L.sources.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        consortium, kind, name, partition = key
        source = f"kafka.{name}.{partition}" if kind == "kafka" else f"file.{name}"
        for first, last, ingest_date, commit in special.get(key, [(0, None, "2024-06-20", True)]):
            last = len(rows) - 1 if last is None else last
            batch = rows[first:last + 1]
            ingested = dt.datetime.fromisoformat(ingest_date + "T12:00:00+00:00")
            f1, l1 = (first + 1, last + 1) if kind == "file" else (first, last)
            base = f"consortium={consortium}/ingest_date={ingest_date}/{_encode(source)}+{f1:020d}-{l1:020d}.parquet"
            events = [dict(r, ingested_at=ingested) for r in batch if not r.get("rejected")]
            rejected = [dict(r, ingested_at=ingested) for r in batch if r.get("rejected")]
            if rejected:
                _write(os.path.join(lake_dir, "rejected", base), rejected, REJECTED_SCHEMA,
                       "rejected", source, f1, l1)
            if commit:
                _write(os.path.join(lake_dir, "events", base), events, EVENTS_SCHEMA,
                       "events", source, f1, l1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixture_lake.py OUT_LAKE_DIR")
    write(sys.argv[1])
    print(f"fixture lake written to {sys.argv[1]}", file=sys.stderr)
