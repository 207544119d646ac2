"""Files uploaded from the page, kept under the index's own folder with safe names."""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from pathlib import Path

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


def store_upload(index_dir: Path, name: str, data: bytes) -> Path:
    """Write an upload into INDEX_DIR/uploads under its safe name (replacing an earlier upload
    of the same name, which makes it a changed document), atomically."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise IngestError(
            name,
            f"is {len(data) / 1e6:.1f} MB, over the {MAX_UPLOAD_MB} MB upload limit",
            "split it, or add it from the command line: counsel-search add FILE",
        )
    folder = Path(index_dir) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_upload_name(name)
    tmp = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target
