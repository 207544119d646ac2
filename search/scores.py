"""Model-free score math: window aggregation, score normalization, fusion, answer groups, and
the weak-match threshold. Plain functions of arrays and numbers; the numbers come from the
searcher's RankingConfig (search/config.py)."""

from __future__ import annotations

import numpy as np

from index.models import weak_cosine


def weak_threshold(model_name: str) -> float:
    """The weak-match cosine threshold for a model: a hit whose best window is below it is a
    weak match (nothing in the corpus really answers the query). Per model, from the registry
    (index/models.py), since cosine scales differ between models."""
    return weak_cosine(model_name)


def window_score(first: np.ndarray, best: np.ndarray, aggregation: str = "mean") -> np.ndarray:
    """A passage's dense score from its window cosines (search.config.WINDOW_AGGREGATIONS).

    "mean", the default: the mean of its opening window (the passage as a whole, as far as the
    model reads) and its best window (the part that matches best), so later text counts without
    letting one lucky window outrank a whole answer. "opening" or "best": that window alone.
    """
    if aggregation == "opening":
        return first
    if aggregation == "best":
        return best
    return (first + best) / 2.0


def zscore(values: np.ndarray) -> np.ndarray:
    """Standardize scores over the candidate set: cosines and BM25 live on different scales,
    and z-scores make a weighted sum of the two meaningful per query."""
    arr = np.asarray(values, dtype=np.float64)
    if not arr.size:
        return arr
    std = float(arr.std())
    if std < 1e-12:
        return np.zeros_like(arr)
    return (arr - float(arr.mean())) / std


def fuse(dense: np.ndarray, lexical: np.ndarray, dense_weight: float) -> np.ndarray:
    """Weighted sum of z-normalized dense and lexical scores of the same candidates (aligned
    arrays); the lexical part gets 1 - dense_weight. A candidate that matched none of the
    query's terms has a BM25 of 0."""
    return dense_weight * zscore(dense) + (1 - dense_weight) * zscore(lexical)


def group_boost(scores: np.ndarray, groups: np.ndarray, weight: float) -> np.ndarray:
    """Lift every answer by `weight` times the best score among the candidates answering the
    same question (`groups[i]` is candidate i's question group; a lone answer counts as its own
    best).

    On Q&A sites one question has several answers, all relevant when the question is: a strong
    match on one answer is evidence for its siblings.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if not scores.size:
        return scores
    _, owner = np.unique(groups, return_inverse=True)
    best = np.full(int(owner.max()) + 1, -np.inf)
    np.maximum.at(best, owner, scores)
    return scores + weight * best[owner]
