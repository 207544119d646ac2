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
