#!/usr/bin/env bash
# One command from a fresh clone to the search page: set up .venv, index the bundled corpus if
# there is no index yet, start the page. Extra arguments go to `counsel-search app`.
# Each stage prints one line when it starts and one when it ends, with the time since the start,
# on stderr: also when the output is piped or logged (the progress bars only show on a terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

stage() {
  local s=$(($(date +%s) - started))
  printf '[start %d:%02d] %s\n' $((s / 60)) $((s % 60)) "$*" >&2
}

stage "setting up .venv (first run: installs PyTorch's CPU build and the rest, a few minutes)"
bash scripts/bootstrap.sh
stage ".venv ready"
# Opening the index (no model load) tells whether a usable one is there.
if ! .venv/bin/python -c "from index import default_index_dir, open_index; open_index(default_index_dir())" 2>/dev/null; then
  stage "indexing the bundled corpus (data/corpus/, 2,016 passages), once: a few minutes"
  .venv/bin/counsel-search build data/corpus/
  stage "index ready"
else
  stage "index found"
fi
stage "starting the page (it loads the model, then prints its address)"
exec .venv/bin/counsel-search app "$@"
