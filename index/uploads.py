"""Files uploaded from the page, kept under the index's own folder with safe names."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from index import files
from ingest import SUPPORTED_EXTENSIONS, IngestError

UPLOADS = "uploads"
# Per file. The page also tells Streamlit (server.maxUploadSize), so bigger files are refused
# before they are sent.
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_upload_name(name: str) -> str:
    """A file name from an upload that cannot leave the uploads folder or hide: the last path
    component only, ASCII letters, digits, '.', '_' and '-', no leading dot, at most 100
    characters, keeping a supported extension."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")[:80] or "upload"
    ext = _UNSAFE.sub("", ext).lower()
    if f".{ext}" not in SUPPORTED_EXTENSIONS:
        raise IngestError(
            name,
            "is not a supported file type",
            f"upload {' '.join(sorted(SUPPORTED_EXTENSIONS))} files",
        )
    return f"{stem}.{ext}"


# Signatures of common binary formats people may try to upload under a text extension.
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel/OpenDocument file)"),
    (b"\xd0\xcf\x11\xe0", "an old Word/Excel document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"RIFF", "a media file"),
    (b"ID3", "an MP3 file"),
    (b"OggS", "a media file"),
)


def check_upload_content(name: str, data: bytes) -> None:
    """Type an upload by its content, not only its extension: a PDF renamed to .txt, an image,
    an archive or a program is refused with what it looks like; a .jsonl must hold JSON objects.
    A .pdf or .docx is checked by its reader (ingest/pdf.py, ingest/docx.py), which says what
    is wrong with it (a scan, a password, damage).
    """
    if name.lower().endswith((".pdf", ".docx")):
        return
    what = next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
    if what:
        raise IngestError(
            name,
            f"looks like {what}, not a text file",
            "save or export it as plain text, Markdown, HTML, CSV or JSON lines first",
        )
    if name.lower().endswith(".jsonl"):
        first = next((ln for ln in data.lstrip(b"\xef\xbb\xbf").splitlines() if ln.strip()), b"")
        if first and not first.lstrip().startswith(b"{"):
            raise IngestError(
                name,
                "does not look like JSON lines (its first line is not a JSON object)",
                'give one object a line, e.g. {"question": "...", "answer": "..."}',
            )


def store_upload(index_dir: Path, name: str, data: bytes) -> Path:
    """Write an upload into INDEX_DIR/uploads under its safe name (replacing an earlier upload
    of the same name, which makes it a changed document), atomically."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise IngestError(
            name,
            f"is {len(data) / 1e6:.1f} MB, over the {MAX_UPLOAD_MB} MB upload limit",
            "split it, or add it from the command line: counsel-search add FILE",
        )
    target_name = safe_upload_name(name)
    check_upload_content(name, data)
    folder = Path(index_dir) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / target_name
    files.write_atomic(target, data)
    return target
