#!/usr/bin/env bash
# Benchmark: CHECKS checks of a local nginx, `vitals run --once` against Monitoring
# Plugins' check_http (PLUGIN=tcp: check_tcp), one process per check, 16 in parallel,
# side by side in each round; plus the wall time of a single-check `vitals run --once`.
#
# Usage: bench/run-once-vs-check_http.sh [ROUNDS] [CHECKS]   (defaults: 5 rounds, 1000 checks)
# Knobs: PLUGIN (http | tcp), MAX_PER_HOST (16: vitals' connections at once to the one
# target, as many as the peer's 16 processes), VITALS_ARGS (extra arguments of `run
# --once`, e.g. "--io-threads 1"), VITALS_BIN, NGINX_PORT.
# Installs its peers from Debian's packages (nginx-light, monitoring-plugins-basic,
# hyperfine) when they are missing, builds vitals in release mode, and prints a
# Markdown table of per-round figures and medians. Loopback only.
set -euo pipefail

ROUNDS=${1:-5}
CHECKS=${2:-1000}
PORT=${NGINX_PORT:-18080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/vitals-bench.XXXXXX)
PLUGIN=${PLUGIN:-http}
MAX_PER_HOST=${MAX_PER_HOST:-16}
read -r -a EXTRA <<<"${VITALS_ARGS:-}"
CHECK_HTTP=/usr/lib/nagios/plugins/check_http
CHECK_TCP=/usr/lib/nagios/plugins/check_tcp

# shellcheck source=bench/lib/measure.sh
. "$ROOT/bench/lib/measure.sh"
need_packages nginx=nginx-light "$CHECK_HTTP=monitoring-plugins-basic" hyperfine=hyperfine
# VITALS_BIN=path uses an already built binary instead of building one.
vitals_binary "$ROOT"
export VITALS_CACHE_DIR="$WORK/cache"

# The target: nginx with a static 3-byte /health, two workers, no access log.
# shellcheck source=bench/lib/target.sh
. "$ROOT/bench/lib/target.sh"
trap 'stop_health_nginx "$WORK"; rm -rf "$WORK"' EXIT
start_health_nginx "$WORK" "$PORT"

# The same checks for vitals: CHECKS http checks of /health, or tcp connects to the port.
case "$PLUGIN" in
  http) write_http_checks "$WORK/many.toml" "$CHECKS" "$PORT" 'timeout = "5s"' "max_per_host = $MAX_PER_HOST" ;;
  tcp) write_checks "$WORK/many.toml" "$CHECKS" tcp "127.0.0.1:$PORT" 'timeout = "5s"' "max_per_host = $MAX_PER_HOST" ;;
  *) echo "PLUGIN must be http or tcp" >&2; exit 64 ;;
esac

# Warm the plugin cache once (compilation is not part of a check's cost).
"$VITALS" --config "$WORK/one.toml" --db "$WORK/warm.db" run --once >/dev/null

# cpu_of CMD...: runs CMD, prints "wall_s cpu_s" (user+sys of CMD and all its children).
cpu_of() {
  local t0 t1 before after me=$BASHPID
  before=$(awk '{print $14+$15+$16+$17}' "/proc/$me/stat")
  t0=$(date +%s.%N)
  ( "$@" ) >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  after=$(awk '{print $14+$15+$16+$17}' "/proc/$me/stat")
  echo "$t0 $t1 $before $after" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.4f %.4f\n", $2-$1, ($4-$3)/hz}'
}

run_vitals() { rm -f "$WORK/many.db"*; "$VITALS" --config "$WORK/many.toml" --db "$WORK/many.db" run --once --format json "${EXTRA[@]}"; }
run_check_http() {
  if [ "$PLUGIN" = tcp ]; then
    seq "$CHECKS" | xargs -P 16 -I{} "$CHECK_TCP" -H 127.0.0.1 -p "$PORT"
  else
    seq "$CHECKS" | xargs -P 16 -I{} "$CHECK_HTTP" -H 127.0.0.1 -p "$PORT" -u /health
  fi
}

PEER=check_$PLUGIN
echo "| round | vitals checks/s | vitals CPU µs/check | vitals cores used | $PEER checks/s | $PEER CPU µs/check | CPU ratio ($PEER / vitals) |"
echo "|---|---|---|---|---|---|---|"
ratios=(); vr=(); cr=(); vc=(); cc=(); vu=()
for r in $(seq 1 "$ROUNDS"); do
  read -r vw vcpu < <(cpu_of run_vitals)
  read -r cw ccpu < <(cpu_of run_check_http)
  vrate=$(awk -v n="$CHECKS" -v w="$vw" 'BEGIN{printf "%.0f", n/w}')
  crate=$(awk -v n="$CHECKS" -v w="$cw" 'BEGIN{printf "%.0f", n/w}')
  vus=$(awk -v n="$CHECKS" -v c="$vcpu" 'BEGIN{printf "%.0f", c*1e6/n}')
  cus=$(awk -v n="$CHECKS" -v c="$ccpu" 'BEGIN{printf "%.0f", c*1e6/n}')
  ratio=$(awk -v a="$ccpu" -v b="$vcpu" 'BEGIN{ if (b > 0) printf "%.1f", a/b; else print "inf" }')
  vcores=$(awk -v c="$vcpu" -v w="$vw" 'BEGIN{printf "%.2f", c/w}')
  echo "| $r | $vrate | $vus | $vcores | $crate | $cus | $ratio |"
  ratios+=("$ratio"); vr+=("$vrate"); cr+=("$crate"); vc+=("$vus"); cc+=("$cus"); vu+=("$vcores")
done
echo "| **median** | $(median "${vr[@]}") | $(median "${vc[@]}") | $(median "${vu[@]}") | $(median "${cr[@]}") | $(median "${cc[@]}") | $(median "${ratios[@]}") |"

# Sanity: every vitals result of the last round was ok.
rm -f "$WORK/many.db"*
oks=$("$VITALS" --config "$WORK/many.toml" --db "$WORK/many.db" run --once --format json "${EXTRA[@]}" | grep -c '"status": "ok"' || true)
echo
echo "last vitals round: $oks of $CHECKS checks ok"

echo
echo "single-check \`vitals run --once\` (plugin cached), wall time:"
hyperfine -N --warmup 5 --runs 50 --export-markdown "$WORK/one.md" \
  "$VITALS --config $WORK/one.toml --db $WORK/one.db run --once" >/dev/null 2>&1
cat "$WORK/one.md"
