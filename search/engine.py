"""Answer queries against an index: dense ranking, metadata filters, related passages."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index import Embedder, IndexVersion, default_index_dir, load_embedder, open_index
from index.errors import ModelMismatch
from ingest import CounselSearchError, Passage

log = logging.getLogger(__name__)

Filters = Mapping[str, Sequence[str]]
# Scores closer than this count as tied and are ordered by passage id, so the same query on the
# same index always gives the same order (float noise would otherwise decide).
_TIE_DECIMALS = 6
# Extra candidates fetched past k so that ties at the cut are resolved by id, not by FAISS order.
_TIE_SLACK = 8


class PassageNotFound(CounselSearchError):
    """No passage with that id in the index."""


@dataclass(frozen=True)
class Hit:
    """One ranked passage. `score` is the cosine similarity between query and passage."""

    passage: Passage
    score: float
    rank: int
    explain: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready dict: rank, id, score, question, answer, source, metadata..."""
        p = self.passage
        return {
            "rank": self.rank,
            "id": p.id,
            "score": round(self.score, 6),
            "question": p.question,
            "answer": p.answer,
            "source": p.source,
            "sources": list(p.sources),
            "doc_id": p.doc_id,
            "metadata": p.metadata,
            **self.explain,
        }


@dataclass(frozen=True)
class IndexInfo:
    """Facts about the open index version, for `info` and the page."""

    index_dir: str
    version: str
    model: str
    dim: int
    passages: int
    documents: int
    built_at: str
    build_seconds: float
    similarity: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Searcher:
    """An open index plus the model that built it. Thread-safe for reads."""

    def __init__(self, version: IndexVersion, embedder: Embedder | None = None) -> None:
        if embedder is not None:
            version.check_embedder(embedder)
        self.version = version
        self._embedder = embedder

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
    def open(cls, index_dir: Path | str | None = None, model: str | None = None) -> Searcher:
        """Open the current version of an index; queries use the model recorded in its manifest.

        Naming another model raises ModelMismatch with the fix, rather than silently
        comparing vectors from two different embedding spaces.
        """
        version = open_index(Path(index_dir) if index_dir else default_index_dir())
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

    # -- queries ---------------------------------------------------------------------------

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Top-k passages for one query; blank queries give no hits."""
        return self.search_many([query], k=k, filters=filters)[0]

    def search_many(
        self, queries: Sequence[str], k: int = 10, filters: Filters | None = None
    ) -> list[list[Hit]]:
        """Top-k passages for each query, filters applied before the cut to k."""
        results: list[list[Hit]] = [[] for _ in queries]
        todo = [i for i, q in enumerate(queries) if q and q.strip()]
        if not todo or k <= 0:
            return results
        vectors = self.embedder.encode([queries[i].strip() for i in todo])
        for i, hits in zip(todo, self._rank(vectors, k, filters), strict=True):
            results[i] = hits
        return results

    def related(self, passage_id: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """Passages nearest to a given passage (itself excluded)."""
        row = self.version.passages.row_of(passage_id)
        if row is None:
            raise PassageNotFound(
                f"no passage with id {passage_id!r} in {self.version.index_dir}",
                "take an id from the output of: counsel-search search QUERY --json",
            )
        vector = self.version.vectors.get(np.array([row]))
        hits = self._rank(vector, k + 1, filters, exclude=row)[0]
        return [Hit(h.passage, h.score, rank) for rank, h in enumerate(hits[:k], start=1)]

    def _rank(
        self, vectors: np.ndarray, k: int, filters: Filters | None, exclude: int | None = None
    ) -> list[list[Hit]]:
        allowed = None
        if filters and any(filters.values()):
            allowed = self.version.passages.filtered_rows(filters)
            if exclude is not None:
                allowed = allowed[allowed != exclude]
            if allowed.size == 0:
                return [[] for _ in range(len(vectors))]
        scores, rows = self.version.vectors.search(vectors, k + _TIE_SLACK, allowed)
        wanted = {int(r) for r in rows.ravel() if r >= 0 and r != exclude}
        passages = self.version.passages.by_rows(sorted(wanted))
        ids = {r: p.id for r, p in passages.items()}
        out = []
        for srow, rrow in zip(scores, rows, strict=True):
            pairs = [(float(s), int(r)) for s, r in zip(srow, rrow, strict=True) if int(r) in ids]
            pairs.sort(key=lambda t: (-round(t[0], _TIE_DECIMALS), ids[t[1]]))
            out.append(
                [Hit(passages[r], s, rank) for rank, (s, r) in enumerate(pairs[:k], start=1)]
            )
        return out

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
            documents=m.documents,
            built_at=m.built_at,
            build_seconds=m.build_seconds,
            similarity=m.similarity,
        )

    def facet(self, key: str) -> list[tuple[str, int]]:
        """Values of a filterable field (e.g. "topic", "source") with passage counts."""
        return self.version.passages.facet(key)
