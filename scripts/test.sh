#!/usr/bin/env bash
# `npm test`: set up whatever is missing, then run every test suite (Python, then Node).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== python tests =="
OMP_NUM_THREADS=2 .venv/bin/python -m pytest -q test/python

echo "== node tests =="
# Node 20's --test does not expand globs: let bash do it. One file at a time (native builds,
# timing-sensitive event-loop and RSS checks).
shopt -s globstar nullglob
node_tests=(test/**/*.test.ts)
node --import tsx --test --test-concurrency=1 "${node_tests[@]}"
