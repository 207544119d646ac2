"""Name a group of passages by its distinctive words: class-based TF-IDF over question + answer."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from search.lexical import STOPWORDS

# Letters only (no numbers); an apostrophe joins a contraction or possessive to its word.
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Fillers frequent in counseling answers that the search stopword list keeps (they matter for
# ranking phrases, not for naming a theme).
_FILLER = frozenset(
    """
    also may might must could would shall will can like just really much many one ones way ways
    thing things something someone anything anyone everything even well still yet lot lots make
    makes made going get gets getting got let sure often always never every
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_SKIP = STOPWORDS | _FILLER


def tokens(text: str) -> list[str]:
    """Lower-cased words of 3+ letters, stop words and fillers removed, in order.

    A possessive counts as its word ("client's" is "client"); other contractions ("won't",
    "they've") are dropped, since their halves ("won", "ve") would read as topic words.
    """
    out = []
    for word in _WORD.findall(text.lower()):
        word = re.sub(r"['’]s$", "", word)
        contraction = "'" in word or "’" in word
        if len(word) >= 3 and not contraction and word not in _SKIP:
            out.append(word)
    return out


def distinctive_terms(
    docs: Sequence[list[str]], labels: np.ndarray, k: int, limit: int = 8
) -> list[list[str]]:
    """Per cluster 0..k-1, up to `limit` terms by class-based TF-IDF (c-TF-IDF, as in BERTopic).

    A cluster's passages count as one document: tf = term count / words in the cluster,
    idf = log(1 + mean words per cluster / the term's count in the whole corpus). A term must
    also be more frequent in the cluster than in the corpus (that is what makes it distinctive)
    and occur in two of its passages, so one long answer cannot name a theme.
    """
    counts: list[Counter[str]] = [Counter() for _ in range(k)]
    spread: list[Counter[str]] = [Counter() for _ in range(k)]
    for words, c in zip(docs, labels.tolist(), strict=True):
        counts[c].update(words)
        spread[c].update(set(words))
    total: Counter[str] = sum(counts, Counter())
    n_words = sum(total.values()) or 1
    mean_words = n_words / max(k, 1)
    out = []
    for c in range(k):
        words = sum(counts[c].values()) or 1
        size = int((labels == c).sum())
        scored = []
        for t, n in counts[c].items():
            over = k == 1 or n / words > total[t] / n_words
            wide = spread[c][t] >= min(2, size)
            tfidf = n / words * math.log(1 + mean_words / total[t])
            scored.append((-tfidf, t, over and wide, over))
        scored.sort()
        # Prefer terms passing both tests; fall back rather than leave a theme unnamed.
        best = [s for s in scored if s[2]] or [s for s in scored if s[3]] or scored
        out.append([s[1] for s in best[:limit]])
    return out
