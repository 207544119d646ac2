"""Shared fixtures: tiny corpora, a fake embedder index, and a real-model index (session-wide)."""

from __future__ import annotations

import csv
import os
import shutil
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import settings

from index import build_index
from tests.fakes import HashEmbedder, register_hash_model

# The hashing test embedder is a model of the registry for every test (and `--model hash-test`).
register_hash_model()

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "corpus"
SEED = DATA / "000_6fe00c9fba106d10.txt"
COUNSELCHAT = DATA / "counselchat_answers.csv"
REQUIRE_MILVUS = "COUNSEL_SEARCH_REQUIRE_MILVUS"
# A call that must end (a timeout, a refused connection) and has not after this long hangs.
HANG_SECONDS = 180.0

# Property tests: a per-example deadline that only a pathological (quadratic, exponential) blow-up
# reaches; it is generous because the machines are shared and noisy, and it times nothing (the
# examples take milliseconds; while generating, Hypothesis allows 1.25x the deadline, and fails
# only if the slow example is slow again when replayed). Tests set their own max_examples where
# 100 is not the right amount of search. HYPOTHESIS_PROFILE picks another registered profile.
settings.register_profile(
    "counsel-search", deadline=timedelta(seconds=5), max_examples=100, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "counsel-search"))

T = TypeVar("T")


def without_hanging(fn: Callable[[], T], what: str, seconds: float = HANG_SECONDS) -> T:
    """fn()'s result (or its exception), run in a thread: a failure naming `what` only if it has
    not returned after `seconds`. A guard against a hang, not a speed check."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="hang-guard", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{what} had not returned after {seconds:g} s: it hangs", pytrace=False)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def milvus_skip_or_fail(why: str) -> None:
    """Skip a Milvus test, or fail it when COUNSEL_SEARCH_REQUIRE_MILVUS=1 (CI)."""
    if os.environ.get(REQUIRE_MILVUS) == "1":
        pytest.fail(f"{REQUIRE_MILVUS}=1 but {why}", pytrace=False)
    pytest.skip(why)


def require_pymilvus() -> None:
    """pymilvus importable, else a skip (a failure when COUNSEL_SEARCH_REQUIRE_MILVUS=1)."""
    try:
        import pymilvus  # noqa: F401
    except ImportError as exc:
        milvus_skip_or_fail(f'pymilvus cannot be imported ({exc}): pip install -e ".[milvus]"')


def write_sample_csv(path: Path, rows: int = 120) -> Path:
    """The first `rows` answers of the bundled CounselChat CSV, columns unchanged."""
    with COUNSELCHAT.open(encoding="utf-8", newline="") as src:
        reader = csv.DictReader(src)
        assert reader.fieldnames is not None
        with path.open("w", encoding="utf-8", newline="") as dst:
            writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
            writer.writeheader()
            for i, row in enumerate(reader):
                if i >= rows:
                    break
                writer.writerow(row)
    return path


@pytest.fixture(scope="session")
def sample_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the seed article and a 120-answer CounselChat sample."""
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(SEED, folder / SEED.name)
    write_sample_csv(folder / "counselchat_sample.csv")
    return folder


@pytest.fixture()
def hash_index(tmp_path: Path, sample_corpus: Path) -> Path:
    """An index of the sample corpus built with the fake hashing embedder (fast)."""
    index_dir = tmp_path / "index"
    build_index([sample_corpus], index_dir, HashEmbedder())
    return index_dir


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory, sample_corpus: Path) -> Path:
    """An index of the sample corpus built with the real packaged model, once per session."""
    from index import load_embedder

    index_dir = tmp_path_factory.mktemp("real") / "index"
    build_index([sample_corpus], index_dir, load_embedder())
    return index_dir


@pytest.fixture()
def page(real_index: Path, monkeypatch: pytest.MonkeyPatch):
    """The page (Streamlit AppTest) on the real-model sample index, loaded once."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(real_index))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="session")
def milvus_uri() -> str:
    """The test Milvus server's URI (COUNSEL_SEARCH_MILVUS_URI; start one with
    scripts/milvus_server.sh), or a skip: a failure when COUNSEL_SEARCH_REQUIRE_MILVUS=1 (CI)."""
    uri = os.environ.get("COUNSEL_SEARCH_MILVUS_URI", "").strip()
    if not uri:
        milvus_skip_or_fail(
            "no Milvus server: set COUNSEL_SEARCH_MILVUS_URI (scripts/milvus_server.sh)"
        )
    require_pymilvus()
    return uri


def assert_embeds_sensibly(model, dim: int) -> None:
    """A real model gives unit vectors of its dimension, a paraphrase well above a stranger."""
    import numpy as np

    vecs = model.encode(
        [
            "I feel anxious before therapy",
            "I am nervous about counseling",
            "How to bake sourdough bread",
        ]
    )
    assert vecs.shape == (3, dim)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
