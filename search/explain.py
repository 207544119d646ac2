"""Why a passage matched: its best sentences for the query, and the query terms it contains."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from index import Embedder

# Sentence ends: . ! ? … (with closing quotes or brackets) followed by space, or a line break;
# also a lower-case word's end glued to the next capital ("itself.How"), common in scraped
# answers whose line breaks were lost.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+|(?<=[a-z][.!?])(?=[A-Z][a-z])")
MAX_SENTENCES = 40  # per hit: keeps explaining a very long answer cheap
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # FTS5 highlight marks: never in normalized text


@dataclass(frozen=True)
class Sentence:
    """A sentence of the answer: [start, end) character span and its cosine to the query."""

    start: int
    end: int
    text: str
    score: float


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


def best_sentences(
    embedder: Embedder,
    query_vector: np.ndarray,
    answers: list[str],
    windows: list[tuple[int, int] | None],
    top: int = 2,
) -> list[list[Sentence]]:
    """The `top` sentences of each answer closest to the query (cosine), in text order.

    Only sentences that overlap the hit's best-matching window are candidates: that is where
    the match is, and it bounds the work for very long answers. All candidates of all hits go
    through the model in one batch, so explaining ten hits costs one encode call.
    """
    spans = []
    for answer, window in zip(answers, windows, strict=True):
        lo, hi = window if window and window[1] > window[0] else (0, len(answer))
        spans.append(
            [(a, b) for a, b in split_sentences(answer) if a < hi and b > lo][:MAX_SENTENCES]
        )
    texts = [a[s:e] for a, sp in zip(answers, spans, strict=True) for s, e in sp]
    if not texts:
        return [[] for _ in answers]
    scores = _sentence_vectors(embedder, texts) @ query_vector
    out, i = [], 0
    for answer, sp in zip(answers, spans, strict=True):
        mine = scores[i : i + len(sp)]
        i += len(sp)
        keep = sorted(np.argsort(-mine)[:top].tolist())
        out.append(
            [
                Sentence(sp[j][0], sp[j][1], answer[sp[j][0] : sp[j][1]], float(mine[j]))
                for j in keep
            ]
        )
    return out


_CACHE: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_LOCK = threading.Lock()
_CACHE_SIZE = 20_000  # sentence vectors: ~30 MB at 384 floats; popular passages recur often
_SENTENCE_CHARS = 300  # enough to judge a sentence; bounds the cost of a run-on one


def _sentence_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embeddings of sentences, from a bounded per-process cache where possible.

    Sentence scoring is the costly part of explaining hits (the model runs at a few thousand
    word pieces a second on two cores); small batches waste less on padding.
    """
    keys = [(embedder.fingerprint, t[:_SENTENCE_CHARS]) for t in texts]
    with _LOCK:  # the page's users share this cache from several threads
        found = {k: _CACHE[k] for k in keys if k in _CACHE}
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    if missing:
        vectors = embedder.encode([k[1] for k in missing], batch_size=16)
        found.update(zip(missing, vectors, strict=True))
    with _LOCK:
        for key in keys:
            _CACHE[key] = found[key]
            _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return np.vstack([found[k] for k in keys])


def matched_terms(highlighted: tuple[str, str]) -> list[str]:
    """Distinct words (lower-cased, in order) that FTS5 marked in question and answer."""
    found = re.findall(f"{MARK_OPEN}(.*?){MARK_CLOSE}", " ".join(highlighted), flags=re.S)
    return list(dict.fromkeys(w.lower() for w in found))
