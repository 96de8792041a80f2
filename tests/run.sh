#!/usr/bin/env bash
# The project's test command (README): sets up what the tests need, then runs every test.
#  - Python with DuckDB and pyarrow for the analyst-side checks (a venv in .venv, reused);
#  - a real single-node Kafka broker from Maven jars, unless KAFKA_BOOTSTRAP names one;
# and stops the broker again however the tests end; then the faults script at small sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import duckdb, pyarrow, pandas, pytest, jsonschema, rfc3339_validator, deltalake, polars' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
fi
export OUTCOMES_PYTHON="$PWD/.venv/bin/python"

if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  kafka_dir=$(mktemp -d /tmp/outcomes-kafka.XXXXXX)
  trap 'deploy/kafka/kafka.sh stop "$kafka_dir" >/dev/null 2>&1 || true; rm -rf "$kafka_dir"' EXIT
  eval "export $(deploy/kafka/kafka.sh start "$kafka_dir" 19092)"
fi
echo "Kafka for the tests: $KAFKA_BOOTSTRAP"

"$OUTCOMES_PYTHON" -m pytest -q -p no:cacheprovider tests/reference
"$OUTCOMES_PYTHON" schemas/tests/corpus/check_schemas.py > /dev/null
cargo test --workspace
# Faults against the real components, at small sizes (bench/faults.py; large by hand).
"$OUTCOMES_PYTHON" bench/faults.py
