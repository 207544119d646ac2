"""Exploring a whole index: passage vectors, the corpus map and its cache, themes, near-duplicate
hits and question cards. All on the fake hashing embedder (fast)."""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from index import add_sources, build_index
from search import Searcher
from search import explore as ex
from search.derived import DERIVED
from search.terms import tokens
from tests.conftest import SEED
from tests.fakes import HashEmbedder


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, sample_corpus: Path) -> Searcher:
    """One read-mostly index for the tests that do not look at the cache."""
    index_dir = tmp_path_factory.mktemp("explore") / "index"
    build_index([sample_corpus], index_dir, HashEmbedder())
    return Searcher.open(index_dir)


@pytest.fixture()
def fresh(hash_index: Path) -> Searcher:
    """A new index of the sample corpus, with nothing cached yet."""
    return Searcher.open(hash_index)


def _write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


# -- table and vectors ----------------------------------------------------------------------


def test_table_and_vectors_are_row_aligned(shared: Searcher) -> None:
    table = ex.passage_table(shared)
    ids, x = ex.embeddings(shared)
    n = shared.version.manifest.passages
    assert len(table) == len(ids) == n and x.shape == (n, shared.version.vectors.dim)
    assert [p["id"] for p in table] == ids and len(set(ids)) == n
    assert x.dtype == np.float32 and np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    store = shared.version.passages
    for p in table:
        passage = store.by_rows([store.row_of(p["id"])]).popitem()[1]
        assert (p["question"], p["answer"], p["source"]) == (
            passage.question,
            passage.answer,
            passage.source,
        )
        assert p["topic"] == (passage.metadata.get("topic") or "")
        assert isinstance(p["metadata"], dict)


def test_a_passage_vector_is_the_mean_of_all_its_windows(shared: Searcher) -> None:
    ids, x = ex.embeddings(shared)
    store = shared.version.passages
    chunks = store.chunks_of(list(range(len(ids))))
    windows = Counter(row for _, row, _, _ in chunks)
    long_row = next(row for row, n in windows.items() if n >= 3)  # the hash model has 48 tokens
    mine = [c for c, row, _, _ in chunks if row == long_row]
    vectors = shared.version.vectors.get(np.array(mine))
    mean = vectors.mean(axis=0)
    i = ids.index(store.by_rows([long_row])[long_row].id)
    assert np.allclose(x[i], mean / np.linalg.norm(mean), atol=1e-5)
    assert not np.allclose(x[i], vectors[0], atol=1e-3)  # not only the opening window


# -- themes ---------------------------------------------------------------------------------


def test_default_k_rule() -> None:
    # round(sqrt(n / 2)) at points where it is exact, and the clamp at both ends.
    for k in range(2, 31):
        assert ex.default_k(2 * k * k) == k
    assert ex.default_k(0) == ex.default_k(1) == ex.default_k(3) == 2
    assert ex.default_k(10**6) == 30
    ks = [ex.default_k(n) for n in range(0, 3000)]
    assert ks == sorted(ks)


@pytest.mark.parametrize("k", [2, 5, 9])
def test_themes_partition_the_index(shared: Searcher, k: int) -> None:
    ids, _ = ex.embeddings(shared)
    found = ex.themes(shared, k=k)
    assert found.k == k == len(found.themes) and found.rule == ex.USER_K_RULE
    assert list(found.ids) == ids and found.labels.shape == (len(ids),)
    assert [t.cluster for t in found.themes] == list(range(k))
    sizes = [t.size for t in found.themes]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) >= 1
    # Every passage is in exactly one cluster, and the sizes are those clusters' sizes.
    assert np.bincount(found.labels, minlength=k).tolist() == sizes
    assert all(found.cluster_of(pid) == found.labels[i] for i, pid in enumerate(ids))
    assert found.version == shared.version.version


def test_default_number_of_themes(shared: Searcher) -> None:
    found = ex.themes(shared)
    assert found.k == ex.default_k(shared.version.manifest.passages)
    assert found.rule == ex.DEFAULT_K_RULE


def test_k_is_clamped_to_the_passages(tmp_path: Path) -> None:
    build_index([SEED], tmp_path / "ix", HashEmbedder())
    searcher = Searcher.open(tmp_path / "ix")
    n = searcher.version.manifest.passages
    many = ex.themes(searcher, k=n + 5)
    assert many.k == n and [t.size for t in many.themes] == [1] * n and str(n) in many.rule
    one = ex.themes(searcher, k=0)
    assert one.k == 1 and one.themes[0].size == n


def test_theme_terms_are_distinctive_and_central_passage_belongs(shared: Searcher) -> None:
    found = ex.themes(shared, k=6)
    table = ex.passage_table(shared)
    ids, x = ex.embeddings(shared)
    docs = [tokens(f"{p['question']}\n{p['answer']}") for p in table]
    corpus = Counter(w for d in docs for w in d)
    n_words = sum(corpus.values())
    for theme in found.themes:
        members = [i for i in range(len(ids)) if found.labels[i] == theme.cluster]
        words = Counter(w for i in members for w in docs[i])
        assert 1 <= len(theme.terms) <= ex.MAX_TERMS and theme.label
        assert theme.label == " · ".join(theme.terms[:3])
        for term in theme.terms:
            assert term in words  # drawn from this cluster's own text, stop words excluded
        top = theme.terms[0]
        # Distinctive: relatively more frequent in the theme than in the whole corpus.
        assert words[top] / sum(words.values()) > corpus[top] / n_words
        # The central passage is in its theme, and nearest its centroid.
        assert found.cluster_of(theme.central_id) == theme.cluster
        centroid = x[members].mean(axis=0)
        best = max(members, key=lambda i: float(x[i] @ centroid))
        assert math.isclose(float(x[ids.index(theme.central_id)] @ centroid), x[best] @ centroid)
        central = table[ids.index(theme.central_id)]
        assert theme.central_question == central["question"]
        assert sum(n for _, n in theme.by_topic) == sum(n for _, n in theme.by_source) == theme.size
    assert len({t.terms[:3] for t in found.themes}) == found.k  # no two themes share a label
    assert not {"the", "and", "you"} & {w for t in found.themes for w in t.terms}


def test_themes_are_deterministic_for_a_seed(shared: Searcher) -> None:
    derived = shared.version.folder / DERIVED
    first = ex.themes(shared, k=5, seed=3)
    assert (derived / "themes-k5-s3.npz").is_file()
    shutil.rmtree(derived)  # recompute from scratch, not from the cache
    again = ex.themes(shared, k=5, seed=3)
    assert not again.from_cache
    assert np.array_equal(first.labels, again.labels)
    assert [t.terms for t in first.themes] == [t.terms for t in again.themes]


def test_themes_are_cached_per_version_and_k(
    fresh: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ex.themes(fresh, k=4)
    assert not first.from_cache
    assert (fresh.version.folder / DERIVED / "themes-k4.npz").is_file()

    def boom(*args, **kwargs):
        raise AssertionError("k-means ran again")

    monkeypatch.setattr(ex, "_kmeans", boom)
    again = ex.themes(Searcher.open(fresh.version.index_dir), k=4)
    assert again.from_cache and np.array_equal(first.labels, again.labels)
    with pytest.raises(AssertionError, match="k-means ran again"):
        ex.themes(fresh, k=3)  # another k is another file


# -- the corpus map -------------------------------------------------------------------------


def test_map_is_computed_once_then_loaded(fresh: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ex.corpus_map(fresh, "pca")
    ids, _ = ex.embeddings(fresh)
    assert first.method == "pca" and not first.from_cache
    assert first.ids == tuple(ids) and first.xy.shape == (len(ids), 2)
    assert first.xy.dtype == np.float32 and np.ptp(first.xy, axis=0).min() > 0
    assert first.version == fresh.version.version
    assert (fresh.version.folder / DERIVED / "map-pca.npz").is_file()
    assert [p["id"] for p in first.points()] == ids
    assert first.points()[0]["x"] == pytest.approx(float(first.xy[0, 0]))

    def boom(x):
        raise AssertionError("PCA ran again")

    monkeypatch.setattr(ex, "_project_pca", boom)
    # Another searcher on the same version (as another process would open it) loads the file.
    again = ex.corpus_map(Searcher.open(fresh.version.index_dir), "pca")
    assert again.from_cache and np.array_equal(again.xy, first.xy) and again.ids == first.ids


def test_a_new_version_gets_its_own_map(fresh: Searcher, tmp_path: Path) -> None:
    old = ex.corpus_map(fresh, "pca")
    extra = _write_jsonl(
        tmp_path / "extra.jsonl",
        [{"id": "x1", "question": "Why do I wake at 4am?", "answer": "Early waking and worry."}],
    )
    add_sources([extra], fresh.version.index_dir, HashEmbedder())
    newer = Searcher.open(fresh.version.index_dir)
    assert newer.version.version != old.version
    new = ex.corpus_map(newer, "pca")
    assert not new.from_cache and new.version == newer.version.version
    assert len(new.ids) == len(old.ids) + 1 and "x1" in new.ids
    assert (newer.version.folder / DERIVED / "map-pca.npz").is_file()


def test_an_unwritable_version_folder_falls_back_to_memory(fresh: Searcher) -> None:
    # A plain file where the derived/ folder would go: nothing can be written (even as root).
    (fresh.version.folder / DERIVED).write_text("not a folder")
    first = ex.corpus_map(fresh, "pca")
    second = ex.corpus_map(fresh, "pca")
    assert not first.from_cache and not second.from_cache
    assert np.array_equal(first.xy, second.xy)
    assert ex.themes(fresh, k=3).k == 3


def test_a_damaged_cache_file_is_recomputed(fresh: Searcher) -> None:
    good = ex.corpus_map(fresh, "pca")
    path = fresh.version.folder / DERIVED / "map-pca.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    again = ex.corpus_map(fresh, "pca")
    assert not again.from_cache and np.array_equal(again.xy, good.xy)
    assert ex.corpus_map(fresh, "pca").from_cache  # and written back whole


def test_auto_map_method(fresh: Searcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex, "umap_available", lambda: False)
    assert ex.corpus_map(fresh).method == "pca"
    # With UMAP "installed", a corpus under 50 passages still gets PCA.
    monkeypatch.setattr(ex, "umap_available", lambda: True)
    build_index([SEED], tmp_path / "small", HashEmbedder())
    assert ex.corpus_map(Searcher.open(tmp_path / "small")).method == "pca"
    with pytest.raises(ex.UnknownMapMethod, match="pca"):
        ex.corpus_map(fresh, "tsne")


def test_umap_without_umap_learn_is_a_one_line_error(
    fresh: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # umap-learn is installed with the dev extra: simulate its absence (None in sys.modules makes
    # both find_spec and import report it missing), so the real check runs too.
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ex.MapUnavailable) as info:
        ex.corpus_map(fresh, "umap")
    line = info.value.one_line()
    assert "\n" not in line and "umap-learn" in line and 'pip install -e ".[umap]"' in line
    assert not (fresh.version.folder / DERIVED / "map-umap.npz").exists()


def test_umap_map_when_installed(fresh: Searcher) -> None:
    pytest.importorskip("umap")
    first = ex.corpus_map(fresh, "umap")
    assert first.method == "umap" and first.xy.shape == (len(first.ids), 2)
    assert np.isfinite(first.xy).all()
    assert ex.corpus_map(fresh, "auto").method == "umap"  # 127 passages, umap-learn present
    again = ex.corpus_map(Searcher.open(fresh.version.index_dir), "umap")
    assert again.from_cache and np.array_equal(again.xy, first.xy)


# -- near-duplicates and question cards -----------------------------------------------------

SLEEP = (
    "Sleep problems often follow stress. Keep a regular bedtime, avoid screens for an hour "
    "before bed, write down the worries that keep you awake, and get up at the same time every "
    "morning even after a bad night. If the pattern lasts for weeks, talk to your doctor about "
    "it, because poor sleep and low mood feed each other."
)


@pytest.fixture()
def dup_searcher(tmp_path: Path) -> Searcher:
    rows = [
        {"id": "sleep", "question": "How can I sleep better?", "answer": SLEEP},
        {
            "id": "sleep-copy",
            "question": "How can I sleep better?",
            "answer": SLEEP.replace("regular bedtime", "steady bedtime"),
        },
        {
            "id": "grief",
            "question": "How long does grief last?",
            "answer": "Grief has no schedule. Many people find the first anniversary of a loss "
            "hard, and waves of sadness can return for years; that is normal, not a failure.",
        },
        {
            "id": "work",
            "question": "My boss yells at me",
            "answer": "Write down what happens at work, ask for feedback in private meetings, "
            "and look into what your company's human resources office offers employees.",
        },
    ]
    corpus = _write_jsonl(tmp_path / "dups.jsonl", rows)
    build_index([corpus], tmp_path / "ix", HashEmbedder())
    return Searcher.open(tmp_path / "ix")


def test_near_duplicates_group_and_distinct_ones_do_not(dup_searcher: Searcher) -> None:
    hits = dup_searcher.search("sleep better bedtime worries grief work", k=10, mode="dense")
    assert len(hits) == 4
    groups = ex.group_near_duplicates(dup_searcher, hits)
    by_lead = {g.lead.passage.id: [d.passage.id for d in g.duplicates] for g in groups}
    first_sleep = next(h.passage.id for h in hits if h.passage.id.startswith("sleep"))
    other_sleep = ({"sleep", "sleep-copy"} - {first_sleep}).pop()
    assert by_lead == {first_sleep: [other_sleep], "grief": [], "work": []}
    # Order kept: groups in the order of their leads.
    ranks = [g.lead.rank for g in groups]
    assert ranks == sorted(ranks)
    # The threshold decides: above any cosine nothing groups, at -1 everything does.
    assert len(ex.group_near_duplicates(dup_searcher, hits, threshold=1.01)) == 4
    everything = ex.group_near_duplicates(dup_searcher, hits, threshold=-1.0)
    assert len(everything) == 1 and len(everything[0].duplicates) == 3
    assert ex.group_near_duplicates(dup_searcher, []) == []


def test_question_cards_gather_answers_to_one_question(shared: Searcher) -> None:
    hits = shared.search("can I change my feeling of being worthless", k=10)
    cards = ex.question_cards(shared, hits)
    table = ex.passage_table(shared)
    # Every hit is on exactly one card, cards in the order of their best hit.
    assert sorted(h.passage.id for c in cards for h in c.hits) == sorted(h.passage.id for h in hits)
    firsts = [c.hits[0].rank for c in cards]
    assert firsts == sorted(firsts) and firsts[0] == 1
    assert len(cards) < len(hits)  # the sample has many answers per question
    for card in cards:
        assert [h.rank for h in card.hits] == sorted(h.rank for h in card.hits)
        assert {h.passage.question for h in card.hits} == {card.question}
        same = {p["id"] for p in table if p["question"] == card.question}
        assert {a.id for a in card.answers} == same
        assert {h.passage.id for h in card.hits} <= same
        positions = [a.position for a in card.answers]
        assert positions == sorted(positions)


def test_a_hit_without_siblings_is_a_card_of_one(shared: Searcher) -> None:
    hits = shared.search("psychotherapy resistance", k=3, mode="lexical")
    seed_hit = next(h for h in hits if re.search(r"resistance", h.passage.question, re.I))
    [card] = ex.question_cards(shared, [seed_hit])
    assert card.hits == (seed_hit,) and card.answers == (seed_hit.passage,)
