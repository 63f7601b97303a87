#!/usr/bin/env bash
# Builds js-check.wasm from check.js with componentize-js (from npm, pinned in package.json).
# Needs node 20+ and npm; installs the tools into ./node_modules on first run.
set -euo pipefail
cd "$(dirname "$0")"

WIT=../../wit            # vitals:plugin@0.1.0, world `check`
BIN=node_modules/.bin

if [ ! -x "$BIN/componentize-js" ]; then
    npm install --no-audit --no-fund
fi

# `-d http fetch-event` is required: without it the component imports wasi:http, which
# vitals does not provide, and loading fails with "cannot be linked: component imports
# instance `wasi:http/types@0.2.10` ...". stdio stays on so console.log reaches the
# host's debug log; clocks and random stay on (vitals provides them).
"$BIN/componentize-js" check.js --wit "$WIT" --world-name check -d http fetch-event -o js-check.wasm

# Fail early if a wasi:http import slipped in anyway.
if "$BIN/jco" wit js-check.wasm | grep -q 'import wasi:http'; then
    echo "error: js-check.wasm imports wasi:http, which vitals does not link" >&2
    exit 1
fi
ls -l js-check.wasm
