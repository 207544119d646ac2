"""The results under the crisis notice, with the real model: for the crisis phrasings of
tests/data/crisis_phrasings.txt, the top 3 holds a passage about suicidal thoughts, self-harm or
getting help now (benchmarks/crisis_results.py measures the same on the bundled corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.crisis_results import about_crisis, phrasings, share_supported
from search import Searcher

pytestmark = pytest.mark.integration
# On the bundled corpus the share is 1.00 with supportive passages first and 0.32 without
# (benchmarks.crisis_results); the sample index has far fewer such passages to find.
FLOOR = 0.9


def test_crisis_phrasings_get_supportive_passages_in_their_top_3(real_index: Path) -> None:
    searcher = Searcher.open(real_index)
    queries = phrasings()
    assert len(queries) >= 30
    before = share_supported(searcher, queries, support=False)
    after = share_supported(searcher, queries, support=True)
    assert after >= FLOOR and after > before, (before, after)


def test_the_about_rule_is_about_the_subject() -> None:
    from ingest import Passage

    def p(question: str, answer: str) -> Passage:
        return Passage("p0", "d0", "s", question, answer, {})

    assert about_crisis(p("Why does self-harm feel like an addiction?", "It can."))
    assert about_crisis(p("Worthless", "Call the National Suicide Prevention Lifeline."))
    assert not about_crisis(p("How can I stop craving nostalgia?", "Remember the good times."))
    assert not about_crisis(p("My job is killing me", "Cutting back on hours can help."))
