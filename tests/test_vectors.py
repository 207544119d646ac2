"""Vector store: exact below the size threshold, IVF above it; recall, deletes, filters, files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import index.vectors as vec
from index import IndexCorrupt, build_index, open_index
from index import publish as pub
from index.vectors import FaissStore
from search import Searcher
from tests.fakes import HashEmbedder

DIM = 32


def clustered(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    """Unit vectors in ~n/30 Gaussian clusters: like sentence embeddings, neighbours share a
    topic, which is the structure IVF relies on."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(2, n // 30), dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture()
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a few thousand vectors count as a large corpus."""
    monkeypatch.setattr(vec, "IVF_MIN_VECTORS", 1_000)


@pytest.fixture()
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, vectors, held-out queries): ids sparse and shuffled, as chunk ids may become."""
    x = clustered(3_100)
    ids = np.random.default_rng(1).permutation(3_000).astype(np.int64) * 7 + 5
    return ids, x[:3_000], x[3_000:]


@pytest.fixture()
def ivf(low_threshold: None, data) -> FaissStore:
    ids, x, _ = data
    return FaissStore.build(ids, x)


def exact(ids: np.ndarray, x: np.ndarray) -> FaissStore:
    store = FaissStore.create(x.shape[1])
    store.add(ids, x)
    return store


def recall_at_10(got: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(g[:10]) & set(t[:10])) / 10 for g, t in zip(got, truth, strict=True)])
    )


def test_index_type_follows_the_vector_count(low_threshold: None, data) -> None:
    ids, x, _ = data
    small = FaissStore.build(ids[:900], x[:900])
    assert (small.index_type, small.nlist, small.nprobe) == ("flat", 0, 0)
    large = FaissStore.build(ids, x)
    assert large.index_type == "ivf"
    assert large.nlist == vec.nlist_for(3_000) == round(2 * 3_000**0.5)
    assert 1 <= large.nprobe <= large.nlist
    assert large.count() == 3_000


def test_default_threshold_keeps_small_corpora_exact(data) -> None:
    ids, x, _ = data
    assert vec.IVF_MIN_VECTORS >= 10_000
    assert FaissStore.build(ids, x).index_type == "flat"
    assert vec.nlist_for(1_000_000) == 2_000


def test_ivf_recall_at_10_against_exact(ivf: FaissStore, data) -> None:
    ids, x, queries = data
    _, got = ivf.search(queries, 10)
    _, truth = exact(ids, x).search(queries, 10)
    assert recall_at_10(got, truth) >= 0.95


def test_get_returns_the_stored_vectors(ivf: FaissStore, data) -> None:
    ids, x, _ = data
    pick = np.random.default_rng(2).choice(3_000, 50, replace=False)
    # float16 storage: within 1e-4 of what was added, a difference no ranking shows.
    assert np.abs(ivf.get(ids[pick]) - x[pick]).max() < 1e-3
    assert ivf.get(np.array([], dtype=np.int64)).shape == (0, DIM)


@pytest.mark.parametrize("allowed_n", [1, 3, 10, 40, 600])
@pytest.mark.parametrize("exact_max", [vec.EXACT_FILTER_MAX, 0])
def test_filtered_search_fills_k_when_k_are_allowed(
    ivf: FaissStore, data, allowed_n: int, exact_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both paths: the exact scan of a small allow-list, and (exact_max=0) IVF with a selector,
    whose probed lists may hold few allowed ids until nprobe widens."""
    monkeypatch.setattr(vec, "EXACT_FILTER_MAX", exact_max)
    ids, x, queries = data
    allowed = np.random.default_rng(3).choice(ids, allowed_n, replace=False)
    scores, got = ivf.search(queries[:20], 10, allowed)
    want = min(10, allowed_n)
    assert ((got >= 0).sum(axis=1) == want).all()
    assert np.isin(got[got >= 0], allowed).all()
    # Scores are true cosines, best first.
    valid = scores[:, :want]
    assert (np.diff(valid, axis=1) <= 1e-6).all()
    best, truth = exact(ids, x).search(queries[:20], 10, allowed)
    if exact_max or allowed_n <= 10:  # exact scan, or every allowed id found
        # The same top-k up to float16 storage, which may swap near-ties.
        assert np.allclose(valid, best[:, :want], atol=1e-3)
    else:
        assert recall_at_10(got, truth) >= 0.95


def test_filter_naming_unknown_ids_still_fills(ivf: FaissStore, data) -> None:
    ids, _, queries = data
    allowed = np.concatenate([ids[:12], [-5, 10**9]])
    _, got = ivf.search(queries[:3], 10, allowed)
    assert ((got >= 0).sum(axis=1) == 10).all() and np.isin(got, ids[:12]).all()
    _, none = ivf.search(queries[:3], 10, np.array([], dtype=np.int64))
    assert (none == -1).all()


def test_save_and_open_keep_type_and_nprobe(
    ivf: FaissStore, data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, x, queries = data
    ivf.nprobe = 7
    path = tmp_path / "v.faiss"
    ivf.save(path)
    back = FaissStore.open(path)
    assert (back.index_type, back.nlist, back.nprobe) == ("ivf", ivf.nlist, 7)
    assert back.count() == ivf.count() and (back.get(ids[:5]) == ivf.get(ids[:5])).all()
    assert (back.search(queries, 10)[1] == ivf.search(queries, 10)[1]).all()
    assert FaissStore.open(path, nprobe=12).nprobe == 12
    monkeypatch.setenv(vec.NPROBE_ENV, "3")
    assert FaissStore.open(path, nprobe=12).nprobe == 3
    monkeypatch.setenv(vec.NPROBE_ENV, "lots")
    assert FaissStore.open(path).nprobe == 7
    flat = exact(ids[:10], x[:10])
    flat.save(tmp_path / "f.faiss")
    assert FaissStore.open(tmp_path / "f.faiss").index_type == "flat"


def test_build_records_the_index_type_and_switches_across_the_threshold(
    tmp_path: Path, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    monkeypatch.setattr(vec, "IVF_MIN_VECTORS", 50)
    build_index([sample_corpus], index_dir, HashEmbedder())
    version = open_index(index_dir)
    m = version.manifest
    assert (m.index_type, version.vectors.index_type) == ("ivf", "ivf")
    assert m.nlist == vec.nlist_for(m.vectors) and m.nprobe == version.vectors.nprobe >= 1
    version.close()
    searcher = Searcher.open(index_dir)
    assert len(searcher.search("therapy", k=5, mode="dense")) == 5
    # A filter keeping one small document still fills k from it.
    hits = searcher.search("trust", k=20, filters={"source": ["000_6fe00c9fba106d10.txt"]})
    assert len(hits) == 7
    # The same corpus under a higher threshold: the next build goes back to exact search.
    monkeypatch.setattr(vec, "IVF_MIN_VECTORS", 10**6)
    build_index([sample_corpus], index_dir, HashEmbedder())
    version = open_index(index_dir)
    assert (version.manifest.index_type, version.manifest.nlist) == ("flat", 0)
    assert version.vectors.index_type == "flat"
    version.close()


def test_manifest_without_index_type_opens_as_flat(hash_index: Path) -> None:
    path = pub.current_version(hash_index) / pub.MANIFEST
    raw = json.loads(path.read_text())
    assert raw["index_type"] == "flat"
    for key in ("index_type", "nlist", "nprobe"):
        del raw[key]
    path.write_text(json.dumps(raw))
    version = open_index(hash_index)
    assert (version.manifest.index_type, version.manifest.nprobe) == ("flat", 0)
    assert version.vectors.index_type == "flat"
    version.close()
    assert Searcher.open(hash_index).search("therapy", k=3)


def test_manifest_disagreeing_with_the_vector_file_is_corrupt(hash_index: Path) -> None:
    path = pub.current_version(hash_index) / pub.MANIFEST
    raw = json.loads(path.read_text())
    raw.update(index_type="ivf", nlist=10, nprobe=2)
    path.write_text(json.dumps(raw))
    with pytest.raises(IndexCorrupt, match="manifest says ivf"):
        open_index(hash_index)
