"""The shape of the corpus: a 2-D map of every passage and its themes (k-means clusters).

Both are computed once per index version and cached on disk with it (search/explore.py); the
cache_resource here only keeps the loaded result in memory across reruns.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ingest import CounselSearchError
from search import Searcher
from search.explore import (
    CorpusMap,
    Themes,
    corpus_map,
    passage_table,
    themes,
    umap_available,
)
from search.export import theme_rows
from ui.render import download_buttons, escape_md, show_passage, source_name
from ui.views import WALK, source_titles

# Above this many passages the map draws a fixed random sample (plus every highlighted point):
# a browser chart of hundreds of thousands of points is slow to draw and no easier to read.
MAP_MAX_POINTS = 20_000
# Colours a reader can tell apart (Tableau 10 less its grey): the most frequent values get one
# each, the rest share a grey "other", so 30 topics do not recycle 20 colours and the legend fits.
MAP_COLOURS = 9
OTHER = "other"
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
]  # fmt: skip
OTHER_COLOUR = "#bab0ac"


@st.cache_resource(max_entries=4, show_spinner="Projecting the passages…")
def _map(index_dir: str, version: str, method: str, _searcher: Searcher) -> CorpusMap:
    del index_dir, version  # cache key only
    return corpus_map(_searcher, method)


@st.cache_resource(max_entries=8, show_spinner="Clustering the passages…")
def _themes(index_dir: str, version: str, k: int, _searcher: Searcher) -> Themes:
    del index_dir, version
    return themes(_searcher, k or None)


@st.cache_resource(max_entries=2, show_spinner="Reading the passages…")
def _table(index_dir: str, version: str, _searcher: Searcher) -> pd.DataFrame:
    del index_dir, version
    rows = passage_table(_searcher)
    titles = source_titles(_searcher)
    return pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "question": [(r["question"] or r["answer"])[:140] for r in rows],
            "topic": [r["topic"] or "(none)" for r in rows],
            "source": [source_name(r["source"], titles) for r in rows],
        }
    )


def _key(searcher: Searcher) -> tuple[str, str]:
    return str(searcher.version.index_dir), searcher.version.version


def theme_k() -> int:
    """The number of themes the user asked for; 0 means the documented automatic rule."""
    return int(st.session_state.get("themes-k", 0))


def top_and_other(values: pd.Series, keep: int = MAP_COLOURS) -> tuple[pd.Series, list[str]]:
    """The values with all but the `keep` most frequent replaced by "other", and the legend's
    order (most frequent first, "other" last)."""
    counts = values.value_counts()
    top = [str(v) for v in counts.index[:keep]]
    folded = values.where(values.isin(top), OTHER) if len(counts) > keep else values
    return folded, top + ([OTHER] if len(counts) > keep else [])


def map_view(searcher: Searcher, hit_ids: list[str]) -> None:
    """Scatter plot of all passages; colour by topic, source or theme (the most frequent nine,
    the rest grey); the query's hits and the walk are ringed; selecting a point opens its
    passage. PCA by default (instant); UMAP on request (tens of seconds the first time for a
    version, cached after)."""
    methods = ["pca", "umap"] if umap_available() else ["pca"]
    left, right = st.columns(2)
    method = left.selectbox(
        "Projection",
        methods,
        key="map-method",
        help="PCA: instant. UMAP: keeps neighbours closer together; computed once per index "
        "version (tens of seconds on the bundled corpus), then cached.",
    )
    colour = right.selectbox("Colour by", ["topic", "source", "theme"], key="map-colour")
    try:
        cmap = _map(*_key(searcher), method, searcher)
    except CounselSearchError as exc:
        st.error(exc.one_line())
        return
    df = _table(*_key(searcher), searcher).copy()
    df["x"], df["y"] = cmap.xy[:, 0], cmap.xy[:, 1]
    if colour == "theme":
        th = _themes(*_key(searcher), theme_k(), searcher)
        names = {t.cluster: f"{t.cluster}: {t.label}" for t in th.themes}
        df["theme"] = [names[int(c)] for c in th.labels]
    hits = set(hit_ids)
    walk = {n["id"] for n in st.session_state.get(WALK, [])}
    df["marked"] = ["walk" if i in walk else "query hit" if i in hits else "" for i in df["id"]]
    if len(df) > MAP_MAX_POINTS:
        rest = df[df["marked"] == ""].sample(MAP_MAX_POINTS, random_state=0)
        df = pd.concat([df[df["marked"] != ""], rest])
        st.caption(f"Showing {MAP_MAX_POINTS:,} sampled passages of {len(cmap.ids):,}.")
    df["colour"], order = top_and_other(df[colour].astype(str))
    palette = PALETTE[: len(order) - (OTHER in order)] + [OTHER_COLOUR] * (OTHER in order)
    pick = alt.selection_point(name="pick", fields=["id"], on="click")
    points = (
        alt.Chart(df)
        .mark_circle(size=28, opacity=0.65)
        .encode(
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            color=alt.Color(
                "colour:N",
                title=colour,
                scale=alt.Scale(domain=order, range=palette),
                # Below the chart, so that it fits a phone's width; long names are cut.
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=160, symbolLimit=12),
            ),
            tooltip=["question:N", "topic:N", "source:N"],
        )
        .add_params(pick)
    )
    rings = (
        alt.Chart(df[df["marked"] != ""])
        .mark_point(size=160, filled=False, strokeWidth=2)
        .encode(
            x="x:Q",
            y="y:Q",
            shape=alt.Shape("marked:N", title="highlighted"),
            color=alt.value("black"),
            tooltip=["question:N", "marked:N"],
        )
    )
    st.caption(
        f"{len(cmap.ids):,} passages, {cmap.method.upper()} of their embeddings, computed once "
        "for this version of the index. Ringed: the current query's hits and the walk."
    )
    event = st.altair_chart(
        # Without hits or a walk there is nothing to ring (an empty layer leaves a bare legend).
        ((points + rings) if (df["marked"] != "").any() else points).properties(height=460),
        on_select="rerun",
        selection_mode="pick",
        key="map-chart",
    )
    chosen = [s.get("id") for s in (event.selection.get("pick") or []) if isinstance(s, dict)]
    if chosen and chosen[0]:
        _show_point(searcher, chosen[0])


def _show_point(searcher: Searcher, passage_id: str) -> None:
    try:
        p = searcher.passage(passage_id)
    except CounselSearchError as exc:
        st.error(exc.one_line())
        return
    with st.container(border=True):
        show_passage(p, source_titles(searcher))
        st.button(
            "Related passages", key="map-related", on_click=_walk_from, args=(p.id, p.question)
        )


def _walk_from(passage_id: str, title: str) -> None:
    st.session_state[WALK] = [{"id": passage_id, "title": (title or passage_id)[:60]}]
    st.session_state["view"] = "Search"


def themes_view(searcher: Searcher) -> None:
    """The clusters: size, distinctive terms, central passage, counts by topic and source."""
    st.number_input(
        "Number of themes (0 = choose automatically)",
        min_value=0,
        max_value=200,
        key="themes-k",
        help="k-means on the passage embeddings; the automatic rule is explained below.",
    )
    th = _themes(*_key(searcher), theme_k(), searcher)
    st.caption(escape_md(f"{th.k} themes; {th.rule}"))
    st.dataframe(
        pd.DataFrame(
            {
                "theme": [t.cluster for t in th.themes],
                "passages": [t.size for t in th.themes],
                "distinctive terms": [", ".join(t.terms) for t in th.themes],
                "most central question": [t.central_question for t in th.themes],
                "top topics": [
                    ", ".join(f"{n} ({c})" for n, c in t.by_topic[:3]) for t in th.themes
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    table = _table(*_key(searcher), searcher)
    labelled = table.assign(theme=th.labels)
    left, right = st.columns(2)
    left.markdown("**Passages by topic and theme**")
    left.dataframe(pd.crosstab(labelled["topic"], labelled["theme"]), width="stretch")
    right.markdown("**Passages by source and theme**")
    right.dataframe(pd.crosstab(labelled["source"], labelled["theme"]), width="stretch")
    names = {t.cluster: f"{t.cluster}: {t.label}" for t in th.themes}
    pick = st.selectbox("Passages of a theme", list(names), format_func=names.get, key="theme")
    chosen = next(t for t in th.themes if t.cluster == pick)
    st.markdown(f"**Most central passage: {escape_md(chosen.central_question or '')}**")
    st.markdown(escape_md(chosen.central_answer))
    members = labelled[labelled["theme"] == pick]
    st.dataframe(members[["question", "topic", "source", "id"]], hide_index=True)
    download_buttons(theme_rows(searcher, th), "themes", "themes")
