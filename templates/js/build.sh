#!/usr/bin/env bash
# Builds {{name}}.wasm (or the path given as $1) from check.js and ./vitals-check.js with
# componentize-js, for world `validating-check` of wit/plugin.wit (vitals:plugin@0.1.3).
# The tools come from, in this order: the shared cache ${VITALS_TOOLS:-$HOME/.cache/vitals/tools}
# (Vitals' scripts/polyglot fills it), componentize-js and jco on PATH if they are the
# pinned versions, or ./node_modules (npm install, pinned in package.json, on first run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$here/{{name}}.wasm}")
cd "$here"

COMPONENTIZE_JS_VERSION=0.23.0
JCO_VERSION=1.35.0
TOOLS=${VITALS_TOOLS:-$HOME/.cache/vitals/tools}

# The directory holding componentize-js and jco of the pinned versions.
tools_bin() {
  local d
  for d in "$TOOLS/componentize-js-$COMPONENTIZE_JS_VERSION-jco-$JCO_VERSION/node_modules/.bin" \
           "$(dirname "$(command -v componentize-js || echo /nonexistent/x)")" node_modules/.bin; do
    if [ -x "$d/componentize-js" ] && [ -x "$d/jco" ] \
       && [ "$("$d/componentize-js" --version 2>/dev/null)" = "$COMPONENTIZE_JS_VERSION" ] \
       && [ "$("$d/jco" --version 2>/dev/null)" = "$JCO_VERSION" ]; then
      echo "$d"; return
    fi
  done
  echo "installing componentize-js@$COMPONENTIZE_JS_VERSION and jco@$JCO_VERSION into ./node_modules" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
  echo node_modules/.bin
}
bin=$(tools_bin)

# `-d http fetch-event` is required: without it the component imports wasi:http, which
# vitals does not provide ("cannot be linked: component imports instance
# `wasi:http/types@...`"). stdio stays on so console.log reaches the host's debug log.
mkdir -p "$(dirname "$out")"
"$bin/componentize-js" check.js --wit wit --world-name validating-check -d http fetch-event -o "$out"

if "$bin/jco" wit "$out" | grep -q 'import wasi:http'; then
  echo "error: $out imports wasi:http, which vitals does not link" >&2
  exit 1
fi
ls -l "$out"
