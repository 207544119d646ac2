"""The counsel-search page: `streamlit run app.py` or `counsel-search app`.

A thin face over `search/`: no ranking logic here. Three views: Search (ranked answers, and the
related-passage walk from any of them), Map (every passage in 2-D) and Themes (clusters). Passage
text is always shown as text (see ui/render.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from index import default_index_dir
from index.publish import POINTER
from ingest import CounselSearchError
from search import DEFAULT_MODE, MODES, Searcher
from search.safety import CRISIS_NOTE
from ui.corpus import map_view, themes_view
from ui.render import escape_md, highlighted_answer
from ui.upload import add_documents_panel, preview_uploads
from ui.views import WALK, results_view, walk_view

__all__ = ["escape_md", "highlighted_answer", "preview_uploads"]

HELP_NOTE = (
    "Search results are written by therapists for other people's questions: they are not a "
    "substitute for professional help. If you are in crisis or thinking about harming yourself, "
    "contact your local emergency number or a crisis line now."
)
VIEWS = ("Search", "Map", "Themes")


def _version_token(index_dir: Path) -> str:
    """The published version name; a change makes the cached searcher reopen on next query."""
    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


@st.cache_resource(max_entries=2, show_spinner="Loading the model and the index…")
def get_searcher(index_dir: str, version: str) -> Searcher:
    """One searcher (model + index) per process and index version, not per rerun."""
    del version  # part of the cache key only
    # A damaged current version must not take the page down while an older one is intact.
    return Searcher.open(index_dir, fallback=True).warm()


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
        sources = st.multiselect(
            "Source",
            [s for s, _ in searcher.facet("source")],
            key="sources",
            format_func=lambda s: Path(s).name,
        )
        st.header("Index")
        st.markdown(
            f"- passages: **{info.passages}**\n- documents: **{info.documents}**\n"
            f"- model: **{escape_md(info.model)}**\n- built at: {escape_md(info.built_at)}\n"
            f"- vectors: {info.backend}, {info.index_type}\n"
            f"- version: `{info.version}`"
        )
        with st.expander("Add documents"):
            add_documents_panel(searcher, index_dir)
    return k, mode, {"topic": topics, "source": sources}


def main() -> None:
    """Render the page."""
    st.set_page_config(page_title="counsel-search", page_icon="🔎", layout="wide")
    st.title("counsel-search")
    st.caption("Semantic search over what therapists have written.")
    st.info(HELP_NOTE, icon="ℹ️")

    index_dir = default_index_dir()
    try:
        searcher = get_searcher(str(index_dir), _version_token(index_dir))
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

    query = st.text_input(
        "Your question",
        key="query",
        placeholder="e.g. can I trust a therapist who acts like he knows everything?",
    )
    if searcher.needs_crisis_notice(query):
        # Above everything else, whatever the view: the results still follow below it.
        st.error(CRISIS_NOTE, icon="🆘")
    view = st.radio("View", VIEWS, key="view", horizontal=True, label_visibility="collapsed")
    if view == "Map":
        # Ring the current query's hits (no explanations needed: a fast search).
        hits = searcher.search(query, k=k, filters=filters, mode=mode, explain=False)
        map_view(searcher, [h.passage.id for h in hits])
    elif view == "Themes":
        themes_view(searcher)
    elif st.session_state.get(WALK):
        walk_view(searcher, k, filters)
    elif query.strip():
        results_view(searcher, query, k, filters, mode)
    else:
        st.write("Type a question above to see what therapists have answered.")


main()
