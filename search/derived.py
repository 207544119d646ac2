"""A cache of results derived from one index version (maps, theme labels), kept inside it.

A published version folder never changes, so a file in <version>/derived/ can never go stale,
and a rebuild publishes a new folder that gets its own. Files are .npz without pickle and carry
the passage ids they were computed for, so a file that does not fit the index is ignored.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index import files

log = logging.getLogger(__name__)

DERIVED = "derived"


def cache_path(version_folder: Path, name: str) -> Path:
    """Where a derived file of this version lives."""
    return Path(version_folder) / DERIVED / name


def load(path: Path, ids: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file made for exactly these passage ids, else None."""
    try:
        with np.load(path, allow_pickle=False) as data:  # no pickle anywhere
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # unreadable or damaged
        log.warning("ignoring the cache file %s: %s", path, exc)
        return None
    if "ids" not in arrays or arrays["ids"].tolist() != list(ids):
        return None
    return arrays


def save(path: Path, ids: Sequence[str], **arrays: np.ndarray) -> bool:
    """Write a cache file atomically (tmp file + rename, so a concurrent reader sees the whole
    file or none); False, and nothing written, when the version folder is not writable."""
    try:
        path.parent.mkdir(exist_ok=True)
        # 0644: the index's other readers (the page) need it too.
        with files.replacing(path, mode=0o644) as tmp, tmp.open("wb") as fh:
            np.savez(fh, ids=np.array(list(ids), dtype=str), **arrays)
    except OSError as exc:
        log.info("not caching %s (%s); the result is kept in memory only", path, exc)
        return False
    return True
