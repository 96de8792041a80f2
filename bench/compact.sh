#!/usr/bin/env bash
# Files per table and transform time on a lake of many small files, before and after
# `outcomes lake compact`, on the same lake in the same run; the tables must be byte-identical.
#
#   bench/compact.sh [FILES]     (default 10000: the feed split into FILES NDJSON files, each
#                                 its own source and so its own commit, as a quiet live feed
#                                 flushing every minute leaves the lake)
#
# RUNS (default 3) transforms are timed on each side; the best is printed beside the median.
# OUTCOMES_BENCH_LAKE=DIR keeps the split feed's lake in DIR (made once; a lake of 10,000
# one-source files takes about an hour to ingest here) and compacts a copy of it, so that the
# timings can be run again on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-10000}
runs=${RUNS:-3}
bin=${OUTCOMES_BIN:-target/debug/outcomes}
python=${OUTCOMES_PYTHON:-.venv/bin/python}
work=$(mktemp -d /tmp/outcomes-compact.XXXXXX)
trap 'rm -rf "$work"' EXIT

kept=${OUTCOMES_BENCH_LAKE:-}
if [ -z "$kept" ] || [ ! -d "$kept/events/_delta_log" ]; then
  "$bin" generate --consortia 1 --participants 2000 --months 24 --seed 5 --out "$work/feed" >/dev/null
  folder=$(find "$work/feed" -mindepth 1 -maxdepth 1 -type d | head -1)
  consortium=$(basename "$folder")
  mkdir "$work/split"
  cat "$folder"/*.ndjson > "$work/all.ndjson"
  split -n "l/$files" -d -a 6 --additional-suffix=.ndjson "$work/all.ndjson" "$work/split/part-"
  echo "messages: $(cat "$work/split"/*.ndjson | wc -l) in $(ls "$work/split" | wc -l) files"
  start=$(date +%s.%N)
  "$bin" ingest --demo-key --consortium "$consortium" --lake "${kept:-$work/lake}" --from-file "$work/split" | head -1
  echo "ingest of the split feed: $(echo "$(date +%s.%N) - $start" | bc) s"
fi
if [ -n "$kept" ]; then cp -r "$kept" "$work/lake"; fi

count_files() {
  "$python" -c "
import sys
from deltalake import DeltaTable
print(' '.join(f'{t} {len(DeltaTable(sys.argv[1] + \"/\" + t).file_uris())}' for t in ('events', 'rejected')))" "$work/lake"
}

time_transforms() {
  local label=$1 out=$2
  : > "$work/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -a -o "$work/times" "$bin" transform --lake "$work/lake" --out "$out" --as-of 2026-10-31 >/dev/null
  done
  sort -n "$work/times" | awk -v label="$label" -v files="$(count_files)" '
    { t[NR] = $1; m[NR] = $2 }
    END { printf "%-28s files: %-24s transform best %.2f s, median %.2f s, peak RSS %d MiB\n", label, files, t[1], t[int((NR + 1) / 2)], m[1] / 1024 }'
}

time_transforms "before compaction" "$work/before"
start=$(date +%s.%N)
"$bin" lake compact --lake "$work/lake"
echo "compaction: $(echo "$(date +%s.%N) - $start" | bc) s"
time_transforms "after compaction" "$work/after"
for table in "$work/before/tables"/*.parquet; do
  cmp -s "$table" "$work/after/tables/$(basename "$table")" || { echo "DIFFERS: $(basename "$table")"; exit 1; }
done
echo "tables byte-identical before and after compaction"
