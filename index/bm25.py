"""BM25 from in-memory arrays, the same scores as SQLite FTS5's bm25() on the passage table.

On the bundled corpus FTS5's bm25() took about 1 ms a query, more than all other ranking work
together (docs/performance.md): it walks every matching row through SQLite's virtual machine.
Here the postings (term, passage, term frequency over all columns) and each passage's token
count are read once from FTS5's own index (fts5vocab), so tokens and stems are FTS5's, and a
query is a few numpy gathers. Formula as in SQLite's fts5_aux.c: k1 = 1.2, b = 0.75, every
column weighted 1, idf = ln((N - n + 0.5) / (n + 0.5)) floored at 1e-6, summed over the
query's phrases in order.

Large corpora keep FTS5: the arrays grow with the total text (about 100 postings a passage),
so they are only built up to LEXICAL_ARRAYS_MAX_PASSAGES.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from index.store import TOKENIZE

# Above this many passages BM25 stays in SQLite (memory and load time grow with the corpus).
LEXICAL_ARRAYS_MAX_PASSAGES = 50_000
K1, B = 1.2, 0.75
_STEM_CACHE_SIZE = 100_000


class _Stemmer:
    """FTS5's tokenizer applied to single words, via an in-memory FTS5 table (cached)."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(f"CREATE VIRTUAL TABLE w USING fts5(x, tokenize='{TOKENIZE}')")
        self._conn.execute("CREATE VIRTUAL TABLE wv USING fts5vocab(w, instance)")
        self._cache: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def tokens(self, word: str) -> tuple[str, ...]:
        """The tokens FTS5 makes of `word` (usually one stem)."""
        found = self._cache.get(word)
        if found is not None:
            return found
        with self._lock:
            self._conn.execute("DELETE FROM w")
            self._conn.execute("INSERT INTO w(x) VALUES (?)", (word,))
            sql = "SELECT term FROM wv ORDER BY offset"
            found = tuple(t for (t,) in self._conn.execute(sql))
            if len(self._cache) >= _STEM_CACHE_SIZE:
                self._cache.clear()
            self._cache[word] = found
        return found


_STEMMER: _Stemmer | None = None


def _stemmer() -> _Stemmer:
    global _STEMMER
    if _STEMMER is None:
        _STEMMER = _Stemmer()
    return _STEMMER


@dataclass(frozen=True)
class LexicalArrays:
    """Postings in CSR form: passages of term t are docs[ptr[t]:ptr[t + 1]], with their term
    frequencies in tf; doclen[row] is a passage's token count (all columns)."""

    terms: dict[str, int]
    ptr: np.ndarray
    docs: np.ndarray
    tf: np.ndarray
    doclen: np.ndarray
    n_rows: int

    @classmethod
    def from_db(cls, conn: sqlite3.Connection) -> LexicalArrays:
        """Read FTS5's index of the passage table (one pass over its token instances)."""
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.passages_vocab "
            "USING fts5vocab(main, passages_fts, instance)"
        )
        try:
            postings = conn.execute(
                "SELECT term, doc, count(*) FROM temp.passages_vocab GROUP BY term, doc"
            ).fetchall()
            lengths = conn.execute(
                "SELECT doc, count(*) FROM temp.passages_vocab GROUP BY doc"
            ).fetchall()
            n_rows = int(conn.execute("SELECT count(*) FROM passages").fetchone()[0])
        finally:
            conn.execute("DROP TABLE temp.passages_vocab")
        terms: dict[str, int] = {}
        term_ids = np.array([terms.setdefault(t, len(terms)) for t, _, _ in postings], np.int64)
        ptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(terms)), out=ptr[1:])
        # GROUP BY term, doc returns rows sorted by term, then doc: already CSR order.
        docs = np.array([d for _, d, _ in postings], dtype=np.int64)
        tf = np.array([c for _, _, c in postings], dtype=np.float64)
        size = max([d for d, _ in lengths], default=-1) + 1
        doclen = np.zeros(size, dtype=np.float64)
        for d, c in lengths:
            doclen[d] = c
        return cls(terms, ptr, docs, tf, doclen, n_rows)

    def save(self, path: Path) -> None:
        """Write the arrays (npz, no pickles), so opening a version skips the FTS5 pass."""
        words = np.array(sorted(self.terms, key=self.terms.__getitem__), dtype=np.str_)
        with path.open("wb") as fh:
            np.savez(
                fh,
                terms=words,
                ptr=self.ptr,
                docs=self.docs,
                tf=self.tf,
                doclen=self.doclen,
                n_rows=np.array(self.n_rows),
            )

    @classmethod
    def load(cls, path: Path) -> LexicalArrays:
        """Read arrays written by save()."""
        with np.load(path, allow_pickle=False) as z:
            terms = {str(t): i for i, t in enumerate(z["terms"].tolist())}
            return cls(terms, z["ptr"], z["docs"], z["tf"], z["doclen"], int(z["n_rows"]))

    @cached_property
    def avgdl(self) -> float:
        """Mean tokens per passage (all columns), as FTS5 computes it: once, not per query."""
        return float(self.doclen.sum()) / max(self.n_rows, 1)

    def search(
        self, words: Sequence[str], limit: int, allowed: np.ndarray | None = None
    ) -> dict[int, float] | None:
        """{row: BM25} of passages holding any of the words, best first (ties by row), at most
        `limit`; None when a word is not one FTS5 token (the caller asks FTS5 then)."""
        stemmer = _stemmer()
        phrases = []
        for word in words:
            tokens = stemmer.tokens(word)
            if len(tokens) != 1:
                return None
            phrases.append(self.terms.get(tokens[0], -1))
        avgdl = self.avgdl
        parts_docs, parts_score = [], []
        for t in phrases:
            if t < 0:
                continue
            docs = self.docs[self.ptr[t] : self.ptr[t + 1]]
            tf = self.tf[self.ptr[t] : self.ptr[t + 1]]
            n = len(docs)
            # math.log, like SQLite's C log(): numpy's may differ in the last bit.
            idf = math.log((self.n_rows - n + 0.5) / (n + 0.5))
            idf = idf if idf > 0.0 else 1e-6
            norm = K1 * (1 - B + B * self.doclen[docs] / avgdl)
            parts_docs.append(docs)
            parts_score.append(idf * ((tf * (K1 + 1.0)) / (tf + norm)))  # fts5_aux.c's order
        if not parts_docs:
            return {}
        docs = np.concatenate(parts_docs)
        score = np.concatenate(parts_score)
        if allowed is not None:
            keep = np.isin(docs, allowed)
            docs, score = docs[keep], score[keep]
        # Sum each passage's phrases in query order, as FTS5 does (a stable sort keeps it).
        by_doc = np.argsort(docs, kind="stable")
        docs, score = docs[by_doc], score[by_doc]
        starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]]) if docs.size else docs
        rows, totals = docs[starts], np.add.reduceat(score, starts) if docs.size else score
        best = np.lexsort((rows, -totals))[:limit]
        return dict(zip(rows[best].tolist(), totals[best].tolist(), strict=True))
