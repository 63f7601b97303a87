#!/usr/bin/env bash
# Benchmark (issue 3): the `vitals run` daemon holding CHECKS http checks of a local nginx
# at an INTERVAL-second interval (default 10: CHECKS/10 checks per second) for DURATION
# seconds, against Prometheus' blackbox_exporter probing the same nginx at the same rate,
# driven by `hey` at a fixed rate.
#
# Usage: bench/daemon-vs-blackbox.sh [CHECKS] [DURATION_S]   (defaults: 10000 checks, 120 s)
#
# Installs its peers from Debian's packages when they are missing (nginx-light,
# prometheus-blackbox-exporter, hey, sqlite3, curl), builds vitals in release mode unless
# VITALS_BIN names a binary, and prints Markdown: one table of both side by side, the
# machine's load during each window, and the exact commands. Loopback only; every process
# it starts runs for a bounded time and is stopped (by PID) on exit.
#
# CPU is utime+stime from /proc/PID/stat (neither daemon forks); helpers: bench/lib/measure.sh.
#
# Environment knobs: VITALS_BIN, INTERVAL (10 s), NGINX_PORT (18381), VITALS_PORT (18382),
# BBE_PORT (18383), CONCURRENCY (64, also max_per_host), WARMUP (INTERVAL + 5 s, > one
# interval so that every check has found its phase), HEY_WORKERS (50), KEEP_WORK=1 keeps
# the scratch directory.
set -euo pipefail

CHECKS=${1:-10000}
DURATION=${2:-120}
INTERVAL=${INTERVAL:-10}
PORT=${NGINX_PORT:-18381}
VPORT=${VITALS_PORT:-18382}
BPORT=${BBE_PORT:-18383}
CONCURRENCY=${CONCURRENCY:-64}
WARMUP=${WARMUP:-$((INTERVAL + 5))}
HEY_WORKERS=${HEY_WORKERS:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib/target.sh
. "$ROOT/bench/lib/target.sh"
# shellcheck source=bench/lib/measure.sh
. "$ROOT/bench/lib/measure.sh"
WORK=$(mktemp -d /tmp/vitals-daemon-bench.XXXXXX)
RATE=$(awk -v n="$CHECKS" -v i="$INTERVAL" 'BEGIN{printf "%g", n/i}')

need_packages nginx=nginx-light prometheus-blackbox-exporter=prometheus-blackbox-exporter \
  hey=hey sqlite3=sqlite3 curl=curl
vitals_binary "$ROOT"
export VITALS_CACHE_DIR="$WORK/cache"

# Everything this script starts, by PID (emptied once reaped), so that the trap stops
# exactly those.
VPID='' BPID='' HPID=''
cleanup() {
  # shellcheck disable=SC2086 # empty ones vanish
  stop_pids $VPID $BPID $HPID
  stop_health_nginx "$WORK"
  if [ -n "${KEEP_WORK:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The target: nginx with a static 3-byte /health, two workers. Only blackbox_exporter's
# requests are logged (buffered), to count its successful probes; vitals' are not.
start_health_nginx "$WORK" "$PORT" "map \$http_user_agent \$from_blackbox { ~^Blackbox 1; default 0; }
  log_format probe '\$msec \$status';
  access_log $WORK/nginx/probe.log probe buffer=256k flush=1s if=\$from_blackbox;"

# --- vitals --------------------------------------------------------------------------
write_http_checks "$WORK/many.toml" "$CHECKS" "$PORT" "interval = \"${INTERVAL}s\"" 'timeout = "5s"' \
  "max_per_host = $CONCURRENCY"

# Warm the compiled-plugin cache (compilation is not part of a check's cost).
"$VITALS" --config "$WORK/one.toml" --db "$WORK/warm.db" run --once >/dev/null

VITALS_CMD="$VITALS --config $WORK/many.toml --db $WORK/many.db run --listen 127.0.0.1:$VPORT --concurrency $CONCURRENCY"
log "vitals: $CHECKS checks every ${INTERVAL}s ($RATE/s), ${WARMUP}s warm-up, then a ${DURATION}s window"
port_is_free "$VPORT"
$VITALS_CMD >"$WORK/vitals.out" 2>"$WORK/vitals.err" &
VPID=$!
START=$(now)
wait_http "$VPID" 10 "http://127.0.0.1:$VPORT/healthz" || { cat "$WORK/vitals.err" >&2; exit 1; }
port_owned_by "$VPORT" "$VPID"

sleep_until "$(t_plus "$START" "$WARMUP")"
scrape_v0=$(scrape "http://127.0.0.1:$VPORT/metrics" "$WORK/v0.prom")
read -r vmb0 vmt0 < <(machine_busy)
vt0=$(now); vc0=$(cpu_ticks "$VPID"); vn0=$(nginx_ticks "$WORK")
sleep_until "$(t_plus "$vt0" "$DURATION")"
vt1=$(now); vc1=$(cpu_ticks "$VPID"); vn1=$(nginx_ticks "$WORK")
read -r vmb1 vmt1 < <(machine_busy)
vhwm=$(status_kib "$VPID" VmHWM); vrss=$(status_kib "$VPID" VmRSS); vthreads=$(status_kib "$VPID" Threads)
scrape_v1=$(scrape "http://127.0.0.1:$VPORT/metrics" "$WORK/v1.prom")
scrape_bytes=$(stat -c %s "$WORK/v1.prom")

ts=$(now); kill -TERM "$VPID"; vrc=0; wait "$VPID" || vrc=$?; te=$(now)
stop_ms=$(ms_between "$ts" "$te")
VPID=
log "vitals stopped (exit $vrc after ${stop_ms} ms)"
verr=$(wc -l < "$WORK/vitals.err")

vwall=$(secs_between "$vt0" "$vt1")
w0ms=$(epoch_ms "$vt0"); w1ms=$(epoch_ms "$vt1")
db_total=$(results_in "$WORK/many.db" "$w0ms" "$w1ms")
db_ok=$(results_in "$WORK/many.db" "$w0ms" "$w1ms" "status = 'ok'")
db_status=$(status_breakdown "$WORK/many.db" "$w0ms" "$w1ms")
runs_delta=$(( $(sum_series "$WORK/v1.prom" vitals_check_runs_total) - $(sum_series "$WORK/v0.prom" vitals_check_runs_total) ))
skipped_total=$(sum_series "$WORK/v1.prom" vitals_runs_skipped_total)
skipped_delta=$(( skipped_total - $(sum_series "$WORK/v0.prom" vitals_runs_skipped_total) ))
late_n=$(lateness_count "$WORK/v0.prom" "$WORK/v1.prom")
p50=$(lateness_quantile "$WORK/v0.prom" "$WORK/v1.prom" 0.50)
p99=$(lateness_quantile "$WORK/v0.prom" "$WORK/v1.prom" 0.99)
max_le=$(lateness_quantile "$WORK/v0.prom" "$WORK/v1.prom" 1.0)

v_rate=$(div "$db_total" "$vwall")
v_cpu_s=$(div "$((vc1 - vc0))" "$HZ")
v_share=$(div "$v_cpu_s" "$vwall")
v_us=$(us_per "$v_cpu_s" "$db_total")
vn_us=$(us_per "$(div "$((vn1 - vn0))" "$HZ")" "$db_total")
v_machine=$(busy_cores "$vmb0" "$vmt0" "$vmb1" "$vmt1")
v_other=$(awk -v m="$v_machine" -v a="$((vc1 - vc0))" -v n="$((vn1 - vn0))" -v h="$HZ" -v w="$vwall" 'BEGIN{printf "%.2f", m-(a+n)/h/w}')

# --- blackbox_exporter + hey ----------------------------------------------------------
cat > "$WORK/blackbox.yml" <<'YML'
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
YML
BBE_CMD="prometheus-blackbox-exporter --config.file=$WORK/blackbox.yml --web.listen-address=127.0.0.1:$BPORT --log.level=warn"
port_is_free "$BPORT"
$BBE_CMD >"$WORK/bbe.out" 2>"$WORK/bbe.err" &
BPID=$!
wait_http "$BPID" 10 "http://127.0.0.1:$BPORT/metrics" || { cat "$WORK/bbe.err" >&2; exit 1; }
port_owned_by "$BPORT" "$BPID"
PROBE_URL="http://127.0.0.1:$BPORT/probe?target=127.0.0.1:$PORT/health&module=http_2xx"
curl -fsS "$PROBE_URL" | grep -q '^probe_success 1' || { log "blackbox_exporter probe failed"; curl -sS "$PROBE_URL" >&2; exit 1; }

# hey: HEY_WORKERS workers, each throttled to RATE/HEY_WORKERS requests per second by its
# own ticker (-q), keep-alive to the exporter. It runs past the window on both sides.
HEY_Q=$(awk -v r="$RATE" -v w="$HEY_WORKERS" 'BEGIN{printf "%g", r/w}')
HEY_SECS=$((WARMUP + DURATION + 3))
HEY_CMD="hey -z ${HEY_SECS}s -c $HEY_WORKERS -q $HEY_Q -t 10 '$PROBE_URL'"
log "blackbox_exporter: $RATE probes/s via hey (-c $HEY_WORKERS -q $HEY_Q), ${WARMUP}s warm-up, then a ${DURATION}s window"
conntrack() { curl -fsS "http://127.0.0.1:$BPORT/metrics" | awk -v n="$1" 'index($0, n"{")==1 && /http_probe/ {s+=$NF} END{printf "%.0f", s+0}'; }
ba_start=$(conntrack net_conntrack_dialer_conn_attempted_total)
HSTART=$(now)
hey -z "${HEY_SECS}s" -c "$HEY_WORKERS" -q "$HEY_Q" -t 10 "$PROBE_URL" >"$WORK/hey.out" 2>&1 &
HPID=$!
START=$(now)

sleep_until "$(t_plus "$START" "$WARMUP")"
ba0=$(conntrack net_conntrack_dialer_conn_attempted_total)
read -r bmb0 bmt0 < <(machine_busy)
bt0=$(now); bc0=$(cpu_ticks "$BPID"); hc0=$(cpu_ticks "$HPID"); bn0=$(nginx_ticks "$WORK")
sleep_until "$(t_plus "$bt0" "$DURATION")"
bt1=$(now); bc1=$(cpu_ticks "$BPID"); hc1=$(cpu_ticks "$HPID"); bn1=$(nginx_ticks "$WORK")
read -r bmb1 bmt1 < <(machine_busy)
ba1=$(conntrack net_conntrack_dialer_conn_attempted_total)
bhwm=$(status_kib "$BPID" VmHWM); hhwm=$(status_kib "$HPID" VmHWM)
hrc=0; wait "$HPID" || hrc=$?
HPID=
ba_end=$(conntrack net_conntrack_dialer_conn_attempted_total); bf_end=$(conntrack net_conntrack_dialer_conn_failed_total)
kill -TERM "$BPID"; wait "$BPID" 2>/dev/null || true
BPID=
nginx -c "$WORK/nginx/nginx.conf" -s reopen 2>/dev/null || true  # flush the access-log buffer
sleep 1.5
log "blackbox_exporter and hey stopped (hey exit $hrc)"

bwall=$(secs_between "$bt0" "$bt1")
b_probes=$((ba1 - ba0))
# Success over hey's whole run: the exporter's requests that nginx answered 200 (its log,
# from hey's start on) ÷ the probe connections the exporter attempted meanwhile.
b_run_probes=$((ba_end - ba_start))
b_ok=$(awk -v a="$HSTART" '$1>=a && $2==200 {ok++} END{printf "%d", ok}' "$WORK/nginx/probe.log")
b_rate=$(div "$b_probes" "$bwall")
b_success=$(awk -v ok="$b_ok" -v n="$b_run_probes" 'BEGIN{ if (n>0) printf "%.4f", ok/n; else print "n/a" }')
b_cpu_s=$(div "$((bc1 - bc0))" "$HZ"); h_cpu_s=$(div "$((hc1 - hc0))" "$HZ")
b_share=$(div "$b_cpu_s" "$bwall"); h_share=$(div "$h_cpu_s" "$bwall")
b_us=$(us_per "$b_cpu_s" "$b_probes")
h_us=$(us_per "$h_cpu_s" "$b_probes")
bn_us=$(us_per "$(div "$((bn1 - bn0))" "$HZ")" "$b_probes")
b_machine=$(busy_cores "$bmb0" "$bmt0" "$bmb1" "$bmt1")
b_other=$(awk -v m="$b_machine" -v a="$((bc1 - bc0 + hc1 - hc0))" -v n="$((bn1 - bn0))" -v h="$HZ" -v w="$bwall" 'BEGIN{printf "%.2f", m-(a+n)/h/w}')
hey_total=$(awk '/Requests\/sec/ {print $2}' "$WORK/hey.out")
hey_codes=$(awk '/Status code distribution/ {f=1; next} f && /\[/ {gsub(/^ +/, ""); gsub(/\t/, " "); printf "%s%s", sep, $0; sep="; "} f && /^$/ && sep {exit}' "$WORK/hey.out")
hey_p50=$(awk '/50% in/ {printf "%.1f", $3*1000}' "$WORK/hey.out")
hey_p99=$(awk '/99% in/ {printf "%.1f", $3*1000}' "$WORK/hey.out")
hey_errors=$(awk '/Error distribution/ {f=1; next} f && NF {gsub(/^ +/, ""); printf "%s%s", sep, $0; sep="; "}' "$WORK/hey.out")

ratio=$(quot "$b_us" "$v_us")
ratio_all=$(quot "$(awk -v b="$b_us" -v h="$h_us" 'BEGIN{printf "%.1f", b+h}')" "$v_us")
ratio_nginx=$(quot "$bn_us" "$vn_us")

# --- report --------------------------------------------------------------------------
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "**not met**"; fi; }
p99_ok=$(awk -v p="$p99" 'BEGIN{ if (p ~ /ms$/) { sub(/^≤ /, "", p); sub(/ ms$/, "", p); print ((p+0 <= 100) ? 1 : 0) } else print 0 }')
rss_ok=$(( vhwm < 256 * 1024 ? 1 : 0 ))
skip_ok=$(( skipped_total == 0 ? 1 : 0 ))
INTERVAL_ENV=
[ "$INTERVAL" = 10 ] || INTERVAL_ENV="INTERVAL=$INTERVAL "

echo "# \`vitals run\` daemon against blackbox_exporter — $(date -u +%Y-%m-%d)"
echo
echo "Command: \`${INTERVAL_ENV}bench/daemon-vs-blackbox.sh $CHECKS $DURATION\`. $CHECKS HTTP checks of a static 3-byte"
echo "\`/health\` on nginx (2 workers) at a ${INTERVAL} s interval = **$RATE checks/s**, measured over a"
echo "${DURATION} s window that starts ${WARMUP} s after each checker starts. Machine: $(nproc) cores,"
echo "$(host_memory), $(host_os), kernel $(uname -r); vitals"
echo "$(vitals_about "$VITALS" "$ROOT"),"
echo "$(prometheus-blackbox-exporter --version 2>&1 | head -1 | sed 's/ *(.*//'), hey $(dpkg-query -W -f='${Version}' hey 2>/dev/null),"
echo "nginx $(nginx -v 2>&1 | sed 's|.*/||'). Everything on 127.0.0.1."
echo
echo "| | vitals daemon | blackbox_exporter (+ hey) |"
echo "|---|---|---|"
echo "| asked rate | $RATE checks/s (scheduler, ${INTERVAL} s interval) | $RATE probes/s (hey -c $HEY_WORKERS -q $HEY_Q) |"
echo "| completed in the window | $(f1 "$v_rate")/s ($db_total results, $vwall s; /metrics runs_total Δ $runs_delta) | $(f1 "$b_rate")/s ($b_probes probes, $bwall s) |"
echo "| success | $(pct "$(div "$db_ok" "$db_total")") ok ($db_status) | $(pct "$b_success") over hey's whole run ($b_ok nginx 200s for the exporter ÷ $b_run_probes probe connections; $bf_end connect failures) |"
echo "| schedule lateness p50 | $p50 | – (hey's own ticker) |"
echo "| schedule lateness p99 | $p99 (max $max_le; $late_n starts) | – |"
echo "| skipped runs | $skipped_total (in the window: $skipped_delta) | – |"
echo "| checker CPU, share of one core | $(pct "$v_share") | exporter $(pct "$b_share") |"
echo "| **checker CPU per check** | **$v_us µs** | **$b_us µs** |"
echo "| driver CPU per probe | – (built in) | hey: $h_us µs ($(pct "$h_share") of a core) |"
echo "| nginx CPU per check | $vn_us µs | $bn_us µs |"
echo "| peak RSS (VmHWM) | $(mib "$vhwm") (VmRSS at the end $(mib "$vrss"), $vthreads threads) | exporter $(mib "$bhwm"); hey $(mib "$hhwm") |"
echo "| **CPU per check, exporter ÷ vitals** | | **$ratio×** (exporter + hey ÷ vitals: $ratio_all×; nginx: $ratio_nginx×) |"
echo
echo "Lateness quantiles are the upper bound of the histogram bucket"
echo "(\`vitals_schedule_lateness_seconds\`, 1 ms…60 s) that holds the quantile, over the runs that"
echo "started between the two scrapes of \`/metrics\`. CPU is utime+stime from \`/proc/PID/stat\`"
echo "($HZ ticks/s) over the window; per check it is divided by the results stored (vitals) or"
echo "the probe connections the exporter opened (\`net_conntrack_dialer_conn_attempted_total\`)."
echo "Vitals' figure includes its scheduling, the SQLite store and the Prometheus bookkeeping;"
echo "the exporter's includes serving the \`/probe\` request and encoding its answer, and stores"
echo "nothing (a Prometheus server would). hey over the whole run: ${hey_total} requests/s,"
echo "exporter answer latency p50 ${hey_p50} ms, p99 ${hey_p99} ms; status codes: ${hey_codes:-none}${hey_errors:+; errors: $hey_errors}."
echo "hey's workers each tick on their own timer (-q), started together: the probes come in bursts"
echo "of up to $HEY_WORKERS every $(awk -v q="$HEY_Q" 'BEGIN{printf "%g", 1000/q}') ms, and a tick that finds its worker busy is dropped, not made up."
echo "The two \`/metrics\` scrapes of vitals took ${scrape_v0} ms and ${scrape_v1} ms ($scrape_bytes bytes);"
echo "SIGTERM to exit took ${stop_ms} ms, exit code $vrc; vitals wrote $verr lines to stderr (log level warn)."
echo
echo "Machine load during the windows (busy cores of $NCPU, from \`/proc/stat\`): vitals window"
echo "$v_machine, of which $v_other not vitals or nginx; blackbox window $b_machine, of which $b_other"
echo "not the exporter, hey or nginx. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "Against the targets:"
echo "- p99 schedule lateness < 100 ms: $(verdict "$p99_ok") ($p99)."
echo "- peak RSS < 256 MiB: $(verdict "$rss_ok") ($(mib "$vhwm"))."
echo "- no skipped run: $(verdict "$skip_ok") ($skipped_total)."
echo
echo "Commands (WORK = a scratch directory; PORT $PORT nginx, $VPORT vitals, $BPORT exporter):"
echo
echo '```sh'
echo "# nginx: worker_processes 2; static /health; access log only for User-Agent ~^Blackbox"
echo "VITALS_CACHE_DIR=WORK/cache ${VITALS_CMD//$WORK/WORK}"
echo "#   WORK/many.toml: [defaults] interval = \"${INTERVAL}s\", timeout = \"5s\", max_per_host = $CONCURRENCY;"
echo "#   $CHECKS x [[check]] plugin = \"http\", target = \"http://127.0.0.1:$PORT/health\""
echo "#   stopped with SIGTERM after ${WARMUP} + ${DURATION} s"
echo "${BBE_CMD//$WORK/WORK}"
echo "#   WORK/blackbox.yml: modules.http_2xx: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, ip_protocol_fallback: false}}"
echo "$HEY_CMD"
echo '```'
