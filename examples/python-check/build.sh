#!/usr/bin/env bash
# Builds python-check.wasm from app.py with componentize-py (from PyPI, pinned below).
# Needs python3 (3.10+) with venv; installs componentize-py into ./.venv on first run.
set -euo pipefail
cd "$(dirname "$0")"

COMPONENTIZE_PY_VERSION=0.25.1
WIT=../../wit            # vitals:plugin@0.1.0, world `check`

if [ ! -x .venv/bin/componentize-py ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet "componentize-py==${COMPONENTIZE_PY_VERSION}"
fi

# Optional, for your editor: write the generated Python bindings (wit_world/, ...) here.
# They are git-ignored; `componentize` below generates its own copy.
if [ "${1:-}" = "--bindings" ]; then
    .venv/bin/componentize-py -d "$WIT" -w check bindings .
fi

.venv/bin/componentize-py -d "$WIT" -w check componentize app -o python-check.wasm
ls -l python-check.wasm
