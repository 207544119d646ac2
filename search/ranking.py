"""Model-free ranking math: window aggregation, score normalization, fusion, answer groups."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

MODES = ("hybrid", "dense", "lexical")
DEFAULT_MODE = "hybrid"
# Weight of the dense part in the hybrid score (lexical gets 1 - ALPHA). Tuned on the dev queries
# of the four bench tasks; see docs/quality.md for the sweep.
ALPHA = 0.8
# How much the best answer to the same question lifts its sibling answers.
GROUP_WEIGHT = 1.0
# A hit whose best window has a cosine below its model's threshold is a weak match: nothing in
# the corpus really answers the query. Cosine scales differ between models, so the threshold is
# per model, calibrated on the bench dev queries (docs/quality.md, "Weak matches"); a model not
# listed uses the default model's.
WEAK_COSINE = {"all-MiniLM-L6-v2": 0.30, "hash-test": 0.30}


def weak_threshold(model_name: str) -> float:
    """The weak-match cosine threshold for a model."""
    return WEAK_COSINE.get(model_name, WEAK_COSINE["all-MiniLM-L6-v2"])


# Candidates taken from each side before fusion.
CANDIDATES = 100
# BM25 scores kept per query, so that dense candidates have theirs without a second FTS5 pass.
LEXICAL_POOL = 10_000


def window_score(first: float, best: float) -> float:
    """A passage's dense score from its window cosines: the mean of its opening window (the
    passage as a whole, as far as the model reads) and its best window (the part that matches
    best), so later text counts without letting one lucky window outrank a whole answer."""
    return (first + best) / 2.0


def zscore(values: Mapping[int, float]) -> dict[int, float]:
    """Standardize scores over the candidate set: cosines and BM25 live on different scales,
    and z-scores make a weighted sum of the two meaningful per query."""
    if not values:
        return {}
    keys = list(values)
    arr = np.fromiter((values[k] for k in keys), dtype=np.float64, count=len(keys))
    std = float(arr.std())
    if std < 1e-12:
        return dict.fromkeys(keys, 0.0)
    z = (arr - float(arr.mean())) / std
    return dict(zip(keys, z.tolist(), strict=True))


def fuse(
    dense: Mapping[int, float], lexical: Mapping[int, float], alpha: float | None = None
) -> dict[int, float]:
    """Weighted sum of z-normalized dense and lexical scores over the union of candidates.

    A candidate absent from the lexical side matched none of the query's terms: its BM25 is 0.
    """
    alpha = ALPHA if alpha is None else alpha  # read at call time, so it can be tuned
    rows = set(dense) | set(lexical)
    dz = zscore({r: dense.get(r, 0.0) for r in rows})
    lz = zscore({r: lexical.get(r, 0.0) for r in rows})
    return {r: alpha * dz[r] + (1 - alpha) * lz[r] for r in rows}


def group_boost(
    scores: Mapping[int, float], groups: Mapping[int, list[int]], weight: float | None = None
) -> dict[int, float]:
    """Lift every answer by the best score among the answers to the same question.

    On Q&A sites one question has several answers, all relevant when the question is: a strong
    match on one answer is evidence for its siblings.
    """
    weight = GROUP_WEIGHT if weight is None else weight
    out = {}
    for row, score in scores.items():
        members = groups.get(row)
        best = max((scores[m] for m in members if m in scores), default=score) if members else score
        out[row] = score + weight * best
    return out
