"""Line classification for the splitter: what each line of a document is.

A document's body is read line by line; each line is a heading, a question, plain text or
blank. Headings exist only in Markdown and in HTML (which markup.py turns into Markdown-like
text); questions are recognized in every kind of text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.markup import atx_heading, clean_inline

MAX_QUESTION_CHARS = 250
MAX_QUESTION_WORDS = 40
# A line longer than this is not a question, a title or a contents line even once its markup
# (a long link target) is removed: it is not parsed for markup at all, which keeps a
# several-megabyte line cheap.
MAX_MARKUP_LINE_CHARS = 2000

BLANK, HEADING, QUESTION, TEXT = "blank", "heading", "question", "text"

# A question ends with "?", possibly inside closing quotes or brackets.
_ENDS_WITH_QUESTION = re.compile(r"\?[\"'”’»)\]]*$")
# Markers that introduce a line but are not part of its words: bullets, list numbers,
# "Q:" / "Question 3." labels.
_LINE_MARKER = re.compile(
    r"^(?:[-*+•·▪‣–—]\s+|\(?\d{1,3}[.)]\s+|(?:q|question)\s*\d{0,3}\s*[:.)]\s+)+",
    re.IGNORECASE,
)
_ANSWER_MARKER = re.compile(r"^(?:a|answer)\s*:\s*", re.IGNORECASE)
# A sentence boundary inside a line: end punctuation, optional closing quotes, a space, more text.
_INNER_SENTENCE = re.compile(r"[.!?…][\"'”’»)\]]*\s+\S")
_TOC_HEADER = re.compile(
    r"^(?:table of contents|contents|content|in this article|on this page|in this post"
    r"|toc|jump to|article contents|quick links)\s*:?$",
    re.IGNORECASE,
)
_SETEXT_UNDERLINE = re.compile(r"^(?:=+|-+)$")
_RULE = re.compile(r"^(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
_FENCE = re.compile(r"^(?:```|~~~)")
_NON_WORD = re.compile(r"[\W_]+")


def strip_dot_leader(text: str) -> str:
    """Drop the dot leader and page number ending a contents line: "Anxiety ...... 12".

    Done from the end by hand: the regular expression for it (`\\s*\\.{2,}\\s*\\d{0,4}$`) retries
    every dot of a long run of dots, which takes quadratic time on a long line.
    """
    end = len(text)
    while end > 0 and text[end - 1].isdecimal():
        end -= 1
    if len(text) - end > 4:
        return text  # a long number is not a page number
    body = text[:end].rstrip()
    words = body.rstrip(".")
    if len(body) - len(words) < 2:
        return text
    return words.rstrip()


@dataclass(frozen=True)
class Line:
    """One line of a document body: its text as written, its kind and its question text."""

    text: str
    kind: str
    question: str = ""  # the heading or question, markers removed; "" for text and blank lines
    no: int = -1  # position among the document's lines, where the splitter numbers them

    @property
    def starts_passage(self) -> bool:
        return self.kind in (HEADING, QUESTION)


def strip_markers(line: str) -> str:
    """The words of a short line without list markers, labels, links and wrapping emphasis."""
    return clean_inline(_LINE_MARKER.sub("", clean_inline(line)))


def strip_answer_marker(text: str) -> str:
    """Drop an "A:" / "Answer:" label from the start of an answer."""
    return _ANSWER_MARKER.sub("", text, count=1)


def question_text(line: str) -> str | None:
    """The question a whole line asks, or None when the line is not a question.

    A question line ends with "?" and is short (a long line ending in "?" is a paragraph that
    happens to end with a question); a lone "Why?" is dialogue, not a question heading.
    """
    if len(line) > MAX_MARKUP_LINE_CHARS:
        return None
    text = strip_markers(line)
    if not _ENDS_WITH_QUESTION.search(text) or len(text) > MAX_QUESTION_CHARS:
        return None
    words = len(text.split())
    return text if 2 <= words <= MAX_QUESTION_WORDS else None


def has_inner_sentence(text: str) -> bool:
    """True when a sentence ends inside the text ("I see. Why?"), not only at its end."""
    return bool(_INNER_SENTENCE.search(text))


def key(text: str) -> str:
    """A comparison key: case, markers, punctuation and page numbers do not matter."""
    words = strip_dot_leader(strip_markers(text))
    return " ".join(_NON_WORD.sub(" ", words.casefold()).split())


def is_toc_header(text: str) -> bool:
    """True for a line that announces a table of contents ("Table of Contents", "Contents:")."""
    return len(text) <= MAX_MARKUP_LINE_CHARS and bool(_TOC_HEADER.match(strip_markers(text)))


def is_short_title(text: str) -> bool:
    """True for a line short enough to be a title or a contents entry, and not a sentence."""
    if len(text) > MAX_MARKUP_LINE_CHARS:
        return False
    words = strip_markers(text)
    return (
        0 < len(words) <= 200
        and not _INNER_SENTENCE.search(words)
        and not words.endswith((".", ",", ";", ":"))
    )


def is_toc_entry(line: Line) -> bool:
    """True for a line that can be an entry of a table of contents."""
    if line.kind == QUESTION:
        return True
    if line.kind != TEXT:
        return False
    words = strip_dot_leader(strip_markers(line.text))
    return len(words) <= 150 and len(words.split()) <= 25 and is_short_title(words)


def classify(text: str, markdown: bool, setext: bool = False) -> list[Line]:
    """Split normalized text into classified lines.

    With `markdown`, `#` headings are headings, fenced code is plain text, horizontal rules are
    dropped and a leading backslash escaping "#" is removed. With `setext` (Markdown files),
    a one-line paragraph underlined with === or --- is a heading too.
    """
    raw = text.split("\n")
    lines: list[Line] = []
    in_fence = False
    skip_next = False
    for i, line in enumerate(raw):
        if skip_next:
            skip_next = False
            continue
        if not line:
            lines.append(Line("", BLANK))
            continue
        if markdown:
            if _FENCE.match(line):
                in_fence = not in_fence
                lines.append(Line(line, TEXT))
                continue
            if in_fence:
                lines.append(Line(line, TEXT))
                continue
            heading = atx_heading(line)
            if heading is not None:
                words = strip_markers(heading[1])
                lines.append(Line(line, HEADING, words) if words else Line("", BLANK))
                continue
            if (
                setext
                and i + 1 < len(raw)
                and _SETEXT_UNDERLINE.match(raw[i + 1])
                and (i == 0 or not raw[i - 1])
                and strip_markers(line)
            ):
                lines.append(Line(line, HEADING, strip_markers(line)))
                skip_next = True  # the underline is markup
                continue
            if _RULE.match(line):
                lines.append(Line("", BLANK))
                continue
            if line.startswith("\\#"):
                line = line[1:]
        question = question_text(line)
        lines.append(Line(line, QUESTION, question) if question else Line(line, TEXT))
    return lines
