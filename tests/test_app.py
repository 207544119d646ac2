"""The Streamlit page, driven by Streamlit's AppTest against a real-model index."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import escape_md
from index import add_sources, load_embedder
from ui.render import count

APP = str(Path(__file__).resolve().parent.parent / "app.py")
pytestmark = pytest.mark.integration


def _texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def shown_ranks(at: AppTest) -> list[int]:
    """Every rank on the page: cards ("**3. question**"), other answers folded under a card
    ("**5.** sentences") and near-duplicates folded into a hit ("(rank 7, 9)"), in page order."""
    ranks = []
    for text in [m.value for m in at.main.markdown] + [c.value for c in at.main.caption]:
        if m := re.match(r"^\*\*(\d+)\.(?: |\*\* )", text):
            ranks.append(int(m.group(1)))
        elif m := re.search(r"folded here \(rank ([\d, ]+)\)", text):
            ranks += [int(r) for r in m.group(1).split(", ")]
    return ranks


def _scores(at: AppTest) -> list[str]:
    """The score lines of the hits on the page (in each hit's "Read the whole answer")."""
    return [c.value for c in at.caption if c.value.startswith("cosine ")]


def test_page_shows_facts_and_help_note(page: AppTest) -> None:
    assert any("not a substitute for professional help" in i.value for i in page.info)
    facts = "\n".join(_texts(page))
    assert "passages: **127**" in facts and "all\\-MiniLM\\-L6\\-v2" in facts
    assert "127 passages from 2 documents" in [c.value for c in page.sidebar.caption]
    assert count(1, "document") == "1 document"  # not "1 documents"


def test_question_gives_ranked_results(page: AppTest) -> None:
    page.text_input(key="query").input("what does resistance mean in psychoanalysis").run()
    assert not page.exception
    texts = _texts(page)
    first = next(t for t in texts if t.startswith("**1. "))
    assert "psychotherapy resistance" in first
    # Default 10 results: each once, as a card or folded under its question's first card.
    assert sorted(shown_ranks(page)) == list(range(1, 11))


def test_filter_and_number_of_results(page: AppTest) -> None:
    page.slider(key="k").set_value(3)
    page.multiselect(key="topics").select("depression")
    page.text_input(key="query").input("I feel sad all the time").run()
    assert not page.exception
    assert sorted(shown_ranks(page)) == [1, 2, 3]
    captions = [c.value for c in page.caption if c.value.startswith("from ")]
    assert len(captions) == 3 and all("topic\\: depression" in c for c in captions)


def test_related_passages(page: AppTest) -> None:
    page.text_input(key="query").input("can I trust my therapist").run()
    page.button(key=next(b.key for b in page.button if "-rel-" in (b.key or ""))).click().run()
    assert not page.exception
    assert any(s.value == "Related passages" for s in page.subheader)
    page.button(key="back").click().run()
    assert not any(s.value == "Related passages" for s in page.subheader)


def test_passage_text_is_not_interpreted() -> None:
    raw = "<script>alert(1)</script> **bold** [link](http://x) :red[hi] $x$"
    escaped = escape_md(raw)
    for token in ("<script>", "**bold**", "[link](", ":red[", "$x$"):
        assert token not in escaped
    # Only backslashes and invisible word joiners (which stop URL autolinking) are added.
    assert escaped.replace("\\", "").replace("\u2060", "") == raw


def test_best_sentences_are_highlighted(page: AppTest) -> None:
    page.text_input(key="query").input("what does resistance mean in psychoanalysis").run()
    # Each hit's best sentences at a glance, and highlighted in its whole answer.
    texts = _texts(page)
    # The markdown after a card's heading is its excerpt: the best sentences, not the answer.
    excerpts = [texts[i + 1] for i, t in enumerate(texts[:-1]) if re.match(r"\*\*\d+\. ", t)]
    assert excerpts and all(t.startswith(":blue-background[") for t in excerpts)
    assert all(len(t) < 1200 for t in excerpts)
    assert len([t for t in texts if ":blue-background[" in t]) >= 10 + len(excerpts)
    assert any("psychoanalysis" in c.value for c in page.caption if "your words" in c.value)


def test_weak_match_notice(page: AppTest) -> None:
    page.text_input(key="query").input("best pizza in Rome").run()
    assert any("Weak match" in w.value for w in page.warning)
    page.text_input(key="query").input("how do I build trust with my therapist").run()
    assert not any("Weak match" in w.value for w in page.warning)


def test_mode_switch(page: AppTest) -> None:
    page.radio(key="mode").set_value("lexical")
    page.text_input(key="query").input("psychotherapy resistance").run()
    assert not page.exception
    scores = _scores(page)
    assert scores and all("BM25" in t for t in scores)
    page.radio(key="mode").set_value("dense").run()
    assert _scores(page) and all("BM25" not in t for t in _scores(page))


@pytest.fixture()
def own_page(real_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """A page on a private copy of the real index, free to change it."""
    index_dir = tmp_path / "index"
    shutil.copytree(real_index, index_dir)
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(index_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


NEW_DOC = (
    "# Coping with panic on the subway\n\n"
    "## What should I do when panic hits on a crowded train?\n\n"
    "Breathe out slowly, name five things you can see, and remind yourself the wave passes.\n"
)


def test_add_documents_from_the_page(own_page: AppTest) -> None:
    own_page.file_uploader[0].set_value(
        [
            ("../../subway panic.md", NEW_DOC.encode(), "text/markdown"),
            ("empty.txt", b"   ", "text/plain"),
        ]
    ).run()
    preview = own_page.dataframe[0].value
    assert list(preview["file"]) == ["../../subway panic.md", "empty.txt"]
    assert list(preview["passages"]) == [1, 0]
    assert preview["status"][0] == "ok" and "empty" in preview["status"][1]
    own_page.button(key="add-docs").click().run()
    assert not own_page.exception
    assert any("Added 1" in s.value for s in own_page.success)
    assert not own_page.dataframe  # the uploader is emptied after adding
    assert any("passages: **128**" in m.value for m in own_page.markdown)
    own_page.text_input(key="query").input("panic attack on a crowded train").run()
    first = next(m.value for m in own_page.markdown if m.value.startswith("**1. "))
    assert "crowded train" in first
    # Stored under the index's folder with a safe name: no path from the upload is kept.
    index_dir = Path(os.environ["COUNSEL_SEARCH_INDEX"])
    assert [p.name for p in (index_dir / "uploads").iterdir()] == ["subway_panic.md"]


def test_page_picks_up_a_new_index_version(own_page: AppTest) -> None:
    own_page.text_input(key="query").input("panic attack on a crowded train").run()
    assert not any("crowded train" in m.value for m in own_page.markdown)
    index_dir = Path(os.environ["COUNSEL_SEARCH_INDEX"])
    doc = index_dir.parent / "subway.md"
    doc.write_text(NEW_DOC)
    add_sources([doc], index_dir, load_embedder())  # another process would do the same
    own_page.run()  # the next query or rerun of the open page
    assert any("crowded train" in m.value for m in own_page.markdown)
    assert any("passages: **128**" in m.value for m in own_page.markdown)


def test_page_serves_the_previous_version_when_the_current_is_damaged(
    real_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(real_index, index_dir)
    doc = tmp_path / "subway.md"
    doc.write_text(NEW_DOC)
    add_sources([doc], index_dir, load_embedder())  # a second version, then damage it
    current = index_dir / "versions" / (index_dir / "CURRENT").read_text().strip()
    (current / "vectors.faiss").write_bytes(b"truncated")
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(index_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception and not at.error
    assert any("Serving the previous index version" in w.value for w in at.warning)
    assert any("passages: **127**" in m.value for m in at.markdown)  # the version before
    at.text_input(key="query").input("how do I build trust with my therapist").run()
    assert sorted(shown_ranks(at)) == list(range(1, 11))
