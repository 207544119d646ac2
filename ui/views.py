"""The search results and the related-passage walk.

A walk is a list of passage ids in session state: "Related passages" on any hit starts one (from
the results) or extends it (from inside the walk); the breadcrumb steps back to any point.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ingest import CounselSearchError
from search import WEAK_NOTE, Filters, Hit, Searcher
from search.explore import NEAR_DUPLICATE_COSINE, group_near_duplicates, question_cards
from search.export import hit_rows, walk_rows
from ui.render import download_buttons, escape_md, show_hit, show_passage

WALK = "walk"  # session key: list of {"id", "title"} from where the walk started to here


def _title(hit_or_passage) -> str:
    p = getattr(hit_or_passage, "passage", hit_or_passage)
    text = p.question or p.answer
    return text[:60] + ("…" if len(text) > 60 else "")


def start_walk(hit: Hit) -> None:
    """Open the related passages of a search hit: a new walk starting at it."""
    st.session_state[WALK] = [{"id": hit.passage.id, "title": _title(hit)}]


def extend_walk(hit: Hit) -> None:
    """Step from the current walk position to one of its related passages."""
    step = {"id": hit.passage.id, "title": _title(hit)}
    st.session_state[WALK] = [*st.session_state.get(WALK, []), step]


def _cut_walk(step: int) -> None:
    st.session_state[WALK] = st.session_state.get(WALK, [])[: step + 1]


def _end_walk() -> None:
    st.session_state.pop(WALK, None)


def _folded(searcher: Searcher, hits: Sequence[Hit]) -> tuple[list[Hit], dict[str, list[Hit]]]:
    """The hits to show, and for each, its near-duplicates folded under it."""
    groups = group_near_duplicates(searcher, hits)
    leads = [g.lead for g in groups]
    return leads, {g.lead.passage.id: list(g.duplicates) for g in groups}


def results_view(searcher: Searcher, query: str, k: int, filters: Filters, mode: str) -> None:
    """Ranked answers to the query: answers to the same question share one card, near-duplicates
    are folded, and the whole list downloads with its provenance."""
    with st.spinner("Searching…"):
        hits = searcher.search(query, k=k, filters=filters, mode=mode)
    if not hits:
        st.warning("No passages match these filters. Remove a filter to see more.")
        return
    if hits[0].weak:
        st.warning(WEAK_NOTE, icon="⚠️")
    st.caption(
        f"{len(hits)} results · best-matching sentences highlighted · answers to the same "
        f"question share a card · near-duplicates (cosine ≥ {NEAR_DUPLICATE_COSINE}) folded"
    )
    leads, dups = _folded(searcher, hits)
    shown = {h.passage.id for h in leads}
    for n, card in enumerate(question_cards(searcher, [h for h in hits if h.passage.id in shown])):
        with st.container(border=True):
            if len(card.hits) == 1 and len(card.answers) <= 1:
                hit = card.hits[0]
                show_hit(hit, f"hit{n}", start_walk, dups.get(hit.passage.id, ()))
                continue
            ranks = ", ".join(str(h.rank) for h in card.hits)
            st.markdown(f"**{ranks}. {escape_md(card.question or '(no question)')}**")
            st.caption(f"{len(card.hits)} of its {len(card.answers)} answers matched")
            for hit in card.hits:
                st.markdown(f"**{hit.rank}.**")
                show_hit(hit, f"hit{n}", start_walk, dups.get(hit.passage.id, ()), heading=False)
            matched = {h.passage.id for h in card.hits}
            others = [a for a in card.answers if a.id not in matched]
            if others:
                with st.expander(f"The other {len(others)} answer(s) to this question"):
                    for p in others:
                        st.markdown(escape_md(p.answer))
                        st.caption(escape_md(f"id: {p.id}"))
    download_buttons(hit_rows(hits, searcher=searcher, query=query, mode=mode), "results", "res")


def walk_view(searcher: Searcher, k: int, filters: Filters) -> None:
    """Where the walk is, how it got there (breadcrumb), and the nearest passages from here."""
    walk = st.session_state[WALK]
    st.subheader("Related passages")
    crumbs = st.columns(min(len(walk) + 1, 8))
    if crumbs[0].button("⟵ results", key="back"):
        _end_walk()
        st.rerun()
    # The breadcrumb keeps the last 7 steps visible; earlier ones are in the download.
    for col, (step, node) in zip(crumbs[1:], list(enumerate(walk))[-7:], strict=False):
        col.button(
            f"{step + 1}. {node['title']}",
            key=f"crumb-{step}",
            on_click=_cut_walk,
            args=(step,),
            disabled=step == len(walk) - 1,
        )
    try:
        here = searcher.passage(walk[-1]["id"])
        hits = searcher.related(here.id, k=k, filters=filters)
    except CounselSearchError as exc:
        st.error(exc.one_line())
        return
    with st.container(border=True):
        show_passage(here, "Here: ")
    st.caption(
        f"{len(hits)} nearest passages by cosine · near-duplicates (cosine ≥ "
        f"{NEAR_DUPLICATE_COSINE}) folded · 'Related passages' walks on from any of them"
    )
    leads, dups = _folded(searcher, hits)
    for n, hit in enumerate(leads):
        with st.container(border=True):
            show_hit(hit, f"walk{n}", extend_walk, dups.get(hit.passage.id, ()))
    download_buttons(walk_rows(searcher, [node["id"] for node in walk], k=k), "walk", "walk")
