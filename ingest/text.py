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
# Only what needs changing (a tab, two or more spaces): re.sub keeps a piece per match, so a
# pattern matching every single space would cost dozens of bytes per word of a huge line.
_SPACE_RUN = re.compile(r"[ \t]{2,}|\t")
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
    # Line endings first, so that a CR is never mistaken for a control character and dropped.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # NFC after dropping invisible characters: one between a letter and its accent ("A\x1b\u0300")
    # would otherwise leave the pair decomposed, and a second pass would change the text.
    text = unicodedata.normalize("NFC", text.translate(_TRANSLATE))
    lines = (_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes looked at to guess an encoding: enough for a stable share, cheap on a large file.
_SAMPLE_BYTES = 64 * 1024
# C0 control characters other than the whitespace ones; real text has (almost) none.
_CONTROLS = frozenset(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r\x0b\x0c")


def _utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when the bytes look like UTF-16 text without a BOM, else None.

    In UTF-16 every ASCII character (spaces, digits, line breaks) has a NUL as its high byte:
    the odd bytes in little-endian, the even ones in big-endian. Other characters rarely have a
    NUL in either byte. Binary data has NULs in both halves alike.
    """
    sample = data[: _SAMPLE_BYTES - _SAMPLE_BYTES % 2]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= half * 0.1 and even <= half * 0.02:
        return "utf-16-le"
    if even >= half * 0.1 and odd <= half * 0.02:
        return "utf-16-be"
    return None


def _binary(source: str, what: str) -> IngestError:
    return IngestError(
        source,
        f"looks binary ({what}), not text",
        hint="pass text files only, or re-save it as UTF-8 text",
    )


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a text file's bytes, guessing the encoding the way editors do.

    UTF-8 (a BOM is stripped); UTF-16 or UTF-32 when the file starts with their BOM; UTF-16
    without a BOM when every other byte is NUL; otherwise Windows-1252, the usual encoding of
    text saved by older Windows tools, and Latin-1 as the last resort (it decodes any byte).
    Raises IngestError for binary data (other NUL bytes, or many control characters).
    """
    # UTF-32 BOMs first: the UTF-32-LE BOM begins with the UTF-16-LE one.
    for boms, codec in ((_UTF32_BOMS, "utf-32"), (_UTF16_BOMS, "utf-16")):
        if data.startswith(boms):
            return _decode_strict(data, codec, source, "starts with a {} byte-order mark but")
    if b"\x00" in data:
        codec = _utf16_without_bom(data)
        if codec is None:
            raise _binary(source, "it contains NUL bytes")
        text = _decode_strict(data, codec, source, "looks like {} without a byte-order mark but")
        # A guess from NUL bytes alone: binary data can have them in one half by chance, so
        # hold the result to text's standard (next to no control characters).
        return _check_controls(text, source, per=100, slack=0)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte, so this cannot fail.
        text = data.decode("latin-1")
    # Not UTF-8: legacy text, or binary data without NULs.
    return _check_controls(text, source)


def _check_controls(text: str, source: str, *, per: int = 20, slack: int = 8) -> str:
    """The text, unless control characters show it is binary data decoded as if it were text.

    Text has next to no control characters; random bytes have about one in ten. Allowed: one
    in `per` characters, and at least `slack` (some editors leave a stray escape or bell).
    """
    sample = text[:_SAMPLE_BYTES]
    controls = sum(1 for char in sample if char in _CONTROLS)
    if "\x00" in sample or controls > max(len(sample) // per, slack):
        what = f"{controls} of its first {len(sample)} characters are control characters"
        raise _binary(source, what)
    return text


def _decode_strict(data: bytes, codec: str, source: str, what: str) -> str:
    """Decode with `codec` or raise an IngestError naming the first bad byte."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        name = codec.upper()
        raise IngestError(
            source,
            f"{what.format(name)} is not valid {name} (byte {exc.start})",
            hint="re-save it as UTF-8",
        ) from exc
