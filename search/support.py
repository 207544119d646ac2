"""Results for a question that suggests a crisis: the index's most supportive passages first.

When the crisis check fires (search.safety, via `Searcher.needs_crisis_notice`), the faces show
the crisis notice; what follows it should help the person who asked. Ranking by the question's
own words does not: "I don't want to live anymore" is, by its words and meaning, close to answers
about nostalgia or moving house. So a second search runs with one fixed query about suicidal
thoughts, self-harm and getting help now, and its best passages lead the list; the question's own
results follow, without repeats. The fixed query is the same for every question: nothing here
is tuned per question, and nothing is logged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from search.config import DEFAULT_MODE
from search.engine import Searcher
from search.hits import Hit

# The subject the results under the crisis notice should lead with.
SUPPORTIVE_QUERY = "suicidal thoughts, self-harm, getting help now"
# How many supportive passages lead the list: enough to fill the first screen, few enough that
# the answers to the question's own words still follow on it.
SUPPORTIVE_SLOTS = 3


@dataclass(frozen=True)
class Results:
    """What a face shows for one question: the hits, whether the crisis notice goes above them,
    and how many of the first hits are there because of it (`supportive`)."""

    hits: list[Hit]
    crisis: bool = False
    supportive: int = 0


def search_with_support(
    searcher: Searcher,
    query: str,
    k: int = 10,
    filters: Mapping[str, Sequence[str]] | None = None,
    mode: str = DEFAULT_MODE,
    explain: bool = True,
    slots: int = SUPPORTIVE_SLOTS,
) -> Results:
    """The query's top-k hits; for a crisis question, the `slots` best passages for
    SUPPORTIVE_QUERY (under the same filters and mode) first, then the query's own hits not
    already shown, ranks renumbered 1..k.

    A supportive hit's best sentences are chosen for the supportive query (they are what makes it
    supportive); its matched terms are dropped, since they are not the asker's words.
    """
    crisis = searcher.needs_crisis_notice(query)
    if not crisis or k <= 0 or slots <= 0:
        hits = searcher.search(query, k=k, filters=filters, mode=mode, explain=explain)
        return Results(hits, crisis, 0)
    own, support = searcher.search_many(
        [query, SUPPORTIVE_QUERY], k=k, filters=filters, mode=mode, explain=explain
    )
    lead = [dataclasses.replace(h, matched_terms=()) for h in support[: min(slots, k)]]
    return Results(blend(lead, own, k), True, len(lead))


def blend(first: Sequence[Hit], then: Sequence[Hit], k: int) -> list[Hit]:
    """`first`, then the hits of `then` whose passage is not among them, cut to k and ranked
    1..k in that order."""
    seen = {h.passage.id for h in first}
    merged = [*first, *(h for h in then if h.passage.id not in seen)][:k]
    return [dataclasses.replace(h, rank=i) for i, h in enumerate(merged, start=1)]
