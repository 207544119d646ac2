"""The rule half of the crisis check (search/safety.py): phrases (search/crisis_phrases.py) and
cue pairs (search/crisis_cues.py), applied to the normalized query.

Every rule was checked against everyday idioms ("this job is killing me", "dying to know", "dead
tired", "end things with him", "cut ties", "cutting corners", "hang out", "jump back in"); the
lookaheads and the idiom filters keep those out. A truly ambiguous wording stays in: a notice
shown to someone who did not need it costs far less than one missed.
"""

from __future__ import annotations

import re

from search.crisis_cues import CUE_PAIRS, IDIOM_REQUEST, IDIOM_THREAT
from search.crisis_phrases import PATTERNS

_PHRASES = re.compile("|".join(f"(?:{p})" for ps in PATTERNS.values() for p in ps))
_PAIRS = [tuple(re.compile(p) for p in pair) for pairs in CUE_PAIRS.values() for pair in pairs]
_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_CANNOT = re.compile(r"\bcan ?not\b")


def normalize(query: str) -> str:
    """Lower case, apostrophes dropped ("don't" -> "dont"), every other run of non-letters and
    non-digits one space, "cannot" -> "cant": the form every rule is written for."""
    text = " ".join(_NON_WORD.sub(" ", _APOSTROPHES.sub("", query.lower())).split())
    return _CANNOT.sub("cant", text)


def crisis_by_pattern(query: str) -> bool:
    """True when the query contains a listed wording or cue pair of suicide, self-harm or
    danger."""
    text = IDIOM_REQUEST.sub(" ", IDIOM_THREAT.sub(" ", normalize(query)))
    if _PHRASES.search(text):
        return True
    return any(all(p.search(text) for p in pair) for pair in _PAIRS)


def matching_rule(query: str) -> str | None:
    """The first rule that fires on a query, as its kind and expression (for tuning and tests);
    None when none does."""
    text = IDIOM_REQUEST.sub(" ", IDIOM_THREAT.sub(" ", normalize(query)))
    for kind, phrases in PATTERNS.items():
        for phrase in phrases:
            if re.search(phrase, text):
                return f"{kind}: {phrase}"
    for kind, pairs in CUE_PAIRS.items():
        for pair in pairs:
            if all(re.search(p, text) for p in pair):
                return f"{kind}: {' & '.join(pair)}"
    return None
