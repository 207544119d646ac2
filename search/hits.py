"""What search returns: hits with everything that explains their score, and index facts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ingest import Passage
from search.explain import Sentence

WEAK_NOTE = (
    "Weak match: nothing in the index answers this closely. The nearest passages are below; "
    "they may not be about your question."
)


@dataclass(frozen=True)
class Hit:
    """One ranked passage and why it ranked there.

    `score` is the ranking score of the mode: the dense score (dense), BM25 (lexical) or the
    fused score (hybrid). `dense_score` is always the dense part: the cosines of the passage's
    windows to the query, hubness-corrected (index/hubness.py) and aggregated.
    `window_cosine` is the plain cosine of its closest window; the span that matched best is
    `matched_span`. `weak` flags a hit that does not really answer the query.
    """

    passage: Passage
    score: float
    rank: int
    mode: str = "dense"
    dense_score: float | None = None
    lexical_score: float | None = None
    window_cosine: float | None = None
    matched_span: tuple[int, int] | None = None
    weak: bool = False
    sentences: tuple[Sentence, ...] = ()
    matched_terms: tuple[str, ...] = ()

    def summary(self) -> str:
        """The parts of the score a reader can interpret: "cosine 0.791 · BM25 12.3 · weak"
        (the cosine of the closest window, a plain similarity in [-1, 1])."""
        parts = []
        cosine = self.window_cosine if self.window_cosine is not None else self.dense_score
        if cosine is not None:
            parts.append(f"cosine {cosine:.3f}")
        if self.lexical_score is not None:
            parts.append(f"BM25 {self.lexical_score:.1f}")
        if self.weak:
            parts.append("weak match")
        return " · ".join(parts) or f"score {self.score:.3f}"

    def with_explanation(self, sentences: tuple[Sentence, ...], terms: tuple[str, ...]) -> Hit:
        """A copy carrying its best sentences and matched query terms."""
        return dataclasses.replace(self, sentences=sentences, matched_terms=terms)

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready dict: rank, id, score, question, answer, source, pages (of a PDF;
        [] for unpaged documents), metadata, and the
        parts of the score, the weak flag, the best sentences and matched terms."""
        p = self.passage

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 6)

        return {
            "rank": self.rank,
            "id": p.id,
            "score": r(self.score),
            "mode": self.mode,
            "dense_score": r(self.dense_score),
            "lexical_score": r(self.lexical_score),
            "window_cosine": r(self.window_cosine),
            "weak_match": self.weak,
            "question": p.question,
            "answer": p.answer,
            "source": p.source,
            "sources": list(p.sources),
            "doc_id": p.doc_id,
            "pages": list(p.pages),
            "metadata": p.metadata,
            "matched_span": list(self.matched_span) if self.matched_span else None,
            "best_sentences": [
                {"text": s.text, "start": s.start, "end": s.end, "score": round(s.score, 6)}
                for s in self.sentences
            ],
            "matched_terms": list(self.matched_terms),
        }


@dataclass(frozen=True)
class IndexInfo:
    """Facts about the open index version, for `info` and the page."""

    index_dir: str
    version: str
    model: str
    dim: int
    passages: int
    vectors: int
    documents: int
    built_at: str
    build_seconds: float
    similarity: str
    backend: str = "faiss"  # where the vectors are: faiss or milvus (index.backends)
    index_type: str = "flat"  # exact, or the approximate index chosen by corpus size
    update_seconds: float = 0.0  # the add or remove that wrote this version (0: a full build)
    # Each model whose vectors the index holds, "name sha256:…" (both models of a pair).
    models: tuple[str, ...] = ()
    # What encodes its queries: "onnxruntime" (no torch on the query path) or
    # "sentence-transformers" (index.embed.query_encoder).
    query_encoder: str = "sentence-transformers"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
