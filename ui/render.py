"""Hits, cards and downloads on the page. Passage text is always shown as text: it is escaped
before it reaches Markdown, so a passage can never inject HTML, links or formatting."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from ingest import Passage
from search import Hit
from search.export import to_csv, to_jsonl

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")
# Streamlit's Markdown turns bare URLs and e-mail addresses into links even when every character
# is escaped (GFM "autolink literals" run on the unescaped text). An invisible word joiner
# (U+2060) after "scheme:", in "www." and before "@" keeps them plain text that looks the same.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(
    r"(?i)(\b(?:https?|s?ftp|mailto|file|javascript|data|tel|xmpp):|\bwww(?=\.)|(?=@))"
)


def escape_md(text: str) -> str:
    """Backslash-escape every Markdown-significant character so text renders literally, with
    no automatic links; line breaks are kept as hard breaks."""
    text = _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, text)
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


def hit_facts(hit: Hit) -> str:
    """The caption under a hit: source, topic, matched terms, id (escaped)."""
    p = hit.passage
    facts = [f"source: {Path(p.source).name}"]
    if len(p.sources) > 1:
        facts.append(f"also in {len(p.sources) - 1} other source(s)")
    if p.metadata.get("topic"):
        facts.append(f"topic: {p.metadata['topic']}")
    if hit.matched_terms:
        facts.append(f"matched terms: {', '.join(hit.matched_terms)}")
    facts.append(f"id: {p.id}")
    return escape_md(" · ".join(facts))


def show_hit(
    hit: Hit,
    key: str,
    on_related: Callable[[Hit], None] | None = None,
    duplicates: Sequence[Hit] = (),
    heading: bool = True,
) -> None:
    """One hit: rank and question, score parts, the answer with highlights, facts, and a
    "Related passages" button; near-duplicates are folded under it rather than listed again."""
    p = hit.passage
    if heading:
        head, score = st.columns([5, 2])
        head.markdown(f"**{hit.rank}. {escape_md(p.question or '(no question)')}**")
        score.markdown(escape_md(hit.summary()))
    else:
        st.markdown(escape_md(hit.summary()))
    st.markdown(highlighted_answer(hit) if p.answer else "_(no answer text)_")
    st.caption(hit_facts(hit))
    if duplicates:
        ranks = ", ".join(str(d.rank) for d in duplicates)
        with st.expander(f"{len(duplicates)} near-duplicate(s) folded here (ranks {ranks})"):
            for dup in duplicates:
                st.caption(hit_facts(dup))
    if on_related is not None:
        # A callback runs before the next rerun, so the page redraws once, already walking.
        st.button("Related passages", key=f"{key}-rel-{p.id}", on_click=on_related, args=(hit,))


def show_passage(p: Passage, prefix: str = "") -> None:
    """A whole passage outside a result list (the walk's current step, a point on the map);
    `prefix` is the page's own (trusted) text."""
    st.markdown(f"**{prefix}{escape_md(p.question or '(no question)')}**")
    st.markdown(escape_md(p.answer))
    st.caption(escape_md(f"source: {p.source} · id: {p.id}"))


def download_buttons(rows: list[dict], stem: str, key: str) -> None:
    """CSV and JSONL downloads of export rows (each row carries its provenance)."""
    if not rows:
        return
    left, right = st.columns(2)
    left.download_button("Download CSV", to_csv(rows), f"{stem}.csv", "text/csv", key=f"{key}-csv")
    right.download_button(
        "Download JSONL",
        to_jsonl(rows),
        f"{stem}.jsonl",
        "application/jsonl",
        key=f"{key}-jsonl",
    )
