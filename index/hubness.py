"""Hub radii of the stored windows, for hubness-corrected dense scores (CSLS).

In a high-dimensional embedding space some vectors are "hubs": generic texts (an answer that
says a little about everything) sit close to very many queries and crowd the top of plain
cosine rankings whatever was asked. Cross-domain similarity local scaling (CSLS; Conneau et al.
2018, "Word translation without parallel data") corrects for it: a window's radius r(w) is the
mean cosine of w to its K nearest neighbours, and a query is scored against w by
cos(q, w) - r(w) / 2 (the paper's 2 cos - r_q - r_w, without r_q, which is the same for every
window of one query and so changes no ranking). The paper takes the neighbours among the
queries; a search engine has no query set (and must not keep one), so they are taken among the
windows of the other passages, which stand in for what gets asked; a long answer's own windows
do not inflate its radius.

The radii depend only on the corpus, so they are computed when a version is built and saved with
it (`hubness.npy`, one float32 per window id). Exact k-NN up to EXACT_MAX_WINDOWS (8.5 s for
50,000 windows on the 2-core reference machine); above that an inverted-file search, whose
missed neighbours make a radius a little low but leave the correction's effect intact. Effect on
the bench tasks: docs/quality.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

# K of CSLS: the paper's default. On the bench dev queries K = 5 and 10 gave the same gains
# within noise (docs/quality.md).
NEIGHBOURS = 10
# Exact neighbours below this many windows; an IVF search above it.
EXACT_MAX_WINDOWS = 50_000
# Lists probed by the approximate search (of about 4 * sqrt(n) lists).
APPROX_NPROBE = 8
# A passage's own windows are left out of its windows' neighbours; this bounds how many extra
# neighbours are fetched to make room for them (a passage with more windows than this keeps
# a few of its own among its windows' neighbours).
MAX_OWN_WINDOWS = 64

# Windows searched at a time (their neighbour lists: BLOCK * (k + 1 + own) ids and cosines).
BLOCK = 32_768


def window_radii(
    vectors: np.ndarray, owner: np.ndarray, k: int = NEIGHBOURS, exact_max: int | None = None
) -> np.ndarray:
    """For each window (a row of the L2-normalized `vectors`, owned by passage `owner[i]`) the
    mean cosine to its k nearest windows of other passages (fewer when the corpus has fewer;
    0.0 for a window with none)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    owner = np.asarray(owner, dtype=np.int64)
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    own = min(int(np.bincount(owner).max()) - 1, MAX_OWN_WINDOWS)
    fetch = min(n, k + 1 + own)  # + 1: the window itself
    exact_max = EXACT_MAX_WINDOWS if exact_max is None else exact_max
    index = _exact(vectors) if n <= exact_max else _approximate(vectors)
    radii = np.zeros(n, dtype=np.float32)
    # In blocks, so the neighbour lists of a million windows are never all in memory at once.
    for start in range(0, n, BLOCK):
        end = min(n, start + BLOCK)
        sims, ids = index.search(vectors[start:end], fetch)
        # Missing neighbours (-1 from an approximate search) and a passage's own windows are
        # masked, then the k best valid ones of each row kept (results come best first).
        valid = (ids >= 0) & (owner[np.maximum(ids, 0)] != owner[start:end, None])
        valid &= np.cumsum(valid, axis=1) <= k
        counts = valid.sum(axis=1)
        total = np.where(valid, sims, 0.0).sum(axis=1)
        radii[start:end] = np.where(counts > 0, total / np.maximum(counts, 1), 0.0)
    return radii


def _exact(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _approximate(vectors: np.ndarray) -> faiss.Index:
    n, dim = vectors.shape
    nlist = max(1, int(4 * math.sqrt(n)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(n, min(n, nlist * 40), replace=False)
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.nprobe = APPROX_NPROBE
    return index


def save(path: Path, radii: np.ndarray) -> None:
    """Write the radii (one float32 per window id)."""
    with path.open("wb") as fh:
        np.save(fh, np.asarray(radii, dtype=np.float32), allow_pickle=False)


def load(path: Path, windows: int) -> np.ndarray | None:
    """The saved radii, or None when the version has none (built before hubness correction) or
    they do not match its window count."""
    try:
        radii = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return radii if radii.shape == (windows,) else None
