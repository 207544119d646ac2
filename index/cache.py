"""Embedding cache: vectors keyed by (model fingerprint, sha256 of the exact text embedded).

It lives beside the versions (INDEX_DIR/embeddings.sqlite), so every build reuses what earlier
builds embedded: adding one document embeds only its windows, and a rebuild with nothing changed
embeds nothing. Only a build writes it, under the build lock.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FILE = "embeddings.sqlite"
# Old entries are pruned past this many times the current index's vector count (least recently
# used first), so removed documents re-added soon are still free, and the file stays bounded.
KEEP_FACTOR = 3
MIN_KEEP = 50_000


def text_key(text: str) -> bytes:
    """The cache key of a text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """A small SQLite table of float32 vectors."""

    def __init__(self, path: Path, fingerprint: str, dim: int) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.dim = dim
        self.conn = sqlite3.connect(path)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key BLOB NOT NULL, "
            "vec BLOB NOT NULL, used REAL NOT NULL, PRIMARY KEY (model, key))"
        )

    @classmethod
    def open(cls, index_dir: Path, fingerprint: str, dim: int) -> EmbeddingCache:
        """The cache of an index directory (created if missing)."""
        index_dir.mkdir(parents=True, exist_ok=True)
        return cls(index_dir / FILE, fingerprint, dim)

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Cached vectors for these keys (missing keys are absent)."""
        out: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            sql = (
                "SELECT key, vec FROM vectors WHERE model = ? AND key IN "
                f"({','.join('?' * len(part))})"
            )
            for key, blob in self.conn.execute(sql, [self.fingerprint, *part]):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.size == self.dim:  # a damaged row is simply a miss
                    out[bytes(key)] = vec
        now = time.time()
        with self.conn:
            self.conn.executemany(
                "UPDATE vectors SET used = ? WHERE model = ? AND key = ?",
                ((now, self.fingerprint, k) for k in out),
            )
        return out

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors; committed at once, so a killed build keeps what it embedded."""
        now = time.time()
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO vectors(model, key, vec, used) VALUES (?, ?, ?, ?)",
                (
                    (self.fingerprint, k, np.asarray(v, dtype=np.float32).tobytes(), now)
                    for k, v in zip(keys, vectors, strict=True)
                ),
            )

    def prune(self, in_use: int) -> int:
        """Drop the least recently used entries beyond the bound; returns how many."""
        keep = max(MIN_KEEP, KEEP_FACTOR * in_use)
        (total,) = self.conn.execute("SELECT count(*) FROM vectors").fetchone()
        if total <= keep:
            return 0
        with self.conn:
            self.conn.execute(
                "DELETE FROM vectors WHERE rowid IN "
                "(SELECT rowid FROM vectors ORDER BY used LIMIT ?)",
                (total - keep,),
            )
        return total - keep

    def close(self) -> None:
        """Close the database."""
        self.conn.close()
