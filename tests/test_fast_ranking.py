"""The in-memory ranking tables and BM25 arrays agree with the SQLite queries they replace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import open_index
from index import publish as pub
from index.bm25 import LexicalArrays
from search import Searcher, scores
from search.lexical import match_expression, query_terms

QUERIES = [
    "I feel anxious and can't sleep",
    "my husband doesn't listen to me",
    "feelings of worthlessness",
    "Naïve questions about therapy costs",
    "grief after losing my mother",
    "what is it",  # stop words only
    "zzzzqx unknownword",  # matches nothing
    "depression depressed depressing",  # three words, one stem: three phrases in FTS5
]


@pytest.fixture()
def version(hash_index: Path):
    v = open_index(hash_index)
    yield v
    v.close()


@pytest.mark.parametrize("query", QUERIES)
def test_bm25_arrays_equal_fts5(version, query: str) -> None:
    """Same rows, same order, same scores as FTS5's bm25(), with and without a filter."""
    match = match_expression(query)
    arrays = version.lexical
    assert arrays is not None
    allowed = np.arange(0, version.manifest.passages, 3, dtype=np.int64)
    for rows in (None, allowed):
        want = version.passages.bm25(match, 10_000, None if rows is None else rows.tolist())
        got = arrays.search(query_terms(query), 10_000, rows)
        assert got is not None
        assert list(got) == list(want)
        assert np.allclose(list(got.values()), list(want.values()), rtol=1e-12, atol=1e-12)
    top = arrays.search(query_terms(query), 5)
    assert list(top) == list(version.passages.bm25(match, 10_000))[:5]


def test_bm25_arrays_saved_with_each_version(version) -> None:
    """The build writes the arrays; loading them gives the same answers as reading FTS5."""
    path = version.folder / pub.LEXICAL
    assert path.is_file()
    saved, fresh = LexicalArrays.load(path), LexicalArrays.from_db(version.passages.conn)
    assert saved.terms == fresh.terms
    for name in ("ptr", "docs", "tf", "doclen"):
        assert np.array_equal(getattr(saved, name), getattr(fresh, name))


def test_damaged_bm25_file_falls_back_to_fts5(hash_index: Path) -> None:
    v = open_index(hash_index)
    (v.folder / pub.LEXICAL).write_bytes(b"not a zip")
    try:
        terms = query_terms(QUERIES[0])
        assert v.lexical is not None
        assert list(v.lexical.search(terms, 50)) == list(
            v.passages.bm25(match_expression(QUERIES[0]), 50)
        )
    finally:
        v.close()


def test_tables_match_the_database(version) -> None:
    store, tables = version.passages, version.tables
    rows = np.array([0, 3, 7, 11, 40], dtype=np.int64)
    chunks, owner, offsets, lens = tables.chunks_of(rows)
    want = store.chunks_of(rows.tolist())
    assert chunks.tolist() == [c for c, *_ in sorted(want, key=lambda c: (c[1], c[0]))]
    assert rows[owner].tolist() == [r for _, r, *_ in sorted(want, key=lambda c: (c[1], c[0]))]
    assert lens.sum() == len(want) and offsets[0] == 0
    every = np.arange(version.manifest.passages, dtype=np.int64)
    groups = store.siblings(every.tolist())
    for row in every.tolist():
        members = tables.siblings(np.array([row]))
        assert members.tolist() == groups.get(row, [row])
    ids = {row: p.id for row, p in store.by_rows(every.tolist()).items()}
    assert [ids[r] for r in every[np.argsort(tables.id_rank[every])].tolist()] == sorted(
        ids.values()
    )


def test_group_boost_lifts_siblings_by_their_best() -> None:
    values = np.array([1.0, 3.0, 2.0, 0.5])
    groups = np.array([7, 7, 9, 5])
    out = scores.group_boost(values, groups, weight=1.0)
    # Rows 0 and 1 answer one question: both gain its best (3.0); lone rows gain their own.
    assert out.tolist() == [4.0, 6.0, 4.0, 1.0]


def test_fuse_standardizes_each_side() -> None:
    dense = np.array([0.9, 0.5, 0.1])
    lexical = np.array([0.0, 10.0, 20.0])
    fused = scores.fuse(dense, lexical, dense_weight=0.5)
    assert fused.tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert scores.fuse(dense, np.zeros(3), dense_weight=0.8).tolist() == pytest.approx(
        (0.8 * (dense - dense.mean()) / dense.std()).tolist()
    )


def test_filtered_hybrid_uses_only_allowed_rows(hash_index: Path) -> None:
    s = Searcher.open(hash_index)
    try:
        topic = s.facet("topic")[0][0]
        hits = s.search("anxiety and sleep", k=10, filters={"topic": [topic]}, explain=False)
        assert hits
        assert all(h.passage.metadata.get("topic", "").lower() == topic.lower() for h in hits)
    finally:
        s.close()
