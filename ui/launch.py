"""Start the page with its index and model loading before anyone asks: `python -m ui.launch
[streamlit options]` (what `counsel-search app` and `scripts/start.sh` run).

`streamlit run app.py` runs the page's script only when a browser connects, so the first visitor
waited for the server to start, then for the page's imports and the model to load, one after
the other. Here a thread loads the searcher into the page's own cache (`get_searcher`, shared
with `app.py`) as soon as Streamlit's server is up, while the browser fetches the page; the
script then finds it loaded, or waits for the same load (Streamlit computes one cached value
once, under a lock, however many callers ask). A failed preload is not cached: the page's own
call fails again and shows the error.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from search import Searcher

# index/ and search/ (about a second of imports) are imported inside the functions, so that
# the launcher's own process reaches Streamlit's server at once and the preload thread pays
# for them once the server is up rather than before it.


def version_token(index_dir: Path) -> str:
    """The published version name; a change makes the cached searcher reopen on next query."""
    from index.publish import POINTER

    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


@st.cache_resource(max_entries=2, show_spinner="Loading the model and the index…")
def get_searcher(index_dir: str, version: str) -> Searcher:
    """One searcher (model + index) per process and index version, not per rerun."""
    from search import Searcher

    del version  # part of the cache key only
    # A damaged current version must not take the page down while an older one is intact.
    return Searcher.open(index_dir, fallback=True).warm()


def preload() -> None:
    """Load the page's modules and its searcher for the configured index, as the page will."""
    # Outside a page run Streamlit warns that there is no script context (the spinner has
    # nowhere to go); that is expected here.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
        logging.ERROR
    )
    try:
        # The page's own imports, so its first run finds them loaded.
        importlib.import_module("ui.upload")
        importlib.import_module("ui.views")
        from index import default_index_dir

        index_dir = default_index_dir()
        get_searcher(str(index_dir), version_token(index_dir))
    except Exception:
        pass  # the page's own call fails the same way and shows the error


def run_args(options: list[str]) -> list[str]:
    """Streamlit's command line for the page: `run APP_PY OPTIONS…`. The page module's file is
    found as `counsel-search app` finds it, without importing it (importing renders it)."""
    spec = importlib.util.find_spec("app")
    page = spec.origin if spec and spec.origin else str(Path(__file__).parent.parent / "app.py")
    return ["run", page, *options]


def preload_once_serving(poll: float = 0.02, limit: float = 30.0) -> None:
    """`preload`, once Streamlit's server is up (or after `limit` s, whatever happened).

    Both load Python modules, and one process runs one thread's Python at a time: loading
    beside the server's start delayed the server by about as long as the loading took (health
    check at 2.6 s against 1.5 s). Started once the server answers, the loading runs while the
    browser, a process of its own, fetches and starts Streamlit's client."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state is not RuntimeState.INITIAL:
            break
        time.sleep(poll)
    preload()


def main(argv: list[str] | None = None) -> None:
    """Run `streamlit run app.py ARGV…` in this process, the searcher loading once it serves."""
    threading.Thread(
        target=preload_once_serving, name="counsel-search-preload", daemon=True
    ).start()
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", *run_args(sys.argv[1:] if argv is None else argv)]
    stcli.main()


if __name__ == "__main__":
    main()
