#!/usr/bin/env bash
# Builds python-json-field.wasm (or the path given as $1) from app.py and the helper layer
# plugins/python/vitals_check.py, with componentize-py for world `validating-check` of
# vitals:plugin@0.1.3. The tool comes from, in this order: the shared cache
# ${VITALS_TOOLS:-$HOME/.cache/vitals/tools} (filled by scripts/polyglot), componentize-py on
# PATH if it is the pinned version, or ./.venv (installed from PyPI on first run).
#
#   ./build.sh [OUT.wasm]       # build
#   ./build.sh --bindings       # also write the generated bindings here, for your editor
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bindings=false
case ${1:-} in --bindings) bindings=true; shift ;; esac
out=$(realpath -m "${1:-$here/python-json-field.wasm}")
cd "$here"

COMPONENTIZE_PY_VERSION=0.25.1
WIT=../../wit                  # vitals:plugin@0.1.3
HELPER=../../plugins/python    # vitals_check.py
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

if $bindings; then
  "$tool" -d "$WIT" -w validating-check bindings .
fi
mkdir -p "$(dirname "$out")"
"$tool" -d "$WIT" -w validating-check componentize app -p . -p "$HELPER" -o "$out"
ls -l "$out"
