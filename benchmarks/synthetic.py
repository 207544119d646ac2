"""Synthetic MiniLM-like vectors, and the vector-store measurements made on them, for
benchmarks/scale.py, benchmarks/scale_product.py, benchmarks/backends.py and benchmarks/hubness.py:
exact top 10 and searches timed one query at a time, as the engine searches."""

from __future__ import annotations

import time

import faiss
import numpy as np

from index.vectors import FaissStore
from search import RankingConfig

DIM = 384
FETCH = 2 * RankingConfig().candidates  # what the engine asks of the vector store per query


def synthetic(n: int, nq: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(corpus, queries, cluster of each corpus row then each query): unit vectors in 384 dims.

    Each vector mixes a direction shared by all (sentence embeddings are anisotropic: random
    pairs have cosine ~0.1), the centre of one of n/100 clusters (themselves grouped into
    topics), a point of a 64-dim Gaussian with a 1/sqrt(i) spectrum shared by all clusters (so
    topics shade into each other instead of forming separate islands) and isotropic noise. The
    weights were fitted to all-MiniLM-L6-v2 embeddings of the 14,446 distinct sentences of the
    bundled CounselChat corpus: nearest-neighbour cosine p10/p50/p90 0.56/0.64/0.73 (real
    0.54/0.65/0.78), random pairs 0.11 (0.12), and IVF recall@10 at nlist 240 of 0.44/0.77/0.96
    at nprobe 2/8/32 (real 0.59/0.84/0.96): if anything harder for IVF than the real vectors.
    """
    rng = np.random.default_rng(seed)
    total = n + nq
    n_clusters = max(10, n // 100)
    n_topics = max(3, n_clusters // 10)
    rank = 64

    def unit(x: np.ndarray) -> np.ndarray:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    mean = unit(rng.standard_normal((1, DIM), dtype=np.float32))
    topics = unit(rng.standard_normal((n_topics, DIM), dtype=np.float32))
    parent = rng.integers(0, n_topics, n_clusters)
    centres = unit(topics[parent] + unit(rng.standard_normal((n_clusters, DIM), dtype=np.float32)))
    weights = rng.lognormal(0.0, 1.0, n_clusters)  # clusters of uneven size, as topics are
    labels = rng.choice(n_clusters, total, p=weights / weights.sum())
    basis = np.linalg.qr(rng.standard_normal((DIM, rank)))[0].T.astype(np.float32)
    spectrum = (np.arange(1, rank + 1) ** -0.5).astype(np.float32)
    spectrum /= np.linalg.norm(spectrum)
    x = np.empty((total, DIM), dtype=np.float32)
    for start in range(0, total, 100_000):  # in blocks: the temporaries stay small at 1M
        end = min(total, start + 100_000)
        z = rng.standard_normal((end - start, rank), dtype=np.float32) * spectrum
        noise = rng.standard_normal((end - start, DIM), dtype=np.float32) / np.sqrt(DIM)
        x[start:end] = 0.35 * mean + 0.5 * centres[labels[start:end]] + z @ basis + 0.2 * noise
    unit(x)
    return x[:n], x[n:], labels


def exact_top10(queries: np.ndarray, corpus: np.ndarray) -> np.ndarray:
    """Exact top-10 rows by inner product (BLAS, no index: no second copy of the corpus)."""
    return faiss.knn(queries, corpus, 10, metric=faiss.METRIC_INNER_PRODUCT)[1]


def timed_search(
    store: FaissStore, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[list[float], np.ndarray]:
    """One query at a time, as the engine searches: (milliseconds each, ids found)."""
    ms, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = store.search(q[None, :], k, allowed)
        ms.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0, :10])
    return ms, np.array(found)
