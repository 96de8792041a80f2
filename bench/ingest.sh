#!/usr/bin/env bash
# Kafka ingest throughput and peak memory, next to kcat reading the same topics in the same run.
#
#   bench/ingest.sh PARTICIPANTS       (about 50 events per participant; 40000 ≈ 2 million)
#
# Starts a broker of its own (deploy/kafka), fills the topics with the generator, then times
# (1) kcat consuming every topic to the end into /dev/null and (2) `outcomes ingest` storing
# everything in a fresh lake (from start until the lake's two tables hold a row per offset).
set -euo pipefail
cd "$(dirname "$0")/.."
participants=${1:?participants}
bin=${OUTCOMES_BIN:-target/debug/outcomes}
work=$(mktemp -d /tmp/outcomes-bench.XXXXXX)
kafka="$work/kafka"
mkdir -p "$kafka"
worker=
cleanup() {
  if [ -n "$worker" ]; then pkill -TERM -P "$worker" 2>/dev/null || true; fi
  deploy/kafka/kafka.sh stop "$kafka" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
eval "export $(deploy/kafka/kafka.sh start "$kafka" 29092)"
types="intake assessment service placement wage separation exit retraction"
for t in $types; do deploy/kafka/kafka.sh topic "$KAFKA_BOOTSTRAP" "outcomes.north-shore.$t" 6 >/dev/null; done
"$bin" generate --brokers "$KAFKA_BOOTSTRAP" --participants "$participants" --months 24 --seed 3
start=$(date +%s.%N)
for t in $types; do kcat -C -b "$KAFKA_BOOTSTRAP" -t "outcomes.north-shore.$t" -o beginning -e -q > /dev/null; done
kcat_seconds=$(echo "$(date +%s.%N) - $start" | bc)
total=$(for t in $types; do kcat -C -b "$KAFKA_BOOTSTRAP" -t "outcomes.north-shore.$t" -o beginning -e -q -f 'x\n'; done | wc -l)
echo "messages: $total"
# A fresh broker creates its group coordinator (__consumer_offsets) on the first group join,
# which takes seconds; kcat above needed none. Join one group first so that only the worker's
# own start is timed.
timeout 60 kcat -b "$KAFKA_BOOTSTRAP" -G "warm-up-$$" -o end -e -q outcomes.north-shore.exit >/dev/null || true

# The worker logs each committed batch as a line of JSON; the clock stops when the logged rows
# cover every message (reading a growing log costs the machine nothing, where polling the Delta
# logs from Python took a share of a core from the worker). The tables are counted afterwards.
OUTCOMES_LOG=outcomes_ingest=info /usr/bin/time -f "%M" -o "$work/rss" "$bin" --log-format json ingest --demo-key --brokers "$KAFKA_BOOTSTRAP" --lake "$work/lake" --group "bench-$$" 2>"$work/worker.log" &
worker=$!
start=$(date +%s.%N)
"${OUTCOMES_PYTHON:-.venv/bin/python}" - "$work/worker.log" "$total" <<'PY'
import json, sys, time
log, total = sys.argv[1], int(sys.argv[2])
stored, rest = 0, b""
with open(log, "rb") as lines:
    while stored < total:
        chunk = lines.read()
        if not chunk:
            time.sleep(0.02)
            continue
        *complete, rest = (rest + chunk).split(b"\n")
        for line in complete:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            fields = record.get("fields", record)
            if fields.get("message") == "batch committed":
                stored += fields["events"] + fields["rejected"]
PY
ingest_seconds=$(echo "$(date +%s.%N) - $start" | bc)
kill -TERM "$(pgrep -P $worker)" 2>/dev/null || kill -TERM $worker
wait $worker || true
# Every offset once in the two tables, as a Delta reader sees them.
"${OUTCOMES_PYTHON:-.venv/bin/python}" - "$work/lake" "$total" <<'PY'
import sys
from deltalake import DeltaTable
lake, total = sys.argv[1], int(sys.argv[2])
rows = {t: DeltaTable(f"{lake}/{t}").to_pyarrow_table(columns=["topic", "partition", "offset"]) for t in ("events", "rejected")}
stored = sum(t.num_rows for t in rows.values())
keys = {k for t in rows.values() for k in zip(*(t.column(c).to_pylist() for c in ("topic", "partition", "offset")))}
if stored != total or len(keys) != total:
    sys.exit(f"the lake holds {stored} rows at {len(keys)} offsets for {total} messages")
PY
rss_mib=$(( $(cat "$work/rss") / 1024 ))
printf 'kcat -C (peer)      %8.1f s  %10.0f msg/s\n' "$kcat_seconds" "$(echo "$total / $kcat_seconds" | bc -l)"
printf 'outcomes ingest     %8.1f s  %10.0f msg/s  peak RSS %d MiB\n' "$ingest_seconds" "$(echo "$total / $ingest_seconds" | bc -l)" "$rss_mib"
