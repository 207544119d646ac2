"""ONNX Runtime batch encoding gives the PyTorch model's vectors (real packaged model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import ort
from index.embed import DEFAULT_MODEL, SentenceTransformerEmbedder, default_model_path
from tests.conftest import COUNSELCHAT

pytestmark = pytest.mark.integration


@pytest.fixture()
def embedder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SentenceTransformerEmbedder:
    monkeypatch.setenv("COUNSEL_SEARCH_MODEL_CACHE", str(tmp_path / "models"))
    return SentenceTransformerEmbedder(DEFAULT_MODEL, default_model_path(), "sha256:test")


def _texts() -> list[str]:
    import csv

    with COUNSELCHAT.open(encoding="utf-8", newline="") as fh:
        answers = [r["answerText"] for _, r in zip(range(30), csv.DictReader(fh), strict=False)]
    # Short, long (truncated at 256 word pieces), padded and non-ASCII texts in one batch.
    return [*answers, "ok", "  Grief, after loss.  ", "Ça va? ¿Qué tal? 你好", " ".join(answers)]


def test_onnx_runtime_matches_pytorch(
    embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not skipped: onnxruntime is a dependency (a missing one fails the import here), and a
    # COUNSEL_SEARCH_ONNX=0 in the environment must not silently switch this test off.
    monkeypatch.delenv(ort.ENV_ONNX, raising=False)
    import onnxruntime  # noqa: F401

    assert ort.enabled()
    texts = _texts()
    fast = embedder.encode(texts, batch_size=16)
    assert embedder._ort, "a batch of this size should have gone to ONNX Runtime"
    slow = embedder.model.encode(texts, batch_size=16, normalize_embeddings=True)
    cos = (fast * slow).sum(axis=1)
    assert cos.min() > 0.99999
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    # Exported once per weight fingerprint; a second encoder reuses the file.
    files = list((Path(ort.default_cache_dir()) / "onnx").glob("*.onnx"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    ort.OrtEncoder(embedder.model, "sha256:test", 1)
    assert files[0].stat().st_mtime_ns == stamp


def test_switched_off_uses_pytorch(
    embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ort.ENV_ONNX, "0")
    texts = _texts()
    vectors = embedder.encode(texts)
    assert embedder._ort is False
    assert not (Path(ort.default_cache_dir()) / "onnx").exists()
    want = embedder.model.encode(texts, normalize_embeddings=True)
    assert np.allclose(vectors, want, atol=1e-6)


def test_a_lone_query_stays_on_pytorch(embedder: SentenceTransformerEmbedder) -> None:
    embedder.encode(["one short query"])
    assert embedder._ort is None  # never set up for small encodes
