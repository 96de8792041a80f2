#!/usr/bin/env python3
"""Reference implementation of the eight indicator tables (INDICATORS.md sections 0-2, version 2) and of
the snapshot measures (section 3, table `measures`) in DuckDB SQL.

An independent second implementation, used to check the Rust transform stage cell by cell
(see compare.py). All logic lives in the SQL files under sql/, run in name order; this script
only creates the parameters, finds the lake's files (a Delta lake's through the deltalake
package, a version-1 lake's by its commit rule) and writes the results.

    python3 tests/reference/reference.py --lake LAKE --as-of YYYY-MM-DD --out OUTDIR \
        [--wage-floor 7.25] [--wage-floor-for CONSORTIUM=VALUE ...]

Writes OUTDIR/<table>.parquet for the eight tables and `measures`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"

# Output tables and the columns they are sorted by (deterministic files).
TABLES: dict[str, list[str]] = {
    "episodes": ["consortium_id", "agency_id", "person_key", "episode_no"],
    "placements": ["consortium_id", "agency_id", "person_key", "job_id"],
    "cohort_timeliness": ["consortium_id", "agency_id", "cohort_month"],
    "first_job_retention": ["consortium_id", "agency_id", "start_month"],
    "turnover": ["consortium_id", "agency_id", "month"],
    "employment_outcomes": ["consortium_id", "agency_id", "quarter"],
    "after_exit": ["consortium_id", "agency_id", "exit_quarter"],
    "data_quality": ["consortium_id", "agency_id", "issue"],
    "measures": ["consortium_id", "agency_id", "period_kind", "period"],
}


def sql_str(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def sql_list(items: list[str]) -> str:
    return "[" + ", ".join(sql_str(i) for i in items) + "]"


def run_sql_file(con: duckdb.DuckDBPyConnection, name: str, subst: dict[str, str] | None = None) -> None:
    text = (SQL_DIR / name).read_text()
    for key, value in (subst or {}).items():
        text = text.replace("{{" + key + "}}", value)
    con.execute(text)


def parse_floor(spec: str) -> tuple[str, float]:
    if "=" not in spec:
        raise argparse.ArgumentTypeError(f"expected CONSORTIUM=VALUE, got {spec!r}")
    cons, value = spec.split("=", 1)
    return cons, float(value)


def build(lake: str, as_of: dt.date, out: str, wage_floor: float,
          floors_for: list[tuple[str, float]], threads: int | None = None) -> dict[str, int]:
    con = duckdb.connect(":memory:")
    # recorded_at is an instant; every cast to a calendar date is the UTC date.
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("CREATE TABLE params (as_of DATE, default_wage_floor DOUBLE)")
    con.execute("INSERT INTO params VALUES (?, ?)", [as_of, wage_floor])
    con.execute("CREATE TABLE wage_floors (consortium_id VARCHAR PRIMARY KEY, wage_floor DOUBLE)")
    for cons, value in dict(floors_for).items():
        con.execute("INSERT INTO wage_floors VALUES (?, ?)", [cons, value])

    run_sql_file(con, "00_schema.sql")
    on_s3 = lake.startswith(("s3://", "s3a://"))
    lake_abs = lake.rstrip("/") if on_s3 else os.path.abspath(lake)
    if on_s3 or os.path.isdir(os.path.join(lake_abs, "events", "_delta_log")):
        # The Delta lake (docs/LAKE.md): each table's current version, partition column
        # included, through the deltalake package (an s3:// lake's connection from the AWS_*
        # environment variables); no commit rule of ours to apply.
        from deltalake import DeltaTable
        for kind, script in (("events", "02_read_events.sql"), ("rejected", "03_read_rejected.sql")):
            con.register(f"delta_{kind}", DeltaTable(f"{lake_abs}/{kind}").to_pyarrow_dataset())
            run_sql_file(con, script, {"SOURCE": f"delta_{kind}", "SRC_FILE": "'delta'"})
    else:
        # A version-1 lake: its files, by its commit rule.
        run_sql_file(con, "01_files.sql", {
            "EVENTS_DIR": sql_str(os.path.join(lake_abs, "events") + "/"),
            "REJECTED_DIR": sql_str(os.path.join(lake_abs, "rejected") + "/"),
        })
        for kind, script in (("events", "02_read_events.sql"), ("rejected", "03_read_rejected.sql")):
            files = [r[0] for r in con.execute(
                "SELECT path FROM committed_files WHERE kind = ? ORDER BY path", [kind]).fetchall()]
            if files:  # read_parquet refuses an empty list; no files = no rows
                source = f"read_parquet({sql_list(files)}, hive_partitioning = false, union_by_name = true, filename = true)"
                run_sql_file(con, script, {"SOURCE": source, "SRC_FILE": "filename"})
    for script in ("10_events.sql", "20_corrections.sql", "30_episodes.sql", "40_jobs.sql", "50_tables.sql", "55_after_exit.sql", "60_measures.sql"):
        run_sql_file(con, script)

    os.makedirs(out, exist_ok=True)
    counts = {}
    for table, keys in TABLES.items():
        path = os.path.join(out, table + ".parquet")
        order = ", ".join(keys)
        con.execute(
            f"COPY (SELECT * FROM out_{table} ORDER BY {order}) TO {sql_str(path)} "
            "(FORMAT parquet, COMPRESSION zstd)")
        counts[table] = con.execute(f"SELECT count(*) FROM out_{table}").fetchall()[0][0]
    con.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lake", required=True, help="the event lake: a folder or an s3:// URL (holds events/ and rejected/)")
    ap.add_argument("--as-of", required=True, type=dt.date.fromisoformat, help="D, YYYY-MM-DD")
    ap.add_argument("--out", required=True, help="output folder; gets <table>.parquet")
    ap.add_argument("--wage-floor", type=float, default=7.25, help="default wage floor (7.25)")
    ap.add_argument("--wage-floor-for", type=parse_floor, action="append", default=[],
                    metavar="CONSORTIUM=VALUE", help="a consortium's own wage floor (repeatable)")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    counts = build(args.lake, args.as_of, args.out, args.wage_floor, args.wage_floor_for, args.threads)
    took = time.monotonic() - t0
    summary = ", ".join(f"{t} {n}" for t, n in counts.items())
    print(f"reference: wrote {len(counts)} tables to {args.out} in {took:.2f}s ({summary})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
