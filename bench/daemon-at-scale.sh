#!/usr/bin/env bash
# Benchmark (issue 14): the `vitals run` daemon alone at scale — CHECKS http checks of a
# local nginx at an INTERVAL_S interval (CHECKS/INTERVAL_S checks per second), measured
# over a DURATION_S window after a warm-up longer than one interval.
#
# Usage: bench/daemon-at-scale.sh [CHECKS] [INTERVAL_S] [DURATION_S]
#        (defaults: 100000 checks, 60 s, 120 s: 1,667 checks/s)
#
# Installs nginx-light, sqlite3 and curl from Debian's packages when they are missing,
# builds vitals in release mode unless VITALS_BIN names a binary. Runs as root: the daemon
# runs in a fresh cgroup-v1 cpuacct group (/sys/fs/cgroup/cpuacct), whose cpuacct.usage
# is its CPU, children included.
#
# Measures, and prints as Markdown with the exact commands:
# - how long the daemon took from its start to answering /healthz (polled every 50 ms;
#   the warm-up counts from then);
# - checks/s completed: rows of the SQLite `results` table with started_at_ms in the
#   window (counted after the daemon stopped), and the share of them `ok`;
# - the store's write rate: the growth of max(results.id) over the window, read at both ends;
# - CPU per check and cores used (cpuacct.usage over the window ÷ those rows / the wall
#   time), and nginx's CPU per check (master + workers, utime+stime from /proc);
# - schedule lateness p50/p99 (the `vitals_schedule_lateness_seconds` histogram, between
#   a scrape just before and one just after the window), skipped runs, dropped results;
# - peak RSS (VmHWM) and RSS at the end of the window;
# - the /metrics page at the end: its size and the median time of 3 scrapes;
# - the machine's load during the window (/proc/stat) and how much of it was not ours.
#
# Environment knobs: VITALS_BIN, NGINX_PORT (18401), VITALS_PORT (18402), CONCURRENCY (64:
# --concurrency and [defaults] max_per_host), WARMUP (INTERVAL_S + 15 s; must exceed one
# interval so that every check has found its phase), STARTUP_TIMEOUT (600 s for /healthz),
# SCRAPE_TIMEOUT (300 s), KEEP_WORK=1 keeps the scratch directory. Loopback only; every
# process it starts is stopped by PID on exit.
set -euo pipefail

CHECKS=${1:-100000}
INTERVAL=${2:-60}
DURATION=${3:-120}
PORT=${NGINX_PORT:-18401}
VPORT=${VITALS_PORT:-18402}
CONCURRENCY=${CONCURRENCY:-64}
WARMUP=${WARMUP:-$((INTERVAL + 15))}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-600}
export SCRAPE_TIMEOUT=${SCRAPE_TIMEOUT:-300}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib/target.sh
. "$ROOT/bench/lib/target.sh"
# shellcheck source=bench/lib/measure.sh
. "$ROOT/bench/lib/measure.sh"
RATE=$(awk -v n="$CHECKS" -v i="$INTERVAL" 'BEGIN{printf "%g", n/i}')
check_warmup "$WARMUP" "$INTERVAL"

need_packages nginx=nginx-light sqlite3=sqlite3 curl=curl
vitals_binary "$ROOT"
WORK=$(mktemp -d /tmp/vitals-scale-bench.XXXXXX)
export VITALS_CACHE_DIR="$WORK/cache"

# What this script started: the daemon's PID and its cgroup (emptied once stopped).
VPID='' CG=''
cleanup() { finish_scratch "$CG" "$VPID" "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The target: nginx with a static 3-byte /health, two workers, no access log.
start_health_nginx "$WORK" "$PORT"

gen0=$(now)
write_http_checks "$WORK/many.toml" "$CHECKS" "$PORT" "interval = \"${INTERVAL}s\"" 'timeout = "5s"' \
  "max_per_host = $CONCURRENCY"
gen_ms=$(ms_between "$gen0" "$(now)")
config_bytes=$(stat -c %s "$WORK/many.toml")
log "config: $CHECKS checks, $config_bytes bytes, written in $gen_ms ms"

# Warm the compiled-plugin cache (compilation is not part of a check's cost).
"$VITALS" --config "$WORK/one.toml" --db "$WORK/warm.db" run --once >/dev/null

VITALS_ARGS=(--config "$WORK/many.toml" --db "$WORK/many.db" run --listen "127.0.0.1:$VPORT" --concurrency "$CONCURRENCY")
DB=$WORK/many.db
METRICS=http://127.0.0.1:$VPORT/metrics
log "vitals: $CHECKS checks every ${INTERVAL}s ($RATE/s), ${WARMUP}s warm-up, then a ${DURATION}s window"
port_is_free "$VPORT"
cg_start "vitals-scale.$$" "$WORK/vitals.out" "$WORK/vitals.err" "$VITALS" "${VITALS_ARGS[@]}"
CG=$CG_DIR VPID=$CG_PID
START=$(now)
wait_http "$VPID" "$STARTUP_TIMEOUT" "http://127.0.0.1:$VPORT/healthz" || { tail -20 "$WORK/vitals.err" >&2; exit 1; }
READY=$(now)
healthz_ms=$(ms_between "$START" "$READY")
port_owned_by "$VPORT" "$VPID"
log "vitals answered /healthz after $healthz_ms ms"

# /metrics is large at this scale (tens of MB per 10,000 checks): keep only the families
# read below, so the scratch directory stays small.
keep_families() {
  grep -E '^vitals_(schedule_lateness_seconds|check_runs_total|runs_skipped_total|results_dropped_total)' "$1" > "$1.kept" || true
  mv "$1.kept" "$1"
}

# The store's last row id at both edges of the window: its write rate.
store_edge() { if [ "$1" = start ]; then id0=$(last_result_id "$DB"); else id1=$(last_result_id "$DB"); fi; }
# The warm-up counts from /healthz answering: loading a large config is not scheduling.
sleep_until "$(t_plus "$READY" "$WARMUP")"
scrape_v0=$(scrape "$METRICS" "$WORK/v0.prom"); keep_families "$WORK/v0.prom"
cg_window "$CG" "$WORK" "$(now)" "$DURATION" store_edge
hwm=$(status_kib "$VPID" VmHWM); rss=$(status_kib "$VPID" VmRSS); threads=$(status_kib "$VPID" Threads)

# Three scrapes at the end: the first is kept (size, lateness), the time is their median.
scrape_ms=()
scrape_ms+=("$(scrape "$METRICS" "$WORK/v1.prom")")
scrape_bytes=$(stat -c %s "$WORK/v1.prom")
keep_families "$WORK/v1.prom"
for _ in 2 3; do scrape_ms+=("$(scrape "$METRICS" "$WORK/s.prom")"); rm -f "$WORK/s.prom"; done
scrape_med=$(median "${scrape_ms[@]}")
hwm_scraped=$(status_kib "$VPID" VmHWM)

cg_stop "$CG" "$VPID" 60
CG='' VPID=''
vrc=$CG_RC stop_ms=$CG_STOP_MS
log "vitals stopped (exit $vrc after ${stop_ms} ms)"
verr=$(wc -l < "$WORK/vitals.err")

wall=$W_WALL
w0ms=$(epoch_ms "$W_T0"); w1ms=$(epoch_ms "$W_T1")
db_total=$(results_in "$DB" "$w0ms" "$w1ms")
db_ok=$(results_in "$DB" "$w0ms" "$w1ms" "status = 'ok'")
db_status=$(status_breakdown "$DB" "$w0ms" "$w1ms")
db_bytes=$(du -cb "$DB"* | tail -1 | cut -f1)
runs_delta=$(( $(sum_series "$WORK/v1.prom" vitals_check_runs_total) - $(sum_series "$WORK/v0.prom" vitals_check_runs_total) ))
skipped_total=$(sum_series "$WORK/v1.prom" vitals_runs_skipped_total)
skipped_delta=$(( skipped_total - $(sum_series "$WORK/v0.prom" vitals_runs_skipped_total) ))
dropped_total=$(sum_series "$WORK/v1.prom" vitals_results_dropped_total)
late_n=$(lateness_count "$WORK/v0.prom" "$WORK/v1.prom")
p50=$(lateness_quantile "$WORK/v0.prom" "$WORK/v1.prom" 0.50)
p99=$(lateness_quantile "$WORK/v0.prom" "$WORK/v1.prom" 0.99)
max_le=$(lateness_quantile "$WORK/v0.prom" "$WORK/v1.prom" 1.0)

rate=$(div "$db_total" "$wall")
stored=$((id1 - id0))
store_rate=$(div "$stored" "$wall")
cpu_s=$W_CPU_S
cores=$(div "$cpu_s" "$wall")
us=$(us_per "$cpu_s" "$db_total")
nginx_us=$(us_per "$W_NGINX_S" "$db_total")

echo "# \`vitals run\` daemon at scale — $(date -u +%Y-%m-%d)"
echo
echo "Command: \`bench/daemon-at-scale.sh $CHECKS $INTERVAL $DURATION\`. $CHECKS HTTP checks of a static"
echo "3-byte \`/health\` on nginx (2 workers) at a ${INTERVAL} s interval = **$RATE checks/s** asked,"
echo "measured over a ${DURATION} s window that starts ${WARMUP} s after the daemon first answers \`/healthz\`."
echo "Machine: $NCPU cores, $(host_memory), $(host_os), kernel $(uname -r); vitals"
echo "$(vitals_about "$VITALS" "$ROOT"); nginx $(nginx -v 2>&1 | sed 's|.*/||'). Everything on 127.0.0.1."
echo
echo "| | vitals daemon |"
echo "|---|---|"
echo "| start to serving \`/healthz\` | $healthz_ms ms (config: $config_bytes bytes, written in $gen_ms ms) |"
echo "| asked rate | $RATE checks/s |"
echo "| **completed in the window** | **$(f1 "$rate")/s** ($db_total results started in $wall s; /metrics runs_total Δ $runs_delta) |"
echo "| success | $(pct "$(div "$db_ok" "$db_total")") ok ($db_status) |"
echo "| store write rate | $(f1 "$store_rate") results/s ($stored rows stored in the window; database $(mib "$((db_bytes / 1024))") at the end) |"
echo "| **CPU per check** | **$us µs** |"
echo "| cores used | $(awk -v c="$cores" 'BEGIN{printf "%.3f", c}') ($(pct "$cores") of one core; $(f1 "$cpu_s") s of CPU) |"
echo "| schedule lateness p50 | $p50 |"
echo "| schedule lateness p99 | $p99 (max $max_le; $late_n starts) |"
echo "| skipped runs | $skipped_total (in the window: $skipped_delta) |"
echo "| results dropped | $dropped_total |"
echo "| peak RSS (VmHWM) | $(mib "$hwm") at the window's end ($(mib "$hwm_scraped") after the 3 scrapes at the end) |"
echo "| RSS at the end of the window | $(mib "$rss") ($threads threads; the group: $W_NPROCS processes, $(mib "$W_RSS_KIB")) |"
echo "| \`/metrics\` at the end | $scrape_bytes bytes; scrape $scrape_med ms (median of ${scrape_ms[*]} ms) |"
echo "| nginx CPU per check | $nginx_us µs |"
echo "| machine load in the window | $W_MACHINE busy cores of $NCPU, of which $W_OTHER not vitals or nginx |"
echo
echo "CPU is the change of the daemon's cgroup-v1 \`cpuacct.usage\` (every thread, user and"
echo "system) over the window, divided by the results that started in it. Lateness quantiles"
echo "are the upper bound of the \`vitals_schedule_lateness_seconds\` bucket (1 ms…60 s) that"
echo "holds the quantile, over the runs that started between the scrape just before the window"
echo "(${scrape_v0} ms) and the first just after it. The write rate counts rows inserted during"
echo "the window, whenever they started. nginx CPU is utime+stime of master and workers ($HZ"
echo "ticks/s). SIGTERM to exit took ${stop_ms} ms, exit code $vrc; vitals wrote $verr lines to"
echo "stderr. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "Commands (WORK = a scratch directory; PORT $PORT nginx, $VPORT vitals):"
echo
echo '```sh'
echo "# nginx: worker_processes 2; static /health; access_log off"
echo "# WORK/many.toml (write_http_checks in bench/lib/target.sh): [defaults] interval = \"${INTERVAL}s\","
echo "#   timeout = \"5s\", max_per_host = $CONCURRENCY; $CHECKS x [[check]] plugin = \"http\","
echo "#   target = \"http://127.0.0.1:$PORT/health\""
echo "VITALS_CACHE_DIR=WORK/cache $VITALS --config WORK/one.toml --db WORK/warm.db run --once   # plugin cache"
echo "# in a fresh cgroup /sys/fs/cgroup/cpuacct/vitals-scale.PID, stopped with SIGTERM after ${WARMUP} + ${DURATION} s:"
echo "VITALS_CACHE_DIR=WORK/cache $VITALS ${VITALS_ARGS[*]//$WORK/WORK}"
echo "curl -o /dev/null http://127.0.0.1:$VPORT/metrics   # before and after the window"
echo "sqlite3 WORK/many.db \"SELECT count(*) FROM results WHERE started_at_ms >= $w0ms AND started_at_ms < $w1ms\""
echo '```'
