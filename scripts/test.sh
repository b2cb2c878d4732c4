#!/usr/bin/env bash
# `npm test`: set up whatever is missing, then run every test suite (Python, then Node).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== python tests =="
OMP_NUM_THREADS=2 .venv/bin/python -m pytest -q test/python

echo "== node tests =="
node --import tsx --test --test-concurrency=1 "test/**/*.test.ts"
