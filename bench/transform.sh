#!/usr/bin/env bash
# Transform speed and memory: `outcomes transform` next to its speed peer, the DuckDB anchor
# (`../shared/bench/duckdb-anchor`: DuckDB SQL of the same spec reading our lake), on the same
# generated lake, in the same run, and the two sets of tables compared cell by cell.
#
#   bench/transform.sh PARTICIPANTS [CONSORTIA] [RUNS]
#
# Prints the events in the lake, then wall time and peak RSS of each run of each side (RUNS
# runs each, alternating, default 1), their medians and the ratio ours / anchor. Uses the
# dev-profile binary (dependencies optimized, as in the tests) unless OUTCOMES_BIN is set, and
# the anchor in ../shared/bench/duckdb-anchor unless OUTCOMES_ANCHOR names its folder. The
# anchor reads the lake's active files with DuckDB's own Parquet reader
# (bench/anchor_on_parquet.py), its fastest way to our Delta lake; OUTCOMES_ANCHOR_READS=delta
# runs its run.py as it is, through the deltalake package (2.4 times slower). With
# OUTCOMES_BENCH_LAKE set to a folder, the lake is generated and ingested there once and reused
# by later runs with the same setting (a 100M-event lake takes a long while to make).
set -euo pipefail
cd "$(dirname "$0")/.."
participants=${1:?participants per consortium}
consortia=${2:-1}
runs=${3:-1}
bin=${OUTCOMES_BIN:-target/debug/outcomes}
python=${OUTCOMES_PYTHON:-.venv/bin/python}
anchor=${OUTCOMES_ANCHOR:-../shared/bench/duckdb-anchor}
as_of=2026-10-31
work=$(mktemp -d /tmp/outcomes-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
[ -f "$anchor/run.py" ] || { echo "no DuckDB anchor at $anchor (set OUTCOMES_ANCHOR)"; exit 1; }

lake=${OUTCOMES_BENCH_LAKE:-$work/lake}
if [ ! -d "$lake/events" ]; then
  "$bin" generate --consortia "$consortia" --participants "$participants" --months 36 --seed 1 --out "$work/feed" >/dev/null
  for folder in "$work"/feed/*/; do
    "$bin" ingest --demo-key --consortium "$(basename "$folder")" --lake "$lake" --from-file "$folder" 2>/dev/null | head -1
    rm -rf "$folder"
  done
fi
events=$("$python" -c "import duckdb,sys; print(duckdb.sql(\"select count(*) from read_parquet('$lake/events/**/*.parquet')\").fetchall()[0][0])")
files=$(find "$lake/events" -name '*.parquet' | wc -l)
echo "events in the lake: $events in $files files"

measure() { # label, output file for "seconds MiB", command...
  local label=$1 into=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  read -r seconds kib < "$work/time"
  echo "$seconds $((kib / 1024))" >> "$into"
  printf '  %-22s %8.1f s  %8d MiB peak RSS\n' "$label" "$seconds" "$((kib / 1024))"
}
for run in $(seq "$runs"); do
  rm -rf "$work/ours" "$work/anchor"
  measure "outcomes transform" "$work/ours.times" "$bin" transform --lake "$lake" --out "$work/ours" --as-of "$as_of"
  if [ "${OUTCOMES_ANCHOR_READS:-parquet}" = delta ]; then
    measure "DuckDB anchor (delta)" "$work/anchor.times" "$python" "$anchor/run.py" --lake "$lake" --as-of "$as_of" --out "$work/anchor"
  else
    measure "DuckDB anchor" "$work/anchor.times" "$python" bench/anchor_on_parquet.py "$anchor" --lake "$lake" --as-of "$as_of" --out "$work/anchor"
  fi
done
"$python" - "$work/ours.times" "$work/anchor.times" <<'EOF'
import statistics, sys
def median(path, field):
    return statistics.median(float(line.split()[field]) for line in open(path))
ours, anchor = (sys.argv[1], sys.argv[2])
t, a = median(ours, 0), median(anchor, 0)
m, n = median(ours, 1), median(anchor, 1)
print(f"median  outcomes {t:.1f} s, {m:.0f} MiB  |  anchor {a:.1f} s, {n:.0f} MiB  |"
      f"  time ratio {t / a:.2f}, memory ratio {m / n:.2f}")
EOF
# The anchor computes the seven tables of INDICATORS.md version 1: those are compared.
"$python" tests/reference/compare.py --reference-subset "$work/ours/tables" "$work/anchor/tables" \
  | grep -E "^compare:|not in the reference"
