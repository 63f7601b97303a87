#!/usr/bin/env bash
# User-space instructions per check of `vitals run --once`, counted by valgrind's
# callgrind: a figure that does not drift with the machine's noise (the same binary,
# config and environment give the same count within a fraction of a percent, whatever
# else the machine is doing), for the dated table in docs/PERFORMANCE.md §8.
#
# Usage: bench/instructions.sh [N]    (default 500)
#
# For each plugin (http of nginx's static 3-byte /health, tcp connect to the same port)
# it runs `vitals run --once` under callgrind twice, with N and with 2N checks, on a new
# database each time, and prints (I(2N) - I(N)) / N: what one more check costs, with the
# process's start-up, plugin loading and exit cancelled out. The kernel's share (the
# loopback TCP, about a third of a check's CPU) is not counted: callgrind sees only user
# space. Prints one Markdown row: date, commit, http, tcp. Runs with --concurrency 4
# (CONCURRENCY): valgrind's address space holds only a few instances at once, and the
# pooling allocator's reservation not at all, so the instances are allocated on demand.
#
# Installs nginx-light and valgrind from Debian's packages when they are missing, builds
# vitals in release mode unless VITALS_BIN names a binary. Loopback only.
set -euo pipefail
shopt -s inherit_errexit

N=${1:-500}
# Under valgrind the pooling allocator cannot reserve its 2 TiB of address space, so
# instances come from on-demand allocation (4 GiB reserved each): few at a time.
CONCURRENCY=${CONCURRENCY:-4}
PORT=${NGINX_PORT:-18090}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/vitals-instr.XXXXXX)
# shellcheck source=bench/lib/target.sh
. "$ROOT/bench/lib/target.sh"
# shellcheck source=bench/lib/measure.sh
. "$ROOT/bench/lib/measure.sh"

need_packages nginx=nginx-light valgrind=valgrind
vitals_binary "$ROOT"
export VITALS_CACHE_DIR="$WORK/cache"

trap 'stop_health_nginx "$WORK"; rm -rf "$WORK"' EXIT
start_health_nginx "$WORK" "$PORT"

# config FILE PLUGIN TARGET COUNT
config() {
  local file=$1 plugin=$2 target=$3 count=$4 i
  {
    echo '[defaults]'
    echo 'timeout = "30s"'
    for i in $(seq -w 1 "$count"); do
      printf '[[check]]\nname = "c%s"\nplugin = "%s"\ntarget = "%s"\n' "$i" "$plugin" "$target"
    done
  } > "$file"
}

# instructions PLUGIN TARGET COUNT: callgrind's total of user-space instructions of one
# `run --once` of COUNT checks; fails unless every check was ok.
instructions() {
  local plugin=$1 target=$2 count=$3 out oks
  config "$WORK/$plugin-$count.toml" "$plugin" "$target" "$count"
  rm -f "$WORK/$plugin-$count.db"*
  out="$WORK/callgrind.$plugin.$count"
  valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no --compress-strings=no \
    "$VITALS" --config "$WORK/$plugin-$count.toml" --db "$WORK/$plugin-$count.db" run --once --format json \
    --concurrency "$CONCURRENCY" \
    > "$WORK/$plugin-$count.json" 2> "$WORK/$plugin-$count.valgrind"
  oks=$(grep -c '"status": "ok"' "$WORK/$plugin-$count.json" || true)
  if [ "$oks" != "$count" ]; then
    echo "bench: $oks of $count $plugin checks were ok under callgrind; see below" >&2
    tail -20 "$WORK/$plugin-$count.valgrind" >&2
    exit 1
  fi
  awk '/^totals:/ {print $2}' "$out"
}

per_check() {
  local plugin=$1 target=$2 one two
  # Compile the plugin into the cache first, outside the counts, under valgrind too: the
  # CPU it emulates has other features than the machine's, so it has a cache entry of its own.
  config "$WORK/warm.toml" "$plugin" "$target" 1
  valgrind --tool=none --log-file=/dev/null \
    "$VITALS" --config "$WORK/warm.toml" --db "$WORK/warm.db" run --once >/dev/null
  one=$(instructions "$plugin" "$target" "$N")
  two=$(instructions "$plugin" "$target" $((2 * N)))
  echo "$plugin: I($N) = $one, I($((2 * N))) = $two" >&2
  awk -v a="$one" -v b="$two" -v n="$N" 'BEGIN{printf "%.0f", (b - a) / n}'
}

http=$(per_check http "http://127.0.0.1:$PORT/health")
tcp=$(per_check tcp "127.0.0.1:$PORT")
rev=${BENCH_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
dirty=
if [ -z "${BENCH_REV:-}" ] && git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then
  dirty="+changes"
fi
group() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
echo "| date | commit | http: instructions per check | tcp: instructions per check |"
echo "|---|---|---|---|"
echo "| $(date -u +%F) | $rev$dirty | $(group "$http") | $(group "$tcp") |"
