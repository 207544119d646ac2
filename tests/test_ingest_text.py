"""normalize_text and byte decoding."""

from __future__ import annotations

import pytest

from ingest import IngestError, normalize_text
from ingest.text import decode_bytes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\u00a0b", "a b"),  # non-breaking space
        ("a\u202fb\u3000c\u2009d", "a b c d"),  # narrow no-break, ideographic, thin spaces
        ("one\r\ntwo", "one\ntwo"),  # CRLF
        ("one\rtwo", "one\ntwo"),  # lone CR (old Mac)
        ("cafe\u0301", "café"),  # NFC: e + combining acute -> é
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("soft\u00adhyphen", "softhyphen"),
        ("bell\x07 and\x00 nul", "bell and nul"),
        ("  a  \t b  ", "a b"),
        ("line one  \n   line two", "line one\nline two"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("a\n \n\t\n\nb", "a\n\nb"),  # whitespace-only lines are blank lines
        ("page one\x0cpage two", "page one\npage two"),  # form feed is a line break
        ("\n\n  text \n\n", "text"),
        ("keep\ttab-free", "keep tab-free"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_text_is_idempotent() -> None:
    messy = "  Caf\u0065\u0301 \u00a0au\r\n\r\n\r\n lait\u200b \t!  "
    once = normalize_text(messy)
    assert once == "Café au\n\nlait !"
    assert normalize_text(once) == once


def test_nfc_makes_composed_and_decomposed_text_equal() -> None:
    assert normalize_text("re\u0301sume\u0301") == normalize_text("r\u00e9sum\u00e9")


def test_decode_utf8_with_and_without_bom() -> None:
    assert decode_bytes("naïve".encode(), "f.txt") == "naïve"
    assert decode_bytes(b"\xef\xbb\xbfna\xc3\xafve", "f.txt") == "naïve"


def test_decode_utf16_with_bom() -> None:
    assert decode_bytes("naïve ☺".encode("utf-16"), "f.txt") == "naïve ☺"
    assert decode_bytes(b"\xfe\xff" + "naïve".encode("utf-16-be"), "f.txt") == "naïve"


def test_decode_falls_back_to_cp1252() -> None:
    # Curly quotes and an e-acute as Windows Notepad saves them: not valid UTF-8.
    data = "“Café” – don’t".encode("cp1252")
    assert decode_bytes(data, "f.txt") == "“Café” – don’t"


def test_decode_bytes_undefined_in_cp1252_fall_back_to_latin1() -> None:
    assert decode_bytes(b"caf\xe9 \x81", "f.txt") == "café \x81"


def test_nul_bytes_are_binary() -> None:
    with pytest.raises(IngestError, match=r"f\.bin: looks binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "f.bin")
