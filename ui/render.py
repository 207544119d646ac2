"""Hits, cards and downloads on the page. Passage text is always shown as text: it is escaped
before it reaches Markdown, so a passage can never inject HTML, links or formatting."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import streamlit as st

from ingest import Passage, page_label
from search import Hit
from search.explain import split_sentences
from search.export import to_csv, to_jsonl

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")
# Streamlit's Markdown turns bare URLs and e-mail addresses into links even when every character
# is escaped (GFM "autolink literals" run on the unescaped text). An invisible word joiner
# (U+2060) after "scheme:", in "www." and before "@" keeps them plain text that looks the same.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(
    r"(?i)(\b(?:https?|s?ftp|mailto|file|javascript|data|tel|xmpp):|\bwww(?=\.)|(?=@))"
)
# A line break inside a paragraph is the source's wrapping (ragged lines on the page), unless the
# next line starts a list item: "- ", "* ", "• ", "1. ", "2) ", "(3) ".
_SOFT_BREAK = re.compile(r"(?<!\n)[ \t]*\n(?![ \t]*(?:\n|[-*•]\s|\(?\d{1,2}[.)]\s))")
# The highlight: Streamlit's "blue-background" is a pale blue under the normal text colour,
# 11:1 contrast and more in the light theme (WCAG AA asks 4.5:1), and marks a sentence without
# reading as a warning the way orange does.
HIGHLIGHT = "blue-background"
EXCERPT_CHARS = 320  # a "sentence" longer than this (a run-on answer) is cut in the excerpt


def escape_md(text: str) -> str:
    """Backslash-escape every Markdown-significant character so text renders literally, with
    no automatic links; line breaks are kept as hard breaks."""
    text = _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, text)
    lines = [_MD_SPECIAL.sub(r"\\\1", line) for line in text.split("\n")]
    return "  \n".join(lines)


def paragraphs(text: str) -> str:
    """The text with its wrapping undone: a single line break becomes a space (so character
    offsets, e.g. of highlighted sentences, stay valid); blank lines and line breaks before list
    items stay."""
    return _SOFT_BREAK.sub(lambda m: " " * len(m.group(0)), text)


def escape_text(text: str) -> str:
    """Passage text as escaped Markdown paragraphs (see `paragraphs`)."""
    return escape_md(paragraphs(text))


def highlighted_answer(hit: Hit) -> str:
    """The whole answer as escaped Markdown paragraphs, its best-matching sentences on a
    highlight."""
    answer = paragraphs(hit.passage.answer)
    out, pos = [], 0
    for sentence in sorted(hit.sentences, key=lambda s: s.start):
        if sentence.start < pos:
            continue
        out.append(escape_md(answer[pos : sentence.start]))
        # A highlight cannot span a paragraph break in Markdown: each paragraph gets its own.
        parts = answer[sentence.start : sentence.end].split("\n")
        out.append("\n".join(f":{HIGHLIGHT}[{escape_md(p)}]" if p.strip() else p for p in parts))
        pos = sentence.end
    out.append(escape_md(answer[pos:]))
    return "".join(out)


def count(n: int, noun: str) -> str:
    """The number and its noun, plural unless one: 1 document, 2,016 passages."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _cut(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def excerpt(hit: Hit) -> str:
    """The hit at a glance: its best sentences (the ones that match the question), highlighted,
    in text order; for a hit without explanations, the answer's first two sentences, plain."""
    answer = hit.passage.answer
    if hit.sentences:
        parts = [f":{HIGHLIGHT}[{escape_md(_cut(s.text))}]" for s in hit.sentences]
        return " … ".join(parts)
    spans = split_sentences(answer)[:2]
    return escape_md(_cut(" ".join(answer[a:b] for a, b in spans))) if spans else ""


def source_name(source: str, titles: Mapping[str, str]) -> str:
    """What a reader calls a source: its document's title, else its file name without the
    extension and with spaces for underscores."""
    title = (titles.get(source) or "").strip()
    if title:
        return title
    stem = Path(source).stem.replace("_", " ").strip()
    return stem or Path(source).name


def provenance(hit: Hit, titles: Mapping[str, str]) -> str:
    """One line under a hit: where it comes from, its topic, the question's words it contains
    (escaped; no ids, versions or scores: those are in the downloads and the details)."""
    p = hit.passage
    facts = [f"from {source_name(p.source, titles)}" + _pages(p)]
    if len(p.sources) > 1:
        facts.append(f"also in {count(len(p.sources) - 1, 'other source')}")
    if p.metadata.get("topic"):
        facts.append(f"topic: {p.metadata['topic']}")
    if hit.matched_terms:
        facts.append(f"your words: {', '.join(hit.matched_terms)}")
    return escape_md(" · ".join(facts))


def _pages(p: Passage) -> str:
    """ ", p. 3" (or ", pp. 3-4") after the source of a passage from a PDF; "" for others."""
    label = page_label(p.pages)
    return f", {'pp' if len(p.pages) > 1 else 'p'}. {label}" if label else ""


def hit_facts(hit: Hit) -> str:
    """The details of a hit, for the whole-answer view: score parts and source file (ids are in
    the downloads)."""
    return escape_md(f"{hit.summary()} · file: {Path(hit.passage.source).name}")


def show_hit(
    hit: Hit,
    key: str,
    titles: Mapping[str, str],
    on_related: Callable[[Hit], None] | None = None,
    duplicates: Sequence[Hit] = (),
    siblings: Sequence[Hit] = (),
    other_answers: Sequence[Passage] = (),
) -> None:
    """One hit as a reader scans it: rank and question, its two best sentences, one line of
    provenance, a "Read the whole answer" expander (with the score and near-duplicates folded
    there) and a "Related passages" button; other answers to the same question (matched ones
    with their rank) under "N more answers to this question", without taking their place."""
    p = hit.passage
    st.markdown(f"**{hit.rank}. {escape_md(p.question or '(no question)')}**")
    if p.answer:
        st.markdown(excerpt(hit))
    else:
        st.markdown("_(no answer text)_")
    st.caption(provenance(hit, titles))
    with st.expander("Read the whole answer"):
        st.markdown(highlighted_answer(hit) if p.answer else "_(no answer text)_")
        st.caption(hit_facts(hit))
        if duplicates:
            ranks = ", ".join(str(d.rank) for d in duplicates)
            st.caption(
                f"{count(len(duplicates), 'near-identical passage')} folded here (rank {ranks}): "
                + escape_md("; ".join(source_name(d.passage.source, titles) for d in duplicates))
            )
    more = len(siblings) + len(other_answers)
    if more:
        with st.expander(f"{count(more, 'more answer')} to this question"):
            for sib in siblings:
                st.markdown(f"**{sib.rank}.** {excerpt(sib)}")
                st.markdown(highlighted_answer(sib))
                st.caption(provenance(sib, titles))
                st.caption(hit_facts(sib))
            for other in other_answers:
                st.markdown(escape_text(other.answer))
                st.caption(escape_md(f"another answer, from {source_name(other.source, titles)}"))
    if on_related is not None:
        # A callback runs before the next rerun, so the page redraws once, already walking.
        st.button("Related passages", key=f"{key}-rel-{p.id}", on_click=on_related, args=(hit,))


def show_passage(p: Passage, titles: Mapping[str, str], prefix: str = "") -> None:
    """A whole passage outside a result list (the walk's current step, a point on the map);
    `prefix` is the page's own (trusted) text."""
    st.markdown(f"**{prefix}{escape_md(p.question or '(no question)')}**")
    st.markdown(escape_text(p.answer))
    facts = [f"from {source_name(p.source, titles)}" + _pages(p)]
    if p.metadata.get("topic"):
        facts.append(f"topic: {p.metadata['topic']}")
    st.caption(escape_md(" · ".join(facts)))


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
