"""Lexical side: turn free user text into a safe FTS5 query for BM25.

User text is never passed to FTS5 as syntax. Only word characters survive; each term is quoted,
so quotes, `*`, `-`, `AND`, `OR`, `NOT`, `NEAR(`, `:` and parentheses are plain words or nothing,
and cannot break or change the search.
"""

from __future__ import annotations

import re

# Function words carry no topic; without them BM25 on long, conversational questions ranks by
# content words (on the dev sets this lifted BM25 nDCG@10 by 0.01 to 0.08, see docs/quality.md).
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing don down during each
    few for from further get got had has have having he her here hers herself him himself
    his how i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would
    you your yours yourself yourselves im ive dont cant didnt doesnt isnt wasnt wont
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# Long queries (a pasted paragraph, 10,000 characters) keep their first terms only: FTS5 cost
# grows with the number of OR-ed terms, and the opening words carry the topic.
MAX_TERMS = 64
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(text: str, drop_stop_words: bool = True) -> list[str]:
    """Distinct lower-cased content words of the query, in order (all words if all are stop
    words, so "what is it" still searches; all words too without `drop_stop_words`)."""
    words = [w.lower() for w in _WORD.findall(text.replace("_", " "))]
    if drop_stop_words:
        words = [w for w in words if w not in STOPWORDS] or words
    return list(dict.fromkeys(words))[:MAX_TERMS]


def match_expression(text: str, drop_stop_words: bool = True) -> str | None:
    """An FTS5 MATCH expression OR-ing the quoted terms, or None when there is no word."""
    terms = query_terms(text, drop_stop_words)
    return " OR ".join(f'"{t}"' for t in terms) if terms else None
