"""The search results and the related-passage walk.

A walk is a list of passage ids in session state: "Related passages" on any hit starts one (from
the results) or extends it (from inside the walk); the breadcrumb steps back to any point. A new
question ends it (`end_walk` is the question box's on_change).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ingest import CounselSearchError
from search import WEAK_NOTE, Filters, Hit, Searcher
from search.explore import NEAR_DUPLICATE_COSINE, group_near_duplicates, question_cards
from search.export import hit_rows, walk_rows
from search.support import search_with_support
from ui.render import download_buttons, escape_md, excerpt, provenance, show_hit, show_passage

WALK = "walk"  # session key: list of {"id", "title"} from where the walk started to here
SUPPORT_NOTE = (
    "Because your question suggests you may be going through something very hard, the first "
    "{n} answers are the ones this collection has about suicidal thoughts, self-harm and getting "
    "help now; answers to your own words follow."
)


@st.cache_resource(max_entries=4, show_spinner=False)
def _titles(index_dir: str, version: str, _searcher: Searcher) -> dict[str, str]:
    del index_dir, version  # cache key only
    return {str(d["source"]): str(d.get("title") or "") for d in _searcher.documents()}


def source_titles(searcher: Searcher) -> dict[str, str]:
    """{source: document title} of the open version (cached per version)."""
    return _titles(str(searcher.version.index_dir), searcher.version.version, searcher)


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


def end_walk() -> None:
    """Close the walk: back to the results (also what a new question does)."""
    st.session_state.pop(WALK, None)


def _folded(searcher: Searcher, hits: Sequence[Hit]) -> tuple[list[Hit], dict[str, list[Hit]]]:
    """The hits to show, and for each, its near-duplicates folded under it."""
    groups = group_near_duplicates(searcher, hits)
    leads = [g.lead for g in groups]
    return leads, {g.lead.passage.id: list(g.duplicates) for g in groups}


def results_view(searcher: Searcher, query: str, k: int, filters: Filters, mode: str) -> None:
    """Ranked answers to the query, in rank order: each as its question, best sentences and one
    line of provenance; other answers to the same question fold under the first one shown;
    near-duplicates fold into it. A weak top hit says so and keeps the passages collapsed; a
    crisis question leads with the index's supportive passages (search.support)."""
    with st.spinner("Searching…"):
        found = search_with_support(searcher, query, k=k, filters=filters, mode=mode)
    hits = found.hits
    if not hits:
        st.warning("No passages match these filters. Remove a filter to see more.")
        return
    titles = source_titles(searcher)
    if found.supportive:
        st.caption(SUPPORT_NOTE.format(n=found.supportive))
    rows = hit_rows(hits, searcher=searcher, query=query, mode=mode)
    if hits[0].weak and not found.supportive:
        st.warning(WEAK_NOTE, icon="⚠️")
        st.caption(f"{len(hits)} nearest passages, collapsed · best-matching sentences highlighted")
        # Collapsed, and brief: nested expanders are not allowed, and these rarely help.
        with st.expander(f"Show the {len(hits)} nearest passages anyway"):
            for n, hit in enumerate(hits):
                st.markdown(f"**{hit.rank}. {escape_md(hit.passage.question or '(no question)')}**")
                st.markdown(excerpt(hit))
                st.caption(provenance(hit, titles))
                st.button(
                    "Related passages",
                    key=f"weak{n}-rel-{hit.passage.id}",
                    on_click=start_walk,
                    args=(hit,),
                )
        download_buttons(rows, "results", "res")
        return
    st.caption(
        f"{len(hits)} results, best match first · best-matching sentences highlighted · other "
        "answers to the same question fold under the first one shown"
    )
    leads, dups = _folded(searcher, hits)
    # A card sits at the rank of its first hit; its later hits fold under it rather than pull
    # the whole card ahead of hits ranked between them.
    for n, card in enumerate(question_cards(searcher, leads)):
        first, *rest = card.hits
        matched = {h.passage.id for h in card.hits}
        with st.container(border=True):
            show_hit(
                first,
                f"hit{n}",
                titles,
                start_walk,
                dups.get(first.passage.id, ()),
                siblings=rest,
                other_answers=[a for a in card.answers if a.id not in matched],
            )
    download_buttons(rows, "results", "res")


def walk_view(searcher: Searcher, k: int, filters: Filters) -> None:
    """Where the walk is, how it got there (breadcrumb), and the nearest passages from here."""
    walk = st.session_state[WALK]
    st.subheader("Related passages")
    crumbs = st.columns(min(len(walk) + 1, 8))
    if crumbs[0].button("⟵ results", key="back"):
        end_walk()
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
    titles = source_titles(searcher)
    with st.container(border=True):
        show_passage(here, titles, "Here: ")
    st.caption(
        f"{len(hits)} nearest passages by meaning · near-duplicates (cosine ≥ "
        f"{NEAR_DUPLICATE_COSINE}) folded · 'Related passages' walks on from any of them"
    )
    leads, dups = _folded(searcher, hits)
    for n, hit in enumerate(leads):
        with st.container(border=True):
            show_hit(hit, f"walk{n}", titles, extend_walk, dups.get(hit.passage.id, ()))
    download_buttons(walk_rows(searcher, [node["id"] for node in walk], k=k), "walk", "walk")
