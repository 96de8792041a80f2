#!/usr/bin/env python3
"""Compare the transform stage's seven tables with the reference implementation's, cell by cell.

    python3 tests/reference/compare.py OURS_DIR REFERENCE_DIR

Each directory holds, per table, `<table>.parquet` (a file or a hive-partitioned folder) or a
folder `<table>/` (also looked for under a `tables/` subfolder). For each table:
  - every column of the reference must exist in OURS (extra columns in OURS are allowed);
  - column types must agree loosely (integer/integer, float/float, date/date, string/string,
    boolean/boolean);
  - row keys must be unique on both sides and the same sets;
  - every cell must agree: exactly for integers, strings, dates, booleans and nulls; floats
    within 1e-9 relative (1e-12 absolute near zero).
Prints a per-table summary with the first 10 mismatches; exit status 1 on any mismatch or
missing table, else 0.
"""
from __future__ import annotations

import os
import sys

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

KEYS: dict[str, list[str]] = {
    "episodes": ["consortium_id", "person_key", "episode_no"],
    "placements": ["consortium_id", "person_key", "job_id"],
    "cohort_timeliness": ["consortium_id", "agency_id", "cohort_month"],
    "first_job_retention": ["consortium_id", "agency_id", "start_month"],
    "turnover": ["consortium_id", "agency_id", "month"],
    "employment_outcomes": ["consortium_id", "agency_id", "quarter"],
    "after_exit": ["consortium_id", "agency_id", "exit_quarter"],
    "data_quality": ["consortium_id", "agency_id", "issue"],
    "measures": ["consortium_id", "agency_id", "period_kind", "period"],
}
REL_TOL = 1e-9
ABS_TOL = 1e-12
SHOW = 10


def find_table(root: str, table: str) -> str | None:
    for base in (root, os.path.join(root, "tables")):
        for name in (table + ".parquet", table):
            p = os.path.join(base, name)
            if os.path.exists(p):
                return p
    return None


def read_table(path: str) -> pa.Table:
    if os.path.isdir(path):
        return ds.dataset(path, format="parquet", partitioning="hive").to_table()
    return ds.dataset(path, format="parquet").to_table()


def type_class(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return type_class(t.value_type)
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or (
            hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t)):
        return "string"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def normalize(t: pa.Table) -> pa.Table:
    """Dictionary columns (e.g. hive partition values) to their plain values."""
    cols = []
    for i, f in enumerate(t.schema):
        c = t.column(i)
        if pa.types.is_dictionary(f.type):
            c = c.cast(f.type.value_type)
        cols.append(c)
    return pa.table(cols, names=t.schema.names)


def compare_table(con: duckdb.DuckDBPyConnection, table: str, ours: pa.Table, ref: pa.Table) -> tuple[bool, list[str]]:
    lines: list[str] = []
    ok = True
    keys = KEYS[table]
    ours, ref = normalize(ours), normalize(ref)
    ref_types = {f.name: type_class(f.type) for f in ref.schema}
    our_types = {f.name: type_class(f.type) for f in ours.schema}

    missing_cols = [c for c in ref.schema.names if c not in our_types]
    if missing_cols:
        ok = False
        lines.append(f"  missing columns: {', '.join(missing_cols)}")
    missing_keys = [k for k in keys if k not in our_types or k not in ref_types]
    if missing_keys:
        lines.append(f"  key columns missing: {', '.join(missing_keys)}; rows not compared")
        return False, lines
    cols = [c for c in ref.schema.names if c in our_types and c not in keys]
    for c in keys + cols:
        if our_types[c] != ref_types[c]:
            ok = False
            lines.append(f"  type mismatch in {c}: ours {ours.schema.field(c).type} ({our_types[c]}), "
                         f"reference {ref.schema.field(c).type} ({ref_types[c]})")

    con.register("o_tbl", ours)
    con.register("r_tbl", ref)
    try:
        for side in ("o_tbl", "r_tbl"):
            dup = con.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {side} GROUP BY {', '.join(q(k) for k in keys)} "
                "HAVING count(*) > 1)").fetchall()[0][0]
            if dup:
                ok = False
                lines.append(f"  {'ours' if side == 'o_tbl' else 'reference'}: {dup} duplicate keys")

        ref_sql_type = {}
        desc = con.execute("DESCRIBE r_tbl").fetchall()
        for row in desc:
            ref_sql_type[row[0]] = row[1]

        key_sel = ", ".join(f"coalesce(CAST(o.{q(k)} AS VARCHAR), CAST(r.{q(k)} AS VARCHAR)) AS {q('k_' + k)}"
                            for k in keys)
        on = " AND ".join(f"CAST(o.{q(k)} AS VARCHAR) IS NOT DISTINCT FROM CAST(r.{q(k)} AS VARCHAR)"
                          for k in keys)
        col_sel = []
        for c in cols:
            # ours cast to the reference's type so that e.g. uint32 vs int64 compare by value
            o_expr = f"TRY_CAST(o.{q(c)} AS {ref_sql_type[c]})" if our_types[c] != "null" else f"CAST(NULL AS {ref_sql_type[c]})"
            col_sel.append(f"{o_expr} AS {q('o_' + c)}, r.{q(c)} AS {q('r_' + c)}")
        presence = "(o.__present IS NOT NULL) AS in_ours, (r.__present IS NOT NULL) AS in_ref"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE joined AS
            SELECT {key_sel}, {presence}{', ' if col_sel else ''}{', '.join(col_sel)}
            FROM (SELECT *, true AS __present FROM o_tbl) o
            FULL OUTER JOIN (SELECT *, true AS __present FROM r_tbl) r ON {on}
        """)
        n_ours, n_ref = ours.num_rows, ref.num_rows
        only_ref = con.execute("SELECT count(*) FROM joined WHERE NOT in_ours").fetchall()[0][0]
        only_ours = con.execute("SELECT count(*) FROM joined WHERE NOT in_ref").fetchall()[0][0]
        key_order = ", ".join(q("k_" + k) for k in keys)
        key_show = " || ', ' || ".join(f"coalesce({q('k_' + k)}, 'NULL')" for k in keys)
        if only_ref or only_ours:
            ok = False
            lines.append(f"  rows missing from ours: {only_ref}; rows only in ours: {only_ours}")
            for label, cond in (("missing from ours", "NOT in_ours"), ("only in ours", "NOT in_ref")):
                for (k,) in con.execute(f"SELECT {key_show} FROM joined WHERE {cond} "
                                        f"ORDER BY {key_order} LIMIT {SHOW}").fetchall():
                    lines.append(f"    {label}: ({k})")

        conds = []
        for c in cols:
            o, r = q("o_" + c), q("r_" + c)
            if ref_types[c] == "float":
                cond = (f"NOT ({o} IS NULL AND {r} IS NULL) AND ({o} IS NULL OR {r} IS NULL OR NOT "
                        f"({o} = {r} OR abs({o} - {r}) <= greatest({ABS_TOL}, {REL_TOL} * greatest(abs({o}), abs({r})))))")
            else:
                cond = f"{o} IS DISTINCT FROM {r}"
            conds.append((c, f"in_ours AND in_ref AND ({cond})"))
        mismatching = 0
        examples = []
        if conds:
            counts = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond in conds)
                                 + " FROM joined").fetchall()[0]
            mismatching = sum(counts)
            parts = [f"SELECT {key_show} AS k, {i} AS ci, '{c}' AS col, CAST({q('o_' + c)} AS VARCHAR) AS ov, "
                     f"CAST({q('r_' + c)} AS VARCHAR) AS rv, {key_order} FROM joined WHERE {cond}"
                     for i, ((c, cond), n) in enumerate(zip(conds, counts)) if n]
            if parts:
                examples = con.execute(
                    f"SELECT k, col, ov, rv FROM ({' UNION ALL '.join(parts)}) "
                    f"ORDER BY {key_order}, ci LIMIT {SHOW}").fetchall()
        if mismatching:
            ok = False
            per_col = {c: n for (c, _), n in zip(conds, counts) if n}
            lines.append(f"  mismatching cells: {mismatching} ("
                         + ", ".join(f"{c} {n}" for c, n in per_col.items()) + ")")
            for k, col, ov, rv in examples:
                lines.append(f"    ({k}) {col}: ours {ov if ov is not None else 'NULL'}, "
                             f"reference {rv if rv is not None else 'NULL'}")
        lines.insert(0, f"  rows: ours {n_ours}, reference {n_ref}; mismatching cells: {mismatching}")
    finally:
        con.unregister("o_tbl")
        con.unregister("r_tbl")
    return ok, lines


def main(argv: list[str]) -> int:
    # --reference-subset: the reference computes some of the tables only (the shared DuckDB
    # anchor has the seven of version 1): compare those, and name the ones skipped.
    subset = "--reference-subset" in argv
    argv = [a for a in argv if a != "--reference-subset"]
    if len(argv) != 3:
        print("usage: compare.py [--reference-subset] OURS_DIR REFERENCE_DIR", file=sys.stderr)
        return 2
    ours_dir, ref_dir = argv[1], argv[2]
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    all_ok = True
    for table in KEYS:
        op, rp = find_table(ours_dir, table), find_table(ref_dir, table)
        if subset and rp is None and op is not None:
            print(f"{table}: not in the reference, not compared")
            continue
        if op is None or rp is None:
            all_ok = False
            where = " and ".join(w for w, p in (("OURS", op), ("REFERENCE", rp)) if p is None)
            print(f"{table}: MISSING table in {where}")
            continue
        try:
            ok, lines = compare_table(con, table, read_table(op), read_table(rp))
        except Exception as exc:  # unreadable file, etc.
            ok, lines = False, [f"  error: {type(exc).__name__}: {exc}"]
        all_ok &= ok
        print(f"{table}: {'OK' if ok else 'MISMATCH'}")
        for line in lines:
            print(line)
    print("compare: all tables match" if all_ok else "compare: MISMATCH")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
