"""The counsel-search page: `streamlit run app.py` or `counsel-search app`.

A thin face over `search/`: no ranking logic here. Passage text is always shown as text: it is
escaped before it reaches Markdown, so a passage can never inject HTML, links or formatting.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from index import add_sources, default_index_dir
from index.publish import POINTER
from index.uploads import MAX_UPLOAD_MB, store_upload
from ingest import SUPPORTED_EXTENSIONS, CounselSearchError, read_sources
from search import DEFAULT_MODE, MODES, WEAK_NOTE, Hit, Searcher

HELP_NOTE = (
    "Search results are written by therapists for other people's questions: they are not a "
    "substitute for professional help. If you are in crisis or thinking about harming yourself, "
    "contact your local emergency number or a crisis line now."
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")


def escape_md(text: str) -> str:
    """Backslash-escape every Markdown-significant character so text renders literally;
    line breaks are kept as hard breaks."""
    lines = [_MD_SPECIAL.sub(r"\\\1", line) for line in text.split("\n")]
    return "  \n".join(lines)


def highlighted_answer(hit: Hit) -> str:
    """The whole answer as escaped Markdown, its best-matching sentences on a highlight."""
    answer = hit.passage.answer
    out, pos = [], 0
    for sentence in sorted(hit.sentences, key=lambda s: s.start):
        if sentence.start < pos:
            continue
        out.append(escape_md(answer[pos : sentence.start]))
        out.append(f":orange-background[{escape_md(answer[sentence.start : sentence.end])}]")
        pos = sentence.end
    out.append(escape_md(answer[pos:]))
    return "".join(out)


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
    return Searcher.open(index_dir).warm()


def _show_hit(hit: Hit, key_prefix: str) -> None:
    p = hit.passage
    with st.container(border=True):
        head, score = st.columns([5, 2])
        head.markdown(f"**{hit.rank}. {escape_md(p.question or '(no question)')}**")
        score.markdown(escape_md(hit.summary()))
        st.markdown(highlighted_answer(hit) if p.answer else "_(no answer text)_")
        facts = [f"source: {Path(p.source).name}"]
        if len(p.sources) > 1:
            facts.append(f"also in {len(p.sources) - 1} other source(s)")
        if p.metadata.get("topic"):
            facts.append(f"topic: {p.metadata['topic']}")
        if hit.matched_terms:
            facts.append(f"matched terms: {', '.join(hit.matched_terms)}")
        facts.append(f"id: {p.id}")
        st.caption(escape_md(" · ".join(facts)))
        if st.button("Related passages", key=f"{key_prefix}-{p.id}"):
            st.session_state["related_of"] = p.id
            st.session_state["related_title"] = p.question or p.answer[:80]
            st.rerun()


def preview_uploads(files: list) -> list[dict[str, object]]:
    """Read each uploaded file (in a scratch folder, under its safe name) without embedding:
    the passages it will make, or the one-line reason it can't be read."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="counsel-upload-") as tmp:
        for file in files:
            row: dict[str, object] = {"file": file.name, "passages": 0, "status": "ok"}
            try:
                path = store_upload(Path(tmp), file.name, file.getvalue())
                result = read_sources([path])
                row["passages"] = len(result.passages)
                if result.errors:
                    row["status"] = result.errors[0].one_line().replace(str(path), file.name)
                elif not result.passages:
                    row["status"] = "no passages found"
            except CounselSearchError as exc:
                row["status"] = exc.one_line()
            rows.append(row)
    return rows


def add_documents_panel(searcher: Searcher, index_dir: Path) -> None:
    """Upload files, preview their passages, add them to the index with a progress bar."""
    files = st.file_uploader(
        f"Files ({', '.join(sorted(SUPPORTED_EXTENSIONS))}; up to {MAX_UPLOAD_MB} MB each)",
        type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS],
        accept_multiple_files=True,
        # A new key after each add empties the uploader, so the same files are not added twice.
        key=f"uploads-{st.session_state.get('upload_round', 0)}",
    )
    if not files:
        return
    rows = preview_uploads(files)
    st.dataframe(rows, hide_index=True, use_container_width=True)
    good = [f for f, r in zip(files, rows, strict=True) if r["status"] == "ok"]
    total = sum(int(r["passages"]) for r in rows if r["status"] == "ok")
    if not good:
        st.warning("None of these files can be added.")
        return
    label = f"Add {total} passage{'s' * (total != 1)} from {len(good)} file{'s' * (len(good) != 1)}"
    if st.button(label, key="add-docs"):
        bar = st.progress(0.0, text="Reading…")

        def progress(stage: str, done: int, all_: int) -> None:
            share = done / all_ if all_ else 1.0
            label = "Reading files" if stage == "read" else "Embedding new passages"
            bar.progress(min(1.0, share), text=f"{label}: {done}/{all_}")

        try:
            paths = [store_upload(index_dir, f.name, f.getvalue()) for f in good]
            report = add_sources(paths, index_dir, searcher.embedder, progress=progress)
        except CounselSearchError as exc:
            st.error(exc.one_line())
            return
        plan = report.plan
        st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
        st.session_state["added"] = (
            f"Added {len(plan.documents_added)} and updated {len(plan.documents_changed)} "
            f"document(s): {plan.passages_added + plan.passages_changed} passages, "
            f"{report.embedded} texts embedded. The index now holds {report.passages} passages."
        )
        st.rerun()


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

    info = searcher.info()
    if "added" in st.session_state:
        st.success(st.session_state.pop("added"))
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
            f"- version: `{info.version}`"
        )
        with st.expander("Add documents"):
            add_documents_panel(searcher, index_dir)
    filters = {"topic": topics, "source": sources}

    query = st.text_input(
        "Your question",
        key="query",
        placeholder="e.g. can I trust a therapist who acts like he knows everything?",
    )

    related_of = st.session_state.get("related_of")
    if related_of:
        st.subheader("Related passages")
        st.caption(escape_md(f"nearest to: {st.session_state.get('related_title', related_of)}"))
        if st.button("Back to results", key="back"):
            st.session_state.pop("related_of", None)
            st.rerun()
        try:
            for hit in searcher.related(related_of, k=k, filters=filters):
                _show_hit(hit, "rel")
        except CounselSearchError as exc:
            st.error(exc.one_line())
        return

    if not query.strip():
        st.write("Type a question above to see what therapists have answered.")
        return
    with st.spinner("Searching…"):
        hits = searcher.search(query, k=k, filters=filters, mode=mode)
    if not hits:
        st.warning("No passages match these filters. Remove a filter to see more.")
    else:
        if hits[0].weak:
            st.warning(WEAK_NOTE, icon="⚠️")
        st.caption(f"{len(hits)} results · best-matching sentences highlighted")
    for hit in hits:
        _show_hit(hit, "hit")


main()
