#!/usr/bin/env bash
# Builds {{name}}.wasm (or the path given as $1) from app.py and ./vitals_check.py with
# componentize-py, for world `validating-check` of wit/plugin.wit (vitals:plugin@0.1.3).
# componentize-py comes from, in this order: the shared cache
# ${VITALS_TOOLS:-$HOME/.cache/vitals/tools} (Vitals' scripts/polyglot fills it), componentize-py
# on PATH if it is the pinned version, or ./.venv (installed from PyPI on first run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$here/{{name}}.wasm}")
cd "$here"

COMPONENTIZE_PY_VERSION=0.25.1
TOOLS=${VITALS_TOOLS:-$HOME/.cache/vitals/tools}

componentize_py() {
  local c
  for c in "$TOOLS/componentize-py-$COMPONENTIZE_PY_VERSION/bin/componentize-py" \
           "$(command -v componentize-py || true)" .venv/bin/componentize-py; do
    if [ -n "$c" ] && [ -x "$c" ] && [ "$("$c" --version 2>/dev/null)" = "componentize-py $COMPONENTIZE_PY_VERSION" ]; then
      echo "$c"; return
    fi
  done
  echo "installing componentize-py==$COMPONENTIZE_PY_VERSION into ./.venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
  echo .venv/bin/componentize-py
}
tool=$(componentize_py)

mkdir -p "$(dirname "$out")"
"$tool" -d wit -w validating-check componentize app -p . -o "$out"
ls -l "$out"
