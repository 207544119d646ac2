"""index/files.py: atomic replacement and locks between processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from index import files


def test_a_replaced_file_appears_whole_with_no_temporary_left(tmp_path: Path) -> None:
    target = tmp_path / "CURRENT"
    target.write_text("old\n")
    with files.replacing(target) as tmp:
        tmp.write_text("new\n")
        assert target.read_text() == "old\n"  # readers see the old file until the rename
        assert files.leftovers(target) == [tmp]
    assert target.read_text() == "new\n"
    assert files.leftovers(target) == []
    files.write_atomic(target, b"bytes\n", durable=True)
    files.write_atomic(target, "text é\n")
    assert target.read_text(encoding="utf-8") == "text é\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT"]


def test_a_failed_write_changes_nothing_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "map.npz"
    target.write_bytes(b"old")
    with pytest.raises(ValueError), files.replacing(target) as tmp:
        tmp.write_bytes(b"half")
        raise ValueError("killed mid-write")
    assert target.read_bytes() == b"old" and files.leftovers(target) == []
    # A folder that cannot hold the file: the OSError reaches the caller, nothing is left.
    with pytest.raises(OSError), files.replacing(tmp_path / "missing" / "x") as tmp:
        tmp.write_bytes(b"x")


def test_mode_is_set_before_the_file_appears(tmp_path: Path) -> None:
    target = tmp_path / "shared.npz"
    with files.replacing(target, mode=0o644) as tmp:
        tmp.write_bytes(b"x")
        os.chmod(tmp, 0o600)  # as a private temporary would be
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_second_holder_is_refused_at_once_until_the_first_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    with files.acquire(path, wait=False):
        with pytest.raises(files.Busy):
            files.acquire(path, wait=False)
        other: list[BaseException] = []

        def from_a_thread() -> None:
            try:
                files.acquire(path, wait=False)
            except files.Busy as exc:
                other.append(exc)

        thread = threading.Thread(target=from_a_thread)
        thread.start()
        thread.join()
        assert len(other) == 1
    with files.acquire(path, wait=False):  # released on leaving the block
        pass
    assert path.exists()  # the lock file stays, so every holder locks the same one


def test_a_lock_is_held_against_other_processes_and_freed_when_they_die(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    child = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from index import files
        held = files.acquire(Path(sys.argv[1]))  # kept: a lock nothing refers to is freed
        print("held", flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child, str(path)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        with pytest.raises(files.Busy):
            files.acquire(path, wait=False)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    with files.acquire(path, wait=False):  # the kernel freed it: no stale lock
        pass
