#!/usr/bin/env bash
# Transform speed and memory: `outcomes transform` next to the DuckDB SQL implementation of the
# same tables (tests/reference), on the same generated lake, in the same run.
#
#   bench/transform.sh PARTICIPANTS [CONSORTIA]
#
# Prints events in the lake, then wall time and peak RSS of each. Uses the dev-profile binary
# (dependencies optimized, as in the tests) unless OUTCOMES_BIN is set. With OUTCOMES_BENCH_LAKE
# set to a folder, the lake is generated and ingested there once and reused by later runs with
# the same setting (a 100M-event lake takes about half an hour to make).
set -euo pipefail
cd "$(dirname "$0")/.."
participants=${1:?participants per consortium}
consortia=${2:-1}
bin=${OUTCOMES_BIN:-target/debug/outcomes}
python=${OUTCOMES_PYTHON:-.venv/bin/python}
work=$(mktemp -d /tmp/outcomes-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }

lake=${OUTCOMES_BENCH_LAKE:-$work/lake}
if [ ! -d "$lake/events" ]; then
  "$bin" generate --consortia "$consortia" --participants "$participants" --months 36 --seed 1 --out "$work/feed" >/dev/null
  for folder in "$work"/feed/*/; do
    "$bin" ingest --demo-key --consortium "$(basename "$folder")" --lake "$lake" --from-file "$folder" 2>/dev/null | head -1
    rm -rf "$folder"
  done
fi
events=$("$python" -c "import duckdb,sys; print(duckdb.sql(\"select count(*) from read_parquet('$lake/events/**/*.parquet')\").fetchall()[0][0])")
echo "events in the lake: $events"

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  read -r seconds kib < "$work/time"
  printf '%-28s %8.1f s  %8.0f MiB peak RSS\n' "$name" "$seconds" "$((kib / 1024))"
}
measure "outcomes transform" "$bin" transform --lake "$lake" --out "$work/ours" --as-of 2026-10-31
measure "DuckDB SQL (reference)" "$python" tests/reference/reference.py --lake "$lake" --as-of 2026-10-31 --out "$work/reference"
"$python" tests/reference/compare.py "$work/ours/tables" "$work/reference" | tail -1
