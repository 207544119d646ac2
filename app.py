"""The counsel-search page: `streamlit run app.py` or `counsel-search app`.

A thin face over `search/`: no ranking logic here. Three views: Search (ranked answers, and the
related-passage walk from any of them), Map (every passage in 2-D) and Themes (clusters). Passage
text is always shown as text (see ui/render.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from index import default_index_dir
from ingest import CounselSearchError
from search import DEFAULT_MODE, MODES, Searcher
from search.safety import CRISIS_NOTE
from search.support import search_with_support
from ui.launch import get_searcher, version_token
from ui.render import count, escape_md, highlighted_answer, source_name
from ui.upload import add_documents_panel, preview_uploads
from ui.views import WALK, end_walk, results_view, source_titles, walk_view

__all__ = ["escape_md", "highlighted_answer", "preview_uploads"]

HELP_NOTE = (
    "Search results are written by therapists for other people's questions: they are not a "
    "substitute for professional help. If you are in crisis or thinking about harming yourself, "
    "contact your local emergency number or a crisis line now."
)
VIEWS = ("Search", "Map", "Themes")
# Streamlit draws captions at 60% opacity: 3.7:1 on white, under the 4.5:1 that WCAG AA asks of
# small text (axe-core flags it). Opaque and grey, they stay quieter than body text at 7:1 on
# white and 6:1 on the sidebar. The page's own constant, never passage text.
CAPTION_CSS = (
    "<style>[data-testid='stCaptionContainer'] { opacity: 1 !important; "
    "color: #555866 !important; }</style>"
)


def sidebar(searcher: Searcher, index_dir: Path) -> tuple[int, str, dict[str, list[str]]]:
    """Number of results, ranking mode, filters, index facts and the upload panel."""
    info = searcher.info()
    with st.sidebar:
        st.header("Filters")
        k = st.slider("Number of results", min_value=1, max_value=50, value=10, key="k")
        mode = st.radio(
            "Ranking",
            MODES,
            index=MODES.index(DEFAULT_MODE),
            key="mode",
            horizontal=True,
            help="hybrid: meaning and words combined (best on our benchmarks); dense: meaning "
            "only (embeddings); lexical: words only (BM25)",
        )
        topics = st.multiselect("Topic", [t for t, _ in searcher.facet("topic")], key="topics")
        titles = source_titles(searcher)
        sources = st.multiselect(
            "Source",
            [s for s, _ in searcher.facet("source")],
            key="sources",
            format_func=lambda s: source_name(s, titles),
        )
        st.caption(f"{count(info.passages, 'passage')} from {count(info.documents, 'document')}")
        with st.expander("About this index"):
            st.markdown(index_facts(info))
        with st.expander("Add documents"):
            add_documents_panel(searcher, index_dir)
    return k, mode, {"topic": topics, "source": sources}


def index_facts(info) -> str:
    """The index's facts as Markdown (for the "About this index" expander): counts, model,
    when it was built and how long the build and the last update took, version."""
    built = f"built at: {escape_md(info.built_at)} in {info.build_seconds:.1f} s"
    if info.update_seconds and info.update_seconds != info.build_seconds:
        built += f" (last update took {info.update_seconds:.1f} s)"
    return (
        f"- passages: **{info.passages}**\n- documents: **{info.documents}**\n"
        f"- model: **{escape_md(info.model)}**\n- {built}\n"
        f"- vectors: {info.backend}, {info.index_type}; queries encoded by "
        f"{escape_md(info.query_encoder)}\n"
        f"- version: `{info.version}`"
    )


def question_box() -> str:
    """The question, with a visible Search button beside it (Enter works too). A new question
    closes an open related-passage walk, so its results show."""
    box, button = st.columns([6, 1], vertical_alignment="bottom")
    query = box.text_input(
        "Your question",
        key="query",
        placeholder="e.g. can I trust a therapist who acts like he knows everything?",
        on_change=end_walk,
    )
    # Clicking it leaves the box, which commits the typed text: the rerun searches for it.
    button.button("Search", key="search", type="primary", width="stretch")
    return query


def main() -> None:
    """Render the page."""
    st.set_page_config(page_title="counsel-search", page_icon="🔎", layout="wide")
    st.html(CAPTION_CSS)
    st.title("counsel-search")
    st.caption("Semantic search over what therapists have written.")
    st.info(HELP_NOTE, icon="ℹ️")

    # The question box comes before the searcher: on a cold start people type while the model
    # and the index load (the spinner shows under the box), and their question is answered
    # when the load is done.
    query = question_box()
    index_dir = default_index_dir()
    try:
        searcher = get_searcher(str(index_dir), version_token(index_dir))
    except CounselSearchError as exc:
        st.error(exc.one_line())
        st.stop()
        return
    if searcher.version.damaged:
        st.warning(
            f"Serving the previous index version {searcher.version.version}: the current one "
            f"is damaged ({searcher.version.damaged})",
            icon="⚠️",
        )
    if "added" in st.session_state:
        st.success(st.session_state.pop("added"))
    k, mode, filters = sidebar(searcher, index_dir)
    if searcher.needs_crisis_notice(query):
        # Above everything else, whatever the view: the results still follow below it.
        st.error(CRISIS_NOTE, icon="🆘")
    view = st.radio("View", VIEWS, key="view", horizontal=True, label_visibility="collapsed")
    # The map and themes need pandas and altair (about a second to import): only those views
    # pay it, so the page's first answer does not.
    if view == "Map":
        from ui.corpus import map_view

        # Ring the current query's hits (no explanations needed: a fast search).
        # (The hits the results view shows: supportive ones first under the crisis notice.)
        hits = search_with_support(searcher, query, k, filters, mode, explain=False).hits
        map_view(searcher, [h.passage.id for h in hits])
    elif view == "Themes":
        from ui.corpus import themes_view

        themes_view(searcher)
    elif st.session_state.get(WALK):
        walk_view(searcher, k, filters)
    elif query.strip():
        results_view(searcher, query, k, filters, mode)
    else:
        st.write("Type a question above to see what therapists have answered.")


main()
