"""Documents whose structure comes from the file, not from plain text: PDF and Word.

Their readers (ingest/pdf.py, ingest/docx.py) turn a file into `Block`s: headings (found from
fonts, styles or the outline) and paragraphs (lines already joined; list items and table rows
kept as lines). This module writes the blocks as Markdown-like text, so the one splitter
(ingest/split.py) cuts them into passages by the same rules as every other kind, and then gives
each passage of a paged document the page numbers its text came from.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from ingest.lines import key
from ingest.split import Unanswered, parse_document, split_document_report
from ingest.text import normalize_text
from ingest.types import Document, Passage

# Called as progress(done, total) while a long document is read (pages of a PDF).
PageProgress = Callable[[int, int], None]

# What the Markdown-like rendering would misread in body text: a line starting with "#" would
# become a heading, so it is escaped (classify() removes the backslash again).
_LOOKS_LIKE_HEADING = re.compile(r"^#")


@dataclass(frozen=True)
class Block:
    """A heading, or a paragraph as its lines (wrapped text joined; one line per list item or
    table row). `pages` holds the page numbers of each line (empty when the file has no pages).
    """

    lines: tuple[str, ...]
    heading: bool = False
    pages: tuple[tuple[int, ...], ...] = ()

    def pages_of(self, i: int) -> tuple[int, ...]:
        return self.pages[i] if i < len(self.pages) else ()


@dataclass(frozen=True)
class Structured:
    """What a PDF or Word reader found: its blocks, its title ("" when none) and its kind."""

    blocks: tuple[Block, ...]
    title: str
    kind: str
    paged: bool = False


def render(blocks: Iterable[Block]) -> tuple[str, list[tuple[int, ...]]]:
    """The blocks as Markdown-like text (headings as `## ` lines, a blank line between blocks)
    and the pages of each of its lines, index for index."""
    out: list[str] = []
    pages: list[tuple[int, ...]] = []
    for block in blocks:
        lines = [(normalize_text(line), block.pages_of(i)) for i, line in enumerate(block.lines)]
        lines = [(" ".join(text.split()), p) for text, p in lines if text.strip()]
        if not lines:
            continue
        if out:
            out.append("")
            pages.append(())
        if block.heading:
            text = " ".join(t for t, _ in lines)
            out.append(f"## {text}")
            pages.append(tuple(sorted({n for _, p in lines for n in p})))
            continue
        for text, p in lines:
            out.append("\\" + text if _LOOKS_LIKE_HEADING.match(text) else text)
            pages.append(p)
    return "\n".join(out), pages


def split_structured(
    source: str, found: Structured
) -> tuple[Document, list[Passage], list[Unanswered]]:
    """The document, its passages (with `pages` in their metadata for a paged document) and
    the questions left out because nothing is under them."""
    text, line_pages = render(_without_title(found.blocks, found.title))
    doc = parse_document(source, text, found.kind, title=found.title)
    passages, unanswered = split_document_report(doc)
    if found.paged:
        passages = _with_pages(doc.text, line_pages, passages)
    return doc, passages, unanswered


def _without_title(blocks: tuple[Block, ...], title: str) -> tuple[Block, ...]:
    """The blocks without the title's heading when nothing is under it (the next block is a
    heading): printed below a site's name, it is not the first line, where the splitter
    looks for it. A title heading with text under it is left to the splitter."""
    for i, block in enumerate(blocks[:3]):
        if block.heading and title and key(" ".join(block.lines)) == key(title):
            if i + 1 < len(blocks) and blocks[i + 1].heading:
                return blocks[:i] + blocks[i + 1 :]
            break
    return blocks


def _with_pages(
    text: str, line_pages: list[tuple[int, ...]], passages: list[Passage]
) -> list[Passage]:
    """Each passage with the pages its heading and answer were printed on, found by locating
    the answer in the text (passages follow the text in order, so the search moves forward)."""
    lines = text.split("\n")
    if len(lines) != len(line_pages):
        return passages  # normalization changed the line layout: no reliable page numbers
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    out = []
    cursor = 0
    for passage in passages:
        at = text.find(passage.answer, cursor)
        if at < 0:
            at = text.find(passage.answer)
        if at < 0:
            out.append(passage)
            continue
        end = at + len(passage.answer)
        first = bisect.bisect_right(starts, at) - 1
        last = bisect.bisect_right(starts, max(at, end - 1)) - 1
        pages = {n for i in range(first, last + 1) for n in line_pages[i]}
        if passage.question:
            # The heading or question line: the last line with text above the answer.
            above = next((i for i in range(first - 1, -1, -1) if lines[i]), None)
            if above is not None:
                pages.update(line_pages[above])
        cursor = end
        if pages:
            metadata = {**passage.metadata, "pages": sorted(pages)}
            passage = replace(passage, metadata=metadata)
        out.append(passage)
    return out
