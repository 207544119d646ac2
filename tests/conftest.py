"""Shared fixtures: tiny corpora, a fake embedder index, and a real-model index (session-wide)."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from index import HashEmbedder, build_index

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "corpus"
SEED = DATA / "000_6fe00c9fba106d10.txt"
COUNSELCHAT = DATA / "counselchat_answers.csv"


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
        if os.environ.get("COUNSEL_SEARCH_REQUIRE_MILVUS") == "1":
            pytest.fail(
                "COUNSEL_SEARCH_REQUIRE_MILVUS=1 but COUNSEL_SEARCH_MILVUS_URI is not set",
                pytrace=False,
            )
        pytest.skip("no Milvus server: set COUNSEL_SEARCH_MILVUS_URI (scripts/milvus_server.sh)")
    pytest.importorskip("pymilvus")
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
