#!/usr/bin/env bash
# Create (or refresh) benchmarks/.venv-peer, the benchmark venv: the project's
# pinned requirements plus benchmarks/requirements-bench.txt (bm25s, txtai).
# The project's .venv is never touched, so txtai never enters requirements.txt.
#
#   bash benchmarks/peer_env.sh          # idempotent: quick when up to date
#   PYTHON=python3.11 bash benchmarks/peer_env.sh
#
# torch goes in first, pinned, so pip takes the CPU wheel; then everything
# else with requirements.txt as constraints: a bench package that needs a
# different version of a pinned package makes pip fail instead of silently
# moving the pin.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=benchmarks/.venv-peer
STAMP=$VENV/.installed
PIP="$VENV/bin/python -m pip --disable-pip-version-check"

if [ -f "$STAMP" ] && [ "$STAMP" -nt requirements.txt ] && [ "$STAMP" -nt benchmarks/requirements-bench.txt ]; then
    exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
$PIP install --quiet "torch==$(sed -n 's/^torch==//p' requirements.txt)"
$PIP install --quiet -r requirements.txt -r benchmarks/requirements-bench.txt -c requirements.txt
$PIP check
touch "$STAMP"
echo "ready: $VENV"
