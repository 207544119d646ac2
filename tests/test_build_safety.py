"""A build killed at any point, or racing another build, never costs the working index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from index import BuildLocked, HashEmbedder, add_sources, open_index
from index import publish as pub
from search import Searcher

# Runs `counsel-search add` in a child process that stops at one point of the build (writes a
# marker file, then sleeps) so the test can SIGKILL it exactly there.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import index.build, index.embed, index.vectors
    marker, where = Path(sys.argv[1]), sys.argv[2]

    def stop(*args, **kwargs):
        marker.write_text(where)
        time.sleep(120)

    if where == "embed":
        index.embed.HashEmbedder.encode = stop
    elif where == "write":
        index.vectors.FaissStore.save = stop
    elif where == "publish":
        index.build.pub.publish = stop
    from cli import main
    sys.exit(main(sys.argv[3:]))
    """
)


def start_child(tmp_path: Path, where: str, *argv: str) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / f"reached-{where}"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker), where, *argv],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "the child build ended before reaching the stop point"
        assert time.monotonic() < deadline, "the child build never reached the stop point"
        time.sleep(0.05)
    return proc, marker


def new_document(tmp_path: Path) -> Path:
    doc = tmp_path / "new.txt"
    doc.write_text("Is it normal to cry in therapy?\nYes: tears are welcome and common.\n")
    return doc


@pytest.mark.parametrize("where", ["embed", "write", "publish"])
def test_killed_build_leaves_last_good_index(hash_index: Path, tmp_path: Path, where: str):
    before = (hash_index / pub.POINTER).read_text()
    doc = new_document(tmp_path)
    argv = ["add", str(doc), "--index", str(hash_index), "--model", "hash-test"]
    proc, _ = start_child(tmp_path, where, *argv)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # The published version is untouched, opens and answers.
    assert (hash_index / pub.POINTER).read_text() == before
    searcher = Searcher.open(hash_index)
    assert searcher.info().passages == 127
    assert len(searcher.search("trust my therapist", k=3)) == 3
    searcher.close()
    # The next build succeeds (the kernel released the lock) and clears the leftovers.
    report = add_sources([doc], hash_index, HashEmbedder())
    assert report.passages == 128
    leftovers = [p for p in (hash_index / pub.VERSIONS).iterdir() if p.name.endswith(pub.PARTIAL)]
    assert leftovers == []
    assert open_index(hash_index).passages.count() == 128


def test_second_build_is_refused_while_one_runs(hash_index: Path, tmp_path: Path) -> None:
    doc = new_document(tmp_path)
    argv = ["add", str(doc), "--index", str(hash_index), "--model", "hash-test"]
    proc, _ = start_child(tmp_path, "embed", *argv)
    try:
        with pytest.raises(BuildLocked, match="another build is running"):
            add_sources([doc], hash_index, HashEmbedder())
        # The CLI says so in one line and exits non-zero.
        other = subprocess.run(
            [sys.executable, "-m", "cli", *argv],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert other.returncode == 1 and "another build is running" in other.stderr
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert open_index(hash_index).passages.count() == 127
