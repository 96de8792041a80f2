#!/usr/bin/env python3
"""The DuckDB anchor (ANCHOR/run.py) on a Delta lake, reading the active files of each table's
current version with DuckDB's own Parquet reader.

    python3 bench/anchor_on_parquet.py ANCHOR --lake LAKE --as-of D --out OUT [run.py options]

On a Delta lake the anchor's run.py reads each table through deltalake's pyarrow dataset, which
DuckDB scans without its own projection and filter push-down: 2.4 times its time on the same
files as plain Parquet (docs/BENCHMARKS.md). The transform's speed goal is measured against
the faster of the two, so this gives the anchor the list of active files (from the Delta log,
through the deltalake package) as `read_parquet([...], hive_partitioning = true)`: the
partition column, the consortium, comes back from the files' folder names as Delta writes
them. Everything else is run.py unchanged.
"""
import os
import sys

anchor = sys.argv[1]
sys.path.insert(0, anchor)
import run  # noqa: E402  (the anchor's run.py)
from deltalake import DeltaTable  # noqa: E402

read_through_deltalake = run.lake_source


def lake_source(con, lake: str, table: str) -> str:
    root = os.path.join(lake, table)
    if not os.path.isdir(os.path.join(root, "_delta_log")):
        return read_through_deltalake(con, lake, table)
    files = DeltaTable(root).file_uris()
    if not files:
        return read_through_deltalake(con, lake, table)
    listed = ", ".join(run.sql_str(path) for path in files)
    return f"read_parquet([{listed}], hive_partitioning = true, union_by_name = true)"


run.lake_source = lake_source
sys.exit(run.main(sys.argv[2:]))
