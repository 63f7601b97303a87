#!/usr/bin/env bash
# Benchmark (issue 15): three `vitals run` daemons on this machine sharing CHECKS http checks
# through the local PostgreSQL (127.0.0.1:5432, a database of this run's own, dropped at the
# end), against one daemon alone on SQLite with the same checks, in the same round.
#
# Usage: bench/runners-at-scale.sh [CHECKS] [INTERVAL_S] [DURATION_S]
#        (defaults: 30000 checks, 10 s, 60 s: 3,000 checks/s in all)
#
# For each setup: the checks of a local nginx (bench/lib/target.sh) at INTERVAL_S, a warm-up
# longer than one interval after every daemon answers /healthz, then a DURATION_S window.
# Measures per runner: its CPU (its own cgroup-v1 cpuacct group) per check it completed
# (the results it stored that started in the window: PostgreSQL keeps no runner column, so
# a runner's share is its /metrics vitals_check_runs_total over the window), its schedule
# lateness p50/p99 (vitals_schedule_lateness_seconds between scrapes at both ends), the
# checks it owned (vitals runners); and in all: results stored in the window, runs twice in
# an interval (two results of a check less than half an interval apart; none expected),
# skipped and dropped runs. Prints Markdown with the commands.
#
# Environment knobs: VITALS_BIN, NGINX_PORT (18411), VITALS_PORT (18412; the runners use it
# and the next two), CONCURRENCY (64), WARMUP (INTERVAL_S + 15 s), KEEP_WORK=1. Runs as root
# (cgroups). Loopback only; every process it starts is stopped by PID on exit.
set -euo pipefail

CHECKS=${1:-30000}
INTERVAL=${2:-10}
DURATION=${3:-60}
PORT=${NGINX_PORT:-18411}
VPORT=${VITALS_PORT:-18412}
CONCURRENCY=${CONCURRENCY:-64}
WARMUP=${WARMUP:-$((INTERVAL + 15))}
export SCRAPE_TIMEOUT=${SCRAPE_TIMEOUT:-300}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib/target.sh
. "$ROOT/bench/lib/target.sh"
# shellcheck source=bench/lib/measure.sh
. "$ROOT/bench/lib/measure.sh"
RATE=$(awk -v n="$CHECKS" -v i="$INTERVAL" 'BEGIN{printf "%g", n/i}')
check_warmup "$WARMUP" "$INTERVAL"

need_packages nginx=nginx-light sqlite3=sqlite3 curl=curl psql=postgresql-client
vitals_binary "$ROOT"
WORK=$(mktemp -d /tmp/vitals-runners-bench.XXXXXX)
export VITALS_CACHE_DIR="$WORK/cache"
PGDB=vitals_bench_runners_$$
PGURL=postgres://root@127.0.0.1:5432/$PGDB
pg() { psql -h 127.0.0.1 -U root -d "$1" -XAtqc "$2"; }

# What this script started: the daemons' PIDs and cgroups, by runner.
declare -A PID CGD
cleanup() {
  local r
  for r in "${!CGD[@]}"; do cg_stop "${CGD[$r]}" "${PID[$r]}" 10 || true; done
  pg postgres "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" || true
  finish_scratch '' '' "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_health_nginx "$WORK" "$PORT"
write_http_checks "$WORK/many.toml" "$CHECKS" "$PORT" "interval = \"${INTERVAL}s\"" 'timeout = "5s"' \
  "max_per_host = $CONCURRENCY"
"$VITALS" --config "$WORK/one.toml" --db "$WORK/warm.db" run --once >/dev/null

# start NAME PORT STORE_ARGS...: a daemon in its own cgroup, serving /metrics on PORT.
start() {
  local name=$1 port=$2
  shift 2
  port_is_free "$port"
  cg_start "vitals-$name.$$" "$WORK/$name.out" "$WORK/$name.err" "$VITALS" --config "$WORK/many.toml" "$@" \
    run --listen "127.0.0.1:$port" --concurrency "$CONCURRENCY"
  CGD[$name]=$CG_DIR PID[$name]=$CG_PID
}

# pg_ticks: utime+stime of every PostgreSQL process now, in clock ticks.
pg_ticks() {
  local p t=0
  for p in $(pgrep -x postgres || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

# scrape_all SUFFIX NAME...: /metrics of every named daemon at once, into WORK/NAME.SUFFIX.prom;
# each one's start time into WORK/NAME.SUFFIX.t.
scrape_all() {
  local suffix=$1 r pids=()
  shift
  for r in "$@"; do
    (now > "$WORK/$r.$suffix.t"; scrape "http://127.0.0.1:${PORTOF[$r]}/metrics" "$WORK/$r.$suffix.prom" >/dev/null) &
    pids+=($!)
  done
  # Only these: a bare `wait` would wait for the daemons too.
  wait "${pids[@]}"
}

# measure NAME... : after the warm-up, a window over the named daemons. Sets, per name,
# CPU_S (over the window), RUNS (its runs_total rate between its two scrapes, times the
# window), P50, P99, SKIPPED, DROPPED; W_T0/W_T1/W_WALL; and PG_S, PostgreSQL's CPU.
declare -A PORTOF CPU_S RUNS P50 P99 SKIPPED DROPPED
measure() {
  local r span p0
  declare -A C0 C1
  for r in "$@"; do
    wait_http "${PID[$r]}" 600 "http://127.0.0.1:${PORTOF[$r]}/healthz"
  done
  sleep "$WARMUP"
  scrape_all v0 "$@"
  W_T0=$(now)
  p0=$(pg_ticks)
  for r in "$@"; do C0[$r]=$(cg_cpu_ns "${CGD[$r]}"); done
  sleep_until "$(t_plus "$W_T0" "$DURATION")"
  for r in "$@"; do C1[$r]=$(cg_cpu_ns "${CGD[$r]}"); done
  PG_S=$(div "$(($(pg_ticks) - p0))" "$HZ")
  W_T1=$(now)
  W_WALL=$(secs_between "$W_T0" "$W_T1")
  scrape_all v1 "$@"
  for r in "$@"; do
    CPU_S[$r]=$(awk -v a="${C0[$r]}" -v b="${C1[$r]}" 'BEGIN{printf "%.6f", (b-a)/1e9}')
    span=$(secs_between "$(cat "$WORK/$r.v0.t")" "$(cat "$WORK/$r.v1.t")")
    RUNS[$r]=$(awk -v d="$(( $(sum_series "$WORK/$r.v1.prom" vitals_check_runs_total) - $(sum_series "$WORK/$r.v0.prom" vitals_check_runs_total) ))" \
      -v s="$span" -v w="$W_WALL" 'BEGIN{printf "%.0f", d / s * w}')
    P50[$r]=$(lateness_quantile "$WORK/$r.v0.prom" "$WORK/$r.v1.prom" 0.50)
    P99[$r]=$(lateness_quantile "$WORK/$r.v0.prom" "$WORK/$r.v1.prom" 0.99)
    SKIPPED[$r]=$(( $(sum_series "$WORK/$r.v1.prom" vitals_runs_skipped_total) - $(sum_series "$WORK/$r.v0.prom" vitals_runs_skipped_total) ))
    DROPPED[$r]=$(sum_series "$WORK/$r.v1.prom" vitals_results_dropped_total)
  done
}

# --- round 1: one daemon on SQLite ----------------------------------------------------
log "round 1: one daemon on SQLite, $CHECKS checks every ${INTERVAL}s ($RATE/s)"
PORTOF[solo]=$VPORT
start solo "$VPORT" --db "$WORK/solo.db"
measure solo
solo_w0=$(epoch_ms "$W_T0") solo_w1=$(epoch_ms "$W_T1") solo_wall=$W_WALL solo_pg=$PG_S
cg_stop "${CGD[solo]}" "${PID[solo]}" 60
unset 'CGD[solo]'
solo_stored=$(results_in "$WORK/solo.db" "$solo_w0" "$solo_w1")

# --- round 2: three daemons sharing PostgreSQL -----------------------------------------
log "round 2: three daemons sharing $PGURL"
pg postgres "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)"
pg postgres "CREATE DATABASE $PGDB"
RUNNERS=(r1 r2 r3)
for i in 0 1 2; do
  r=${RUNNERS[$i]}
  PORTOF[$r]=$((VPORT + i))
  start "$r" "$((VPORT + i))" --store "$PGURL"
done
# The runner ids are HOST-PID; which runner owns how many checks comes from the table.
measure "${RUNNERS[@]}"
owned=$("$VITALS" --store "$PGURL" runners --format json |
  python3 -c 'import json, sys; print(", ".join(str(r["checks"]) for r in json.load(sys.stdin)["runners"]))')
pg_w0=$(epoch_ms "$W_T0") pg_w1=$(epoch_ms "$W_T1") pg_wall=$W_WALL pg_cpu=$PG_S
for r in "${RUNNERS[@]}"; do cg_stop "${CGD[$r]}" "${PID[$r]}" 60; unset "CGD[$r]"; done
pg_stored=$(pg "$PGDB" "SELECT count(*) FROM results WHERE started_at_ms >= $pg_w0 AND started_at_ms < $pg_w1")
runners_cpu=$(awk -v a="${CPU_S[r1]}" -v b="${CPU_S[r2]}" -v c="${CPU_S[r3]}" 'BEGIN{printf "%.6f", a+b+c}')
twice=$(pg "$PGDB" "SELECT count(*) FROM (SELECT started_at_ms - lag(started_at_ms) OVER \
  (PARTITION BY check_name ORDER BY started_at_ms) AS gap FROM results \
  WHERE started_at_ms >= $pg_w0 AND started_at_ms < $pg_w1) g WHERE gap < $INTERVAL * 500")

row() { # NAME STORED_SHARE
  local r=$1
  echo "| $r | ${RUNS[$r]} ($(f1 "$(div "${RUNS[$r]}" "$W_WALL_OF")")/s) | $(us_per "${CPU_S[$r]}" "${RUNS[$r]}") µs | $(awk -v c="${CPU_S[$r]}" -v w="$W_WALL_OF" 'BEGIN{printf "%.3f", c/w}') | ${P50[$r]} | ${P99[$r]} | ${SKIPPED[$r]} | ${DROPPED[$r]} |"
}
echo "# Three runners sharing PostgreSQL against one on SQLite — $(date -u +%Y-%m-%d)"
echo
echo "Command: \`bench/runners-at-scale.sh $CHECKS $INTERVAL $DURATION\`. $CHECKS HTTP checks of a static"
echo "\`/health\` on nginx at a ${INTERVAL} s interval = **$RATE checks/s** in all, a ${DURATION} s window"
echo "${WARMUP} s after every daemon answers \`/healthz\`. Machine: $NCPU cores, $(host_memory), $(host_os);"
echo "vitals $(vitals_about "$VITALS" "$ROOT"); PostgreSQL $(pg postgres 'SHOW server_version'). Everything on 127.0.0.1."
echo
echo "| daemon | runs in the window | CPU per check | cores | lateness p50 | lateness p99 | skipped | dropped |"
echo "|---|---|---|---|---|---|---|---|"
W_WALL_OF=$solo_wall row solo
for r in "${RUNNERS[@]}"; do W_WALL_OF=$pg_wall row "$r"; done
echo
echo "| | one runner, SQLite | three runners, PostgreSQL |"
echo "|---|---|---|"
echo "| results stored that started in the window | $solo_stored ($(f1 "$(div "$solo_stored" "$solo_wall")")/s) | $pg_stored ($(f1 "$(div "$pg_stored" "$pg_wall")")/s) |"
echo "| runners' CPU per stored result | $(us_per "${CPU_S[solo]}" "$solo_stored") µs | $(us_per "$runners_cpu" "$pg_stored") µs (the three together) |"
echo "| PostgreSQL's CPU per stored result | $(us_per "$solo_pg" "$solo_stored") µs (idle) | $(us_per "$pg_cpu" "$pg_stored") µs |"
echo "| checks owned at the end | 30000 | $owned |"
echo
echo "Runs of one check less than half an interval apart (a check run twice in an interval): $twice."
echo
echo "CPU is each daemon's cgroup-v1 \`cpuacct.usage\` over the window; runs are its"
echo "\`vitals_check_runs_total\` rate between two scrapes taken at once for all daemons, times"
echo "the window; PostgreSQL's CPU is utime+stime of its processes. Lateness is the bucket bound of"
echo "\`vitals_schedule_lateness_seconds\` between scrapes at the window's ends. The three"
echo "runners and PostgreSQL share the machine's $NCPU cores."
echo
echo '```sh'
echo "$VITALS --config WORK/many.toml --db WORK/solo.db run --listen 127.0.0.1:$VPORT --concurrency $CONCURRENCY"
echo "createdb $PGDB   # then, three times, ports $VPORT..$((VPORT + 2)):"
echo "$VITALS --config WORK/many.toml --store $PGURL run --listen 127.0.0.1:PORT --concurrency $CONCURRENCY"
echo '```'
