"""Uploads from the page: safe generated names, a size limit, and typing by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.uploads import MAX_UPLOAD_BYTES, safe_upload_name, store_upload
from ingest import IngestError


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\\\windows\\\\evil.md", "evil.md"),
        (".hidden.csv", "hidden.csv"),
        ("Réponses du thérapeute (2).JSONL", "Reponses_du_therapeute_2.jsonl"),
        ("<script>.html", "script.html"),
        ("x" * 300 + ".txt", "x" * 80 + ".txt"),
        ("...txt", "upload.txt"),
    ],
)
def test_names_are_safe(given: str, safe: str) -> None:
    assert safe_upload_name(given) == safe


def test_unsupported_extension_is_refused() -> None:
    with pytest.raises(IngestError, match="not a supported file type"):
        safe_upload_name("notes.exe")


@pytest.mark.parametrize(
    ("name", "data", "looks_like"),
    [
        ("report.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 1 0 obj", "PDF"),
        ("answers.csv", b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        ("photo.md", b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        ("tool.html", b"\x7fELF\x02\x01\x01", "program"),
        ("data.jsonl", b"question,answer\nwhy,because\n", "JSON lines"),
    ],
)
def test_content_decides_not_the_extension(
    tmp_path: Path, name: str, data: bytes, looks_like: str
) -> None:
    with pytest.raises(IngestError, match=looks_like) as err:
        store_upload(tmp_path, name, data)
    assert name in err.value.one_line() and "\n" not in err.value.one_line()
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_size_limit(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="upload limit"):
        store_upload(tmp_path, "big.txt", b"a" * (MAX_UPLOAD_BYTES + 1))


def test_text_is_stored_under_its_safe_name_and_replaced_atomically(tmp_path: Path) -> None:
    first = store_upload(tmp_path, "../My notes.md", b"# Notes\n\nWhy?\n\nBecause.\n")
    assert first == tmp_path / "uploads" / "My_notes.md"
    utf16 = "Why do I worry?\nBecause you care.\n".encode("utf-16")
    again = store_upload(tmp_path, "My notes.md", utf16)  # same name: replaces, text in UTF-16
    assert again == first and again.read_bytes() == utf16
    jsonl = store_upload(tmp_path, "qa.jsonl", b'\xef\xbb\xbf\n{"question": "q", "answer": "a"}\n')
    assert jsonl.exists()
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == ["My_notes.md", "qa.jsonl"]
