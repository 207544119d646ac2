"""The layout rules for PDF text: which printed lines are page furniture, which are headings,
and how the rest join into paragraphs. Pure functions over `PrintedLine`s, which ingest/pdf.py
takes from pdfminer.six page by page.

What is taken out: running headers and footers (lines at the top or bottom of most pages that
say the same thing, digits aside: "Page 3 of 8", the site's name, the article's URL) and page
numbers. What is put together: words hyphenated across line ends, wrapped lines into
paragraphs (list items stay lines of their paragraph), paragraphs broken by a page break.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from ingest.lines import is_short_title, key
from ingest.structured import Block

# Lines looked at, at the top and at the bottom of each page, for running headers and footers,
# if they are in the page's outer band (this share of its height, at either end).
FURNITURE_LINES = 3
FURNITURE_BAND = 0.15
# A line is a heading when its font is this much larger than the body's (browsers print h3 at
# 1.17 times the body), or bold in a body that is not.
HEADING_SIZE_RATIO = 1.12
MAX_HEADING_WORDS = 25

_PAGE_NUMBER = re.compile(
    r"^(?:page|p\.|pg\.?)?\s*[-–—]?\s*\d{1,4}\s*(?:(?:of|/)\s*\d{1,4})?\s*[-–—]?$"
    r"|^[ivxlc]{1,7}$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
# An address alone on a line (a browser prints the page's URL at its top or bottom), perhaps
# with a page count after it.
_URL_LINE = re.compile(
    r"^(?:https?://|file://|www\.)\S+(?:\s+\d{1,4}\s*(?:/|of)\s*\d{1,4})?$", re.I
)
# The date and time a browser prints in a page's header: "12/2/26, 9:24 AM", "02.12.26 09:24".
_PRINT_STAMP = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}:\d{2}(?:\s*[AP]M)?$", re.I)
_BULLET = re.compile(r"^(?:[-–•▪◦●○■□*·‣➢✓]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+\S", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_HYPHENS = ("-", "\u00ad", "\u2010")


@dataclass(frozen=True)
class PrintedLine:
    """One printed line: its text, page, box (PDF points, y up), font size and bold share, and
    whether it is in the outer band of its page, where headers and footers are printed."""

    text: str
    page: int
    x0: float
    x1: float
    y0: float
    y1: float
    size: float
    bold: float
    edge: bool = False
    page_width: float = 0.0


def _furniture_key(line: PrintedLine) -> tuple[str, int]:
    """Running headers and footers are the same line but for their numbers: "Page 3 of 8"."""
    return _DIGITS.sub("#", line.text.casefold()), round(line.size)


def without_furniture(lines: list[PrintedLine], body: BodyStyle) -> list[PrintedLine]:
    """The lines without running headers, footers and page numbers.

    Only the few lines at the top and at the bottom of a page, in its outer band, can be
    furniture: a line there that says the same thing on most pages (at least two; digits
    aside, unless it looks like a heading: "Session 1", "Session 2" are headings), a bare page
    number or a bare URL.
    """
    by_page: dict[int, list[PrintedLine]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    edges: dict[int, set[int]] = {}  # page -> ids of its top and bottom lines
    for page, on_page in by_page.items():
        top = sorted(on_page, key=lambda ln: -ln.y1)[:FURNITURE_LINES]
        bottom = sorted(on_page, key=lambda ln: ln.y0)[:FURNITURE_LINES]
        edges[page] = {id(ln) for ln in top + bottom if ln.edge}
    seen: Counter[tuple[str, int]] = Counter()
    for page, on_page in by_page.items():
        at_edge = [ln for ln in on_page if id(ln) in edges[page]]
        seen.update({_furniture_key(ln) for ln in at_edge})
        seen.update({(ln.text, -1) for ln in at_edge})  # the exact text, digits and all
    most = max(2, math.ceil(len(by_page) / 2))
    repeated = {k for k, n in seen.items() if n >= most}

    def furniture(line: PrintedLine) -> bool:
        if id(line) not in edges[line.page]:
            return False
        if any(p.match(line.text) for p in (_PAGE_NUMBER, _URL_LINE, _PRINT_STAMP)):
            return True
        if (line.text, -1) in repeated:
            return True
        return _furniture_key(line) in repeated and not _heading_style(line, body)

    dropped = [line for line in lines if furniture(line)]

    def beside(line: PrintedLine) -> bool:
        """Small print on the same baseline as furniture is furniture too: the site's name
        beside the URL, the date beside the page count (found on a single page as well)."""
        return (
            id(line) in edges[line.page]
            and line.size < body.size - 0.5
            and any(d.page == line.page and d.y0 < line.y1 and line.y0 < d.y1 for d in dropped)
        )

    gone = {id(line) for line in dropped}
    return [line for line in lines if id(line) not in gone and not beside(line)]


@dataclass(frozen=True)
class BodyStyle:
    """The body text's style: its font size, whether it is bold, its usual line gap, and the
    right edge of its lines."""

    size: float
    bold: bool
    gap: float
    right: float


def body_style(lines: list[PrintedLine]) -> BodyStyle:
    """The style of the body text: the font size most of the text is printed in, whether that
    text is bold, the usual gap between its lines and the right edge of its column."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.text)
    size = sizes.most_common(1)[0][0] if sizes else 10.0
    at_size = [ln for ln in lines if abs(ln.size - size) <= 0.5]
    weight = sum(len(ln.text) for ln in at_size) or 1
    bold = sum(ln.bold * len(ln.text) for ln in at_size) / weight > 0.5
    gaps = [
        a.y0 - b.y1
        for a, b in itertools.pairwise(at_size)
        if a.page == b.page and 0 <= a.y0 - b.y1 <= 2 * size
    ]
    # The text column's right edge: its longest line, or as far from the page's right side as
    # its left margin is from the left side, when every line is short.
    right = max((max(ln.x1, ln.page_width - ln.x0) for ln in at_size), default=0.0)
    return BodyStyle(size, bold, statistics.median(gaps) if gaps else 0.3 * size, right)


def _heading_style(line: PrintedLine, body: BodyStyle) -> bool:
    """Does the line look like a heading: a larger font, or bold in a body that is not?"""
    if not any(c.isalpha() for c in line.text):
        return False
    larger = line.size >= body.size * HEADING_SIZE_RATIO and line.size >= body.size + 1
    bold = line.bold >= 0.9 and not body.bold and line.size >= body.size - 0.5
    return larger or bold


def _heading_runs(
    lines: list[PrintedLine], body: BodyStyle, outline: set[str]
) -> list[list[PrintedLine]]:
    """The lines grouped: a heading that wraps is one run; every other line is a run alone."""
    runs: list[list[PrintedLine]] = []
    styled = [_heading_style(ln, body) for ln in lines]
    for i, line in enumerate(lines):
        prev = runs[-1][-1] if runs else None
        if (
            styled[i]
            and prev is not None
            and styled[i - 1]
            and prev.page == line.page
            and abs(prev.size - line.size) <= 0.5
            and abs(prev.bold - line.bold) < 0.5
            and 0 <= prev.y0 - line.y1 <= line.size
            and key(prev.text) not in outline  # a heading the outline names is whole
        ):
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


def _is_heading(run: list[PrintedLine], body: BodyStyle, outline: set[str]) -> bool:
    text = " ".join(ln.text for ln in run)
    if key(text) in outline:
        return True
    return (
        _heading_style(run[0], body)
        and len(text.split()) <= MAX_HEADING_WORDS
        and (is_short_title(text) or text.endswith("?"))
    )


def to_blocks(
    lines: list[PrintedLine], outline: set[str]
) -> tuple[list[Block], list[tuple[Block, float]]]:
    """Headings and paragraphs, in order; and the headings with their font sizes."""
    body = body_style(lines)
    blocks: list[Block] = []
    headings: list[tuple[Block, float]] = []
    para: list[tuple[str, set[int]]] = []  # the paragraph's lines so far, with their pages
    prev: PrintedLine | None = None  # its last printed line
    item: PrintedLine | None = None  # the list item it is in, if any

    def flush() -> None:
        if para:
            blocks.append(
                Block(tuple(t for t, _ in para), False, tuple(tuple(sorted(p)) for _, p in para))
            )
            para.clear()

    for run in _heading_runs(lines, body, outline):
        if _is_heading(run, body, outline):
            flush()
            pages = tuple(sorted({ln.page for ln in run}))
            block = Block((" ".join(ln.text for ln in run),), True, (pages,))
            blocks.append(block)
            headings.append((block, run[0].size))
            prev = item = None
            continue
        for line in run:
            bullet = bool(_BULLET.match(line.text))
            if prev is None or not _continues(prev, line, body, bullet, item):
                flush()
                para.append((line.text, {line.page}))
                item = None
            elif (
                bullet or _short(prev, line, body) or (item is not None and line.x0 <= item.x0 + 1)
            ):
                # A list item is a line of its own, and so is a line after one broken on
                # purpose (list items whose bullets are drawn, not written; an address).
                para.append((line.text, {line.page}))
            else:
                text, pages = para[-1]
                para[-1] = (_join(text, line.text), pages | {line.page})
            if bullet:
                item = line
            elif item is not None and line.x0 <= item.x0 + 1:
                item = None  # back at the list's margin: the list is over
            prev = line
    flush()
    return blocks, headings


def _continues(
    prev: PrintedLine, line: PrintedLine, body: BodyStyle, bullet: bool, item: PrintedLine | None
) -> bool:
    """Does `line` go on the paragraph that `prev` ended (rather than start a new one)?"""
    if abs(prev.size - line.size) > 0.5:
        return False
    # A paragraph ends with a sentence on a line left short.
    ended = bool(_SENTENCE_END.search(prev.text)) and _short(prev, line, body)
    in_list = item is not None or prev.text.endswith(":")
    if ended and not bullet:
        return False
    if line.page != prev.page:
        # Across a page break there is no gap to measure: a paragraph not ended goes on.
        return not ended or (bullet and in_list)
    gap = prev.y0 - line.y1
    if gap < -0.5 * line.size:
        return False  # the line is above the previous one: a new column or a new frame
    if gap > body.gap + 0.5 * body.size:
        # A wider gap ends the paragraph, except between the items of one list.
        return bullet and in_list and gap <= body.gap + 2 * body.size
    return True


def _short(prev: PrintedLine, line: PrintedLine, body: BodyStyle) -> bool:
    """Was `prev` broken on purpose: would the first word of `line` have fitted at its end?
    (Widths are estimated from `prev`'s own average character, with a margin: a paragraph
    cut in two is worse than two lines joined.)"""
    if line.page != prev.page and not _SENTENCE_END.search(prev.text):
        return False  # a page break, not the writer, ended the line
    if _join(prev.text, line.text) != f"{prev.text} {line.text}":
        return False  # a word hyphenated across the line end goes on
    per_char = (prev.x1 - prev.x0) / max(len(prev.text), 1)
    word = len(line.text.split()[0]) + 1
    return prev.x1 + word * per_char * 1.3 < body.right


def _join(text: str, more: str) -> str:
    """Join a wrapped line to its paragraph, undoing a hyphenation ("recog-" + "nize")."""
    if text.endswith(_HYPHENS) and len(text) > 1 and text[-2].isalpha() and more[:1].islower():
        return text[:-1] + more
    return f"{text} {more}"
