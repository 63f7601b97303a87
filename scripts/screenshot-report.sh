#!/usr/bin/env bash
# Renders an HTML report (`vitals report --format html --output REPORT.html`) to a PNG
# with Debian's headless Chromium, as tests/html_report.rs does, for a person to look at.
# Prints the page's console messages, if any, and then exits 1: the report has no script
# and loads nothing, so any message is a defect.
#
# Usage: scripts/screenshot-report.sh REPORT.html OUT.png [WIDTHxHEIGHT]   (default 1280x2000)
# Needs /usr/bin/chromium (apt-get install -y chromium) or $CHROMIUM.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
  exit 64
fi
report=$(realpath -- "$1")
out=$(realpath -m -- "$2")
size=${3:-1280x2000}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "$chromium is missing: install it with 'apt-get install -y chromium' (or set CHROMIUM)" >&2
  exit 69
fi
if [ ! -r "$report" ]; then
  echo "cannot read $report" >&2
  exit 66
fi

profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf -- "$profile" "$log"' EXIT
sandbox=()
# Chromium will not start its sandbox as root (containers, CI).
if [ "$(id -u)" -eq 0 ]; then sandbox=(--no-sandbox); fi

"$chromium" --headless "${sandbox[@]}" --user-data-dir="$profile" \
  --screenshot="$out" --window-size="${size/x/,}" --hide-scrollbars --no-first-run --disable-gpu \
  --disable-background-networking --disable-component-update --disable-sync \
  --enable-logging=stderr --v=0 "file://$report" >/dev/null 2>"$log"

# Console messages are logged as `...:INFO:CONSOLE:LINE] "message", source: URL (LINE)`.
if grep -E ':CONSOLE|Uncaught' "$log" >&2; then
  echo "the page logged to the console (above)" >&2
  exit 1
fi
echo "$out"
