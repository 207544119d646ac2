"""Splitting a text document into question-and-answer passages.

The unit of search is a question with its whole answer: a question line (or a Markdown/HTML
heading) starts a passage and everything up to the next one is its answer. Text that is not
under any question becomes paragraph passages of bounded length. Nothing in the body is
dropped; only the title line and a table of contents are taken out, as document metadata.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePosixPath
from typing import Any

from ingest.lines import (
    BLANK,
    TEXT,
    Line,
    classify,
    is_short_title,
    is_toc_entry,
    is_toc_header,
    key,
    question_text,
    strip_answer_marker,
    strip_markers,
)
from ingest.markup import atx_heading, split_front_matter
from ingest.text import normalize_text
from ingest.types import Document, Passage, content_id

logger = logging.getLogger(__name__)

MAX_PARAGRAPH_CHARS = 1500

_KIND_BY_SUFFIX = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}
_BLANK_RUN = re.compile(r"\n{3,}")
# Where a long paragraph may be cut: after a sentence (end punctuation, closing quotes, space)
# or at a line break. The lookbehind starts a match only at the first mark of a run, so a long
# run of dots with no space after it is scanned once, not once per dot.
_CUT = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’»)\]]*[ \t]+|\n")
_SETEXT_H1 = re.compile(r"^=+$")


def parse_document(source: str, text: str, kind: str = "txt", title: str | None = None) -> Document:
    """Build a Document from decoded text: normalize it and find its title.

    `kind` is "txt", "md" or "html" (for HTML pass the text from markup.html_to_text and its
    title). Without a given title: for Markdown, the front matter's title or a leading `# `
    heading; for plain text, a short first line (no sentence after it) of a multi-line text.
    """
    text = normalize_text(text)
    if kind == "md":
        front_title, text = split_front_matter(text)
        text = text.strip("\n")
        title = title or front_title or None
    if title is None:
        title = _markdown_title(text) if kind in ("md", "html") else _plain_title(text)
    return Document(source, normalize_text(title), text, {"kind": kind})


def _plain_title(text: str) -> str:
    lines = [line for line in text.split("\n") if line]
    if len(lines) < 2 or is_toc_header(lines[0]) or not is_short_title(lines[0]):
        return ""
    return lines[0]


def _markdown_title(text: str) -> str:
    lines = [line for line in text.split("\n") if line]
    if not lines:
        return ""
    heading = atx_heading(lines[0])
    if heading is not None and heading[0] == 1:
        return strip_markers(heading[1])
    if len(lines) > 1 and _SETEXT_H1.match(lines[1]):
        return strip_markers(lines[0])
    return ""


def split_document(doc: Document) -> list[Passage]:
    """Split a plain-text, Markdown or HTML-derived Document into passages, in order.

    The kind comes from `doc.metadata["kind"]`, else from the source's extension. The title
    line (when it repeats `doc.title`) and a table of contents are metadata, not passages, but
    a title that is also the first question still makes that question's passage.
    """
    kind = doc.metadata.get("kind") or _KIND_BY_SUFFIX.get(
        PurePosixPath(doc.source).suffix.lower(), "txt"
    )
    markdown = kind in ("md", "html")
    lines = classify(normalize_text(doc.text), markdown=markdown, setext=kind == "md")
    lines = _drop_title(lines, doc.title)
    lines = _drop_toc(lines)
    metadata: dict[str, Any] = {**doc.metadata, "title": doc.title, "kind": kind}
    passages: list[Passage] = []
    for question, answer in _sections(lines):
        passages.append(
            Passage(
                id=content_id(question, answer),
                doc_id=doc.doc_id,
                source=doc.source,
                question=question,
                answer=answer,
                metadata=dict(metadata),
                position=len(passages),
                sources=(doc.source,),
            )
        )
    logger.debug("%s: %d passages", doc.source, len(passages))
    return passages


def _next_content(lines: list[Line], start: int) -> Line | None:
    return next((line for line in lines[start:] if line.kind != BLANK), None)


def _drop_title(lines: list[Line], title: str) -> list[Line]:
    """Remove the first line when it is the title, unless the title is also the first question.

    A title that is a question and is directly followed by answer text (as when an article is
    named after its first question) stays in the body: it is that answer's question. So does
    one in a document with no answer text at all (a list of questions): each is a passage.
    """
    first = next((i for i, line in enumerate(lines) if line.kind != BLANK), None)
    if first is None or not title:
        return lines
    line = lines[first]
    if key(line.question or line.text) != key(title):
        return lines
    if line.starts_passage and question_text(line.question):
        following = _next_content(lines, first + 1)
        if following is not None and following.kind == TEXT and not is_toc_header(following.text):
            return lines
        if not any(other.kind == TEXT for other in lines[first + 1 :]):
            return lines
    return lines[:first] + lines[first + 1 :]


def _drop_toc(lines: list[Line]) -> list[Line]:
    """Remove a table of contents: a block of entries listing the questions that follow.

    The block is a "Table of Contents"/"Contents" header and the contents-like lines after it
    (or, with no header, a run of questions opening the body). It ends at the first line that
    is not contents-like or that repeats an entry (the body has begun). An entry is dropped
    when its text comes again later or another entry follows it; the last entry, followed by
    answer text and not repeated, is the first real question.
    """
    first = next((i for i, line in enumerate(lines) if line.kind != BLANK), None)
    header = _toc_header(lines)
    if header is not None:
        entries = _toc_entries(lines, header + 1)
    elif first is not None and lines[first].starts_passage:
        entries = _toc_entries(lines, first)
        entries = entries if len(entries) >= 2 else []
    else:
        entries = []
    if not entries:
        return lines
    keys = [key(line.question or line.text) if line.kind != BLANK else "" for line in lines]
    last_seen = {k: i for i, k in enumerate(keys)}
    repeated = {i for i in entries if last_seen[keys[i]] > i}
    if header is None and not repeated.issuperset(entries[:-1]):
        return lines  # questions that are not repeated below are not a contents list
    drop = repeated | set(entries[:-1])
    if header is not None:
        drop.add(header)
    logger.debug("table of contents: %d entries", len(entries))
    return [line for i, line in enumerate(lines) if i not in drop]


def _toc_header(lines: list[Line]) -> int | None:
    """Index of a contents header before the first question or heading (or being a heading)."""
    for i, line in enumerate(lines):
        if line.kind == BLANK:
            continue
        if is_toc_header(line.question or line.text):
            return i
        if line.starts_passage:
            return None
    return None


def _toc_entries(lines: list[Line], start: int) -> list[int]:
    """Indexes of the contents entries from `start`: blank lines may separate them."""
    entries: list[int] = []
    seen: set[str] = set()
    questions_only = False
    for i in range(start, len(lines)):
        line = lines[i]
        if line.kind == BLANK:
            continue
        line_key = key(line.question or line.text)
        if not is_toc_entry(line) or line_key in seen or (questions_only and not line.question):
            break
        if not entries:
            # A contents list of questions is all questions: a short non-question line after
            # one is the answer to it ("It depends"), not another entry.
            questions_only = bool(line.question)
        entries.append(i)
        seen.add(line_key)
    return entries


def _sections(lines: list[Line]) -> list[tuple[str, str]]:
    """(question, answer) pairs: paragraph pieces for text before the first question first."""
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.starts_passage:
            sections.append((line.question, []))
        elif sections:
            sections[-1][1].append(line.text)
        else:
            preamble.append(line.text)
    pairs = [("", piece) for piece in _paragraph_pieces(preamble)]
    for question, answer_lines in sections:
        answer = _BLANK_RUN.sub("\n\n", "\n".join(answer_lines)).strip()
        pairs.append((question, strip_answer_marker(answer)))
    return pairs


def _paragraph_pieces(lines: list[str]) -> list[str]:
    paragraphs = "\n".join(lines).split("\n\n")
    return [piece for p in paragraphs if p.strip() for piece in bound_paragraph(p.strip())]


def bound_paragraph(text: str, limit: int = MAX_PARAGRAPH_CHARS) -> list[str]:
    """Cut a paragraph into pieces of at most `limit` characters, keeping every character.

    Cuts go after a sentence or at a line break, packing as many sentences as fit; a single
    sentence longer than the limit is cut at spaces (or, with no space at all, anywhere).
    """
    if len(text) <= limit:
        return [text]
    cuts = [m.end() for m in _CUT.finditer(text)]
    units = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    pieces: list[str] = []
    current = ""
    for unit in units:
        if len(current) + len(unit.rstrip()) <= limit:
            current += unit
            continue
        if current.strip():
            pieces.append(current.strip())
        current = ""
        for word_piece in _cut_at_spaces(unit, limit):
            if len(current) + len(word_piece.rstrip()) > limit and current.strip():
                pieces.append(current.strip())
                current = ""
            current += word_piece
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _cut_at_spaces(text: str, limit: int) -> list[str]:
    """Split text into runs of at most `limit` characters, each ending after a space."""
    end = len(text.rstrip())
    if end <= limit:
        return [text]
    pieces = []
    start = 0
    # Offsets into the text, not repeated slicing of the rest: a several-megabyte line with no
    # sentence end would otherwise be copied once per piece (quadratic time).
    while end - start > limit:
        cut = text.rfind(" ", start, start + limit + 1)
        cut = cut + 1 if cut > start else start + limit
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces
