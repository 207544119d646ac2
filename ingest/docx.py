"""Word (.docx) files into headings and paragraphs, with python-docx (MIT).

The styles say what a heading is: Title is the document's title, Heading 1-3 start passages
(deeper headings stay in their section's answer). A document that uses no heading styles often
makes its headings bold: there, a short paragraph that is bold throughout is one. List items
are lines of the paragraph before them; a table is a paragraph with a line per row.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from ingest.errors import IngestError
from ingest.lines import is_short_title
from ingest.structured import Block, Structured

logger = logging.getLogger(__name__)

# A .docx is a ZIP archive; python-docx inflates its parts in memory. A small file that
# inflates to more than this is refused rather than read (a "ZIP bomb").
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_HEADING_WORDS = 25

_HEADING_STYLE = re.compile(r"^heading ([1-9])$", re.IGNORECASE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old .doc files, and .docx files encrypted with a password


def read_docx(data: bytes, source: str) -> Structured:
    """Read a .docx file's body into headings and paragraphs.

    Raises IngestError (one line naming the file) when it is not a Word document, is damaged
    or password-protected.
    """
    document = _open(data, source)
    try:
        paragraphs = list(_elements(document))
    except Exception as exc:
        logger.debug("reading %s failed", source, exc_info=True)
        raise _damaged(source, exc) from exc
    styled = any(kind == "heading" for kind, _ in paragraphs)
    title = next((text for kind, text in paragraphs if kind == "title"), "")
    if not title:
        title = " ".join(str(document.core_properties.title or "").split())
    blocks: list[Block] = []
    lines: list[str] = []  # the paragraph being built

    def flush() -> None:
        if lines:
            blocks.append(Block(tuple(lines)))
            lines.clear()

    for kind, text in paragraphs:
        if kind == "bold" and not styled and _heading_like(text):
            kind = "heading"
        if kind == "heading":
            flush()
            blocks.append(Block((text,), heading=True))
        elif kind == "title":
            flush()  # metadata, not text: the title is the document's
        elif kind == "item":
            lines.append(text)  # a list item is a line of the paragraph before it
        else:
            flush()
            lines.extend(text.split("\n"))
            if kind == "table":
                flush()
    flush()
    return Structured(tuple(blocks), title, "docx")


def _open(data: bytes, source: str) -> Any:
    """The python-docx Document, or an IngestError saying what the file really is."""
    import docx

    if data.startswith(_OLE_MAGIC):
        raise IngestError(
            source,
            "is an old Word .doc file or a password-protected .docx",
            hint="open it in Word and save it as .docx, without a password",
        )
    if not data.startswith(b"PK"):
        raise IngestError(
            source,
            "is not a Word .docx file (it is not a ZIP package)",
            hint="save it from Word as .docx, or give it its real extension",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _damaged(source, exc) from exc
    if "word/document.xml" not in names and "[Content_Types].xml" not in names:
        raise IngestError(
            source,
            "is a ZIP archive of something else, not a Word document",
            hint="give it its real extension (.zip), or save the document from Word as .docx",
        )
    if unzipped > MAX_UNZIPPED_BYTES:
        raise IngestError(
            source,
            f"unpacks to {unzipped // (1024 * 1024)} MiB, too large to read",
            hint="save it again from Word; images and embedded files make it large",
        )
    try:
        return docx.Document(io.BytesIO(data))
    except ValueError as exc:
        if "not a Word file" in str(exc):  # python-docx's words for an .xlsx or .pptx
            raise IngestError(
                source,
                "is an Office file but not a Word document (a spreadsheet or slides?)",
                hint="export it as .docx, .pdf or .txt first",
            ) from exc
        raise _damaged(source, exc) from exc
    except Exception as exc:  # a missing part, broken XML: python-docx has no one error
        logger.debug("python-docx failed on %s", source, exc_info=True)
        raise _damaged(source, exc) from exc


def _damaged(source: str, exc: Exception) -> IngestError:
    return IngestError(
        source,
        f"is a damaged or truncated Word document ({type(exc).__name__})",
        hint="open it in Word and save it again as .docx",
    )


def _elements(document: Any) -> Iterator[tuple[str, str]]:
    """The body in order as (kind, text): kind is "title", "heading", "bold" (a paragraph bold
    throughout), "item" (a list item, marker included), "table" (rows as lines) or "text"."""
    from docx.table import Table

    numbers: dict[str, int] = {}  # the running count of each numbered list style
    for element in document.iter_inner_content():
        if isinstance(element, Table):
            rows = list(_table_rows(element))
            if rows:
                yield "table", "\n".join(rows)
            continue
        text = element.text.strip()
        if not text:
            numbers.clear()  # a blank paragraph ends a numbered list
            continue
        style = element.style.name if element.style is not None else ""
        heading = _HEADING_STYLE.match(style or "")
        if style == "Title":
            yield "title", " ".join(text.split())
        elif heading and int(heading.group(1)) <= 3:
            yield "heading", " ".join(text.split())
        elif _is_list(element, style):
            if "number" in style.casefold():
                numbers[style] = numbers.get(style, 0) + 1
                yield "item", f"{numbers[style]}. {text}"
            else:
                yield "item", f"- {text}"
        else:
            numbers.clear()
            yield ("bold" if _all_bold(element) else "text"), text


def _is_list(paragraph: Any, style: str) -> bool:
    """A list item by its style ("List Bullet", "List Number 2") or its numbering property."""
    p_pr = paragraph._p.pPr  # python-docx exposes no public test for numbering
    return style.casefold().startswith("list") or (p_pr is not None and p_pr.numPr is not None)


def _all_bold(paragraph: Any) -> bool:
    """True when every run with text is bold (directly, by its style or by the paragraph's)."""
    runs = [run for run in paragraph.runs if run.text.strip()]
    style_bold = bool(paragraph.style is not None and paragraph.style.font.bold)
    return bool(runs) and all(
        run.bold or (run.bold is None and (style_bold or bool(run.style and run.style.font.bold)))
        for run in runs
    )


def _heading_like(text: str) -> bool:
    return "\n" not in text and len(text.split()) <= MAX_HEADING_WORDS and is_short_title(text)


def _table_rows(table: Any) -> Iterator[str]:
    """Each row as its cells' text joined with " | " (a merged cell counted once)."""
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell appears once per grid column it spans
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            yield " | ".join(cells)
