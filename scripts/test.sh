#!/usr/bin/env bash
# One command runs the whole test suite (and the lint/format checks) in .venv.
# Extra arguments go to pytest, e.g.: bash scripts/test.sh -m "not integration"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
