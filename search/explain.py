"""Why a passage matched: its best sentences for the query, and the query terms it contains.

Sentence vectors come from the version (embedded at build, index/sentences.py) when it has
them: explaining ten hits is then a lookup and a product, no model call. A version built before
them embeds its hits' sentences at query time, through a bounded per-process cache.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from index import Embedder
from index.sentences import SENTENCE_CHARS, SentenceVectors, split_sentences

__all__ = ["Sentence", "best_sentences", "matched_terms", "split_sentences"]

MAX_SENTENCES = 40  # per hit: keeps explaining a very long answer cheap
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # FTS5 highlight marks: never in normalized text


@dataclass(frozen=True)
class Sentence:
    """A sentence of the answer: [start, end) character span and its cosine to the query."""

    start: int
    end: int
    text: str
    score: float


def best_sentences(
    embedder: Embedder,
    query_vector: np.ndarray,
    answers: list[str],
    windows: list[tuple[int, int] | None],
    top: int = 2,
    stored: SentenceVectors | None = None,
    rows: list[int] | None = None,
) -> list[list[Sentence]]:
    """The `top` sentences of each answer closest to the query (cosine), in text order.

    Only sentences that overlap the hit's best-matching window are candidates: that is where
    the match is, and it bounds the work for very long answers. Their vectors are the
    version's (`stored`, by passage `rows`) when it has them; otherwise all candidates of all
    hits go through the model in one batch, so explaining ten hits costs one encode call.
    """
    spans, picked = [], []
    for i, (answer, window) in enumerate(zip(answers, windows, strict=True)):
        lo, hi = window if window and window[1] > window[0] else (0, len(answer))
        if stored is not None and rows is not None:
            every, vectors = stored.of_row(rows[i])
        else:
            every, vectors = split_sentences(answer), None
        keep = [j for j, (a, b) in enumerate(every) if a < hi and b > lo][:MAX_SENTENCES]
        spans.append([every[j] for j in keep])
        if vectors is not None:
            picked.append(np.asarray(vectors[keep], dtype=np.float32))
    texts = [a[s:e] for a, sp in zip(answers, spans, strict=True) for s, e in sp]
    if not texts:
        return [[] for _ in answers]
    if picked:
        stacked = np.vstack(picked)
        query = query_vector[: stacked.shape[1]]  # a pair's: its first model's own vector
        scores = stacked @ (query / max(float(np.linalg.norm(query)), 1e-12))
    else:
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


def _sentence_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embeddings of sentences, from a bounded per-process cache where possible.

    Sentence scoring is the costly part of explaining hits (the model runs at a few thousand
    word pieces a second on two cores); small batches waste less on padding.
    """
    keys = [(embedder.fingerprint, t[:SENTENCE_CHARS]) for t in texts]
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


# A marked word glued to an apostrophe is half of a contraction: FTS5's tokenizer splits "don't"
# into "don" and "t", and neither alone tells a reader why the passage matched. A possessive's
# word ("client" of "client's") is kept; only its "s" is a fragment.
_FRAGMENT_BEFORE = re.compile("['’]" + MARK_CLOSE + "?$")
_FRAGMENT_AFTER = re.compile("^['’]" + MARK_OPEN + "?t\\b", re.I)


def matched_terms(highlighted: tuple[str, str]) -> list[str]:
    """Distinct words (lower-cased, in order) that FTS5 marked in question and answer, without
    fragments of contractions ("t" of "don't", "ve" of "I've")."""
    text = " ".join(highlighted)
    found = []
    for m in re.finditer(f"{MARK_OPEN}(.*?){MARK_CLOSE}", text, flags=re.S):
        before, after = text[max(0, m.start() - 2) : m.start()], text[m.end() : m.end() + 3]
        # A lone letter is a fragment too, of a contraction typed another way ("don;t",
        # "can t") or an initial: it never tells why a passage matched.
        fragment = _FRAGMENT_BEFORE.search(before) or _FRAGMENT_AFTER.match(after)
        if not fragment and len(m.group(1).strip()) > 1:
            found.append(m.group(1).lower())
    return list(dict.fromkeys(found))
