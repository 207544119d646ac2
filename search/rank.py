"""One query ranked against one index version: candidates, dense window scores, the top k of a
mode, with the settings of a RankingConfig (search/config.py) and the math of search/scores.py.

Everything here works on numpy arrays of passage rows (index.tables), not on per-passage Python
objects: a hybrid query scores a few hundred candidates, and per-row Python work and SQLite
round trips cost more than the query's encode did (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index import IndexVersion
from search import scores as sc
from search.config import RankingConfig

# Scores closer than this count as tied and are ordered by passage id, so the same query on the
# same index always gives the same order (float noise would otherwise decide).
TIE_DECIMALS = 6


@dataclass(frozen=True)
class DenseScores:
    """Dense scores of passages (aligned arrays): `score` aggregates a passage's hubness-
    corrected window cosines, `best` is its highest plain window cosine and [start, end) the span
    of its best window (by corrected cosine) in the answer."""

    rows: np.ndarray
    score: np.ndarray
    best: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def take(self, positions: np.ndarray) -> DenseScores:
        """These entries, in this order."""
        return DenseScores(*(a[positions] for a in self._arrays()))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.rows, self.score, self.best, self.start, self.end


@dataclass(frozen=True)
class Ranked:
    """The top rows of a query, best first, with their score parts aligned."""

    rows: np.ndarray
    scores: np.ndarray
    dense: DenseScores
    lexical: np.ndarray  # BM25 of each row (0: no query term in it)


def dense_scores(
    version: IndexVersion,
    vector: np.ndarray,
    rows: np.ndarray,
    config: RankingConfig,
    radii: np.ndarray | None,
) -> DenseScores:
    """Exact dense scores of these passages from all their windows (rows without windows
    are left out). `radii` are the windows' hub radii over config.hub_neighbours (None: plain
    cosines)."""
    tables = version.tables
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[tables.row_ptr[rows + 1] > tables.row_ptr[rows]]
    if not rows.size:
        empty = np.zeros(0)
        return DenseScores(rows, empty, empty, rows, rows)
    chunks, owner, offsets, _ = tables.chunks_of(rows)
    cos = (version.vectors.get(chunks) @ vector).astype(np.float64)
    # Windows are ranked by their hubness-corrected cosine (index/hubness.py); the weak-match
    # signal keeps the plain cosine its threshold was calibrated on.
    adjusted = cos - config.hub_weight * radii[chunks] if radii is not None else cos
    best = np.maximum.reduceat(adjusted, offsets)
    # A row's first window is its opening; its matched span is its first best window.
    at = np.minimum.reduceat(
        np.where(adjusted == best[owner], np.arange(cos.size), cos.size), offsets
    )
    return DenseScores(
        rows,
        sc.window_score(adjusted[offsets], best, config.window_aggregation),
        np.maximum.reduceat(cos, offsets),
        tables.chunk_start[chunks[at]],
        tables.chunk_end[chunks[at]],
    )


def allowed_chunks(version: IndexVersion, allowed: np.ndarray | None) -> np.ndarray | None:
    """The windows of the allowed passages (None: no filter)."""
    return None if allowed is None else version.tables.chunks_of(allowed)[0]


def candidate_rows(
    version: IndexVersion, vector: np.ndarray, n: int, chunks: np.ndarray | None
) -> np.ndarray:
    """The ~n passages with the best windows, best first, among the allowed `chunks`."""
    total = version.vectors.count() if chunks is None else len(chunks)
    # Several windows may belong to one passage: widen the chunk search until it covers n
    # distinct passages (or every chunk), so filtered searches still fill k.
    fetch = n * 2
    while True:
        _, ids = version.vectors.search(vector[None, :], fetch, chunks)
        owners = version.tables.chunk_row[ids[0][ids[0] >= 0]]
        _, first = np.unique(owners, return_index=True)
        rows = owners[np.sort(first)]
        if len(rows) >= n or fetch >= total:
            return rows[:n]
        fetch *= 4


def order(version: IndexVersion, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Positions of rows by score, best first; ties by passage id, stable across rebuilds."""
    tied = np.round(np.asarray(scores, dtype=np.float64), TIE_DECIMALS)
    return np.lexsort((version.tables.id_rank[rows], -tied))


def _lookup(lexical: dict[int, float], rows: np.ndarray) -> np.ndarray:
    return np.array([lexical.get(r, 0.0) for r in rows.tolist()], dtype=np.float64)


def rank(
    version: IndexVersion,
    vector: np.ndarray,
    mode: str,
    k: int,
    candidates: np.ndarray,
    lexical: dict[int, float],
    allowed: np.ndarray | None,
    config: RankingConfig,
    radii: np.ndarray | None,
) -> Ranked:
    """Top k of a mode. `candidates` are the dense side's rows, `lexical` the BM25 pool
    ({row: score}, best first, every match up to config.lexical_pool), `radii` the hub radii
    over config.hub_neighbours (None: plain cosines)."""
    n = max(config.candidates, k)
    dense = None
    if mode == "dense":
        dense = dense_scores(version, vector, candidates, config, radii)
        rows, scores = dense.rows, dense.score
    elif mode == "lexical":
        rows = np.fromiter(lexical, np.int64, min(n, len(lexical)))
        scores = _lookup(lexical, rows)
    else:
        # Score every candidate on both sides, answers to the same question included.
        tables = version.tables
        rows = np.union1d(candidates, np.fromiter(lexical, np.int64, min(n, len(lexical))))
        members = tables.siblings(rows)
        if allowed is not None:
            members = members[np.isin(members, allowed)]
        dense = dense_scores(version, vector, np.union1d(rows, members), config, radii)
        rows = dense.rows
        fused = sc.fuse(dense.score, _lookup(lexical, rows), config.dense_weight)
        scores = sc.group_boost(fused, tables.row_group[rows], config.same_question_weight)
    top = order(version, rows, scores)[:k]
    rows, scores = rows[top], scores[top]
    if dense is not None:
        dense = dense.take(top)
    else:
        dense = dense_scores(version, vector, rows, config, radii)
    return Ranked(rows, scores, dense, _lookup(lexical, rows))
