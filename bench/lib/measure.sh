# shellcheck shell=bash
# Shared by the daemon benchmarks (sourced, not run): installing peers, finding the vitals
# binary, clocks, CPU and memory accounting (per process from /proc, per process tree
# from a cgroup-v1 cpuacct group), waiting for a server, reading vitals' /metrics and its
# SQLite store, and number formatting for the Markdown reports.
#
# Nothing here starts a process that it does not hand back by PID: cg_spawn leaves the PID
# in CG_PID, and cg_stop stops that PID and then, by PID, whatever is left in its group
# (its own children, e.g. Icinga's check_http forks).
#
# The caller sets `set -euo pipefail`; every function returns non-zero on failure.
# Globals set here for the caller: HZ, NCPU, CG_ROOT, CG_DIR, CG_PID, CG_RC, CG_STOP_MS, W_*.
# shellcheck disable=SC2034

# --- logging, dependencies, the binary under test --------------------------------------
log() { echo "[$(date +%T)] $*" >&2; }

# need_packages NAME=PACKAGE...: installs, from Debian's packages, each PACKAGE whose NAME is
# missing; NAME is a command on PATH or, when it starts with /, an executable file.
need_packages() {
  local spec name need=()
  for spec in "$@"; do
    name=${spec%%=*}
    case $name in
      /*) [ -x "$name" ] || need+=("${spec#*=}") ;;
      *) command -v "$name" >/dev/null || need+=("${spec#*=}") ;;
    esac
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# vitals_binary ROOT: sets VITALS to $VITALS_BIN, or builds vitals in release mode in ROOT.
vitals_binary() {
  if [ -n "${VITALS_BIN:-}" ]; then
    VITALS=$VITALS_BIN
  else
    log "building vitals (release)"
    (cd "$1" && cargo build --release --quiet --bin vitals)
    VITALS="${CARGO_TARGET_DIR:-$1/target}/release/vitals"
  fi
  [ -x "$VITALS" ] || { echo "bench: no vitals binary at $VITALS" >&2; return 1; }
}

# check_warmup WARMUP INTERVAL: fails unless the warm-up exceeds one interval (every check
# must have found its phase in the interval before the window opens).
check_warmup() {
  if [ "$1" -le "$2" ]; then
    echo "bench: WARMUP ($1 s) must exceed one interval ($2 s)" >&2
    exit 64
  fi
}

# finish_scratch CGROUP PID WORK: for the scripts' EXIT traps: stops PID and its cgroup
# (when set), the nginx of WORK, and removes WORK (kept with KEEP_WORK=1).
finish_scratch() {
  local cg=$1 pid=$2 work=$3
  if [ -n "$cg" ]; then cg_stop "$cg" "$pid" 10 || true; fi
  stop_health_nginx "$work"
  if [ -n "${KEEP_WORK:-}" ]; then log "kept $work"; else rm -rf "$work"; fi
}

# vitals_about VITALS ROOT: "VERSION (binary PATH, built DATE; repo HEAD REV)".
vitals_about() {
  echo "$("$1" --version 2>/dev/null | head -1 | sed 's/^vitals //') (binary $1, built $(date -u -r "$1" '+%F %H:%M UTC'); repo HEAD $(git -C "$2" rev-parse --short HEAD 2>/dev/null || echo '?'))"
}
host_memory() { awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo; }
host_os() { (. /etc/os-release && echo "$PRETTY_NAME"); }

# --- clocks ----------------------------------------------------------------------------
now() { date +%s.%N; }
# t_plus T D: the epoch time T + D seconds.
t_plus() { awk -v t="$1" -v d="$2" 'BEGIN{printf "%.3f", t+d}'; }
# secs_between A B / ms_between A B: B - A, in seconds (3 decimals) / whole milliseconds.
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", (b-a)*1000}'; }
# epoch_ms T: the epoch time T in whole milliseconds (the store's started_at_ms).
epoch_ms() { awk -v t="$1" 'BEGIN{printf "%.0f", t*1000}'; }
# sleep_until EPOCH: sleeps until that wall-clock time.
sleep_until() { local d; d=$(awk -v t="$1" -v n="$(now)" 'BEGIN{d=t-n; printf "%.3f", (d > 0 ? d : 0)}'); sleep "$d"; }

# --- per-process accounting (/proc) ----------------------------------------------------
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
# cpu_ticks PID...: utime+stime of the processes, in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the command name, which may hold spaces).
cpu_ticks() {
  local p s=0
  for p in "$@"; do
    s=$((s + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12+$13}')))
  done
  echo "$s"
}
# nginx_pids WORK: the master (from WORK/nginx/nginx.pid, see target.sh) and its workers.
nginx_pids() {
  local m
  m=$(cat "$1/nginx/nginx.pid")
  echo "$m" "$(pgrep -P "$m" | xargs)"
}
# nginx_ticks WORK: cpu_ticks of that nginx, master and workers.
nginx_ticks() {
  local pids
  read -r -a pids <<< "$(nginx_pids "$1")"
  cpu_ticks "${pids[@]}"
}
# machine_busy: busy and total jiffies of all CPUs (from /proc/stat).
machine_busy() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; t=b+$5+$6; print b, t}' /proc/stat; }
# busy_cores B0 T0 B1 T1: the machine's busy cores between two machine_busy readings.
busy_cores() { awk -v b="$(($3 - $1))" -v t="$(($4 - $2))" -v c="$NCPU" 'BEGIN{printf "%.2f", (t > 0 ? b/t*c : 0)}'; }
# status_kib PID KEY: a kB field of /proc/PID/status (VmRSS, VmHWM, Threads, ...).
status_kib() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status"; }

# --- process trees in a cgroup-v1 cpuacct group (as root) ------------------------------
# cpuacct.usage is the CPU time, in ns, of every task that ran in the group, those that
# have exited included: a daemon's forked checks count, which /proc/PID/stat of the
# daemon does not show until it reaps them (and not at all for grandchildren).
CG_ROOT=${CG_ROOT:-/sys/fs/cgroup/cpuacct}
# cg_create NAME: makes a fresh group CG_ROOT/NAME; prints its directory.
cg_create() {
  local dir=$CG_ROOT/$1
  if [ ! -w "$CG_ROOT/cgroup.procs" ]; then
    echo "bench: $CG_ROOT is not a writable cgroup-v1 cpuacct hierarchy (run as root on a v1 or hybrid host)" >&2
    return 1
  fi
  if [ -d "$dir" ]; then
    rmdir "$dir" || { echo "bench: cgroup $dir exists and still has tasks" >&2; return 1; }
  fi
  mkdir "$dir"
  echo "$dir"
}
# cg_spawn DIR OUT ERR CMD...: starts CMD in the background inside group DIR (it moves
# itself there before exec, so it and every child it forks count); sets CG_PID.
cg_spawn() {
  local dir=$1 out=$2 err=$3
  shift 3
  ( echo "$BASHPID" > "$dir/cgroup.procs"; exec "$@" ) >"$out" 2>"$err" &
  CG_PID=$!
}
# cg_start NAME OUT ERR CMD...: cg_create NAME, then cg_spawn CMD in it; sets CG_DIR and
# CG_PID.
cg_start() {
  CG_DIR=$(cg_create "$1")
  shift
  cg_spawn "$CG_DIR" "$@"
}
# cg_cpu_ns DIR: total CPU of the group so far, in ns (user + system).
cg_cpu_ns() { cat "$1/cpuacct.usage"; }
# cg_pids DIR: the processes in the group now.
cg_pids() { cat "$1/cgroup.procs" 2>/dev/null || true; }
# cg_sum_kib DIR KEY: status_kib KEY summed over the group's processes.
cg_sum_kib() {
  local p v s=0
  for p in $(cg_pids "$1"); do
    v=$(status_kib "$p" "$2" 2>/dev/null || true)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}
# cg_stop DIR PID [TIMEOUT_S]: SIGTERM to PID (the process cg_spawn started), waits for it
# up to TIMEOUT_S (10), then SIGKILL; then SIGKILL, by PID, to anything still in the
# group, and removes the group. Sets CG_RC (PID's exit status) and CG_STOP_MS. An empty
# PID only empties and removes the group (never `kill 0`, which is the whole job).
cg_stop() {
  local dir=$1 pid=$2 timeout=${3:-10} t0
  t0=$(now)
  CG_RC=0
  case $pid in
    '' | 0 | 1 | *[!0-9]*) ;;
    *)
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq $((timeout * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || CG_RC=$?
      ;;
  esac
  CG_STOP_MS=$(ms_between "$t0" "$(now)")
  cg_remove "$dir"
}
# cg_remove DIR: SIGKILL, by PID, to every process left in the group; removes it.
cg_remove() {
  local dir=$1 p
  [ -d "$dir" ] || return 0
  for _ in $(seq 50); do
    [ -z "$(cg_pids "$dir")" ] && break
    for p in $(cg_pids "$dir"); do kill -KILL "$p" 2>/dev/null || true; done
    sleep 0.1
  done
  rmdir "$dir" 2>/dev/null || { echo "bench: could not remove cgroup $dir" >&2; return 1; }
}

# cg_window CG WORK FROM DURATION [HOOK]: sleeps until epoch FROM, then measures group CG
# and WORK's nginx over DURATION s. Sets W_T0, W_T1, W_WALL (s), W_CPU_S (the group's CPU),
# W_NGINX_S, W_MACHINE (busy cores of the machine), W_OTHER (of those, neither the group
# nor nginx), and at the end W_RSS_KIB and W_HWM_KIB (VmRSS / VmHWM summed over the
# group's processes) and W_NPROCS. HOOK, a command, runs with `start` right after the
# first readings and with `end` right after the last (e.g. to read the store's row count).
cg_window() {
  local cg=$1 work=$2 from=$3 duration=$4 hook=${5:-} mb0 mt0 mb1 mt1 c0 c1 n0 n1
  sleep_until "$from"
  read -r mb0 mt0 < <(machine_busy)
  W_T0=$(now); c0=$(cg_cpu_ns "$cg"); n0=$(nginx_ticks "$work")
  if [ -n "$hook" ]; then "$hook" start; fi
  sleep_until "$(t_plus "$W_T0" "$duration")"
  W_T1=$(now); c1=$(cg_cpu_ns "$cg"); n1=$(nginx_ticks "$work")
  read -r mb1 mt1 < <(machine_busy)
  if [ -n "$hook" ]; then "$hook" end; fi
  W_RSS_KIB=$(cg_sum_kib "$cg" VmRSS); W_HWM_KIB=$(cg_sum_kib "$cg" VmHWM)
  W_NPROCS=$(cg_pids "$cg" | wc -l)
  W_WALL=$(secs_between "$W_T0" "$W_T1")
  W_CPU_S=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.6f", (b-a)/1e9}')
  W_NGINX_S=$(div "$((n1 - n0))" "$HZ")
  W_MACHINE=$(busy_cores "$mb0" "$mt0" "$mb1" "$mt1")
  W_OTHER=$(awk -v m="$W_MACHINE" -v v="$W_CPU_S" -v n="$W_NGINX_S" -v w="$W_WALL" 'BEGIN{printf "%.2f", m-(v+n)/w}')
}

# stop_pids PID...: SIGTERM, a second's grace, then SIGKILL, to each (empty words ignored).
stop_pids() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "$*" ]; then sleep 1; fi
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

# wait_http PID TIMEOUT_S URL [CURL_ARG...]: polls URL every 50 ms until it answers 2xx;
# fails when PID exits first or after TIMEOUT_S.
wait_http() {
  local pid=$1 timeout=$2 url=$3 deadline
  deadline=$(t_plus "$(now)" "$timeout")
  shift 3
  until curl -fsS -o /dev/null --max-time 5 "$@" "$url" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "bench: pid $pid exited before $url answered" >&2; return 1; }
    if awk -v d="$deadline" -v n="$(now)" 'BEGIN{exit !(n > d)}'; then
      echo "bench: $url did not answer within $timeout s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# --- vitals: /metrics and the store ----------------------------------------------------
# scrape URL FILE: fetch /metrics; prints the time it took in ms.
scrape() {
  local t0 t1
  t0=$(now); curl -fsS --max-time "${SCRAPE_TIMEOUT:-60}" -o "$2" "$1"; t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", (b-a)*1000}'
}
# sum_series FILE NAME: the sum of every sample of a metric family.
sum_series() { awk -v n="$2" 'index($0, n"{")==1 || $1==n {s+=$NF} END{printf "%.0f", s+0}' "$1"; }
# lateness_quantile BEFORE AFTER Q: the upper bound of the lateness bucket holding quantile
# Q of the runs between the two scrapes.
lateness_quantile() {
  awk -v q="$3" '
    /^vitals_schedule_lateness_seconds_bucket/ {
      match($0, /le="[^"]*"/); le=substr($0, RSTART+4, RLENGTH-5)
      if (FNR==NR) before[le]=$NF; else { after[le]=$NF; order[++n]=le }
    }
    END {
      total=after["+Inf"]-before["+Inf"]
      if (total<=0) { print "n/a"; exit }
      for (i=1; i<=n; i++) { le=order[i]; if (after[le]-before[le] >= q*total) break }
      if (le=="+Inf") print "> 60 s"; else if (le+0<1) printf "≤ %g ms\n", le*1000; else printf "≤ %g s\n", le
    }' "$1" "$2"
}
# lateness_count BEFORE AFTER: the runs that started between the two scrapes.
lateness_count() {
  awk '/^vitals_schedule_lateness_seconds_count/ {if (FNR==NR) a=$NF; else b=$NF} END{printf "%.0f", b-a}' "$1" "$2"
}
# db_query DB SQL: one query through the sqlite3 CLI, waiting up to 10 s for a lock (the
# daemon writes in WAL mode, so reading while it runs is fine).
db_query() { sqlite3 -cmd '.timeout 10000' "$1" "$2"; }
# results_in DB FROM_MS TO_MS [SQL_CONDITION]: rows of `results` that started in
# [FROM_MS, TO_MS), optionally only those matching the condition.
results_in() {
  db_query "$1" "SELECT count(*) FROM results WHERE started_at_ms >= $2 AND started_at_ms < $3${4:+ AND ($4)}"
}
# status_breakdown DB FROM_MS TO_MS: "ok N, critical M" over the same rows.
status_breakdown() {
  db_query "$1" "SELECT group_concat(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM results WHERE started_at_ms >= $2 AND started_at_ms < $3 GROUP BY status)"
}
# last_result_id DB: the highest rowid stored so far (rows only grow; for write rates).
last_result_id() { db_query "$1" "SELECT coalesce(max(id), 0) FROM results"; }

# --- numbers ---------------------------------------------------------------------------
f1() { awk -v x="$1" 'BEGIN{printf "%.1f", x}'; }
f0() { awk -v x="$1" 'BEGIN{printf "%.0f", x}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.6f", a/b; else print "nan" }'; }
# us_per SECONDS N: SECONDS of CPU per item in µs (1 decimal; 0 when N is 0).
us_per() { awk -v c="$1" -v n="$2" 'BEGIN{printf "%.1f", (n > 0 ? c*1e6/n : 0)}'; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f MiB", k/1024}'; }
pct() { awk -v x="$1" 'BEGIN{printf "%.1f%%", x*100}'; }
# quot A B: A / B with one decimal ("inf" when B is 0).
quot() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.1f", a/b; else print "inf" }'; }
# median X...: the median of numbers ("n/a" for none, non-numbers skipped).
median() {
  printf '%s\n' "$@" | awk '$1+0==$1' | sort -g |
    awk '{a[NR]=$1} END{ if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'
}
# median_f DECIMALS X...: median, printed with that many decimals ("n/a" stays).
median_f() {
  local d=$1 m
  shift
  m=$(median "$@")
  if [ "$m" = n/a ]; then echo "$m"; else awk -v x="$m" -v d="$d" 'BEGIN{printf "%." d "f", x}'; fi
}
