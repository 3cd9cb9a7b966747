#!/usr/bin/env bash
# Installs everything the tests need, pinned, into .cache/ (gitignored), then returns; the
# README's test command is `scripts/setup-tests.sh && cargo test --workspace --release`. Idempotent:
# a second run checks what is there and returns at once.
#   .cache/models  the embedding model (scripts/setup-models.sh: sha256-checked wheels)
#   .cache/venv    Python with the official MCP SDK, tests/mcp/requirements.txt (tests/mcp.rs)
#   .cache/tsc     the TypeScript compiler, typescript@5.9.3 (tests/contracts.rs)
# Needs python3 and npm; where they are missing and this runs as root on Debian, it installs
# them with apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
TYPESCRIPT="typescript@5.9.3"
REQS="$ROOT/tests/mcp/requirements.txt"

"$ROOT/scripts/setup-models.sh"

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
  else
    echo "setup-tests: missing $*; install it (apt-get install $*) and run again" >&2
    exit 1
  fi
}

# Python SDK for the MCP client test, in a project-local virtual environment.
command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
VENV="$CACHE/venv"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$VENV"; }
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$REQS"
  "$VENV/bin/python" -c "import mcp" # the pinned set is complete (installed with --no-deps)
  echo "$want" >"$STAMP"
fi
echo "setup-tests: python $("$VENV/bin/python" -c 'import importlib.metadata as m; print("mcp", m.version("mcp"))') in $VENV"

# TypeScript compiler for the contract validity test.
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
TSC="$CACHE/tsc/node_modules/.bin/tsc"
if [ ! -x "$TSC" ] || [ "$("$TSC" --version)" != "Version ${TYPESCRIPT#typescript@}" ]; then
  npm install -s --no-audit --no-fund --prefix "$CACHE/tsc" "$TYPESCRIPT" >/dev/null
fi
echo "setup-tests: tsc $("$TSC" --version) in $CACHE/tsc"
