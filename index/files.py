"""Files that readers never see half-written, and locks between processes.

A file is replaced atomically by writing a temporary beside it (same folder, so same file
system) and renaming it over the target: a reader opens the old file or the new one, never part
of one. The temporary is named `<name>.tmp-<random>`, removed when writing fails; one left by a
killed process is found by `leftovers`.

Locks are `filelock`'s: flock on POSIX, so the kernel releases the lock of a process that dies
and a killed holder never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

TMP = ".tmp-"


class Busy(Exception):
    """Another process or thread holds the lock (from `acquire(..., wait=False)`)."""


@contextlib.contextmanager
def replacing(path: Path, *, mode: int | None = None, durable: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write; when the block ends cleanly it replaces `path`
    in one rename, and when it raises the temporary is removed and nothing changes.

    `mode`: permissions set before the rename (else the temporary's, from the umask).
    `durable`: fsync the file before the rename and the folder after it, so the new content
    survives a power loss once this returns.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}{TMP}{secrets.token_hex(4)}")
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        if durable:
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        if durable:
            fsync_dir(path.parent)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: str | bytes, *, durable: bool = False) -> None:
    """Replace `path` with `data` (text as UTF-8) atomically; see `replacing`."""
    with replacing(path, durable=durable) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def leftovers(path: Path) -> list[Path]:
    """Temporaries of `path` that a killed writer left behind."""
    path = Path(path)
    return sorted(path.parent.glob(f"{path.name}{TMP}*"))


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename or a new file in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file in a folder and the folder itself, so a rename publishes durable data."""
    for item in folder.iterdir():
        if item.is_file():
            with item.open("rb") as fh:
                os.fsync(fh.fileno())
    fsync_dir(folder)


def acquire(path: Path, *, wait: bool = True) -> AbstractContextManager[object]:
    """Take the exclusive lock of the file `path` (created if missing) now, and return a context
    manager that releases it: `with acquire(path): ...`.

    wait=True blocks until the lock is free; wait=False raises Busy at once if another
    process, or another call in this one, holds it. The lock is also released when the returned
    object is garbage-collected, so keep it (in the `with`) for as long as the lock is needed.
    """
    import filelock  # here: searches never lock, and it takes tens of ms to import

    lock = filelock.FileLock(path)
    try:
        return lock.acquire(blocking=wait)
    except filelock.Timeout as exc:
        raise Busy(f"{path} is locked") from exc
