#!/usr/bin/env bash
# Benchmark (issue 14): CPU per scheduled HTTP check, Icinga 2 (+ check_http) against the
# `vitals run` daemon. CHECKS checks of the same local nginx at an INTERVAL_S interval
# (CHECKS/INTERVAL_S checks per second) for each, one daemon at a time, ROUNDS rounds of
# Icinga then vitals.
#
# Usage: bench/daemon-vs-icinga.sh [INTERVAL_S] [DURATION_S] [CHECKS]
#        (defaults: 20 s, 60 s, 1000 checks = 50 checks/s; run it with 20 and with 5 for
#        50/s and 200/s)
#
# Installs icinga2, monitoring-plugins-basic (check_http), nginx-light, sqlite3 and curl
# from Debian's packages when they are missing; builds vitals in release mode unless
# VITALS_BIN names a binary. Runs as root.
#
# Icinga 2 runs from a scratch directory only (not /etc/icinga2, not systemd): its config
# there defines a CheckerComponent, an ApiListener on 127.0.0.1 (certificates made by
# `icinga2 pki` in the scratch directory) and an ApiUser, one host with active checks off
# and CHECKS services with check_command "http" (check_http -I 127.0.0.1 -p PORT -u
# /health -t 5) and check_interval = retry_interval = INTERVAL_S; its data, cache, log,
# spool and run paths are the scratch directory's (-DConfiguration.*Dir=...), its state
# is deleted before each start, and it runs as ICINGA_USER (nagios) like the package's.
# Vitals runs the same CHECKS http checks of the same URL at the same interval (timeout
# 5 s, max_per_host = CONCURRENCY), on a new database each round.
#
# Measures: each daemon in a fresh cgroup-v1 cpuacct group (/sys/fs/cgroup/cpuacct), so
# its CPU includes every child (Icinga forks a check_http per check). After the same
# warm-up (WARMUP, longer than one interval, counted from the moment the daemon answers
# on its port) both are measured over the same DURATION_S window: CPU = the change of cpuacct.usage; checks = for vitals, rows of its SQLite
# `results` table that started in the window; for Icinga, the requests nginx logged from
# check_http's User-Agent in the window (exact, and costs Icinga nothing), with Icinga's
# own `active_service_checks_1min` (REST API /v1/status/CIB) beside it. nginx logs every
# request (both daemons pay the same logging); its CPU is utime+stime from /proc. RSS is
# summed over the group's processes at the end of the window. Prints Markdown: per round
# CPU µs per check of both, their ratio within the round, checks/s and RSS; medians; the
# machine's load in each window; the exact commands.
#
# Environment knobs: VITALS_BIN, ROUNDS (2), WARMUP (INTERVAL_S + 15 s), NGINX_PORT (18410),
# VITALS_PORT (18411), ICINGA_API_PORT (18412), CONCURRENCY (64: --concurrency and
# max_per_host), ICINGA_USER (nagios), ONLY=icinga or ONLY=vitals runs one side only (no
# ratio then), KEEP_WORK=1 keeps the scratch directory. Loopback only; every process it
# starts is stopped by PID, and its cgroups removed, on exit.
set -euo pipefail

INTERVAL=${1:-20}
DURATION=${2:-60}
CHECKS=${3:-1000}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-$((INTERVAL + 15))}
PORT=${NGINX_PORT:-18410}
VPORT=${VITALS_PORT:-18411}
IPORT=${ICINGA_API_PORT:-18412}
CONCURRENCY=${CONCURRENCY:-64}
ICINGA_USER=${ICINGA_USER:-nagios}
ONLY=${ONLY:-}
case $ONLY in '' | icinga | vitals) ;; *) echo "bench: ONLY is icinga or vitals" >&2; exit 64 ;; esac
side() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
CHECK_HTTP=/usr/lib/nagios/plugins/check_http
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib/target.sh
. "$ROOT/bench/lib/target.sh"
# shellcheck source=bench/lib/measure.sh
. "$ROOT/bench/lib/measure.sh"
RATE=$(awk -v n="$CHECKS" -v i="$INTERVAL" 'BEGIN{printf "%g", n/i}')
check_warmup "$WARMUP" "$INTERVAL"

need_packages icinga2=icinga2 "$CHECK_HTTP=monitoring-plugins-basic" nginx=nginx-light \
  sqlite3=sqlite3 curl=curl
VITALS=''
if side vitals; then vitals_binary "$ROOT"; fi
getent passwd "$ICINGA_USER" >/dev/null || { echo "bench: no user $ICINGA_USER to run Icinga as (ICINGA_USER)" >&2; exit 1; }
ICINGA_GROUP=$(id -gn "$ICINGA_USER")
if pgrep -x icinga2 >/dev/null; then
  log "warning: an icinga2 this script did not start is running (pids $(pgrep -x icinga2 | xargs)); it adds to the machine's load"
fi

WORK=$(mktemp -d /tmp/vitals-icinga-bench.XXXXXX)
chmod 755 "$WORK"
export VITALS_CACHE_DIR="$WORK/cache"

# What runs now, by PID, and its cgroup (emptied once stopped), for the trap.
CUR_PID='' CUR_CG=''
cleanup() { finish_scratch "$CUR_CG" "$CUR_PID" "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The target: nginx with a static 3-byte /health, two workers, logging every request
# (time, status, User-Agent) to count Icinga's checks; buffered, flushed after each run.
PROBE_LOG=$WORK/nginx/probe.log
start_health_nginx "$WORK" "$PORT" "log_format probe '\$msec \$status \$http_user_agent';
  access_log $PROBE_LOG probe buffer=256k flush=1s;"
flush_probe_log() { nginx -c "$WORK/nginx/nginx.conf" -s reopen 2>/dev/null; sleep 1.5; }
# probe_count FROM TO UA_PREFIX [STATUS]: requests logged in [FROM, TO) from that agent.
probe_count() {
  awk -v a="$1" -v b="$2" -v ua="$3" -v st="${4:-}" \
    '$1 >= a && $1 < b && index($3, ua) == 1 && (st == "" || $2 == st) {n++} END{printf "%d", n}' "$PROBE_LOG"
}

# --- Icinga 2: scratch config, paths and certificates -----------------------------------
IW=$WORK/icinga
ICONF=$IW/icinga2.conf
API_PASS=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
ICINGA_DEFS=(
  "-DConfiguration.ConfigDir=$IW/etc" "-DConfiguration.DataDir=$IW/lib" "-DConfiguration.LogDir=$IW/log"
  "-DConfiguration.CacheDir=$IW/cache" "-DConfiguration.SpoolDir=$IW/spool" "-DConfiguration.InitRunDir=$IW/run"
  "-DConfiguration.RunAsUser=$ICINGA_USER" "-DConfiguration.RunAsGroup=$ICINGA_GROUP"
)
mkdir -p "$IW"/{etc,lib/certs,log,cache,spool,run}
cat > "$ICONF" <<CONF
/* bench/daemon-vs-icinga.sh: only the checker and the API (for its status counters). */
const NodeName = "vbench"
const ZoneName = "vbench"
const PluginDir = "/usr/lib/nagios/plugins"
include <itl>
include <plugins>
object CheckerComponent "checker" { }
object ApiListener "api" { bind_host = "127.0.0.1"; bind_port = $IPORT; accept_config = false; accept_commands = false }
object Endpoint NodeName { }
object Zone ZoneName { endpoints = [ NodeName ] }
object ApiUser "bench" { password = "$API_PASS"; permissions = [ "status/query", "objects/query/*" ] }
object Host "target" { address = "127.0.0.1"; check_command = "dummy"; enable_active_checks = false }
for (i in range($CHECKS)) {
  object Service "h" + i use (i) {
    host_name = "target"
    check_command = "http"
    vars.http_address = "127.0.0.1"
    vars.http_port = $PORT
    vars.http_uri = "/health"
    vars.http_timeout = 5
    check_interval = ${INTERVAL}s
    retry_interval = ${INTERVAL}s
  }
}
CONF
chown -R "$ICINGA_USER:$ICINGA_GROUP" "$IW"
(
  cd "$IW"
  icinga2 pki new-ca "${ICINGA_DEFS[@]}"
  icinga2 pki new-cert "${ICINGA_DEFS[@]}" --cn vbench --key "$IW/lib/certs/vbench.key" --csr "$IW/lib/certs/vbench.csr"
  icinga2 pki sign-csr "${ICINGA_DEFS[@]}" --csr "$IW/lib/certs/vbench.csr" --cert "$IW/lib/certs/vbench.crt"
) > "$IW/pki.log" 2>&1 || { cat "$IW/pki.log" >&2; exit 1; }
cp "$IW/lib/ca/ca.crt" "$IW/lib/certs/ca.crt"
chown -R "$ICINGA_USER:$ICINGA_GROUP" "$IW"
icinga2 daemon "${ICINGA_DEFS[@]}" -c "$ICONF" -C -x warning > "$IW/validate.log" 2>&1 || { cat "$IW/validate.log" >&2; exit 1; }
ICINGA_CMD=(icinga2 daemon "${ICINGA_DEFS[@]}" -c "$ICONF" -x warning)
API=https://127.0.0.1:$IPORT
api() { curl -fsS -k --max-time 30 -u "bench:$API_PASS" "$API$1"; }
# json_num JSON KEY: a number field of Icinga's (flat enough) JSON.
json_num() { sed -n "s/.*\"$2\": *\([0-9.eE+-]*\).*/\1/p" <<< "$1" | head -1; }

# --- vitals: the same checks --------------------------------------------------------------
write_http_checks "$WORK/many.toml" "$CHECKS" "$PORT" "interval = \"${INTERVAL}s\"" 'timeout = "5s"' \
  "max_per_host = $CONCURRENCY"
# Warm the compiled-plugin cache (compilation is not part of a check's cost).
if side vitals; then "$VITALS" --config "$WORK/one.toml" --db "$WORK/warm.db" run --once >/dev/null; fi

# --- one run ------------------------------------------------------------------------------
# Results, by "daemon,round".
declare -A CHK OK CPU RSS HWM NPROC NGX MACH OTHER WALL CROSS ISTATES VSTATES VERR
record() { # daemon round checks ok_share cross: the rest from the W_* of cg_window
  local k=$1,$2
  CHK[$k]=$3 OK[$k]=$4 CROSS[$k]=$5
  CPU[$k]=$W_CPU_S RSS[$k]=$W_RSS_KIB HWM[$k]=$W_HWM_KIB NPROC[$k]=$W_NPROCS
  NGX[$k]=$W_NGINX_S MACH[$k]=$W_MACHINE OTHER[$k]=$W_OTHER WALL[$k]=$W_WALL
}

run_icinga() {
  local r=$1 ready cib n n200
  rm -rf "$IW/lib/icinga2.state" "$IW/lib/modified-attributes.conf" "$IW/lib/api" \
    "$IW/cache/"* "$IW/run/"* "$IW/log/"*
  log "round $r: Icinga 2, $CHECKS services every ${INTERVAL}s ($RATE/s), ${WARMUP}s warm-up, then a ${DURATION}s window"
  port_is_free "$IPORT"
  cg_start "vitals-bench.$$.icinga$r" "$WORK/icinga$r.out" "$WORK/icinga$r.err" "${ICINGA_CMD[@]}"
  CUR_CG=$CG_DIR CUR_PID=$CG_PID
  wait_http "$CUR_PID" 120 "$API/v1/status/CIB" -k -u "bench:$API_PASS" || { tail -20 "$WORK/icinga$r.out" "$WORK/icinga$r.err" >&2; exit 1; }
  ready=$(now)
  # The listener is Icinga's worker, a child of the umbrella process started here.
  port_owned_by "$IPORT" "$CUR_PID"
  cg_window "$CUR_CG" "$WORK" "$(t_plus "$ready" "$WARMUP")" "$DURATION"
  cib=$(api /v1/status/CIB)
  cg_stop "$CUR_CG" "$CUR_PID" 30
  CUR_CG='' CUR_PID=''
  flush_probe_log
  n=$(probe_count "$W_T0" "$W_T1" check_http)
  n200=$(probe_count "$W_T0" "$W_T1" check_http 200)
  record icinga "$r" "$n" "$(div "$n200" "$n")" "$(json_num "$cib" active_service_checks_1min)"
  ISTATES[$r]="ok $(json_num "$cib" num_services_ok), warning $(json_num "$cib" num_services_warning), critical $(json_num "$cib" num_services_critical), unknown $(json_num "$cib" num_services_unknown), pending $(json_num "$cib" num_services_pending)"
  log "round $r: Icinga stopped (exit $CG_RC after $CG_STOP_MS ms): $n checks in ${W_WALL}s"
}

run_vitals() {
  local r=$1 ready db w0 w1 n nok
  db=$WORK/vitals$r.db
  log "round $r: vitals, $CHECKS checks every ${INTERVAL}s ($RATE/s), ${WARMUP}s warm-up, then a ${DURATION}s window"
  port_is_free "$VPORT"
  cg_start "vitals-bench.$$.vitals$r" "$WORK/vitals$r.out" "$WORK/vitals$r.err" "$VITALS" --config "$WORK/many.toml" \
    --db "$db" run --listen "127.0.0.1:$VPORT" --concurrency "$CONCURRENCY"
  CUR_CG=$CG_DIR CUR_PID=$CG_PID
  wait_http "$CUR_PID" 120 "http://127.0.0.1:$VPORT/healthz" || { tail -20 "$WORK/vitals$r.err" >&2; exit 1; }
  ready=$(now)
  port_owned_by "$VPORT" "$CUR_PID"
  cg_window "$CUR_CG" "$WORK" "$(t_plus "$ready" "$WARMUP")" "$DURATION"
  cg_stop "$CUR_CG" "$CUR_PID" 30
  CUR_CG='' CUR_PID=''
  VERR[$r]=$(wc -l < "$WORK/vitals$r.err")
  flush_probe_log
  w0=$(epoch_ms "$W_T0"); w1=$(epoch_ms "$W_T1")
  n=$(results_in "$db" "$w0" "$w1")
  nok=$(results_in "$db" "$w0" "$w1" "status = 'ok'")
  record vitals "$r" "$n" "$(div "$nok" "$n")" "$(probe_count "$W_T0" "$W_T1" vitals/)"
  VSTATES[$r]=$(status_breakdown "$db" "$w0" "$w1")
  log "round $r: vitals stopped (exit $CG_RC after $CG_STOP_MS ms): $n checks in ${W_WALL}s"
}

for r in $(seq 1 "$ROUNDS"); do
  if side icinga; then run_icinga "$r"; fi
  if side vitals; then run_vitals "$r"; fi
done

# --- report -------------------------------------------------------------------------------
# Per run (key "daemon,round"); "–" for a side that did not run (ONLY).
ran() { [ -n "${CHK[$1]:-}" ]; }
rate_of() { if ran "$1"; then f1 "$(div "${CHK[$1]}" "${WALL[$1]}")"; else echo –; fi; }
us_of() { if ran "$1"; then us_per "${CPU[$1]}" "${CHK[$1]}"; else echo –; fi; }
rss_of() { if ran "$1"; then awk -v k="${RSS[$1]}" 'BEGIN{printf "%.1f", k/1024}'; else echo –; fi; }
cores_of() { awk -v c="${CPU[$1]}" -v w="${WALL[$1]}" 'BEGIN{printf "%.3f", (w > 0 ? c/w : 0)}'; }
nginx_us_of() { us_per "${NGX[$1]}" "${CHK[$1]}"; }

echo "# Icinga 2 against the \`vitals run\` daemon — $(date -u +%Y-%m-%d)"
echo
echo "Command: \`${ONLY:+ONLY=$ONLY }ROUNDS=$ROUNDS bench/daemon-vs-icinga.sh $INTERVAL $DURATION $CHECKS\`. $CHECKS HTTP checks of a static"
echo "3-byte \`/health\` on nginx (2 workers) at a ${INTERVAL} s interval = **$RATE checks/s** for each daemon,"
echo "run alone, each in its own cgroup-v1 cpuacct group; ${WARMUP} s warm-up (from its port answering), then a ${DURATION} s window;"
echo "$ROUNDS round(s) of Icinga then vitals. Machine: $NCPU cores, $(host_memory), $(host_os), kernel $(uname -r);"
echo "$(icinga2 --version | head -1 | sed 's/.*(version: \(.*\))/Icinga 2 \1/') (Debian $(dpkg-query -W -f='${Version}' icinga2-bin 2>/dev/null || echo '?')),"
echo "monitoring-plugins $(dpkg-query -W -f='${Version}' monitoring-plugins-basic 2>/dev/null || echo '?');${VITALS:+ vitals $(vitals_about "$VITALS" "$ROOT");}"
echo "nginx $(nginx -v 2>&1 | sed 's|.*/||'). Everything on 127.0.0.1."
echo
echo "| round | Icinga checks/s | **Icinga CPU µs/check** | Icinga RSS | vitals checks/s | **vitals CPU µs/check** | vitals RSS | **CPU per check, Icinga ÷ vitals** |"
echo "|---|---|---|---|---|---|---|---|"
col_ir=() col_iu=() col_im=() col_vr=() col_vu=() col_vm=() col_x=()
for r in $(seq 1 "$ROUNDS"); do
  ir=$(rate_of "icinga,$r"); iu=$(us_of "icinga,$r"); im=$(rss_of "icinga,$r")
  vr=$(rate_of "vitals,$r"); vu=$(us_of "vitals,$r"); vm=$(rss_of "vitals,$r")
  x=–
  if ran "icinga,$r" && ran "vitals,$r"; then x=$(awk -v a="$iu" -v b="$vu" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "inf" }'); fi
  echo "| $r | $ir | $iu | $im MiB | $vr | $vu | $vm MiB | **${x}×** |"
  col_ir+=("$ir") col_iu+=("$iu") col_im+=("$im") col_vr+=("$vr") col_vu+=("$vu") col_vm+=("$vm") col_x+=("$x")
done
echo "| **median** | $(median_f 1 "${col_ir[@]}") | **$(median_f 1 "${col_iu[@]}")** | $(median_f 1 "${col_im[@]}") MiB | $(median_f 1 "${col_vr[@]}") | **$(median_f 1 "${col_vu[@]}")** | $(median_f 1 "${col_vm[@]}") MiB | **$(median_f 2 "${col_x[@]}")×** |"
echo
echo "Each run in detail (CPU and cores over the window; RSS and peak are VmRSS and VmHWM summed"
echo "over the group's processes at the window's end; machine = busy cores of $NCPU from \`/proc/stat\`,"
echo "\"other\" = of those, neither the daemon's group nor nginx):"
echo
echo "| run | window | checks counted | cross-check | success | CPU | cores | RSS (peak; processes) | nginx µs/check | machine (other) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for r in $(seq 1 "$ROUNDS"); do
  k=icinga,$r
  if ran "$k"; then
    echo "| Icinga, round $r | ${WALL[$k]} s | ${CHK[$k]} (nginx log, check_http agent) | Icinga's active_service_checks_1min: ${CROSS[$k]:-?} | $(pct "${OK[$k]}") HTTP 200; states at the end: ${ISTATES[$r]} | $(f1 "${CPU[$k]}") s | $(cores_of "$k") | $(mib "${RSS[$k]}") ($(mib "${HWM[$k]}"); ${NPROC[$k]}) | $(nginx_us_of "$k") | ${MACH[$k]} (${OTHER[$k]}) |"
  fi
  k=vitals,$r
  if ran "$k"; then
    echo "| vitals, round $r | ${WALL[$k]} s | ${CHK[$k]} (store, started in the window) | nginx log, vitals agent: ${CROSS[$k]} | $(pct "${OK[$k]}") ok (${VSTATES[$r]}); stderr ${VERR[$r]} lines | $(f1 "${CPU[$k]}") s | $(cores_of "$k") | $(mib "${RSS[$k]}") ($(mib "${HWM[$k]}"); ${NPROC[$k]}) | $(nginx_us_of "$k") | ${MACH[$k]} (${OTHER[$k]}) |"
  fi
done
echo
echo "CPU is the change of each group's \`cpuacct.usage\` (user and system, every process in the"
echo "group, exited check_http forks included) over the window, divided by the checks counted."
echo "Icinga's checks are nginx's log lines from check_http's User-Agent with \`\$msec\` in the window;"
echo "its \`active_service_checks_1min\` (read just after the window) covers the last 60 s instead,"
echo "so it matches only when DURATION is 60. Vitals' are the rows of its \`results\` table that"
echo "started in the window. Compare ratios within a round: the machine is shared."
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "Commands (WORK = a scratch directory; PORT $PORT nginx, $VPORT vitals, $IPORT Icinga's API):"
echo
echo '```sh'
echo "# nginx: worker_processes 2; static /health; log_format probe '\$msec \$status \$http_user_agent' (all requests)"
echo "# Icinga: WORK/icinga/icinga2.conf = CheckerComponent, ApiListener 127.0.0.1:$IPORT, Endpoint/Zone vbench,"
echo "#   ApiUser (status/query), Host \"target\" (dummy, active checks off) and, for i in range($CHECKS),"
echo "#   Service \"h\"+i: check_command = \"http\", vars.http_address = \"127.0.0.1\", vars.http_port = $PORT,"
echo "#   vars.http_uri = \"/health\", vars.http_timeout = 5, check_interval = retry_interval = ${INTERVAL}s"
D="${ICINGA_DEFS[*]}"
echo "icinga2 pki new-ca ${D//$WORK/WORK}"
echo "icinga2 pki new-cert ... --cn vbench --key WORK/icinga/lib/certs/vbench.key --csr WORK/icinga/lib/certs/vbench.csr"
echo "icinga2 pki sign-csr ... --csr WORK/icinga/lib/certs/vbench.csr --cert WORK/icinga/lib/certs/vbench.crt; cp ca/ca.crt certs/"
echo "# state deleted before each start; in a fresh cgroup /sys/fs/cgroup/cpuacct/vitals-bench.PID.icingaR:"
D="${ICINGA_CMD[*]}"
echo "${D//$WORK/WORK}"
echo "# vitals: WORK/many.toml (write_http_checks): [defaults] interval = \"${INTERVAL}s\", timeout = \"5s\","
echo "#   max_per_host = $CONCURRENCY; $CHECKS x [[check]] plugin = \"http\", target = \"http://127.0.0.1:$PORT/health\""
echo "VITALS_CACHE_DIR=WORK/cache ${VITALS:-vitals} --config WORK/one.toml --db WORK/warm.db run --once   # plugin cache"
echo "# in a fresh cgroup /sys/fs/cgroup/cpuacct/vitals-bench.PID.vitalsR:"
echo "VITALS_CACHE_DIR=WORK/cache ${VITALS:-vitals} --config WORK/many.toml --db WORK/vitalsR.db run --listen 127.0.0.1:$VPORT --concurrency $CONCURRENCY"
echo '```'
