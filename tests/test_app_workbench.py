"""The research workbench on the page: related-passage walks, answer cards, the map, themes,
downloads and the crisis notice, driven by Streamlit's AppTest against a real-model index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from search import Searcher

pytestmark = pytest.mark.integration


def _keys(at: AppTest, prefix: str) -> list[str]:
    return [b.key for b in at.button if (b.key or "").startswith(prefix)]


def test_walk_related_passages_with_a_breadcrumb(page: AppTest, real_index: Path) -> None:
    page.text_input(key="query").input("can I trust my therapist").run()
    start = next(k for k in _keys(page, "hit") if "-rel-" in k)
    start_id = start.split("-rel-")[1]
    page.button(key=start).click().run()
    assert not page.exception
    assert [s.value for s in page.subheader] == ["Related passages"]
    crumbs = [b for b in page.button if (b.key or "").startswith("crumb-")]
    assert len(crumbs) == 1 and crumbs[0].disabled  # where we are: not a link
    # The related list is the searcher's, in its order, the start passage excluded.
    searcher = Searcher.open(real_index)
    expected = [h.passage.id for h in searcher.related(start_id, k=10)]
    shown = [k.split("-rel-")[1] for k in _keys(page, "walk")]
    assert shown and start_id not in shown and set(shown) <= set(expected)
    page.button(key=_keys(page, "walk")[0]).click().run()  # walk on
    assert len(_keys(page, "crumb-")) == 2
    assert any(m.value.startswith("**Here: ") for m in page.markdown)
    page.button(key="crumb-0").click().run()  # back along the breadcrumb
    assert len(_keys(page, "crumb-")) == 1
    assert [k.split("-rel-")[1] for k in _keys(page, "walk")] == shown
    labels = {d.label for d in page.get("download_button")}
    assert {"Download CSV", "Download JSONL"} <= labels
    page.button(key="back").click().run()
    assert not page.subheader and _keys(page, "hit")


def test_answers_to_one_question_share_a_card(page: AppTest) -> None:
    page.text_input(key="query").input("how do I know I have the right therapist").run()
    # The question's other answers fold under the first one shown; the cards keep rank order.
    folds = [e.label for e in page.expander if e.label.endswith("to this question")]
    assert folds, "several answers to one question should share a card"
    assert int(folds[0].split()[0]) >= 1
    cards = [
        int(t.value[2:].split(".")[0])
        for t in page.main.markdown
        if re.match(r"\*\*\d+\. ", t.value)
    ]
    assert cards and cards == sorted(cards)


def test_map_rings_the_query_hits(page: AppTest) -> None:
    page.text_input(key="query").input("how do I stop feeling anxious").run()
    page.radio(key="view").set_value("Map").run()
    assert not page.exception
    page.selectbox(key="map-method").set_value("pca").run()  # UMAP may be the default ("auto")
    charts = page.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert "pick" in json.dumps(spec.get("params", spec))  # points can be selected
    assert any("127 passages, PCA" in c.value for c in page.caption)
    page.radio(key="view").set_value("Themes").run()
    assert not page.exception


def test_themes_follow_the_chosen_k(page: AppTest) -> None:
    page.radio(key="view").set_value("Themes").run()
    table = page.dataframe[0].value
    assert len(table) >= 2 and table["passages"].sum() == 127
    page.number_input(key="themes-k").set_value(4).run()
    table = page.dataframe[0].value
    assert len(table) == 4 and table["passages"].sum() == 127
    assert all(terms for terms in table["distinctive terms"])


def test_crisis_notice_above_results(page: AppTest) -> None:
    page.text_input(key="query").input("I don't want to be alive anymore").run()
    assert any("988" in e.value for e in page.error)
    # The results still follow (the first may head a card of several answers: "**1, 4. ").
    assert any(m.value.startswith(("**1. ", "**1, ")) for m in page.markdown)
    page.text_input(key="query").input("how do I build trust with my therapist").run()
    assert not any("988" in e.value for e in page.error)
