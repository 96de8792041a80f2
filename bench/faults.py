#!/usr/bin/env python3
"""Faults, as figures (issue 13): runs each fault against the real components (the project's
Kafka broker, the `outcomes` binary, a real lake on disk) and prints a table of what it tried
and what happened. docs/RELIABILITY.md records the runs.

    bench/faults.py                                  # small sizes (CI runs this, a few minutes)
    bench/faults.py --messages 1000000 --kills 20    # the issue's sizes, by hand

Faults: kill -9 at random moments of a run; the broker stopped mid-run; a rebalance while a batch
is half full; the lake's disk full, then read-only, mid-write (a tmpfs, so it needs root; skipped
otherwise); a truncated lake file; an empty lake; a consortium of one person. Each check counts
what the lake's Delta tables hold at their current versions (docs/LAKE.md) and compares it with
what was produced.
Exit status 1 if any fault lost or doubled anything or was answered wrongly.
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

REPO = Path(__file__).resolve().parent.parent
KAFKA = REPO / "deploy" / "kafka" / "kafka.sh"


def free_port_pair():
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 60000:
            try:
                with socket.socket() as other:
                    other.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


class Broker:
    def __init__(self, folder):
        self.folder = folder / "broker"
        port = free_port_pair()
        out = subprocess.run([KAFKA, "start", self.folder, str(port)], check=True,
                             capture_output=True, text=True).stdout
        self.bootstrap = out.strip().removeprefix("KAFKA_BOOTSTRAP=")

    def script(self, action):
        subprocess.run([KAFKA, action, self.folder], check=True, capture_output=True)


class Run:
    """One Kafka fault: its own broker (so that what it produced is all its topics hold), lake,
    worker processes and the count of messages produced."""

    def __init__(self, args, root, name):
        self.args, self.name = args, name
        self.dir = root / name
        self.dir.mkdir()
        self.broker = Broker(self.dir)
        self.lake = self.dir / "lake"
        self.produced = 0

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.broker.script("stop")

    def produce(self, messages):
        # About 12 messages per person over 24 months in the generator's feed.
        people = max(10, messages // 11)
        out = subprocess.run(
            [self.args.binary, "generate", "--brokers", self.broker.bootstrap,
             "--participants", str(people), "--seed", str(random.randrange(1 << 30))],
            check=True, capture_output=True, text=True).stdout
        count = int(out.split()[1])
        self.produced += count
        return count

    def worker(self, *extra, instance="w1", lake=None):
        log = open(self.dir / f"worker-{instance}.log", "ab")
        defaults = [] if "--batch-seconds" in extra else ["--batch-seconds", "1"]
        return subprocess.Popen(
            [self.args.binary, "ingest", "--demo-key", "--brokers", self.broker.bootstrap,
             "--group", self.name, "--instance-id", instance, "--lake", lake or self.lake,
             *defaults, *extra],
            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "OUTCOMES_LOG": "info"})

    def log(self, instance="w1"):
        return (self.dir / f"worker-{instance}.log").read_text(errors="replace")


def committed(lake):
    """The active files of each Delta table's current version (none before a table exists)."""
    def active(table):
        try:
            return sorted(DeltaTable(str(Path(lake) / table)).file_uris())
        except TableNotFoundError:
            return []
    return active("events"), active("rejected")


def stored(lake):
    """(rows, distinct positions) over the committed files."""
    events, rejected = committed(lake)
    if not events:
        return 0, 0
    parts = [f"SELECT topic, \"partition\", \"offset\" FROM read_parquet({files!r})"
             for files in (events, rejected) if files]
    [(rows, distinct)] = duckdb.sql(
        f"SELECT count(*), count(DISTINCT (topic, \"partition\", \"offset\")) FROM "
        f"({' UNION ALL '.join(parts)})").fetchall()
    return rows, distinct


def wait_covered(lake, expected, limit):
    """Seconds until the lake holds `expected` distinct positions, or None after `limit`."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if stored(lake)[1] >= expected:
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def first_commit_after(lake, since, limit):
    """Seconds from `since` until a commit to the events table newer than `since` appears."""
    while time.monotonic() - since < limit:
        newest = max((p.stat().st_mtime for p in Path(lake, "events", "_delta_log").glob("*.json")),
                     default=0)
        if newest > wall_at(since):
            return time.monotonic() - since
        time.sleep(0.05)
    return None


def wall_at(monotonic):
    return time.time() - (time.monotonic() - monotonic)


def verdict(run, lake=None):
    rows, distinct = stored(lake or run.lake)
    lost = run.produced - distinct
    doubled = rows - distinct
    return lost, doubled


def stop(process):
    process.terminate()
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def fault_kills(args, root):
    with Run(args, root, "kills") as run:
        run.produce(args.messages // 2)
        worker = run.worker()
        restarts = []
        for _ in range(args.kills):
            time.sleep(random.uniform(0.1, 1.0))
            worker.kill()
            worker.wait()
            # Produced while the worker is down: its restart has something to commit.
            run.produce(args.messages // (2 * args.kills))
            started = time.monotonic()
            worker = run.worker()
            took = first_commit_after(run.lake, started, 60)
            if took is not None:
                restarts.append(took)
        covered = wait_covered(run.lake, run.produced, 600)
        stop(worker)
        lost, doubled = verdict(run)
    restarts.sort()
    timing = (f"restart to first commit: median {restarts[len(restarts) // 2]:.2f} s, "
              f"max {restarts[-1]:.2f} s" if restarts else "no restart committed")
    return (f"{args.kills} kill -9s at random moments of a {run.produced:,}-message run",
            lost == 0 and doubled == 0 and covered is not None and len(restarts) == args.kills,
            f"lost {lost}, doubled {doubled}; {timing}")


def fault_broker(args, root):
    with Run(args, root, "outage") as run:
        expected = run.produce(args.messages)
        worker = run.worker("--batch-messages", "2000")
        wait_covered(run.lake, expected // 10, 120)
        run.broker.script("stop")
        time.sleep(args.outage)
        alive = worker.poll() is None
        run.broker.script("resume")
        resumed = time.monotonic()
        covered = wait_covered(run.lake, expected, 600)
        stop(worker)
        lost, doubled = verdict(run)
    return (f"the broker stopped for {args.outage} s in a {expected:,}-message run",
            alive and lost == 0 and doubled == 0 and covered is not None,
            f"worker {'waited' if alive else 'EXITED'}; all stored {time.monotonic() - resumed:.1f} s "
            f"after the broker was back; lost {lost}, doubled {doubled}")


def fault_rebalance(args, root):
    with Run(args, root, "rebalance") as run:
        run.produce(args.messages // 2)
        # Batches of a million messages or 30 s. The backlog is committed as soon as the worker
        # has read it; what is produced after that is a live feed, whose batches wait for their
        # 30 s: they are open, half full, when the second worker joins and the partitions move.
        big = ("--batch-messages", "1000000", "--batch-seconds", "30")
        first = run.worker(*big, instance="w1")
        wait_covered(run.lake, run.produced, 120)
        run.produce(args.messages // 2)
        time.sleep(2)
        second = run.worker(*big, instance="w2")
        expected = run.produced
        covered = wait_covered(run.lake, expected, 600)
        stop(first)
        stop(second)
        lost, doubled = verdict(run)
        revoked = run.log("w1").count("partition revoked")
    return (f"a second worker joins while the first's batches are open ({expected:,} messages)",
            lost == 0 and doubled == 0 and covered is not None and revoked > 0,
            f"{revoked} open batches left to the new owner; lost {lost}, doubled {doubled}")


def mount(*args):
    return subprocess.run(["mount", *args], capture_output=True, text=True)


def fault_disk(args, root):
    disk = root / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)).returncode:
        return ("the lake's disk full, then read-only, mid-write", True,
                "skipped: mounting a tmpfs needs root")
    with Run(args, root, "disk-full") as run:
        try:
            return disk_full_then_read_only(run, disk)
        finally:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def disk_full_then_read_only(run, disk):
    lake = disk / "lake"
    run.produce(run.args.messages)
    worker = run.worker("--batch-messages", "2000", lake=lake)
    # 256 KiB fill up at once: the worker must stop committing, say why, and keep what it holds.
    time.sleep(8)
    full = run.log().count("lake commit failed")
    held = stored(lake)[1]
    mount("-o", "remount,size=1g", str(disk))
    wait_covered(lake, run.produced, 600)
    mount("-o", "remount,ro", str(disk))
    # New messages while the disk is read-only: their batches cannot be committed.
    run.produce(run.args.messages // 4)
    time.sleep(8)
    readonly = run.log().count("lake commit failed") - full
    mount("-o", "remount,rw", str(disk))
    covered = wait_covered(lake, run.produced, 600)
    alive = worker.poll() is None
    stop(worker)
    lost, doubled = verdict(run, lake)
    return (f"the lake's disk full (a 256 KiB tmpfs), then read-only, in a {run.produced:,}-message run",
            full > 0 and readonly > 0 and alive and lost == 0 and doubled == 0
            and covered is not None,
            f"{full} failed commits while full ({held:,} stored by then), {readonly} while "
            f"read-only, each logged; the worker resumed both times; lost {lost}, doubled {doubled}")


def feed_lake(args, folder, participants, seed=42):
    feed, lake = folder / "feed", folder / "lake"
    subprocess.run([args.binary, "generate", "--participants", str(participants),
                    "--seed", str(seed), "--out", feed], check=True, capture_output=True)
    for consortium in sorted(p.name for p in feed.iterdir()):
        subprocess.run([args.binary, "ingest", "--demo-key", "--consortium", consortium,
                        "--lake", lake, "--from-file", feed / consortium],
                       check=True, capture_output=True)
    return lake


def transform(args, lake, out):
    return subprocess.run([args.binary, "transform", "--lake", lake, "--out", out,
                           "--as-of", "2026-10-31"], capture_output=True, text=True)


def fault_truncated(args, root):
    folder = root / "truncated"
    folder.mkdir()
    lake = feed_lake(args, folder, 300)
    victim = max((p for p in (lake / "events").rglob("*.parquet")), key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    out = folder / "out"
    result = transform(args, lake, out)
    tables = list((out / "tables").glob("*.parquet")) if (out / "tables").exists() else []
    named = victim.name in result.stderr
    return ("a lake file cut to half its size",
            result.returncode != 0 and named and not tables,
            f"transform exit {result.returncode}, {'names' if named else 'DOES NOT NAME'} the "
            f"file ({victim.name[:40]}...), {len(tables)} tables written")


def fault_empty(args, root):
    folder = root / "empty"
    folder.mkdir()
    # As ingest leaves a lake it has opened but stored nothing in.
    (folder / "empty.ndjson").write_text("")
    subprocess.run([args.binary, "ingest", "--demo-key", "--consortium", "north-shore",
                    "--lake", folder / "lake", "--from-file", folder / "empty.ndjson"],
                   check=True, capture_output=True)
    result = transform(args, folder / "lake", folder / "out")
    report = subprocess.run([args.binary, "report", "--tables", folder / "out" / "tables",
                             "--consortium", "north-shore", "--period", "2026Q3",
                             "--out", folder / "reports"], capture_output=True, text=True)
    ok = result.returncode == 0 and report.returncode != 0
    first = (report.stderr.strip().splitlines() or [""])[0]
    return ("an empty lake", ok,
            f"transform exit {result.returncode} ({result.stdout.splitlines()[0] if result.stdout else ''}); "
            f"report exit {report.returncode}: {first[:110]}")


def fault_one_person(args, root):
    folder = root / "one-person"
    folder.mkdir()
    # Seed 5 gives the one person 41 events: an intake, services, a job, wage records.
    lake = feed_lake(args, folder, 1, seed=5)
    out = folder / "out"
    transform(args, lake, out).check_returncode()
    consortium = next(p.name for p in (lake / "events").iterdir()
                      if p.name.startswith("consortium_id=")).removeprefix("consortium_id=")
    # The quarter where the exact table holds the most for this person.
    [(period, exact)] = duckdb.sql(
        f"SELECT period, intakes + first_placements + placements + wages_reported AS n "
        f"FROM '{out / 'tables' / 'measures.parquet'}' WHERE period_kind = 'quarter' "
        f"AND agency_id = 'ALL' ORDER BY n DESC, period LIMIT 1").fetchall()
    subprocess.run([args.binary, "report", "--tables", out / "tables", "--consortium",
                    consortium, "--period", period, "--as-of", "2026-10-31",
                    "--out", folder / "reports"], check=True, capture_output=True)
    snapshot = json.loads(next((folder / "reports").rglob("snapshot.json")).read_text())
    shown = []
    for row in [*snapshot["rows"], *(entry["values"] for entry in snapshot["history"])]:
        for measure, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0:
                shown.append(f"{row.get('agency_id')}.{measure}={value}")
    return (f"a consortium of one person (41 events; report {period}, the quarter the exact "
            f"tables hold most of)",
            exact > 0 and not shown,
            f"{len(snapshot['withheld'])} cells withheld; values other than 0 shown, "
            f"history included: {', '.join(shown) if shown else 'none'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--outage", type=int, default=30, help="seconds the broker is down")
    parser.add_argument("--binary", default=str(REPO / "target" / "debug" / "outcomes"))
    parser.add_argument("--only", help="run only the faults whose names contain this")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="outcomes-faults-") as scratch:
        root = Path(scratch)
        faults = [
            ("kills", fault_kills),
            ("broker", fault_broker),
            ("rebalance", fault_rebalance),
            ("disk", fault_disk),
            ("truncated", fault_truncated),
            ("empty", fault_empty),
            ("one-person", fault_one_person),
        ]
        for name, fault in faults:
            if args.only and args.only not in name:
                continue
            started = time.monotonic()
            tried, ok, happened = fault(args, root)
            results.append((tried, ok, happened, time.monotonic() - started))
            print(f"{'ok  ' if ok else 'FAIL'} {tried}: {happened}", file=sys.stderr)
    print("| fault | held | what happened | seconds |")
    print("|---|---|---|---|")
    for tried, ok, happened, seconds in results:
        print(f"| {tried} | {'yes' if ok else '**no**'} | {happened} | {seconds:.0f} |")
    return 0 if all(ok for _, ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
