#!/usr/bin/env bash
# The project's test command (README): sets up what the tests need, then runs every test.
#  - Python with DuckDB and pyarrow for the analyst-side checks (a venv in .venv, reused);
#  - a real single-node Kafka broker from Maven jars, unless KAFKA_BOOTSTRAP names one;
#  - an S3-compatible server for the object-storage test: gofakes3 (MIT), built once from the
#    Go module proxy into target/tools (the test starts it on 127.0.0.1);
# and stops the broker again however the tests end; then the faults script at small sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import duckdb, pyarrow, pandas, pytest, jsonschema, rfc3339_validator, deltalake, polars' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
fi
export OUTCOMES_PYTHON="$PWD/.venv/bin/python"

gofakes3_version=v1.2.0
export OUTCOMES_GOFAKES3="$PWD/target/tools/gofakes3-$gofakes3_version"
if [ ! -x "$OUTCOMES_GOFAKES3" ]; then
  command -v go >/dev/null || { echo "the object-storage test needs Go to build gofakes3" >&2; exit 1; }
  GOBIN="$PWD/target/tools/bin" go install "github.com/johannesboyne/gofakes3/cmd/gofakes3@$gofakes3_version"
  mv "$PWD/target/tools/bin/gofakes3" "$OUTCOMES_GOFAKES3"
fi

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
