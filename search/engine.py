"""Answer queries against an index: dense, lexical and hybrid ranking, filters, related passages."""

from __future__ import annotations

import copy
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from index import Embedder, IndexVersion, default_index_dir, load_embedder, open_index
from index import sentences as sv
from index.errors import ModelMismatch
from index.pair import encode_queries
from ingest import CounselSearchError, Passage
from search import explain as ex
from search import rank as rk
from search.config import DEFAULT_MODE, MODES, RankingConfig
from search.hits import Hit, IndexInfo
from search.lexical import match_expression, query_terms
from search.safety import CrisisCheck
from search.scores import weak_threshold

Filters = Mapping[str, Sequence[str]]
# Query embeddings kept in memory (per searcher and its with_config copies, least recently used
# dropped first): the same question asked again, or with a filter changed, skips the model.
# 1,024 vectors are 1.5 MB.
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


class _Shared:
    """What searchers over one open version share (Searcher.with_config): the model, the query
    embedding cache, the crisis check, and hub radii over other neighbour counts."""

    def __init__(self, embedder: Embedder | None) -> None:
        self.embedder = embedder
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()
        self.crisis: CrisisCheck | None = None
        # Radii computed from the version's vectors, by neighbour count; their own lock, since
        # computing them takes a while and must not hold up the query cache.
        self.radii: dict[int, np.ndarray] = {}
        self.radii_lock = threading.Lock()
        # The version's sentence vectors (index/sentences.py), read on first explanation;
        # False: the version has none, so explanations embed sentences at query time.
        self.sentences: sv.SentenceVectors | bool | None = None


class Searcher:
    """An open index plus the model that built it, ranking with a RankingConfig (the product's
    ranking by default). Thread-safe for reads."""

    def __init__(
        self,
        version: IndexVersion,
        embedder: Embedder | None = None,
        config: RankingConfig | None = None,
    ) -> None:
        if embedder is not None:
            version.check_embedder(embedder)
        self.version = version
        self._config = config if config is not None else RankingConfig()
        self._shared = _Shared(embedder)

    @property
    def config(self) -> RankingConfig:
        """The ranking settings this searcher uses."""
        return self._config

    def with_config(self, config: RankingConfig) -> Searcher:
        """A searcher over the same open version ranking with other settings (ablations): it
        shares this one's model, query embedding cache and computed hub radii, so nothing is
        loaded twice. Closing either closes the version for both."""
        other = copy.copy(self)
        other._config = config
        return other

    @property
    def embedder(self) -> Embedder:
        """The model that built the index, loaded on first use: facts, filters and related
        passages need no model, so opening an index stays fast."""
        shared = self._shared
        if shared.embedder is None:
            embedder = load_embedder(self.version.manifest.model_name)
            self.version.check_embedder(embedder)
            shared.embedder = embedder
        return shared.embedder

    @classmethod
    def open(
        cls,
        index_dir: Path | str | None = None,
        model: str | None = None,
        fallback: bool = False,
        config: RankingConfig | None = None,
    ) -> Searcher:
        """Open the current version of an index; queries use the model recorded in its manifest
        and rank with `config` (default: the product's ranking).

        Naming another model raises ModelMismatch with the fix, rather than silently
        comparing vectors from two different embedding spaces. With `fallback`, a damaged
        current version gives way to an older good one (`version.damaged` says why).
        """
        version = open_index(Path(index_dir) if index_dir else default_index_dir(), fallback)
        built_with = version.manifest.model_name
        if not model or model == built_with:
            return cls(version, config=config)
        embedder = load_embedder(model)
        if embedder.fingerprint != version.manifest.model_fingerprint:
            version.close()
            raise ModelMismatch(
                f"the index at {version.index_dir} was built with model {built_with}, not {model}",
                f"search without --model, or rebuild with: counsel-search build "
                f"SOURCE... --model {model}",
            )
        return cls(version, embedder, config)

    def close(self) -> None:
        """Release the index files."""
        self.version.close()

    def warm(self) -> Searcher:
        """Load the model and run one tiny query now, so that the first real query is fast
        (the page calls this while it shows its loading spinner)."""
        encode_queries(self.embedder, ["warm up"])
        self._crisis_check().warm()
        return self

    # -- queries ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = DEFAULT_MODE,
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
        mode: str = DEFAULT_MODE,
        explain: bool = True,
    ) -> list[list[Hit]]:
        """Top-k passages for each query, filters applied before the cut to k."""
        if mode not in MODES:
            raise UnknownMode(f"unknown search mode {mode!r}", f"use one of {', '.join(MODES)}")
        results: list[list[Hit]] = [[] for _ in queries]
        cleaned = [clean_query(q) for q in queries]
        todo = [i for i, q in enumerate(cleaned) if q]
        if not todo or k <= 0:
            return results
        allowed = self._allowed(filters)
        if allowed is not None and allowed.size == 0:
            return results
        texts = [cleaned[i] for i in todo]
        cfg = self._config
        n = max(cfg.candidates, k)
        # The queries' safe FTS5 form.
        matches = [match_expression(t, cfg.drop_stop_words) for t in texts]
        vectors = self.encode_queries(texts)
        chunks = rk.allowed_chunks(self.version, allowed)
        radii = self._radii()  # lexical hits carry their dense part too
        for j, i in enumerate(todo):
            candidates = (
                rk.candidate_rows(self.version, vectors[j], n, chunks)
                if mode != "lexical"
                else np.zeros(0, dtype=np.int64)
            )
            lexical = self._bm25(texts[j], matches[j], n, allowed) if mode != "dense" else {}
            ranked = rk.rank(
                self.version, vectors[j], mode, k, candidates, lexical, allowed, cfg, radii
            )
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
        pool = max(n, self._config.lexical_pool)
        arrays = self.version.lexical
        terms = query_terms(text, self._config.drop_stop_words)
        found = arrays.search(terms, pool, allowed) if arrays is not None else None
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
        candidates = rk.candidate_rows(
            self.version, vector[0], k + 1, rk.allowed_chunks(self.version, allowed)
        )
        candidates = candidates[candidates != row]
        ranked = rk.rank(
            self.version, vector[0], "dense", k, candidates, {}, None, self._config, self._radii()
        )
        return self._hits(ranked, "dense")

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query embeddings, from the bounded in-memory cache where the same text was seen."""
        shared = self._shared
        with shared.lock:
            cached = {t: shared.vectors[t] for t in texts if t in shared.vectors}
            for t in cached:
                shared.vectors.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in cached))
        if missing:
            fresh = encode_queries(self.embedder, missing)
            with shared.lock:
                for t, v in zip(missing, fresh, strict=True):
                    cached[t] = shared.vectors[t] = v
                while len(shared.vectors) > QUERY_CACHE_SIZE:
                    shared.vectors.popitem(last=False)
        return np.stack([cached[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)

    def clear_query_cache(self) -> None:
        """Forget the cached query embeddings (benchmarks measure the model's share too)."""
        with self._shared.lock:
            self._shared.vectors.clear()

    def needs_crisis_notice(self, query: str) -> bool:
        """Does the query suggest suicide, self-harm or immediate danger? The faces then show
        the crisis notice (search.safety.CRISIS_NOTE) above the results."""
        text = clean_query(query)
        if not text:
            return False
        return self._crisis_check()(text, lambda: self.encode_queries([text])[0])

    def _crisis_check(self) -> CrisisCheck:
        shared = self._shared
        with shared.lock:
            if shared.crisis is None:
                shared.crisis = CrisisCheck(self.embedder)
            return shared.crisis

    # -- ranking ---------------------------------------------------------------------------

    def _radii(self) -> np.ndarray | None:
        """The windows' hub radii over the config's neighbour count, or None for plain cosines
        (a hub weight of 0, or a version too large to have saved or computed radii)."""
        cfg = self._config
        if cfg.hub_weight == 0:
            return None  # cosine less 0 times any radius is the cosine: skip the radii
        if cfg.saved_radii:
            return self.version.radii
        shared = self._shared
        with shared.radii_lock:
            if cfg.hub_neighbours not in shared.radii:
                shared.radii[cfg.hub_neighbours] = self.version.window_radii(cfg.hub_neighbours)
            return shared.radii[cfg.hub_neighbours]

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        if not filters or not any(filters.values()):
            return None
        return self.version.passages.filtered_rows(filters)

    def _hits(self, ranked: rk.Ranked, mode: str) -> list[Hit]:
        rows = ranked.rows.tolist()
        passages = self.version.passages.by_rows(rows)
        weak_below = weak_threshold(self.version.manifest.model_name)
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
            self.embedder,
            vector,
            [h.passage.answer for h in hits],
            [h.matched_span for h in hits],
            stored=self._sentences(),
            rows=rows,
        )
        return [
            hit.with_explanation(tuple(sents), tuple(ex.matched_terms(marks.get(row, ("", "")))))
            for hit, row, sents in zip(hits, rows, sentences, strict=True)
        ]

    def _sentences(self) -> sv.SentenceVectors | None:
        """The version's sentence vectors (memory-mapped), or None for a version without."""
        shared = self._shared
        with shared.lock:
            if shared.sentences is None:
                m = self.version.manifest
                found = sv.load(self.version.folder, m.passages, m.dim)
                shared.sentences = found if found is not None else False
            return shared.sentences or None

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
            update_seconds=m.update_seconds,
            models=tuple(f"{name} {fingerprint}" for name, fingerprint in m.models),
            query_encoder=m.query_encoder,
        )

    def documents(self) -> list[dict[str, object]]:
        """The indexed documents: source, title, sha256, kind and passage count of each."""
        return self.version.passages.documents()

    def facet(self, key: str) -> list[tuple[str, int]]:
        """Values of a filterable field (e.g. "topic", "source") with passage counts."""
        return self.version.passages.facet(key)
