"""Two models searched as one: each window embedded by both, the dense side built from both.

A pair's vector is the two models' unit vectors side by side, each scaled by the square root of
its weight, then L2-normalized as a whole. The inner product of two such vectors is then

    (w1 * cos1 + w2 * cos2) / (w1 + w2)

a weighted mean of the two models' cosines: still a cosine-like score in [-1, 1], so everything
built on unit vectors and inner products (FAISS, the hub radii, related passages, the map) works
unchanged, and one search finds both models' neighbours (index/models.py has each pair's
weights and how they were chosen).

Windows are cut by the first model's tokenizer to its word-piece limit; the second model reads
each window up to its own limit (bge-small reads as many as MiniLM; behind all-mpnet-base-v2 it
reads the first 254 of up to 382).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

Progress = Callable[[int, int], None]


class PairEmbedder:
    """The Embedder protocol over two embedders (see the module docstring)."""

    def __init__(self, name: str, first, second, weights: Sequence[float]) -> None:
        self.name = name
        self.first, self.second = first, second
        self.dim = first.dim + second.dim
        self.max_tokens = first.max_tokens
        self._scale = np.sqrt(np.asarray(weights, dtype=np.float32) / float(sum(weights)))
        # One fingerprint for the pair: both weight files and the weights (the cache of
        # embeddings keys on it, so a change of any gives new vectors).
        joined = f"{first.fingerprint}|{second.fingerprint}|{tuple(weights)}"
        self.fingerprint = "pair:" + hashlib.sha256(joined.encode()).hexdigest()
        self.parts = (first, second)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pair-query")

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self.first.token_spans(text)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """Both models' vectors of each text, joined (progress counts both passes)."""
        total = len(texts)

        def part(done: int) -> Progress | None:
            if progress is None:
                return None
            return lambda n, _t: progress(done + n, 2 * total)

        a = self.first.encode(texts, batch_size=batch_size, progress=part(0))
        b = self.second.encode(texts, batch_size=batch_size, progress=part(total))
        return self.join(a, b)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries as each model wants them (bge-small prefixes an instruction), both models at
        once: a query is too short for one model to use both cores, and both runtimes release
        the GIL, so a query waits for the slower model rather than for the two in turn."""
        second = self._pool.submit(encode_queries, self.second, texts)
        return self.join(encode_queries(self.first, texts), second.result())

    def join(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The pair's vectors from each model's unit vectors (rows in the same order)."""
        return np.hstack([a * self._scale[0], b * self._scale[1]]).astype(np.float32)


def encode_queries(embedder, texts: Sequence[str]) -> np.ndarray:
    """An embedder's query vectors: its own `encode_queries` when it has one (a model that
    prefixes queries), else its plain `encode`."""
    method = getattr(embedder, "encode_queries", None)
    return method(list(texts)) if method is not None else embedder.encode(list(texts))
