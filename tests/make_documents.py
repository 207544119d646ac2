"""PDF and Word documents generated for the ingest tests, as people have them.

PDFs come from fpdf2 (real fonts and sizes, running headers and footers, outlines) and Word
files from python-docx, so every rule of ingest/pdf.py and ingest/docx.py is tested on what a
real writer produces, not on hand-made strings.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

URL = "https://example.org/leaflet"
SITE = "Example Health Service"
TITLE = "Coping with worry"

# A leaflet printed from a web page: bold headings that ask nothing, one topic each.
SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "Sleeping well",
        "Worry often shows up at bedtime, when the day goes quiet. Go to bed and get up at the "
        "same time every day, keep the bedroom dark and cool, and put screens away an hour "
        "before sleep. If you lie awake for longer than twenty minutes, get up, sit somewhere "
        "dim and read until you feel drowsy, then go back to bed. A short wind-down routine "
        "tells the body that the day is over.",
    ),
    (
        "Eating regularly",
        "Skipping meals makes the body release stress hormones that feel a lot like anxiety: "
        "a racing heart, shaky hands, a short temper. Eat breakfast, keep snacks such as fruit "
        "or nuts with you, and drink water through the day. Coffee and energy drinks can make "
        "nervousness worse, so try cutting down after midday.",
    ),
    (
        "Moving your body",
        "Exercise burns off the adrenaline that worry produces. A brisk twenty-minute walk, a "
        "bike ride or dancing in your room all count. You do not need a gym: climbing the "
        "stairs, gardening and playing with a dog raise your heart rate too. Many people find "
        "that moving outdoors, in daylight, lifts their mood the most.",
    ),
    (
        "Talking to someone",
        "You do not have to carry worries alone. A friend, a family member, a teacher or a "
        "counsellor can listen. Saying out loud what frightens you often makes it smaller, "
        "and the other person may see a way forward you had not thought of. Helplines are "
        "free and you can stay anonymous.",
    ),
)


class _Printed(FPDF):
    """A page as a browser prints it: the URL and the site's name at the top of every page,
    "Page N of M" at the bottom."""

    header_text: str | None = URL
    footer_text: str | None = "Page {n} of {{nb}}"

    def header(self) -> None:
        if self.header_text:
            self.set_font("Helvetica", size=8)
            self.cell(95, 5, self.header_text, align="L")
            self.cell(0, 5, SITE, align="R")
            self.ln(12)

    def footer(self) -> None:
        if self.footer_text:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 10, self.footer_text.format(n=self.page_no()), align="C")


def _body(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def leaflet(
    sections: Sequence[tuple[str, str]] = SECTIONS,
    *,
    title: str | None = TITLE,
    metadata_title: bool = True,
    heading_style: str = "B",
    heading_size: float = 11,
    repeat: int = 3,
    bullets: Sequence[str] = (),
    header: str | None = URL,
    footer: str | None = "Page {n} of {{nb}}",
    outline: bool = False,
) -> bytes:
    """A multi-page leaflet: a large bold title, then each section as a heading (bold, at the
    body's size unless `heading_size` says otherwise) and its text repeated `repeat` times
    (long enough to flow over page breaks), with `bullets` after the first section's text.
    With `outline`, the headings are bookmarks under one entry named after the title."""
    pdf = _Printed()
    pdf.header_text = header
    pdf.footer_text = footer
    if title and metadata_title:
        pdf.set_title(title)
    pdf.add_page()
    if title:
        if outline:
            pdf.start_section(title, level=0)
        pdf.set_font("Helvetica", style="B", size=20)
        pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    for i, (heading, text) in enumerate(sections):
        if outline:
            pdf.start_section(heading, level=1 if title else 0)
        pdf.set_font("Helvetica", style=heading_style, size=heading_size)
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        _body(pdf, " ".join([text] * repeat))
        if i == 0 and bullets:
            _body(pdf, "\n".join(f"- {b}" for b in bullets))
    return bytes(pdf.output())


def plain_pdf(*pages: Sequence[str], footer: str | None = None) -> bytes:
    """Pages of body text: each a list of lines (11 pt, one `multi_cell` each, "" for a
    paragraph gap), with an optional footer ("{n}" is the page number)."""
    pdf = _Printed()
    pdf.header_text = None
    pdf.footer_text = footer
    for lines in pages:
        pdf.add_page()
        for line in lines:
            if line:
                pdf.set_font("Helvetica", size=11)
                pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.ln(6)
    return bytes(pdf.output())


def many_pages(n: int) -> bytes:
    """An n-page PDF with a small heading and one line of text on each page."""
    pdf = FPDF()
    for i in range(n):
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=14)
        pdf.cell(0, 10, f"Part {i + 1} of the long guide", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.set_y(120)  # mid-page: the same line at the top of every page would be a header
        pdf.cell(0, 10, f"Worry number {i + 1} grows when it is left alone.")
    return bytes(pdf.output())


def scan_pdf(pages: int = 2) -> bytes:
    """A scanned document: each page one image, no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 560), "white")
    draw = ImageDraw.Draw(image)
    for y in range(40, 520, 24):
        draw.line((40, y, 360, y), fill="black", width=3)  # lines of "text", as pixels
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=180)
    return bytes(pdf.output())


def encrypted_pdf(data: bytes, password: str = "secret") -> bytes:
    """The PDF encrypted with a user password (pypdf), as a protected file is sent."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def word(
    parts: Sequence[tuple[str, str]],
    *,
    core_title: str | None = None,
) -> bytes:
    """A .docx from (kind, text) parts: "title", "h1".."h4", "text", "bold" (a paragraph bold
    throughout), "bullet", "number", "table" (rows split on "\\n", cells on "|"), "blank"."""
    import docx

    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    for kind, text in parts:
        if kind == "title":
            document.add_heading(text, 0)
        elif kind.startswith("h"):
            document.add_heading(text, int(kind[1:]))
        elif kind == "bold":
            document.add_paragraph().add_run(text).bold = True
        elif kind == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "number":
            document.add_paragraph(text, style="List Number")
        elif kind == "table":
            rows = [row.split("|") for row in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell.strip()
        elif kind == "blank":
            document.add_paragraph("")
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    """A ZIP archive holding the given files (a .docx that is really something else)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()
