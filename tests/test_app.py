"""The Streamlit page, driven by Streamlit's AppTest against a real-model index."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import escape_md

APP = str(Path(__file__).resolve().parent.parent / "app.py")
pytestmark = pytest.mark.integration


@pytest.fixture()
def page(real_index: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(real_index))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_page_shows_facts_and_help_note(page: AppTest) -> None:
    assert any("not a substitute for professional help" in i.value for i in page.info)
    facts = "\n".join(_texts(page))
    assert "passages: **127**" in facts and "all\\-MiniLM\\-L6\\-v2" in facts


def test_question_gives_ranked_results(page: AppTest) -> None:
    page.text_input(key="query").input("what does resistance mean in psychoanalysis").run()
    assert not page.exception
    texts = _texts(page)
    first = next(t for t in texts if t.startswith("**1. "))
    assert "psychotherapy resistance" in first
    assert any(t.startswith("**10. ") for t in texts)  # default 10 results
    assert any(t.startswith("cosine 0\\.") for t in texts)


def test_filter_and_number_of_results(page: AppTest) -> None:
    page.slider(key="k").set_value(3)
    page.multiselect(key="topics").select("depression")
    page.text_input(key="query").input("I feel sad all the time").run()
    assert not page.exception
    headings = [t for t in _texts(page) if t.startswith("**") and ". " in t[:6]]
    assert len(headings) == 3
    captions = [c.value for c in page.caption if "topic" in c.value]
    assert len(captions) == 3 and all("topic\\: depression" in c for c in captions)


def test_related_passages(page: AppTest) -> None:
    page.text_input(key="query").input("can I trust my therapist").run()
    page.button(key=next(b.key for b in page.button if b.key.startswith("hit-"))).click().run()
    assert not page.exception
    assert any(s.value == "Related passages" for s in page.subheader)
    page.button(key="back").click().run()
    assert not any(s.value == "Related passages" for s in page.subheader)


def test_passage_text_is_not_interpreted() -> None:
    raw = "<script>alert(1)</script> **bold** [link](http://x) :red[hi] $x$"
    escaped = escape_md(raw)
    for token in ("<script>", "**bold**", "[link](", ":red[", "$x$"):
        assert token not in escaped
    assert escaped.replace("\\", "") == raw


def test_best_sentences_are_highlighted(page: AppTest) -> None:
    page.text_input(key="query").input("what does resistance mean in psychoanalysis").run()
    highlighted = [t for t in _texts(page) if ":orange-background[" in t]
    assert len(highlighted) == 10
    assert any("psychoanalysis" in c.value for c in page.caption if "matched terms" in c.value)


def test_weak_match_notice(page: AppTest) -> None:
    page.text_input(key="query").input("best pizza in Rome").run()
    assert any("Weak match" in w.value for w in page.warning)
    page.text_input(key="query").input("how do I build trust with my therapist").run()
    assert not any("Weak match" in w.value for w in page.warning)


def test_mode_switch(page: AppTest) -> None:
    page.radio(key="mode").set_value("lexical")
    page.text_input(key="query").input("psychotherapy resistance").run()
    assert not page.exception
    scores = [t for t in _texts(page) if t.startswith("cosine ")]
    assert scores and all("BM25" in t for t in scores)
    page.radio(key="mode").set_value("dense").run()
    assert all("BM25" not in t for t in _texts(page) if t.startswith("cosine "))
