"""Vector storage behind a small interface; FAISS is the embedded default.

Vectors are L2-normalized and compared by inner product, which equals cosine similarity on
normalized vectors, so scores are cosines in [-1, 1] and never L2 distances.

The index type follows the corpus size, decided when a version is built (`FaissStore.build`):
below `IVF_MIN_VECTORS` an exact flat index (every query scans every vector), above it an
inverted-file index (IVF) that scans only the `nprobe` lists nearest the query. IVF rather than
HNSW because the store must reconstruct any vector by id (the search engine re-scores
candidates from `get`), which IVF with a hash-table direct map supports and HNSW does not. IVF
stores vectors as float16 (residuals from their list's centroid): half the memory and half the
scan time of float32 for the same recall, and a reconstructed vector is within 1e-4 of the
original, far below any difference a ranking shows. Measurements: docs/scale.md.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

log = logging.getLogger(__name__)

FLAT = "flat"
IVF = "ivf"
# Exact search below this many vectors. On the 2-core reference machine one flat query costs
# about 2.6 ms at 50k vectors, 6 ms at 100k and 16 ms at 200k (it grows linearly), while IVF
# costs a k-means training at build time and gives up a little recall: below 50k exact is both
# fast enough and free of those costs.
IVF_MIN_VECTORS = 50_000
# How IVF stores vectors (a FAISS scalar-quantizer name): float16, see the module docstring.
IVF_ENCODING = "SQfp16"
# k-means is trained on a sample: about 40 points per list is what FAISS asks for, and more
# only lengthens the build (training is the slowest step of an IVF build on 2 cores).
TRAIN_POINTS_PER_LIST = 40
KMEANS_ITERATIONS = 10
# nprobe is calibrated at build time with stored vectors as queries. On real MiniLM vectors
# (CounselChat sentences) that is a conservative proxy: at the nprobe it picks for 0.95, real
# question titles reach 0.960, and 0.972 at 0.96. The 0.01 above target covers the sampling
# error of 200 queries.
TARGET_RECALL = 0.95
CALIBRATION_RECALL = 0.96
CALIBRATION_QUERIES = 200
# A filter allowing at most this many ids is searched exactly among those ids: reconstructing
# a float16 vector by id costs ~1-2 us, so 1,000 take ~2 ms, about what IVF with a selector
# takes at 1M, and a tiny allow-list would leave IVF's probed lists nearly empty.
EXACT_FILTER_MAX = 1_000
# A filter thins every list, so the allowed neighbours of a query lie further out: with a
# filter allowing under a quarter of the corpus, nprobe is doubled. At 1M vectors, random
# filters from 0.5% to 10% then keep recall@10 at 0.98 or more, at 1-5 ms (docs/scale.md).
FILTER_NPROBE_FACTOR = 2
# Searches of up to this many queries at once run single-threaded (see `_threads`).
FEW_QUERIES = 4
# Overrides the nprobe recorded in the manifest when an index is opened (tuning, experiments).
NPROBE_ENV = "COUNSEL_SEARCH_NPROBE"


class VectorStore(Protocol):
    """Add, search with an allow-list, get, count, save: what the index needs of a backend."""

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...
    def get(self, ids: np.ndarray) -> np.ndarray: ...
    def count(self) -> int: ...
    def save(self, path: Path) -> None: ...


def nlist_for(n: int) -> int:
    """Number of IVF lists for n vectors: 2·sqrt(n) (2,000 at 1M).

    FAISS suggests 4 to 16·sqrt(n). At 1M, 4·sqrt(n) lists gave about the same recall per
    vector scanned as 2·sqrt(n) but more than doubled the build (k-means training, then
    assigning every vector to a list) on two cores (docs/scale.md).
    """
    return max(1, min(n, round(2 * math.sqrt(n))))


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """Run FAISS with n OpenMP threads in this thread (0: leave as is).

    A single query gains nothing from a thread team, and when the other core is busy (other
    searches, a build, other programs) the team waits for its descheduled member: measured on
    2 cores under load, a flat search of 10k vectors took 24 ms p50 with 2 threads and 0.24 ms
    with 1. OpenMP's thread count is per calling thread, so this leaves other threads alone.
    """
    if n <= 0:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _ids(ids: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(ids, dtype=np.int64).ravel()


def _f32(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32)


class FaissStore:
    """Inner-product search keyed by int64 ids (chunk ids): exact (IndexIDMap2 over IndexFlatIP)
    for small corpora, IVF (float16, with a hash-table direct map) for large ones."""

    def __init__(self, index: faiss.Index, nprobe: int | None = None) -> None:
        self.index = index
        self.dim = int(index.d)
        self._ivf = isinstance(index, faiss.IndexIVF)
        if self._ivf and nprobe:
            self.nprobe = nprobe

    @property
    def index_type(self) -> str:
        """Either "flat" (exact) or "ivf" (approximate)."""
        return IVF if self._ivf else FLAT

    @property
    def nlist(self) -> int:
        """IVF lists (0 for a flat index)."""
        return int(self.index.nlist) if self._ivf else 0

    @property
    def nprobe(self) -> int:
        """IVF lists scanned per query (0 for a flat index)."""
        return int(self.index.nprobe) if self._ivf else 0

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if not self._ivf:
            raise ValueError("nprobe applies to an IVF index only")
        self.index.nprobe = max(1, min(int(value), self.nlist))

    @classmethod
    def create(cls, dim: int) -> FaissStore:
        """An empty exact store for vectors of this dimension."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def build(
        cls, ids: np.ndarray, vectors: np.ndarray, *, nprobe: int | None = None
    ) -> FaissStore:
        """A store holding these vectors, of the type their number calls for.

        Exact below `IVF_MIN_VECTORS`; above, IVF trained on a sample of the vectors, with
        nprobe calibrated so recall@10 against exact search reaches `CALIBRATION_RECALL` on
        corpus points (or the given `nprobe`).
        """
        ids, vectors = _ids(ids), _f32(vectors)
        n, dim = vectors.shape
        if n < IVF_MIN_VECTORS:
            store = cls.create(dim)
            store.add(ids, vectors)
            return store
        nlist = nlist_for(n)
        index = faiss.index_factory(dim, f"IVF{nlist},{IVF_ENCODING}", faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = KMEANS_ITERATIONS
        # Centroids on the unit sphere: with inner product, unnormalized centroids would pull
        # queries towards the longest centroid rather than the nearest.
        index.cp.spherical = True
        index.cp.seed = 1234  # same vectors, same lists: rebuilds are reproducible
        rng = np.random.default_rng(1234)
        train = min(n, max(nlist * TRAIN_POINTS_PER_LIST, 10_000))
        sample = vectors if train == n else vectors[np.sort(rng.choice(n, train, replace=False))]
        index.train(sample)
        # A hash-table direct map lets `get` reconstruct arbitrary ids.
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        index.add_with_ids(vectors, ids)
        store = cls(index)
        store.nprobe = nprobe or store.calibrate(ids, vectors)
        log.info("IVF index: %d vectors, nlist %d, nprobe %d", n, nlist, store.nprobe)
        return store

    def calibrate(self, ids: np.ndarray, vectors: np.ndarray, target: float | None = None) -> int:
        """The smallest nprobe whose recall@10 against exact search reaches `target` (default
        `CALIBRATION_RECALL`), with stored vectors as queries (each query's own id is left out
        of both result lists)."""
        target = CALIBRATION_RECALL if target is None else target
        n = len(vectors)
        rng = np.random.default_rng(0)
        pick = rng.choice(n, min(CALIBRATION_QUERIES, n), replace=False)
        queries, own = vectors[pick], ids[pick]
        k = min(11, n)
        _, exact = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
        truth = [set(row[row != me][:10].tolist()) for row, me in zip(ids[exact], own, strict=True)]
        wanted = target * sum(len(t) for t in truth)

        def reaches(nprobe: int) -> bool:
            params = faiss.SearchParametersIVF(nprobe=nprobe)
            _, got = self.index.search(queries, k, params=params)
            hits = sum(
                len(t & set(row[(row != me) & (row >= 0)][:10].tolist()))
                for t, row, me in zip(truth, got, own, strict=True)
            )
            return hits >= wanted

        # Double until the target is reached, then bisect: recall grows with nprobe, and the
        # bisection lands within 5% of the smallest nprobe that reaches it.
        low, high = 0, 1
        while high < self.nlist and not reaches(high):
            low, high = high, min(self.nlist, high * 2)
        while high - low > max(1, high // 20):
            mid = (low + high) // 2
            low, high = (low, mid) if reaches(mid) else (mid, high)
        return high

    @classmethod
    def open(cls, path: Path, nprobe: int | None = None) -> FaissStore:
        """Read a store written by `save`; `nprobe` (or $COUNSEL_SEARCH_NPROBE) overrides the
        one saved with an IVF index."""
        override = os.environ.get(NPROBE_ENV, "").strip()
        if override.isdigit() and int(override) > 0:
            nprobe = int(override)
        elif override:
            log.warning("ignoring %s=%r: not a positive integer", NPROBE_ENV, override)
        return cls(faiss.read_index(str(path)), nprobe)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given int64 ids (to an IVF index: into its existing lists)."""
        self.index.add_with_ids(_f32(vectors), _ids(ids))

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; `allowed` restricts the candidates *before* the cut,
        so a filtered search still returns k hits when k exist. Missing slots have id -1."""
        queries = _f32(queries)
        k = max(1, min(k, self.count()))
        with _threads(1 if len(queries) <= FEW_QUERIES else 0):
            if self._ivf:
                return self._search_ivf(queries, k, allowed)
            if allowed is None:
                return self.index.search(queries, k)
            selector = faiss.IDSelectorBatch(_ids(allowed))
            return self.index.search(queries, k, params=faiss.SearchParameters(sel=selector))

    def _search_ivf(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """IVF search that widens nprobe for the queries whose probed lists held fewer than k
        (allowed) vectors; at nprobe = nlist the scan is exhaustive."""
        selector, buffer = None, None
        want = k
        nprobe = self.nprobe
        if allowed is not None:
            allowed = _ids(allowed)
            if allowed.size <= EXACT_FILTER_MAX:
                allowed = np.unique(allowed)
                try:
                    return self._search_among(queries, k, allowed)
                except RuntimeError:  # an allowed id is not stored: let the selector skip it
                    pass
            selector, buffer, n_allowed = self._selector(allowed)
            want = min(k, n_allowed)
            if n_allowed * 4 < self.count():
                nprobe = min(self.nlist, nprobe * FILTER_NPROBE_FACTOR)
        scores, ids = self.index.search(
            queries, k, params=faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        )
        short = np.flatnonzero((ids >= 0).sum(axis=1) < want)
        while short.size and nprobe < self.nlist:
            nprobe = min(self.nlist, nprobe * 4)
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
            scores[short], ids[short] = self.index.search(queries[short], k, params=params)
            short = short[(ids[short] >= 0).sum(axis=1) < want]
        del buffer  # the selector reads it until here
        return scores, ids

    def _selector(self, allowed: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray, int]:
        """A selector for the allowed ids, the array it reads (keep it alive while searching)
        and how many distinct ids it allows.

        A bitmap over the id range when ids are dense, as chunk ids are: built in ~0.4 ms for
        100k ids at 1M, where sorting them and building an IDSelectorBatch takes ~16 ms.
        """
        top = int(allowed.max()) + 1 if allowed.size else 0
        if allowed.size and allowed.min() >= 0 and top <= 64 * max(self.count(), allowed.size):
            mask = np.zeros(top, dtype=bool)
            mask[allowed] = True
            bits = np.packbits(mask, bitorder="little")  # FAISS reads bit i%8 of byte i//8
            return faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits)), bits, int(mask.sum())
        unique = np.unique(allowed)
        return faiss.IDSelectorBatch(unique), unique, int(unique.size)

    def _search_among(
        self, queries: np.ndarray, k: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k among a few allowed ids, shaped like a FAISS result (padded with -1)."""
        scores = np.full((len(queries), k), -np.finfo(np.float32).max, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        take = min(k, allowed.size)
        if take == 0:
            return scores, ids
        sims = queries @ self.get(allowed).T
        top = np.argpartition(-sims, take - 1, axis=1)[:, :take]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        scores[:, :take] = np.take_along_axis(sims, top, axis=1)
        ids[:, :take] = allowed[top]
        return scores, ids

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors for these ids, in order."""
        ids = _ids(ids)
        if ids.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.index.reconstruct_batch(ids), dtype=np.float32)

    def count(self) -> int:
        """Number of stored vectors."""
        return int(self.index.ntotal)

    def close(self) -> None:
        """Nothing to release (the index lives in memory); here for the common interface."""

    def save(self, path: Path) -> None:
        """Write the store to one file (FAISS's own format, nprobe and direct map included)."""
        faiss.write_index(self.index, str(path))
