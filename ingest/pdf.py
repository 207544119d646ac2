"""PDF files (with a text layer) into headings and paragraphs, with pdfminer.six (MIT).

pdfminer.six rather than pypdf: it gives each character's font and size, which is how a PDF
says what is a heading (few PDFs ask their headings as questions). Pages are laid out one at a
time and only their lines are kept, so a 300-page file is read in bounded memory. What the
lines mean (furniture, headings, paragraphs) is decided in ingest/pdf_layout.py.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
from collections.abc import Iterator

from ingest.errors import IngestError
from ingest.lines import key
from ingest.pdf_layout import (
    FURNITURE_BAND,
    PrintedLine,
    body_style,
    to_blocks,
    without_furniture,
)
from ingest.structured import Block, PageProgress, Structured

logger = logging.getLogger(__name__)
# pdfminer warns about every oddity of a damaged file. With no handler anywhere, Python prints
# warnings bare on stderr, which would break the one line per bad file that the CLI prints:
# a handler that drops them stops that, and an application's own logging still receives them.
logging.getLogger("pdfminer").addHandler(logging.NullHandler())

_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
# File names and placeholders that PDF writers put in the Title field instead of a title.
_JUNK_TITLE = re.compile(
    r"^(?:untitled.*|microsoft (?:word|powerpoint) - .*|.*\.(?:pdf|docx?|html?|txt|odt))$",
    re.IGNORECASE,
)


def read_pdf(data: bytes, source: str, progress: PageProgress | None = None) -> Structured:
    """Read a PDF's text layer into headings and paragraphs, page by page.

    Raises IngestError (one line naming the file) for an encrypted, damaged or scanned PDF.
    `progress(done, total)` is called after each page.
    """
    # Imported here: only PDFs need pdfminer, and importing it costs a quarter of a second.
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if b"%PDF" not in data[:1024]:
        raise IngestError(
            source, "is not a PDF file", hint="check the file, or give it its real extension"
        )
    try:
        lines, outline, info_title, n_pages = _read_lines(data, progress)
    except IngestError:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise IngestError(
            source,
            "is an encrypted (password-protected) PDF",
            hint="save an unprotected copy (print it to PDF) and add that",
        ) from exc
    except Exception as exc:
        # pdfminer fails on a damaged file in many ways (syntax, missing objects, EOF, a
        # cycle): all of them mean the same to the user.
        logger.debug("pdfminer failed on %s", source, exc_info=True)
        raise IngestError(
            source,
            f"is a damaged or truncated PDF ({type(exc).__name__})",
            hint="open it in a PDF viewer and save or print it to a new PDF",
        ) from exc
    if not any(c.isalpha() for line in lines for c in line.text):
        raise IngestError(
            source,
            f"has no text ({n_pages} page{'s' * (n_pages != 1)} of images: a scan?); it needs"
            " OCR first",
            hint="run it through OCR (e.g. ocrmypdf) and add the result",
        )
    body = without_furniture(lines, body_style(lines))
    blocks, headings = to_blocks(body, {key(t) for _, t in outline} - {""})
    title = _title(outline, info_title, headings)
    logger.debug("%s: %d pages, %d lines, %d blocks", source, n_pages, len(body), len(blocks))
    return Structured(tuple(blocks), title, "pdf", paged=True)


def _read_lines(
    data: bytes, progress: PageProgress | None
) -> tuple[list[PrintedLine], list[tuple[int, str]], str, int]:
    """Every text line of every page, the outline as (level, title), the Title field and the
    page count. Each page's layout is dropped once its lines are taken."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    document = PDFDocument(PDFParser(io.BytesIO(data)))
    try:
        n_pages = int(resolve1(resolve1(document.catalog["Pages"])["Count"]))
    except Exception:
        n_pages = 0  # a broken page count only costs the progress total
    manager = PDFResourceManager()
    # all_texts: text drawn inside figures (form XObjects) is grouped into lines as well.
    device = PDFPageAggregator(manager, laparams=LAParams(all_texts=True))
    interpreter = PDFPageInterpreter(manager, device)
    lines: list[PrintedLine] = []
    done = 0
    for done, page in enumerate(PDFPage.create_pages(document), start=1):
        interpreter.process_page(page)
        lines.extend(_page_lines(device.get_result(), done))
        if progress is not None:
            progress(done, max(n_pages, done))
    return lines, _outline(document), _info_title(document), done


def _page_lines(layout: object, page: int) -> Iterator[PrintedLine]:
    """The horizontal text lines of one laid-out page, in pdfminer's reading order."""
    from pdfminer.layout import LTChar, LTTextLineHorizontal

    def walk(item: object) -> Iterator[LTTextLineHorizontal]:
        if isinstance(item, LTTextLineHorizontal):
            yield item
        elif hasattr(item, "__iter__") and not isinstance(item, LTChar):
            for child in item:  # type: ignore[attr-defined]
                yield from walk(child)

    left, bottom, right, top = getattr(layout, "bbox", (0.0, 0.0, 0.0, 0.0))
    band = (top - bottom) * FURNITURE_BAND
    for line in walk(layout):
        text = " ".join(line.get_text().split())
        chars = [c for c in line if isinstance(c, LTChar) and c.get_text().strip()]
        if not text or not chars:
            continue
        bold = sum(bool(_BOLD_FONT.search(c.fontname or "")) for c in chars) / len(chars)
        size = statistics.median(round(c.size, 1) for c in chars)
        edge = line.y0 >= top - band or line.y1 <= bottom + band
        yield PrintedLine(
            text, page, line.x0, line.x1, line.y0, line.y1, size, bold, edge, right - left
        )


def _outline(document: object) -> list[tuple[int, str]]:
    """The outline (bookmarks) as (level, title), level 1 at the top; [] when there is none
    or it cannot be read (a cyclic outline recurses without end)."""
    try:
        return [
            (level, " ".join(str(title).split()))
            for level, title, *_ in document.get_outlines()  # type: ignore[attr-defined]
            if title
        ]
    except Exception:
        return []


def _info_title(document: object) -> str:
    """The Title field of the document information, unless it is a file name or placeholder."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    for info in getattr(document, "info", []):
        value = resolve1(info.get("Title")) if isinstance(info, dict) else None
        if isinstance(value, bytes):
            value = decode_text(value)
        title = " ".join(str(value or "").split())
        if title and not _JUNK_TITLE.match(title):
            return title
    return ""


def _title(
    outline: list[tuple[int, str]], info_title: str, headings: list[tuple[Block, float]]
) -> str:
    """The document's title: the outline's single top entry (the others below it), else the
    Title field, else a first heading on page 1 printed larger than every other heading."""
    top = [title for level, title in outline if level == 1]
    if len(top) == 1 and len(outline) > 1:
        return top[0]
    if info_title:
        return info_title
    if headings:
        first, size = headings[0]
        if first.pages_of(0)[:1] == (1,) and all(size > s for _, s in headings[1:]):
            return first.lines[0]
    return ""
