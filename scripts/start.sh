#!/usr/bin/env bash
# One command from a fresh clone to the search page: set up .venv, index the bundled corpus if
# there is no index yet, start the page. Extra arguments go to `counsel-search app`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Opening the index (no model load) tells whether a usable one is there.
if ! .venv/bin/python -c "from index import default_index_dir, open_index; open_index(default_index_dir())" 2>/dev/null; then
  echo "Indexing the bundled corpus (data/corpus/), once…" >&2
  .venv/bin/counsel-search build data/corpus/
fi
exec .venv/bin/counsel-search app "$@"
