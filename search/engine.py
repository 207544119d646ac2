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
from search import ranking, scoring
from search.hits import Hit, IndexInfo
from search.lexical import match_expression, query_terms
from search.safety import CrisisCheck

Filters = Mapping[str, Sequence[str]]
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
        self._crisis_check().warm()
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
        n = max(ranking.CANDIDATES, k)
        matches = [match_expression(t) for t in texts]  # the queries' safe FTS5 form
        vectors = self.encode_queries(texts)
        chunks = scoring.allowed_chunks(self.version, allowed)
        for j, i in enumerate(todo):
            candidates = (
                scoring.candidate_rows(self.version, vectors[j], n, chunks)
                if mode != "lexical"
                else np.zeros(0, dtype=np.int64)
            )
            lexical = self._bm25(texts[j], matches[j], n, allowed) if mode != "dense" else {}
            ranked = scoring.rank(self.version, vectors[j], mode, k, candidates, lexical, allowed)
            hits = self._hits(ranked, mode)
            rows = ranked.rows.tolist()
            results[i] = self._explain(matches[j], vectors[j], hits, rows) if explain else hits
        return results

    def _bm25(
        self, text: str, match: str | None, n: int, allowed: np.ndarray | None
    ) -> dict[int, float]:
        """BM25 scores of the query's matches ({row: score}, best first).

        Every match is scored anyway; keeping a deep pool means hybrid candidates from the
        dense side already have their BM25 (absent = no term matched). In-memory postings
        answer when the version has them, FTS5 otherwise (same scores).
        """
        if not match:
            return {}
        pool = max(n, ranking.LEXICAL_POOL)
        arrays = self.version.lexical
        found = arrays.search(query_terms(text), pool, allowed) if arrays is not None else None
        if found is not None:
            return found
        rows = allowed.tolist() if allowed is not None else None
        return self.version.passages.bm25(match, pool, rows)

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
        row = self._row(passage_id)
        first_chunk = self.version.tables.chunks_of(np.array([row]))[0][:1]
        vector = self.version.vectors.get(first_chunk)
        allowed = self._allowed(filters)
        allowed = allowed[allowed != row] if allowed is not None else None
        candidates = scoring.candidate_rows(
            self.version, vector[0], k + 1, scoring.allowed_chunks(self.version, allowed)
        )
        ranked = scoring.rank(
            self.version, vector[0], "dense", k, candidates[candidates != row], {}, None
        )
        return self._hits(ranked, "dense")

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
        text = clean_query(query)
        if not text:
            return False
        return self._crisis_check()(text, lambda: self.encode_queries([text])[0])

    def _crisis_check(self) -> CrisisCheck:
        with self._lock:
            if self._crisis is None:
                self._crisis = CrisisCheck(self.embedder)
            return self._crisis

    # -- ranking ---------------------------------------------------------------------------

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        if not filters or not any(filters.values()):
            return None
        return self.version.passages.filtered_rows(filters)

    def _hits(self, ranked: scoring.Ranked, mode: str) -> list[Hit]:
        rows = ranked.rows.tolist()
        passages = self.version.passages.by_rows(rows)
        weak_below = ranking.weak_threshold(self.version.manifest.model_name)
        d = ranked.dense
        return [
            Hit(
                passage=passages[row],
                score=score,
                rank=rank,
                mode=mode,
                dense_score=dense_score,
                window_cosine=best,
                matched_span=(start, end),
                lexical_score=lexical if mode != "dense" else None,
                weak=best < weak_below,
            )
            for rank, (row, score, dense_score, best, start, end, lexical) in enumerate(
                zip(
                    rows,
                    ranked.scores.tolist(),
                    d.score.tolist(),
                    d.best.tolist(),
                    d.start.tolist(),
                    d.end.tolist(),
                    ranked.lexical.tolist(),
                    strict=True,
                ),
                start=1,
            )
        ]

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
            backend=m.backend,
            index_type=m.index_type,
        )

    def documents(self) -> list[dict[str, object]]:
        """The indexed documents: source, title, sha256, kind and passage count of each."""
        return self.version.passages.documents()

    def facet(self, key: str) -> list[tuple[str, int]]:
        """Values of a filterable field (e.g. "topic", "source") with passage counts."""
        return self.version.passages.facet(key)
