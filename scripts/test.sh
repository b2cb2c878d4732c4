#!/usr/bin/env bash
# `npm test`: set up whatever is missing, then run every test suite (Python, then Node).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Both suites always run, so one failing does not hide the other's results.
status=0

# Lint and format first: quick, and they need only the npm packages setup.sh installed.
echo "== lint =="
npm run --silent lint || status=1
echo "== format =="
npm run --silent format:check || status=1

echo "== python tests =="
OMP_NUM_THREADS=2 .venv/bin/python -m pytest -q test/python || status=1

echo "== node tests =="
# Node 20's --test does not expand globs: let bash do it. One file at a time (native builds,
# timing-sensitive event-loop and RSS checks).
shopt -s globstar nullglob
node_tests=(test/**/*.test.ts)
node --import tsx --test --test-concurrency=1 "${node_tests[@]}" || status=1

exit $status
