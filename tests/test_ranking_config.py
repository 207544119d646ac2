"""Ranking settings (search.config.RankingConfig): the default is the product's ranking, every
ablation of benchmarks/quality.py is a config that changes what it names, evaluations record
their settings."""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from index import IndexVersion, build_index, open_index
from search import (
    MODES,
    WINDOW_AGGREGATIONS,
    InvalidRankingConfig,
    RankingConfig,
    Searcher,
    rank,
)
from search.evaluate import Query, evaluate
from search.lexical import STOPWORDS
from tests.conftest import ROOT
from tests.fakes import HashEmbedder

QUERIES = [
    "I feel anxious and can't sleep at night",
    "what is it like to be in therapy with someone who does not listen to me",
    "my husband and I fight about money all the time",
    "grief after losing my mother",
    "how do you build trust in a therapeutic relationship",
    "feelings of worthlessness and depression",
]
K = 100  # as evaluate() ranks


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, sample_corpus: Path) -> Path:
    index_dir = tmp_path_factory.mktemp("config") / "index"
    build_index([sample_corpus], index_dir, HashEmbedder())
    return index_dir


@pytest.fixture()
def searcher(index_dir: Path) -> Iterator[Searcher]:
    s = Searcher(open_index(index_dir), HashEmbedder())
    yield s
    s.close()


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    """benchmarks/quality.py, whose ABLATIONS are the configs under test."""
    spec = importlib.util.spec_from_file_location(
        "quality_under_test", ROOT / "benchmarks" / "quality.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def hits_of(searcher: Searcher, query: str, mode: str = "hybrid", k: int = K) -> list[tuple]:
    """Every hit of the query with every part of its score, exactly."""
    hits = searcher.search(query, k=k, mode=mode, explain=False)
    return [
        (h.passage.id, h.score, h.dense_score, h.lexical_score, h.window_cosine, h.matched_span)
        for h in hits
    ] + [tuple(h.weak for h in hits)]


def ranking_of(searcher: Searcher, mode: str, queries: list[str] = QUERIES) -> list[list[tuple]]:
    """The hits of every query."""
    return [hits_of(searcher, q, mode) for q in queries]


def judged(searcher: Searcher) -> list[Query]:
    """Queries whose relevant passage is the one whose answer they open with."""
    passages = [p for _, p in searcher.version.passages.all_passages()][::10]
    return [Query(p.id, " ".join(p.answer.split()[:12]), frozenset({p.id})) for p in passages[:12]]


# -- the default is the product's ranking ----------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_the_default_config_is_the_searchers_ranking(
    searcher: Searcher, index_dir: Path, mode: str
) -> None:
    default = ranking_of(searcher, mode)
    assert all(default)
    explicit = Searcher(open_index(index_dir), HashEmbedder(), config=RankingConfig())
    opened = Searcher.open(index_dir, config=RankingConfig())
    try:
        assert ranking_of(explicit, mode) == default
        assert ranking_of(opened, mode) == default
        assert ranking_of(searcher.with_config(RankingConfig()), mode) == default
    finally:
        explicit.close()
        opened.close()


def test_with_config_shares_the_open_version_and_model(searcher: Searcher) -> None:
    other = searcher.with_config(RankingConfig(hub_weight=0.0))
    assert other.version is searcher.version and other.embedder is searcher.embedder
    assert other.config.hub_weight == 0.0 and searcher.config == RankingConfig()
    searcher.encode_queries(["a shared query"])
    before = searcher.embedder.encode
    calls = []
    searcher.embedder.encode = lambda texts, **kw: calls.append(texts) or before(texts, **kw)
    try:
        other.encode_queries(["a shared query"])  # cached by the first searcher
    finally:
        del searcher.embedder.encode
    assert calls == []


# -- every ablation is a config, and changes what it names -----------------------------------


def test_every_ablation_runs_and_records_its_config(
    searcher: Searcher, quality: ModuleType
) -> None:
    queries = judged(searcher)
    rows = quality.ablations(searcher, queries)
    assert [name for name, _ in rows] == [name for name, _, _ in quality.ABLATIONS]
    for (_, result), (_, mode, config) in zip(rows, quality.ABLATIONS, strict=True):
        assert result.mode == mode and result.ranking == config
        assert result.to_dict()["ranking"] == config.to_dict()
    # The default row is the plain searcher's figure.
    plain = evaluate(searcher, queries, "hybrid")
    assert dataclasses.replace(rows[0][1], latency_p50_ms=0, latency_p95_ms=0) == (
        dataclasses.replace(plain, latency_p50_ms=0, latency_p95_ms=0)
    )


def test_every_ablation_changes_its_ranking(searcher: Searcher, quality: ModuleType) -> None:
    defaults = {mode: ranking_of(searcher, mode) for mode in MODES}
    (_, _, default), *variants = quality.ABLATIONS
    assert default == RankingConfig()
    for name, mode, config in variants:
        assert config != default, name
        got = ranking_of(searcher.with_config(config), mode)
        assert got != defaults[mode], f"{name}: same ranking as the default"


def test_hub_weight_zero_is_the_uncorrected_ranking(searcher: Searcher) -> None:
    """Plain cosines: the ranking of the same version without hub radii."""
    off = searcher.with_config(RankingConfig(hub_weight=0.0))
    version, cfg = searcher.version, RankingConfig()
    for q in QUERIES:
        vector = searcher.encode_queries([q])[0]
        candidates = rank.candidate_rows(version, vector, K, None)
        plain = rank.rank(version, vector, "dense", K, candidates, {}, None, cfg, None)
        hits = off.search(q, k=K, mode="dense", explain=False)
        assert [h.passage.id for h in hits] == _ids(version, plain.rows)
        assert [h.score for h in hits] == plain.scores.tolist()
        # Skipping the radii is exact: cosine less 0 times the radius is the cosine.
        zero = RankingConfig(hub_weight=0.0)
        kept = rank.rank(version, vector, "dense", K, candidates, {}, None, zero, version.radii)
        assert kept.rows.tolist() == plain.rows.tolist()
        assert kept.scores.tolist() == plain.scores.tolist()
        # Each passage's score is then its plain window cosines' aggregate.
        assert [h.dense_score for h in hits] == pytest.approx(
            _expected_dense(version, vector, plain.rows, None, 0.0, "mean"), abs=1e-6
        )


@pytest.mark.parametrize("aggregation", WINDOW_AGGREGATIONS)
@pytest.mark.parametrize("neighbours", [5, 10, 20])
def test_dense_scores_follow_the_window_aggregation_and_radii(
    searcher: Searcher, aggregation: str, neighbours: int
) -> None:
    config = RankingConfig(window_aggregation=aggregation, hub_neighbours=neighbours)
    version = searcher.version
    # The saved radii are the default neighbour count's; others are computed from the vectors.
    radii = version.radii if neighbours == 10 else version.window_radii(neighbours)
    for q in QUERIES:
        vector = searcher.encode_queries([q])[0]
        hits = searcher.with_config(config).search(q, k=K, mode="dense", explain=False)
        rows = np.array([version.passages.row_of(h.passage.id) for h in hits])
        assert [h.dense_score for h in hits] == pytest.approx(
            _expected_dense(version, vector, rows, radii, 0.5, aggregation), abs=1e-6
        )


def test_other_neighbour_counts_compute_radii_once(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    compute = IndexVersion.window_radii

    def counted(self: IndexVersion, k: int = 10) -> np.ndarray:
        calls.append(k)
        return compute(self, k)

    monkeypatch.setattr(IndexVersion, "window_radii", counted)
    five = searcher.with_config(RankingConfig(hub_neighbours=5))
    for _ in range(2):
        five.search(QUERIES[0], explain=False)
        searcher.with_config(RankingConfig(hub_neighbours=5)).search(QUERIES[1], explain=False)
        searcher.search(QUERIES[0], explain=False)  # the saved radii
        searcher.with_config(RankingConfig(hub_weight=0.0, hub_neighbours=20)).search(QUERIES[0])
    assert calls == [5]


def test_same_question_weight_adds_the_best_sibling_score(searcher: Searcher) -> None:
    """Hybrid: each passage gains weight x the best fused score among the answers to its
    question (all passages are candidates when k exceeds the corpus)."""
    version = searcher.version
    k = version.manifest.passages + 1
    groups = version.tables.row_group
    for q in QUERIES:
        by_weight = {}
        for weight in (0.0, 1.0, 0.5):
            cfg = RankingConfig(same_question_weight=weight)
            hits = searcher.with_config(cfg).search(q, k=k, explain=False)
            by_weight[weight] = {version.passages.row_of(h.passage.id): h.score for h in hits}
        fused = by_weight[0.0]
        assert set(by_weight[1.0]) == set(fused)
        best: dict[int, float] = {}
        for row, score in fused.items():
            best[groups[row]] = max(best.get(groups[row], -np.inf), score)
        for weight in (1.0, 0.5):
            for row, score in by_weight[weight].items():
                assert score == pytest.approx(fused[row] + weight * best[groups[row]])
        assert len(set(groups[list(fused)])) < len(fused)  # siblings were there to lift


def test_keeping_stop_words_changes_only_queries_that_have_them(searcher: Searcher) -> None:
    keep = searcher.with_config(RankingConfig(drop_stop_words=False))
    with_stop = [q for q in QUERIES if any(w in STOPWORDS for w in q.lower().split())]
    without = ["grief loss mother", "anxious sleepless nights"]
    assert with_stop and all(not set(q.split()) & STOPWORDS for q in without)
    for mode in ("lexical", "hybrid"):
        assert ranking_of(keep, mode, without) == ranking_of(searcher, mode, without)
        for q in with_stop:
            assert ranking_of(keep, mode, [q]) != ranking_of(searcher, mode, [q]), q
    # Dense ranking reads no words.
    assert ranking_of(keep, "dense") == ranking_of(searcher, "dense")


def test_dense_weight_one_and_zero_are_the_sides_ranks(searcher: Searcher) -> None:
    """Fusion weight 1 ranks hybrid candidates by their dense z-score alone, 0 by BM25 alone
    (the same-question boost off, so nothing else moves them)."""
    for weight, part in ((1.0, "dense_score"), (0.0, "lexical_score")):
        cfg = RankingConfig(dense_weight=weight, same_question_weight=0.0)
        for q in QUERIES:
            hits = searcher.with_config(cfg).search(q, k=K, explain=False)
            parts = [getattr(h, part) for h in hits]
            # (scores within 1e-6 count as tied and go by passage id: search.rank.order)
            assert all(a >= b - 1e-5 for a, b in itertools.pairwise(parts)), (weight, q)


def test_small_pools_leave_bm25_to_the_lexical_pool(searcher: Searcher) -> None:
    """With candidate and BM25 pools of 10 (never fewer than k), a dense candidate outside the
    lexical pool has no BM25 of its own; with the default deep pool every match has its."""
    small = searcher.with_config(RankingConfig(candidates=10, lexical_pool=10))
    changed = cut = False
    for q in QUERIES:
        bm25 = {h.passage.id: h.score for h in searcher.search(q, k=1000, mode="lexical")}
        hits = small.search(q, k=10, explain=False)
        assert len(hits) == 10
        assert all(h.lexical_score in (0.0, bm25.get(h.passage.id, 0.0)) for h in hits)
        assert sum(h.lexical_score > 0 for h in hits) <= 10
        default = searcher.search(q, k=10, explain=False)
        assert all(h.lexical_score == bm25.get(h.passage.id, 0.0) for h in default)
        changed |= hits_of(small, q, k=10) != hits_of(searcher, q, k=10)
        cut |= any(h.lexical_score == 0 < bm25.get(h.passage.id, 0.0) for h in hits)
    assert changed and cut


# -- the config itself ------------------------------------------------------------------------


def test_config_defaults_and_checks() -> None:
    cfg = RankingConfig()
    assert cfg.to_dict() == {
        "dense_weight": 0.8,
        "same_question_weight": 1.0,
        "hub_weight": 0.5,
        "hub_neighbours": 10,
        "candidates": 100,
        "lexical_pool": 10_000,
        "window_aggregation": "mean",
        "drop_stop_words": True,
    }
    assert json.loads(json.dumps(cfg.to_dict())) == cfg.to_dict()
    assert "hub_weight=0.5" in cfg.summary()
    assert cfg.replace(hub_weight=0.0) == RankingConfig(hub_weight=0.0) != cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.hub_weight = 0.0  # type: ignore[misc]
    with pytest.raises(InvalidRankingConfig, match="window aggregation"):
        RankingConfig(window_aggregation="max")
    for field in ("candidates", "lexical_pool", "hub_neighbours"):
        with pytest.raises(InvalidRankingConfig, match=field):
            RankingConfig(**{field: 0})


# -- helpers ------------------------------------------------------------------------------------


def _ids(version: IndexVersion, rows: np.ndarray) -> list[str]:
    passages = version.passages.by_rows(rows.tolist())
    return [passages[r].id for r in rows.tolist()]


def _expected_dense(
    version: IndexVersion,
    vector: np.ndarray,
    rows: np.ndarray,
    radii: np.ndarray | None,
    weight: float,
    aggregation: str,
) -> list[float]:
    """Each row's dense score, window by window in plain Python."""
    out = []
    for row in rows.tolist():
        chunks = version.tables.chunks_of(np.array([row]))[0]
        cos = version.vectors.get(chunks).astype(np.float64) @ vector.astype(np.float64)
        adjusted = cos - weight * radii[chunks] if radii is not None else cos
        first, best = float(adjusted[0]), float(adjusted.max())
        out.append({"mean": (first + best) / 2, "opening": first, "best": best}[aggregation])
    return out
