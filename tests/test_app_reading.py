"""The page as a reader scans it (issue 18), driven by Streamlit's AppTest on the fast hashing
test embedder's index: results in rank order with other answers folded under the first, no ids
or versions in the main view, a new question ends a walk, weak questions collapsed, supportive
passages under the crisis notice, a visible Search button, a map legend that fits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from search import Searcher
from search.support import SUPPORTIVE_QUERY
from tests.conftest import ROOT

RANKED = re.compile(r"^\*\*(\d+)\. ")
PASSAGE_ID = re.compile(r"\bp[0-9a-f]{15}\b")
# A question of the sample with several answers: its answers are near the top together.
MANY_ANSWERS = "Can I change my feeling of being worthless to everyone?"


@pytest.fixture()
def fast_page(hash_index: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page on the sample corpus indexed with the hashing test embedder."""
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(hash_index))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def _ranks(at: AppTest) -> list[int]:
    return [int(m.group(1)) for x in at.main.markdown if (m := RANKED.match(x.value))]


def _ask(at: AppTest, question: str) -> AppTest:
    at.text_input(key="query").input(question).run()
    assert not at.exception
    return at


def test_cards_keep_rank_order_with_other_answers_folded(fast_page: AppTest) -> None:
    at = _ask(fast_page, MANY_ANSWERS)
    ranks = _ranks(at)
    assert ranks[0] == 1 and ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    more = [e.label for e in at.expander if "to this question" in e.label]
    assert more and all(re.fullmatch(r"\d+ more answers? to this question", x) for x in more)
    # Every hit is on the page once: as a card, folded under its question, or as a duplicate.
    shown = ranks + [
        int(m.group(1)) for x in at.main.markdown if (m := re.match(r"^\*\*(\d+)\.\*\* ", x.value))
    ]
    assert len(shown) <= 10 and shown[0] == 1


def test_main_view_shows_no_ids_or_versions(fast_page: AppTest, hash_index: Path) -> None:
    at = _ask(fast_page, "how do I build trust with my therapist")
    version = Searcher.open(hash_index).version.version
    main = [x.value for x in (*at.main.markdown, *at.main.caption)]
    assert main and not any(PASSAGE_ID.search(t) or version in t for t in main)
    # The version is in the sidebar's "About this index"; downloads still carry ids.
    about = next(e for e in at.sidebar.expander if e.label == "About this index")
    assert any(version in m.value for m in about.markdown)
    assert {"Download CSV", "Download JSONL"} <= {d.label for d in at.get("download_button")}


def test_a_new_question_ends_the_walk(fast_page: AppTest) -> None:
    at = _ask(fast_page, "can I trust my therapist")
    start = next(b.key for b in at.button if "-rel-" in (b.key or ""))
    at.button(key=start).click().run()
    assert [s.value for s in at.subheader] == ["Related passages"]
    at = _ask(at, "how do I stop feeling anxious")
    assert not at.subheader  # the walk is closed: the new question's results show
    assert _ranks(at)[:1] == [1]


def test_weak_question_is_said_and_collapsed(fast_page: AppTest) -> None:
    at = _ask(fast_page, "xylophone zeppelin")
    assert any("Weak match" in w.value for w in at.warning)
    labels = [e.label for e in at.expander]
    assert any(x.startswith("Show the ") and x.endswith("nearest passages anyway") for x in labels)
    assert "Read the whole answer" not in labels


def test_crisis_question_leads_with_supportive_answers(
    fast_page: AppTest, hash_index: Path
) -> None:
    at = _ask(fast_page, "I want to kill myself tonight")
    assert any("988" in e.value for e in at.error)
    assert any("suicidal thoughts, self-harm and getting help now" in c.value for c in at.caption)
    support = Searcher.open(hash_index).search(SUPPORTIVE_QUERY, k=3)
    first = next(x.value for x in at.main.markdown if x.value.startswith("**1. "))
    assert support[0].passage.question[:20] in first.replace("\\", "")


def test_search_button_beside_the_question(fast_page: AppTest) -> None:
    at = fast_page
    at.text_input(key="query").set_value("how do I build trust with my therapist")
    at.button(key="search").click().run()
    assert not at.exception and _ranks(at)[:1] == [1]


def test_map_defaults_to_pca_and_folds_rare_topics(fast_page: AppTest) -> None:
    at = fast_page
    at.radio(key="view").set_value("Map").run()
    assert not at.exception and at.selectbox(key="map-method").value == "pca"
    spec = json.dumps(json.loads(at.get("vega_lite_chart")[0].proto.spec))
    domain = json.loads(re.search(r'"domain": (\[[^\]]*\])', spec).group(1))
    assert 2 <= len(domain) <= 10
    topics = Searcher.open(hash_index_of(at)).facet("topic")
    assert (domain[-1] == "other") == (len(topics) > 9)


def hash_index_of(at: AppTest) -> str:
    """The index the page under test serves (from the environment the fixture set)."""
    import os

    return os.environ["COUNSEL_SEARCH_INDEX"]
