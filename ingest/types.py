"""The data types that leave the ingest stage."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ingest.errors import IngestError


def content_id(question: str, answer: str) -> str:
    """Stable passage id derived from the normalized content.

    Rebuilding the same text gives the same id, so ids survive rebuilds and can be cited.
    """
    digest = hashlib.sha256(f"{question}\n\x1e\n{answer}".encode()).hexdigest()
    return f"p{digest[:15]}"


def doc_id_for(source: str) -> str:
    """Stable document id derived from the source path as given."""
    return f"d{hashlib.sha256(source.encode()).hexdigest()[:11]}"


def page_label(pages: Iterable[int]) -> str:
    """Page numbers as a reader writes them: "3", "3-4", "2, 5-7" ("" for none)."""
    runs: list[list[int]] = []
    for n in sorted(set(pages)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


@dataclass(frozen=True)
class Document:
    """One readable unit of text (a .txt, .md, .html, .pdf or .docx file) before splitting."""

    source: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def doc_id(self) -> str:
        return doc_id_for(self.source)


@dataclass(frozen=True)
class Passage:
    """A question with its whole answer: the unit that is embedded, ranked and shown.

    `sources` lists every source an exact duplicate of this passage came from (the first is
    `source`); `position` is the passage's order within its document.
    """

    id: str
    doc_id: str
    source: str
    question: str
    answer: str
    metadata: dict[str, Any] = field(default_factory=dict, hash=False)
    position: int = 0
    sources: tuple[str, ...] = ()

    @property
    def pages(self) -> tuple[int, ...]:
        """The pages its text was printed on (a PDF's passages); () for unpaged documents."""
        return tuple(int(n) for n in self.metadata.get("pages") or ())

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready fields, as `counsel-search passages --json` and the HTTP API give
        them: id, doc_id, source, sources, pages, position, question, answer, metadata."""
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "source": self.source,
            "sources": list(self.sources),
            "pages": list(self.pages),
            "position": self.position,
            "question": self.question,
            "answer": self.answer,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class SourceFile:
    """What was read from one file: its identity, content hash and passage count."""

    source: str
    doc_id: str
    title: str
    sha256: str
    kind: str
    n_passages: int


@dataclass(frozen=True)
class IngestResult:
    """Passages of a batch of sources (exact duplicates merged), the files read and the errors.

    A bad file never stops the batch: its error is recorded and the rest still goes in.
    """

    passages: tuple[Passage, ...]
    files: tuple[SourceFile, ...]
    errors: tuple[IngestError, ...] = ()
