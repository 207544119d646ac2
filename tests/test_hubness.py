"""Hub radii (index/hubness.py) and the hubness-corrected dense ranking (CSLS)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index import build_index, hubness, open_index
from index import publish as pub
from search import RankingConfig, Searcher, rank
from tests.fakes import HashEmbedder


def _clustered(n: int, dim: int = 32, clusters: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _brute(vectors: np.ndarray, owner: np.ndarray, k: int) -> np.ndarray:
    sims = vectors @ vectors.T
    out = np.zeros(len(vectors))
    for i in range(len(vectors)):
        others = np.sort(sims[i][owner != owner[i]])[::-1][:k]
        out[i] = others.mean() if others.size else 0.0
    return out


@pytest.mark.parametrize("block", [hubness.BLOCK, 64])
def test_exact_radii_are_the_mean_of_the_k_nearest_windows_of_other_passages(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hubness, "BLOCK", block)  # 64: searched in five blocks
    vectors = _clustered(300)
    owner = np.repeat(np.arange(100), 3)  # three windows a passage
    radii = hubness.window_radii(vectors, owner, k=10)
    assert radii.dtype == np.float32 and radii.shape == (300,)
    np.testing.assert_allclose(radii, _brute(vectors, owner, 10), atol=1e-5)


def test_a_passages_own_windows_are_not_its_neighbours() -> None:
    # Two identical windows of one passage, and two unrelated passages.
    v = np.eye(4, dtype=np.float32)
    vectors = np.stack([v[0], v[0], v[1], v[2]])
    radii = hubness.window_radii(vectors, np.array([0, 0, 1, 2]), k=1)
    np.testing.assert_allclose(radii, [0.0, 0.0, 0.0, 0.0], atol=1e-6)
    # The same windows in two passages are each other's nearest neighbour.
    radii = hubness.window_radii(vectors, np.array([0, 1, 2, 3]), k=1)
    np.testing.assert_allclose(radii[:2], [1.0, 1.0], atol=1e-6)


def test_fewer_windows_than_k_and_a_lone_passage() -> None:
    vectors = _clustered(5)
    owner = np.arange(5)
    np.testing.assert_allclose(
        hubness.window_radii(vectors, owner, k=10), _brute(vectors, owner, 10), atol=1e-5
    )
    np.testing.assert_allclose(hubness.window_radii(vectors[:2], np.zeros(2, int)), [0.0, 0.0])
    assert hubness.window_radii(np.zeros((0, 8), np.float32), np.zeros(0, int)).shape == (0,)


def test_approximate_radii_stay_close_to_exact() -> None:
    vectors = _clustered(4000, clusters=40)
    owner = np.arange(4000) // 2
    exact = hubness.window_radii(vectors, owner)
    approx = hubness.window_radii(vectors, owner, exact_max=1000)
    # Missed neighbours can only make a radius smaller.
    assert np.all(approx <= exact + 1e-5)
    assert float(np.mean(exact - approx)) < 0.02
    assert np.corrcoef(exact, approx)[0, 1] > 0.95


def test_a_build_saves_radii_and_an_older_version_recomputes_them(
    tmp_path: Path, sample_corpus: Path
) -> None:
    index_dir = tmp_path / "index"
    build_index([sample_corpus], index_dir, HashEmbedder())
    version = open_index(index_dir)
    saved = version.radii
    n = version.manifest.vectors
    assert saved is not None and saved.shape == (n,)
    ids = np.arange(n)
    expected = hubness.window_radii(version.vectors.get(ids), version.tables.chunk_row[ids])
    np.testing.assert_allclose(saved, expected, atol=1e-6)
    version.close()
    # A version built before radii were saved gets the same ones, computed when opened.
    (version.folder / pub.HUBNESS).unlink()
    older = open_index(index_dir)
    np.testing.assert_allclose(older.radii, saved, atol=1e-6)
    older.close()


class _DesignedEmbedder(HashEmbedder):
    """The hash embedder, except for texts containing a marker word: those get set vectors."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        super().__init__(dim=16, max_tokens=200)
        self.fingerprint = "designed-16"
        self.table = table

    def encode(self, texts: Sequence[str], **kwargs: object) -> np.ndarray:
        out = super().encode(texts)
        for i, text in enumerate(texts):
            for marker, vector in self.table.items():
                if marker in text.split():
                    out[i] = vector / np.linalg.norm(vector)
        return out


def test_a_hub_passage_gives_way_to_the_specific_answer(tmp_path: Path) -> None:
    e = np.eye(16)
    hub = e[0] + e[1] + e[2] + e[3] + e[4] + 1.5 * e[5]  # a little about everything
    specific = e[5] + e[6]
    hub_n, specific_n = hub / np.linalg.norm(hub), specific / np.linalg.norm(specific)
    table = {f"topic{i}": e[i] for i in range(5)}
    table |= {"generic": hub, "specific": specific, "asked": hub_n + 0.8 * specific_n}
    corpus = tmp_path / "corpus.jsonl"
    lines = [{"id": name, "question": "", "answer": f"{name} text"} for name in table]
    corpus.write_text("\n".join(json.dumps(x) for x in lines[:-1]), encoding="utf-8")
    embedder = _DesignedEmbedder(table)
    build_index([corpus], tmp_path / "index", embedder)
    searcher = Searcher(open_index(tmp_path / "index"), embedder)

    default = RankingConfig().hub_weight

    def top(weight: float) -> list[str]:
        weighted = searcher.with_config(RankingConfig(hub_weight=weight))
        return [h.passage.id for h in weighted.search("asked", k=2, mode="dense")]

    # Plain cosine puts the hub first; the corrected score puts the specific answer first.
    assert top(0.0) == ["generic", "specific"]
    assert top(default) == ["specific", "generic"]
    # The weak-match signal still reads the plain cosine.
    asked = table["asked"] / np.linalg.norm(table["asked"])
    hit = searcher.search("asked", k=1, mode="dense")[0]
    assert hit.window_cosine == pytest.approx(float(asked @ specific_n), abs=1e-5)
    searcher.close()


def test_dense_scores_subtract_half_the_radius(hash_index: Path) -> None:
    version = open_index(hash_index)
    query = HashEmbedder().encode(["anxiety and sleep"])[0]
    rows = np.arange(version.manifest.passages)
    got = rank.dense_scores(version, query, rows, RankingConfig(), version.radii)
    chunks, _, offsets, _ = version.tables.chunks_of(got.rows)
    cos = version.vectors.get(chunks) @ query
    adjusted = cos - 0.5 * version.radii[chunks]
    expected = (adjusted[offsets] + np.maximum.reduceat(adjusted, offsets)) / 2
    np.testing.assert_allclose(got.score, expected, atol=1e-6)
    np.testing.assert_allclose(got.best, np.maximum.reduceat(cos, offsets), atol=1e-6)
    version.close()
