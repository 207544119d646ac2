"""Answer queries against an index: dense, lexical and hybrid ranking, filters, related passages."""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from index import Embedder, IndexVersion, default_index_dir, load_embedder, open_index
from index.errors import ModelMismatch
from ingest import CounselSearchError, Passage
from search import explain as ex
from search import ranking
from search.hits import Hit, IndexInfo
from search.lexical import match_expression
from search.safety import CrisisCheck

Filters = Mapping[str, Sequence[str]]
# Scores closer than this count as tied and are ordered by passage id, so the same query on the
# same index always gives the same order (float noise would otherwise decide).
_TIE_DECIMALS = 6
# Query embeddings kept in memory (per searcher, least recently used dropped first): the same
# question asked again, or with a filter changed, skips the model. 1,024 vectors are 1.5 MB.
QUERY_CACHE_SIZE = 1024


def clean_query(text: str | None) -> str:
    """The query with control characters as spaces and invisible format characters (zero-width
    space, bidi overrides) dropped, trimmed: a query of nothing else is blank, not a search."""
    if not text:
        return ""
    return "".join(_visible(c) for c in text).strip()


def _visible(char: str) -> str:
    # Control characters (newline and tab included) separate words; format characters are
    # invisible and dropped.
    category = unicodedata.category(char)
    return " " if category == "Cc" else "" if category == "Cf" else char


class PassageNotFound(CounselSearchError):
    """No passage with that id in the index."""


class UnknownMode(CounselSearchError):
    """A search mode other than dense, lexical or hybrid."""


class _Dense:
    """Dense scores of passages: per passage, its window cosines aggregated."""

    __slots__ = ("best", "score", "span")

    def __init__(self, score: float, best: float, span: tuple[int, int]) -> None:
        self.score, self.best, self.span = score, best, span


class Searcher:
    """An open index plus the model that built it. Thread-safe for reads."""

    def __init__(self, version: IndexVersion, embedder: Embedder | None = None) -> None:
        if embedder is not None:
            version.check_embedder(embedder)
        self.version = version
        self._embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._crisis: CrisisCheck | None = None

    @property
    def embedder(self) -> Embedder:
        """The model that built the index, loaded on first use: facts, filters and related
        passages need no model, so opening an index stays fast."""
        if self._embedder is None:
            embedder = load_embedder(self.version.manifest.model_name)
            self.version.check_embedder(embedder)
            self._embedder = embedder
        return self._embedder

    @classmethod
    def open(
        cls, index_dir: Path | str | None = None, model: str | None = None, fallback: bool = False
    ) -> Searcher:
        """Open the current version of an index; queries use the model recorded in its manifest.

        Naming another model raises ModelMismatch with the fix, rather than silently
        comparing vectors from two different embedding spaces. With `fallback`, a damaged
        current version gives way to an older good one (`version.damaged` says why).
        """
        version = open_index(Path(index_dir) if index_dir else default_index_dir(), fallback)
        built_with = version.manifest.model_name
        if not model or model == built_with:
            return cls(version)
        embedder = load_embedder(model)
        if embedder.fingerprint != version.manifest.model_fingerprint:
            version.close()
            raise ModelMismatch(
                f"the index at {version.index_dir} was built with model {built_with}, not {model}",
                f"search without --model, or rebuild with: counsel-search build "
                f"SOURCE... --model {model}",
            )
        return cls(version, embedder)

    def close(self) -> None:
        """Release the index files."""
        self.version.close()

    def warm(self) -> Searcher:
        """Load the model and run one tiny query now, so that the first real query is fast
        (the page calls this while it shows its loading spinner)."""
        self.embedder.encode(["warm up"])
        return self

    # -- queries ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = ranking.DEFAULT_MODE,
        explain: bool = True,
    ) -> list[Hit]:
        """Top-k passages for one query; a blank query gives no hits.

        `mode` is "hybrid" (default: dense and BM25 fused), "dense" or "lexical". With `explain`
        each hit carries its best-matching sentences (one extra encode of the hits' sentences).
        """
        return self.search_many([query], k=k, filters=filters, mode=mode, explain=explain)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        filters: Filters | None = None,
        mode: str = ranking.DEFAULT_MODE,
        explain: bool = True,
    ) -> list[list[Hit]]:
        """Top-k passages for each query, filters applied before the cut to k."""
        if mode not in ranking.MODES:
            raise UnknownMode(
                f"unknown search mode {mode!r}", f"use one of {', '.join(ranking.MODES)}"
            )
        results: list[list[Hit]] = [[] for _ in queries]
        cleaned = [clean_query(q) for q in queries]
        todo = [i for i, q in enumerate(cleaned) if q]
        if not todo or k <= 0:
            return results
        allowed = self._allowed(filters)
        if allowed is not None and allowed.size == 0:
            return results
        texts = [cleaned[i] for i in todo]
        vectors = self.encode_queries(texts)
        n = max(ranking.CANDIDATES, k)
        dense_cands = self._dense_candidates(vectors, n, allowed) if mode != "lexical" else None
        for j, i in enumerate(todo):
            dense = dense_cands[j] if dense_cands is not None else {}
            match = match_expression(texts[j])  # the query's safe FTS5 form, for both steps
            hits, rows = self._rank_one(match, vectors[j], mode, k, n, allowed, dense)
            results[i] = self._explain(match, vectors[j], hits, rows) if explain else hits
        return results

    def passage(self, passage_id: str) -> Passage:
        """One passage by id; PassageNotFound (with a hint) when the index has no such id."""
        row = self._row(passage_id)
        return self.version.passages.by_rows([row])[row]

    def _row(self, passage_id: str) -> int:
        row = self.version.passages.row_of(passage_id)
        if row is None:
            raise PassageNotFound(
                f"no passage with id {passage_id!r} in {self.version.index_dir}",
                "take an id from the output of: counsel-search search QUERY --json",
            )
        return row

    def related(self, passage_id: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Passages nearest to a given passage (itself excluded), by dense similarity."""
        store = self.version.passages
        row = self._row(passage_id)
        first_chunk = store.chunks_of([row])[0][0]
        vector = self.version.vectors.get(np.array([first_chunk]))
        allowed = self._allowed(filters)
        allowed = allowed[allowed != row] if allowed is not None else None
        cands = self._dense_candidates(vector, k + 1, allowed)[0]
        cands.pop(row, None)
        scores = {r: d.score for r, d in cands.items()}
        return self._hits(self._order(scores)[:k], scores, "dense", cands, {})

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query embeddings, from the bounded in-memory cache where the same text was seen."""
        with self._lock:
            cached = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in cached:
                self._vectors.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in cached))
        if missing:
            fresh = self.embedder.encode(missing)
            with self._lock:
                for t, v in zip(missing, fresh, strict=True):
                    cached[t] = self._vectors[t] = v
                while len(self._vectors) > QUERY_CACHE_SIZE:
                    self._vectors.popitem(last=False)
        return np.stack([cached[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def clear_query_cache(self) -> None:
        """Forget the cached query embeddings (benchmarks measure the model's share too)."""
        with self._lock:
            self._vectors.clear()

    def needs_crisis_notice(self, query: str) -> bool:
        """Does the query suggest suicide, self-harm or immediate danger? The faces then show
        the crisis notice (search.safety.CRISIS_NOTE) above the results."""
        if self._crisis is None:
            self._crisis = CrisisCheck(self.embedder)
        text = clean_query(query)
        if not text:
            return False
        return self._crisis(text, lambda: self.encode_queries([text])[0])

    # -- ranking ---------------------------------------------------------------------------

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        if not filters or not any(filters.values()):
            return None
        return self.version.passages.filtered_rows(filters)

    def _dense_rows(self, vector: np.ndarray, rows: Sequence[int]) -> dict[int, _Dense]:
        """Exact dense scores of these passages from all their windows."""
        chunks = self.version.passages.chunks_of(rows)
        if not chunks:
            return {}
        cos = self.version.vectors.get(np.array([c[0] for c in chunks])) @ vector
        out: dict[int, _Dense] = {}
        first: dict[int, float] = {}
        for (_, row, start, end), c in zip(chunks, cos.tolist(), strict=True):
            first.setdefault(row, c)  # chunks come in chunk order: the first is the opening
            cur = out.get(row)
            if cur is None or c > cur.best:
                out[row] = _Dense(0.0, c, (start, end))
        for row, d in out.items():
            d.score = ranking.window_score(first[row], d.best)
        return out

    def _dense_candidates(
        self, vectors: np.ndarray, n: int, allowed: np.ndarray | None
    ) -> list[dict[int, _Dense]]:
        """Per query, the ~n passages with the best windows, scored exactly."""
        store = self.version.passages
        allowed_chunks = None
        if allowed is not None:
            allowed_chunks = np.array([c[0] for c in store.chunks_of(allowed)], dtype=np.int64)
        total = self.version.vectors.count() if allowed_chunks is None else len(allowed_chunks)
        out = []
        for vector in vectors:
            # Several windows may belong to one passage: widen the chunk search until it covers
            # n distinct passages (or every chunk), so filtered searches still fill k.
            fetch = n * 2
            while True:
                _, ids = self.version.vectors.search(vector[None, :], fetch, allowed_chunks)
                found = [int(c) for c in ids[0] if c >= 0]
                owners = store.rows_of_chunks(found)
                rows = list(dict.fromkeys(owners[c] for c in found))
                if len(rows) >= n or fetch >= total:
                    break
                fetch *= 4
            out.append(self._dense_rows(vector, rows[:n]))
        return out

    def _rank_one(
        self,
        match: str | None,
        vector: np.ndarray,
        mode: str,
        k: int,
        n: int,
        allowed: np.ndarray | None,
        dense: dict[int, _Dense],
    ) -> tuple[list[Hit], list[int]]:
        store = self.version.passages
        lexical: dict[int, float] = {}
        if mode != "dense" and match:
            rows = allowed.tolist() if allowed is not None else None
            # One FTS5 pass scores every match anyway; keeping a deep pool means hybrid
            # candidates from the dense side already have their BM25 (absent = no term matched).
            lexical = dict(store.bm25(match, max(n, ranking.LEXICAL_POOL), rows))
        if mode == "dense":
            scores = {r: d.score for r, d in dense.items()}
        elif mode == "lexical":
            scores = dict(list(lexical.items())[:n])
        else:
            # Score every candidate on both sides, answers to the same question included.
            rows = set(dense) | set(list(lexical)[:n])  # bm25() returns best first
            groups = store.siblings(sorted(rows))
            extra = set(groups) - rows
            if allowed is not None:
                extra &= set(allowed.tolist())
            rows |= extra
            dense.update(self._dense_rows(vector, sorted(rows - set(dense))))
            lexical = {r: lexical[r] for r in rows if r in lexical}
            fused = ranking.fuse({r: dense[r].score for r in rows}, lexical)
            scores = ranking.group_boost(fused, groups)
        top = self._order(scores)[:k]
        need = [r for r in top if r not in dense]
        if need:
            dense.update(self._dense_rows(vector, need))
        return self._hits(top, scores, mode, dense, lexical), top

    def _order(self, scores: Mapping[int, float]) -> list[int]:
        """Rows by score, best first; ties by passage id, which is stable across rebuilds."""
        ids = self.version.passages.ids_of_rows(list(scores))
        return sorted(scores, key=lambda r: (-round(scores[r], _TIE_DECIMALS), ids[r]))

    def _hits(
        self,
        order: list[int],
        scores: Mapping[int, float],
        mode: str,
        dense: Mapping[int, _Dense],
        lexical: Mapping[int, float],
    ) -> list[Hit]:
        passages = self.version.passages.by_rows(order)
        weak_below = ranking.weak_threshold(self.version.manifest.model_name)
        hits = []
        for rank, row in enumerate(order, start=1):
            d = dense.get(row)
            hits.append(
                Hit(
                    passage=passages[row],
                    score=float(scores[row]),
                    rank=rank,
                    mode=mode,
                    dense_score=d.score if d else None,
                    window_cosine=d.best if d else None,
                    matched_span=d.span if d else None,
                    lexical_score=float(lexical.get(row, 0.0)) if mode != "dense" else None,
                    weak=bool(d is not None and d.best < weak_below),
                )
            )
        return hits

    def _explain(
        self, match: str | None, vector: np.ndarray, hits: list[Hit], rows: list[int]
    ) -> list[Hit]:
        """The hits with their best sentences and the query terms they contain."""
        if not hits:
            return hits
        store = self.version.passages
        marks = store.highlights(match, rows, ex.MARK_OPEN, ex.MARK_CLOSE) if match else {}
        sentences = ex.best_sentences(
            self.embedder, vector, [h.passage.answer for h in hits], [h.matched_span for h in hits]
        )
        return [
            hit.with_explanation(tuple(sents), tuple(ex.matched_terms(marks.get(row, ("", "")))))
            for hit, row, sents in zip(hits, rows, sentences, strict=True)
        ]

    # -- facts -----------------------------------------------------------------------------

    def info(self) -> IndexInfo:
        """Facts about the index: version, model, counts, build time."""
        m = self.version.manifest
        return IndexInfo(
            index_dir=str(self.version.index_dir),
            version=m.version,
            model=m.model_name,
            dim=m.dim,
            passages=m.passages,
            vectors=m.vectors,
            documents=m.documents,
            built_at=m.built_at,
            build_seconds=m.build_seconds,
            similarity=m.similarity,
        )

    def documents(self) -> list[dict[str, object]]:
        """The indexed documents: source, title, sha256, kind and passage count of each."""
        return self.version.passages.documents()

    def facet(self, key: str) -> list[tuple[str, int]]:
        """Values of a filterable field (e.g. "topic", "source") with passage counts."""
        return self.version.passages.facet(key)
