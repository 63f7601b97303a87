#!/usr/bin/env bash
# Reports over a long history, and what that history costs on disk.
#
#   bench/report-history.sh [CHECKS] [DAYS]        (default 1000 checks, 30 days)
#
# 1. Storage: a year of one check every 60 s, with the default 35-day retention and
#    housekeeping once a simulated day (bench/gen_history.rs), as a long-running runner
#    leaves it, then after VACUUM. Target: at most 5 MiB.
# 2. Reports: CHECKS checks every 60 s for DAYS days (1000 × 30 = 43.2 million results),
#    every hour sealed as the daemon seals it and housekeeping once a simulated day with
#    the default 35-day retention (so past days' phase sketches are merged, as a daemon of
#    that age leaves them); then `vitals report --since 30d --format json` for all checks
#    and for one check, timed with hyperfine and /usr/bin/time.
#    Targets: all under 2 s, one under 100 ms, peak RSS under 256 MiB.
#
# The database of step 2 is kept in $BENCH_DIR (default /work/bench-data, or a temp dir)
# and reused when it exists. gen-history seals packed hours straight into the store (no
# per-result inserts), packing on every core: 1000 × 30 takes minutes, not half an hour.
# Binaries are taken from $CARGO_TARGET_DIR when it is set; VITALS_BIN overrides vitals.
set -euo pipefail
checks=${1:-1000}
days=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/work/bench-data}
mkdir -p "$dir"
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
command -v sqlite3 >/dev/null || apt-get install -y sqlite3 >/dev/null
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null

cd "$root"
cargo build --release --bin vitals --example gen-history
target=${CARGO_TARGET_DIR:-target}
gen=$target/release/examples/gen-history
vitals=${VITALS_BIN:-$target/release/vitals}

echo "== storage: a year of one minutely check, retention 35d"
rm -f "$dir/year.db"*
"$gen" "$dir/year.db" 1 365 60 35
sqlite3 "$dir/year.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
as_left=$(stat -c %s "$dir/year.db")
sqlite3 "$dir/year.db" "VACUUM;"
vacuumed=$(stat -c %s "$dir/year.db")
printf 'as left: %d bytes (%.2f MiB); after VACUUM: %d bytes (%.2f MiB)\n' \
  "$as_left" "$(echo "$as_left/1048576" | bc -l)" "$vacuumed" "$(echo "$vacuumed/1048576" | bc -l)"
sqlite3 "$dir/year.db" "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC;"

db="$dir/month-$checks-$days.db"
if [ ! -f "$db" ]; then
  echo "== generating $checks checks × $days days"
  rm -f "$db.tmp"*
  /usr/bin/time -f 'generated in %e s wall, %U s user, peak RSS %M KiB' "$gen" "$db.tmp" "$checks" "$days" 60 35
  sqlite3 "$db.tmp" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  mv "$db.tmp" "$db"
fi
config="$dir/checks-$checks.toml"
{
  echo '[defaults]'
  echo 'retries = 2'
  for i in $(seq 0 $((checks - 1))); do
    printf '[[check]]\nname = "c%04d"\nplugin = "http"\ntarget = "https://svc%d.example.internal/health"\ntags = ["team%d"]\n' \
      "$i" "$i" "$((i % 10))"
  done
} > "$config"
printf '== database: %s bytes for %s results\n' "$(stat -c %s "$db")" \
  "$(sqlite3 "$db" 'SELECT sum(results) FROM sealed_hours')"

report() { "$vitals" --config "$config" --db "$db" report --since "${days}d" --format json "$@" > /dev/null; }
report   # warm the page cache and the plugin cache
echo "== all checks"
hyperfine --warmup 1 --runs 5 "$vitals --config $config --db $db report --since ${days}d --format json"
/usr/bin/time -f 'peak RSS %M KiB, %e s' "$vitals" --config "$config" --db "$db" report --since "${days}d" --format json > /dev/null
echo "== one check"
hyperfine --warmup 2 --runs 20 "$vitals --config $config --db $db report --since ${days}d --format json --check c0042"
/usr/bin/time -f 'peak RSS %M KiB, %e s' "$vitals" --config "$config" --db "$db" report --since "${days}d" --format json --check c0042 > /dev/null
