"""Versioned index directories with an atomically switched pointer.

Layout of an index directory:

    INDEX_DIR/
      CURRENT               name of the published version (replaced atomically)
      build.lock            held (a file lock) by the one build allowed at a time
      versions/<name>/      manifest.json, passages.sqlite, vectors.faiss

A build writes a fresh `versions/<name>.partial/` folder, renames it to `versions/<name>/` once
every file is on disk, then replaces CURRENT. Readers follow CURRENT, so they see either the old
version or the new one, never a half-written one. Between the rename and the switch the folder
holds an UNPUBLISHED marker, removed once CURRENT names it: a build killed in between leaves a
complete folder that was never published, which no fallback serves and the next build removes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from index import files
from index.errors import BuildLocked, IndexCorrupt, IndexNotFound

log = logging.getLogger(__name__)

POINTER = "CURRENT"
VERSIONS = "versions"
LOCK = "build.lock"
PARTIAL = ".partial"
# In a version folder from before its rename until CURRENT names it (see publish()).
UNPUBLISHED = "UNPUBLISHED"
MANIFEST = "manifest.json"
PASSAGES = "passages.sqlite"
VECTORS = "vectors.faiss"
# BM25 postings as arrays (index/bm25.py); absent in older versions and large corpora.
LEXICAL = "lexical.npz"
# Hub radii of the windows (index/hubness.py); absent in older versions.
HUBNESS = "hubness.npy"
ENV_INDEX = "COUNSEL_SEARCH_INDEX"


def default_index_dir() -> Path:
    """$COUNSEL_SEARCH_INDEX, else $XDG_DATA_HOME/counsel-search/index (~/.local/share/...)."""
    if os.environ.get(ENV_INDEX):
        return Path(os.environ[ENV_INDEX]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "counsel-search" / "index"


def new_version_name() -> str:
    """Unique version name that sorts in build order: UTC time to the nanosecond, then a random
    suffix. Builds are serialized by the lock, so later builds always sort later."""
    ns = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000))
    return f"v{stamp}.{ns % 1_000_000_000:09d}Z-{secrets.token_hex(3)}"


def current_version(index_dir: Path) -> Path:
    """The folder of the published version; raises IndexNotFound / IndexCorrupt."""
    pointer = index_dir / POINTER
    if not pointer.is_file():
        raise IndexNotFound(
            f"no index at {index_dir}",
            "build one with: counsel-search build data/corpus/  (or pass --index DIR)",
        )
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / VERSIONS / name
    if not name or "/" in name or not folder.is_dir():
        raise IndexCorrupt(
            f"{pointer} points to a missing version {name!r}",
            "rebuild with: counsel-search build SOURCE...",
        )
    return folder


def publish(index_dir: Path, partial: Path) -> Path:
    """Make a completely written partial version the current one, atomically."""
    final = partial.with_name(partial.name.removesuffix(PARTIAL))
    (partial / UNPUBLISHED).touch()
    files.fsync_tree(partial)
    # The version CURRENT names was published, even if its build died before clearing its mark.
    if (previous := _pointed(index_dir)) and "/" not in previous:
        (index_dir / VERSIONS / previous / UNPUBLISHED).unlink(missing_ok=True)
    partial.rename(final)
    files.write_atomic(index_dir / POINTER, final.name + "\n", durable=True)  # the one switch
    (final / UNPUBLISHED).unlink()
    return final


def _pointed(index_dir: Path) -> str:
    """The version name CURRENT holds, or "" when it is missing or unreadable."""
    try:
        return (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def complete_versions(index_dir: Path) -> list[Path]:
    """Folders of every fully written version (published now or before), newest first: not the
    partial folder of a running or interrupted build, nor a complete one whose build was
    killed before CURRENT named it."""
    versions_dir = index_dir / VERSIONS
    if not versions_dir.is_dir():
        return []
    current = _pointed(index_dir)
    done = [
        p
        for p in versions_dir.iterdir()
        if p.is_dir()
        and not p.name.endswith(PARTIAL)
        and (p.name == current or not (p / UNPUBLISHED).exists())
    ]
    return sorted(done, key=lambda p: p.name, reverse=True)


def cleanup(index_dir: Path, keep: int = 2) -> list[str]:
    """Remove old versions and leftovers of interrupted builds, keeping the current version and
    the `keep - 1` newest before it (so a reader that opened the previous one can finish)."""
    versions_dir = index_dir / VERSIONS
    if not versions_dir.is_dir():
        return []
    current = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    done = complete_versions(index_dir)[::-1]
    keep_names = {current, *[p.name for p in done if p.name <= current][-keep:]}
    removed = []
    for item in versions_dir.iterdir():
        if item.name not in keep_names:
            shutil.rmtree(item, ignore_errors=True)
            removed.append(item.name)
    for tmp in files.leftovers(index_dir / POINTER):
        tmp.unlink(missing_ok=True)
    return removed


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock, or raise BuildLocked at once if another build has it.

    The kernel releases the lock when the process dies, so a killed build never leaves a stale
    lock behind.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        held = files.acquire(index_dir / LOCK, wait=False)
    except files.Busy as exc:
        raise BuildLocked(
            f"another build is running on {index_dir}", "wait for it to finish, then try again"
        ) from exc
    with held:
        yield
