"""Vector storage behind a small interface; FAISS is the embedded default.

Vectors are L2-normalized and compared by inner product, which equals cosine similarity on
normalized vectors, so scores are cosines in [-1, 1] and never L2 distances.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np


class VectorStore(Protocol):
    """Add, delete, search with an allow-list, count, save: what the index needs of a backend."""

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def delete(self, ids: np.ndarray) -> int: ...
    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...
    def get(self, ids: np.ndarray) -> np.ndarray: ...
    def count(self) -> int: ...
    def save(self, path: Path) -> None: ...


class FaissStore:
    """Exact inner-product search keyed by passage row id (IndexIDMap2 over IndexFlatIP)."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index
        self.dim = int(index.d)

    @classmethod
    def create(cls, dim: int) -> FaissStore:
        """An empty store for vectors of this dimension."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def open(cls, path: Path) -> FaissStore:
        """Read a store written by `save`."""
        return cls(faiss.read_index(str(path)))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given int64 ids."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def delete(self, ids: np.ndarray) -> int:
        """Remove vectors by id; returns how many were removed."""
        return int(self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; `allowed` restricts the candidates *before* the cut,
        so a filtered search still returns k hits when k exist. Missing slots have id -1."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, self.count()))
        if allowed is None:
            return self.index.search(queries, k)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        return self.index.search(queries, k, params=faiss.SearchParameters(sel=selector))

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors for these ids, in order."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if ids.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.index.reconstruct_batch(ids), dtype=np.float32)

    def count(self) -> int:
        """Number of stored vectors."""
        return int(self.index.ntotal)

    def save(self, path: Path) -> None:
        """Write the store to one file."""
        faiss.write_index(self.index, str(path))
