"""The page's launcher (ui/launch.py) loads the searcher into the page's own cache while the
server starts, so the page's first run finds it loaded instead of loading it again."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import build_index, load_embedder
from search import Searcher
from tests.conftest import SEED
from ui import launch

pytestmark = pytest.mark.integration


def test_the_page_finds_the_preloaded_searcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index([SEED], index_dir, load_embedder())
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(index_dir))
    launch.get_searcher.clear()
    launch.preload()

    def opened_again(*args: object, **kwargs: object) -> Searcher:
        raise AssertionError("the page opened the index again")

    monkeypatch.setattr(Searcher, "open", opened_again)
    searcher = launch.get_searcher(str(index_dir), launch.version_token(index_dir))
    assert searcher.info().passages == 7
    launch.get_searcher.clear()


def test_a_failed_preload_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "index"
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(index_dir))
    launch.get_searcher.clear()
    launch.preload()  # no index yet: the page will say so itself, the launcher stays quiet
    build_index([SEED], index_dir, load_embedder())
    searcher = launch.get_searcher(str(index_dir), launch.version_token(index_dir))
    assert searcher.info().passages == 7
    launch.get_searcher.clear()


def test_streamlit_runs_the_installed_page() -> None:
    args = launch.run_args(["--server.port", "8600"])
    assert args[0] == "run" and Path(args[1]).name == "app.py" and Path(args[1]).is_file()
    assert args[2:] == ["--server.port", "8600"]


def test_the_preload_waits_for_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """It starts once Streamlit's runtime serves: before, it would slow the server's start."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    checks: list[int] = []
    preloaded_after: list[int] = []

    class Serving:
        state = RuntimeState.NO_SESSIONS_CONNECTED

    def exists() -> bool:
        checks.append(1)
        return len(checks) > 3  # the server comes up at the fourth look

    monkeypatch.setattr(Runtime, "exists", staticmethod(exists))
    monkeypatch.setattr(Runtime, "instance", staticmethod(lambda: Serving))
    monkeypatch.setattr(launch, "preload", lambda: preloaded_after.append(len(checks)))
    launch.preload_once_serving(poll=0.001, limit=30)
    assert preloaded_after == [4]


def test_the_preload_goes_ahead_if_the_server_never_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.runtime import Runtime

    preloaded: list[bool] = []
    monkeypatch.setattr(Runtime, "exists", staticmethod(lambda: False))
    monkeypatch.setattr(launch, "preload", lambda: preloaded.append(True))
    launch.preload_once_serving(poll=0.001, limit=0.05)
    assert preloaded == [True]
