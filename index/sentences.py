"""The answers' sentences and their vectors, embedded at build time for explanations.

Explaining a hit means scoring the sentences of its best window against the query (search/
explain.py). Embedding them at query time cost about 150 ms a query on two cores, 17x the
ranking; embedded once at build (through the same embedding cache as the windows, so a rebuild
embeds only new sentences) explaining is a lookup and a small matrix product.

A version stores them in SENTENCES/ as three plain .npy files, memory-mapped when read (the
page's memory grows only with the pages it touches):

- `vectors.npy`: float32, one L2-normalized row per sentence (its first SENTENCE_CHARS
  characters embedded), in passage-row order; for a pair of models (index/pair.py), the
  first model's vectors (the first part of a pair's query vector is that model's own);
- `spans.npy`: int32 (start, end) character span of each sentence in its answer;
- `offsets.npy`: int64, passage row r's sentences are rows offsets[r]:offsets[r + 1].

A version built before these files (or with them damaged) has none: explanations then embed
sentences at query time, as before.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SENTENCES = "sentences"
# Sentence ends: . ! ? … (with closing quotes or brackets) followed by space, or a line break;
# also a lower-case word's end glued to the next capital ("itself.How"), common in scraped
# answers whose line breaks were lost.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+|(?<=[a-z][.!?])(?=[A-Z][a-z])")
SENTENCE_CHARS = 300  # enough to judge a sentence; bounds the cost of a run-on one


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def sentence_text(answer: str, span: tuple[int, int]) -> str:
    """The text embedded for one sentence: its first SENTENCE_CHARS characters."""
    return answer[span[0] : span[1]][:SENTENCE_CHARS]


def of_answers(answers: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(offsets, spans, texts to embed) of the answers, in order (see the module docstring)."""
    offsets = np.zeros(len(answers) + 1, dtype=np.int64)
    spans: list[tuple[int, int]] = []
    texts: list[str] = []
    for i, answer in enumerate(answers):
        mine = split_sentences(answer)
        spans += mine
        texts += [sentence_text(answer, s) for s in mine]
        offsets[i + 1] = len(spans)
    return offsets, np.array(spans, dtype=np.int32).reshape(-1, 2), texts


def save(folder: Path, offsets: np.ndarray, spans: np.ndarray, vectors: np.ndarray) -> None:
    """Write a version's sentence files (inside its unpublished folder: no reader sees them
    before the whole version is published)."""
    out = folder / SENTENCES
    out.mkdir()
    np.save(out / "offsets.npy", offsets.astype(np.int64))
    np.save(out / "spans.npy", spans.astype(np.int32))
    np.save(out / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))


@dataclass(frozen=True)
class SentenceVectors:
    """A version's sentences: spans and vectors by passage row."""

    offsets: np.ndarray
    spans: np.ndarray
    vectors: np.ndarray

    def of_row(self, row: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        """The spans and vectors of one passage row's sentences."""
        lo, hi = int(self.offsets[row]), int(self.offsets[row + 1])
        return [(int(a), int(b)) for a, b in self.spans[lo:hi]], self.vectors[lo:hi]


def load(folder: Path, rows: int, dim: int) -> SentenceVectors | None:
    """A version's sentence vectors, memory-mapped; None when it has none or they do not agree
    with the version (`rows` passages, vectors of at most the version's `dim`)."""
    where = folder / SENTENCES
    if not where.is_dir():
        return None
    try:
        offsets = np.load(where / "offsets.npy", allow_pickle=False)
        spans = np.load(where / "spans.npy", mmap_mode="r", allow_pickle=False)
        vectors = np.load(where / "vectors.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        log.warning("%s is unreadable (%s); explaining from the model", where, exc)
        return None
    n = int(offsets[-1]) if offsets.size else -1
    shapes_agree = offsets.shape == (rows + 1,) and spans.shape == (n, 2)
    if not shapes_agree or vectors.ndim != 2 or len(vectors) != n or vectors.shape[1] > dim:
        log.warning("%s does not match its version; explaining from the model", where)
        return None
    return SentenceVectors(offsets, spans, vectors)
