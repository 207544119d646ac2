"""Model-free ranking math: window aggregation, score normalization, fusion, answer groups."""

from __future__ import annotations

import numpy as np

from index.models import weak_cosine

MODES = ("hybrid", "dense", "lexical")
DEFAULT_MODE = "hybrid"
# Weight of the dense part in the hybrid score (lexical gets 1 - ALPHA). Tuned on the dev queries
# of the four bench tasks; see docs/quality.md for the sweep.
ALPHA = 0.8
# How much the best answer to the same question lifts its sibling answers.
GROUP_WEIGHT = 1.0


def weak_threshold(model_name: str) -> float:
    """The weak-match cosine threshold for a model: a hit whose best window is below it is a
    weak match (nothing in the corpus really answers the query). Per model, from the registry
    (index/models.py), since cosine scales differ between models."""
    return weak_cosine(model_name)


# Hubness correction of dense scores (CSLS, index/hubness.py): a window scores its cosine to the
# query minus this times its hub radius. 0.5 is CSLS's own formula (2 cos - r_q - r_w, halved),
# not a tuned value; docs/quality.md shows the effect and nearby weights. 0 turns it off.
HUB_WEIGHT = 0.5

# Candidates taken from each side before fusion.
CANDIDATES = 100
# BM25 scores kept per query, so that dense candidates have theirs without a second FTS5 pass.
LEXICAL_POOL = 10_000


def window_score(first: float, best: float) -> float:
    """A passage's dense score from its window cosines: the mean of its opening window (the
    passage as a whole, as far as the model reads) and its best window (the part that matches
    best), so later text counts without letting one lucky window outrank a whole answer."""
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


def fuse(dense: np.ndarray, lexical: np.ndarray, alpha: float | None = None) -> np.ndarray:
    """Weighted sum of z-normalized dense and lexical scores of the same candidates (aligned
    arrays). A candidate that matched none of the query's terms has a BM25 of 0."""
    alpha = ALPHA if alpha is None else alpha  # read at call time, so it can be tuned
    return alpha * zscore(dense) + (1 - alpha) * zscore(lexical)


def group_boost(scores: np.ndarray, groups: np.ndarray, weight: float | None = None) -> np.ndarray:
    """Lift every answer by the best score among the candidates answering the same question
    (`groups[i]` is candidate i's question group; a lone answer counts as its own best).

    On Q&A sites one question has several answers, all relevant when the question is: a strong
    match on one answer is evidence for its siblings.
    """
    weight = GROUP_WEIGHT if weight is None else weight
    scores = np.asarray(scores, dtype=np.float64)
    if not scores.size:
        return scores
    _, owner = np.unique(groups, return_inverse=True)
    best = np.full(int(owner.max()) + 1, -np.inf)
    np.maximum.at(best, owner, scores)
    return scores + weight * best[owner]
