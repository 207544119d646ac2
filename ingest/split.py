"""Splitting a text document into question-and-answer passages.

The unit of search is a question with its whole answer: a question line (or a Markdown/HTML
heading) starts a passage and everything up to the next one is its answer. Text that is not
under any question becomes paragraph passages of bounded length. Nothing in the body is
dropped; only the title line and a table of contents are taken out, as document metadata.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from ingest.lines import (
    BLANK,
    HEADING,
    QUESTION,
    TEXT,
    Line,
    classify,
    has_inner_sentence,
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
    if len(lines) < 2 or is_toc_header(lines[0]):
        return ""
    # A line right above a "Table of Contents" is the title even when it is two sentences
    # ("My past is holding me back. How can I get my life back?").
    if is_short_title(lines[0]) or (is_toc_header(lines[1]) and question_text(lines[0])):
        return lines[0]
    return ""


def _markdown_title(text: str) -> str:
    lines = [line for line in text.split("\n") if line]
    if not lines:
        return ""
    heading = atx_heading(lines[0])
    if heading is not None and heading[0] == 1:
        return strip_markers(heading[1])
    if len(lines) > 1 and _SETEXT_H1.match(lines[1]):
        return strip_markers(lines[0])
    if len(lines) > 1 and is_toc_header(lines[1]) and question_text(lines[0]):
        return strip_markers(lines[0])  # a question right above "Table of Contents"
    return ""


def split_document(doc: Document) -> list[Passage]:
    """Split a plain-text, Markdown or HTML-derived Document into passages, in order.

    The kind comes from `doc.metadata["kind"]`, else from the source's extension. The title
    line (when it repeats `doc.title`) and a table of contents are metadata, not passages, but
    a title that is also the first question still makes that question's passage. A question
    with nothing under it is no passage (`split_document_report` names them).
    """
    return split_document_report(doc)[0]


class Unanswered(NamedTuple):
    """A question left out because nothing is under it. `after` counts the lines after it
    that hold its words (a later section under the same question), so a reader can find its
    line in the file: counted from the end, which front matter or an HTML head before the
    body cannot shift."""

    question: str
    after: int


def split_document_report(doc: Document) -> tuple[list[Passage], list[Unanswered]]:
    """The passages of a document and the questions left out because nothing is under them
    (in document order)."""
    kind = doc.metadata.get("kind") or _KIND_BY_SUFFIX.get(
        PurePosixPath(doc.source).suffix.lower(), "txt"
    )
    # PDF and Word readers (ingest/structured.py) mark the headings they find as `## ` lines.
    markdown = kind in ("md", "html", "pdf", "docx")
    lines = classify(normalize_text(doc.text), markdown=markdown, setext=kind == "md")
    lines = [replace(line, no=i) for i, line in enumerate(lines)]
    texts = [line.text for line in lines]
    lines = _drop_title(lines, doc.title)
    lines, contents = _drop_toc(lines)
    lines = _follow_contents(lines, contents) if contents else _answers_that_ask(lines)
    metadata: dict[str, Any] = {**doc.metadata, "title": doc.title, "kind": kind}
    passages: list[Passage] = []
    pairs, left_out = _sections(lines)
    unanswered = [
        Unanswered(line.question, sum(line.question in t for t in texts[line.no + 1 :]))
        for line in left_out
    ]
    for question, answer in pairs:
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
    return passages, unanswered


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


def _drop_toc(lines: list[Line]) -> tuple[list[Line], set[str]]:
    """Remove a table of contents, whole: a block of entries listing the sections that follow.
    Returns the lines without it and the keys of its entries (empty when there is none).

    The block is a "Table of Contents"/"Contents" header and the run of contents-like lines
    after it (or, with no header, a run of questions opening the body, each asked again
    below). An entry may come more than once (several sections under one question). The run
    goes on into the body's first section heading, whose own text follows it; that line, the
    last of the run that repeats an earlier one (or, when none does, the run's last line),
    is the body's first question and stays.
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
        return lines, set()
    keys = [key(line.question or line.text) if line.kind != BLANK else "" for line in lines]
    body_start = _first_section(lines, keys, entries)
    toc = [i for i in entries if body_start is None or i < body_start]
    if not toc:
        # Only the body's first question follows the header: the header alone is dropped.
        return ([line for i, line in enumerate(lines) if i != header], set())
    if header is None:
        # Questions that are not asked again below are the body, not a contents list.
        later = set(keys[toc[-1] + 1 :])
        if not all(keys[i] in later for i in toc):
            return lines, set()
    drop = set(toc)
    if header is not None:
        drop.add(header)
    logger.debug("table of contents: %d entries", len(toc))
    contents = {keys[i] for i in toc}
    if body_start is not None:
        contents.add(keys[body_start])
    return [line for i, line in enumerate(lines) if i not in drop], contents


def _first_section(lines: list[Line], keys: list[str], entries: list[int]) -> int | None:
    """Which line of a contents run is the body's first section heading (None: the whole run
    is contents). The run of contents-like lines goes on into the body as long as its lines
    look like entries; it ends at the first line of text.

    The body begins where the first entry is asked again, at the last such place whose entries
    before it all come again, in order, from there on (entries may repeat: several sections
    under one question). With no such place, the run's last line is the first section when
    text follows it (its own) and it is not asked again further on, as in the seed, whose
    contents list is its first question alone.
    """
    nxt = _next_content(lines, entries[-1] + 1)
    if nxt is None or nxt.starts_passage:
        return None
    for j in range(len(entries) - 1, 0, -1):
        start = entries[j]
        if keys[start] == keys[entries[0]] and _in_order(
            [keys[i] for i in entries[:j]], keys[start:]
        ):
            return start
    last = entries[-1]
    return None if keys[last] in keys[last + 1 :] else last


def _in_order(wanted: list[str], keys: list[str]) -> bool:
    """Do the `wanted` keys occur in `keys` in this order (others may come between)?"""
    it = iter(keys)
    return all(any(k == w for k in it) for w in wanted)


def _answers_that_ask(lines: list[Line]) -> list[Line]:
    """A question line of several sentences right under a question is its answer, not a new
    section: "What is stress?" then "I want to understand first. Who is stressing you?" (a
    therapist asking back). Without this the first question would have nothing under it."""
    out: list[Line] = []
    previous: Line | None = None
    for line in lines:
        if (
            line.kind == QUESTION
            and previous is not None
            and previous.starts_passage
            and has_inner_sentence(line.question)
        ):
            line = Line(line.text, TEXT, no=line.no)
        out.append(line)
        if line.kind != BLANK:
            previous = line
    return out


def _follow_contents(lines: list[Line], contents: set[str]) -> list[Line]:
    """Let a table of contents say where sections start: a body line that repeats an entry
    starts a passage (even a plain "Coping strategies"), and a question line that no entry
    lists is answer text (a therapist's "Can you set aside an hour for yourself?")."""
    out = []
    for line in lines:
        listed = line.kind != BLANK and key(line.question or line.text) in contents
        if line.kind == QUESTION and not listed:
            line = Line(line.text, TEXT, no=line.no)
        elif line.kind == TEXT and listed and is_short_title(line.text):
            line = Line(line.text, HEADING, strip_markers(line.text), no=line.no)
        out.append(line)
    return out


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
    questions_only = False
    for i in range(start, len(lines)):
        line = lines[i]
        if line.kind == BLANK:
            continue
        if not is_toc_entry(line) or (questions_only and not line.question):
            break
        if not entries:
            # A contents list of questions is all questions: a short non-question line after
            # one is the answer to it ("It depends"), not another entry.
            questions_only = bool(line.question)
        entries.append(i)
    return entries


def _sections(lines: list[Line]) -> tuple[list[tuple[str, str]], list[Line]]:
    """(question, answer) pairs, paragraph pieces for text before the first question first;
    and the questions with nothing under them, which are no passage. When no question has
    anything under it (a list of questions), the questions are the text: paragraph pieces."""
    preamble: list[str] = []
    sections: list[tuple[Line, list[str]]] = []
    for line in lines:
        if line.starts_passage:
            sections.append((line, []))
        elif sections:
            sections[-1][1].append(line.text)
        else:
            preamble.append(line.text)
    answered = []
    unanswered = []
    for heading, answer_lines in sections:
        answer = strip_answer_marker(_BLANK_RUN.sub("\n\n", "\n".join(answer_lines)).strip())
        if answer:
            answered.append((heading.question, answer))
        else:
            unanswered.append(heading)
    if sections and not answered:
        preamble = [line.question if line.starts_passage else line.text for line in lines]
        unanswered = []
    pairs = [("", piece) for piece in _paragraph_pieces(preamble)]
    return pairs + answered, unanswered


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
