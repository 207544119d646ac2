"""normalize_text and byte decoding."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


@settings(max_examples=500)
@given(st.text())
@example("A\x1b\u0300")  # a control character between a letter and its accent
@example("e\u200b\u0301")  # a zero-width space there
def test_normalize_text_is_idempotent_on_any_text(text: str) -> None:
    # The splitter normalizes a document's text again: a second pass must change nothing, or
    # the same words read from a text file and from a CSV cell would get different ids.
    once = normalize_text(text)
    assert normalize_text(once) == once


SAMPLE = "Stress Notes\nWhat is stress?\nPressure on the mind, naïve or not.\n"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [SAMPLE, "Что такое стресс?\nДавление на разум.\n"])
def test_decode_utf16_without_bom(codec: str, text: str) -> None:
    # Every ASCII character (here at least the line breaks and spaces) has a NUL byte on one
    # side only: that is how UTF-16 without a byte-order mark is told from binary data.
    assert decode_bytes(text.encode(codec), "f.txt") == text


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_decode_utf16_with_bom_in_both_byte_orders(bom: bytes, codec: str) -> None:
    assert decode_bytes(bom + SAMPLE.encode(codec), "f.txt") == SAMPLE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            codecs.BOM_UTF16_LE + b"a\x00\x00\xd8",
            r"f\.txt: starts with a UTF-16 byte-order mark but",
        ),
        (  # cut in the middle of a character
            SAMPLE.encode("utf-16-le")[:-1],
            r"f\.txt: looks like UTF-16-LE without a byte-order mark but is not valid UTF-16-LE",
        ),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", r"f\.txt: looks binary"),  # NULs on one side
        (bytes(range(1, 256)) * 4, r"f\.txt: looks binary \(\d+ of its first"),  # no NUL at all
    ],
)
def test_undecodable_or_binary_bytes_are_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message) as info:
        decode_bytes(data, "f.txt")
    assert info.value.hint


def test_decode_latin1() -> None:
    assert decode_bytes("Ça va? Très bien, merci.".encode("latin-1"), "f.txt") == (
        "Ça va? Très bien, merci."
    )


def test_a_stray_control_character_in_legacy_text_is_not_binary() -> None:
    assert decode_bytes("caf\xe9\x1b au lait".encode("latin-1"), "f.txt") == "café\x1b au lait"
