"""Text hygiene shared by every reader: decoding raw bytes and normalizing Unicode text.

Normalization happens before ids are computed, so the same words typed with a non-breaking
space, a Windows line ending or a decomposed accent still give the same passage id.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from ingest.errors import IngestError

# Every Unicode "space separator" (category Zs) except the plain space: NBSP, en/em spaces,
# thin and narrow no-break spaces, ideographic space...
_UNICODE_SPACES = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
# Invisible characters that only split words apart for search: zero-width space/joiners,
# word joiner, stray BOMs, soft hyphen and bidirectional marks.
_INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Characters that end a line in some tool or other: keep them as line breaks, not as noise,
# so a page break (form feed) does not glue two paragraphs together.
_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        if chr(code) not in "\n\t":
            table[code] = None
    for char in _LINE_BREAKS:
        table[ord(char)] = "\n"
    for char in _UNICODE_SPACES:
        table[ord(char)] = " "
    for char in _INVISIBLE:
        table[ord(char)] = None
    return table


_TRANSLATE = _build_table()
_SPACE_RUN = re.compile(r"[ \t]+")
_BLANK_RUN = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """Normalize text so that equal-looking text is equal.

    Unicode NFC; CRLF and lone CR become LF; Unicode spaces become plain spaces; zero-width and
    control characters (except newline and tab) are dropped; runs of spaces and tabs within a
    line become one space; each line is stripped; three or more newlines become one blank line;
    the whole is stripped.

    >>> normalize_text("caf\\u0065\\u0301\\u00a0 au\\r\\nlait  ")
    'café au\\nlait'
    """
    text = unicodedata.normalize("NFC", text)
    # Line endings first, so that a CR is never mistaken for a control character and dropped.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_TRANSLATE)
    lines = (_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a text file's bytes, guessing the encoding the way editors do.

    UTF-8 (a BOM is stripped); UTF-16 or UTF-32 when the file starts with their BOM; otherwise
    Windows-1252, the usual encoding of text saved by older Windows tools, and Latin-1 as the
    last resort (it decodes any byte). Raises IngestError for binary data (NUL bytes).
    """
    # UTF-32 BOMs first: the UTF-32-LE BOM begins with the UTF-16-LE one.
    for boms, codec in ((_UTF32_BOMS, "utf-32"), (_UTF16_BOMS, "utf-16")):
        if data.startswith(boms):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise IngestError(
                    source,
                    f"starts with a {codec.upper()} byte-order mark but is not valid"
                    f" {codec.upper()} (byte {exc.start})",
                    hint="re-save it as UTF-8",
                ) from exc
    if b"\x00" in data:
        # Text never contains NUL; UTF-16 without a BOM is rare enough to ask for a re-save.
        raise IngestError(
            source,
            "looks binary (it contains NUL bytes), not text",
            hint="pass text files only, or re-save it as UTF-8 text",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte, so this cannot fail.
        return data.decode("latin-1")
