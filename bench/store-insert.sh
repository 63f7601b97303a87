#!/usr/bin/env bash
# Insert throughput of the result stores, one writer, batched as the daemon's writer
# batches (5,000 results): the embedded SQLite file against the local PostgreSQL
# (127.0.0.1:5432, a database of this run's own, dropped at the end). docs/PERFORMANCE.md §9.
#
#   bench/store-insert.sh [RESULTS]      # default 200,000
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-200000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/tgt-rel}
cargo build --release --example store-insert >/dev/null
bin=$CARGO_TARGET_DIR/release/examples/store-insert
scratch=$(mktemp -d)
db=vitals_bench_$$
trap 'psql -h 127.0.0.1 -U root -d postgres -XAtqc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; rm -rf "$scratch"' EXIT
psql -h 127.0.0.1 -U root -d postgres -XAtqc "CREATE DATABASE $db"
for batch in 5000 500; do
  echo "sqlite     batch $batch: $("$bin" "$scratch/v-$batch.db" "$results" "$batch")"
  psql -h 127.0.0.1 -U root -d postgres -XAtqc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  psql -h 127.0.0.1 -U root -d postgres -XAtqc "CREATE DATABASE $db"
  echo "postgresql batch $batch: $("$bin" "postgres://root@127.0.0.1/$db" "$results" "$batch")"
done
