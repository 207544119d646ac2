"""A build killed at any point, or racing another build, never costs the working index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from index import BuildLocked, IndexCorrupt, add_sources, open_index
from index import publish as pub
from search import Searcher
from tests.fakes import CLI_WITH_HASH, HashEmbedder

# Runs `counsel-search add` in a child process that stops at one point of the build (writes a
# marker file, then sleeps) so the test can SIGKILL it exactly there. "switch" stops inside
# publish(): the version folder has its final name, CURRENT is about to be replaced.
CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import index.build, index.publish, index.vectors
    from tests.fakes import HashEmbedder, register_hash_model
    register_hash_model()
    marker, where = Path(sys.argv[1]), sys.argv[2]
    replace = os.replace

    def stop(*args, **kwargs):
        marker.write_text(where)
        time.sleep(120)

    if where == "embed":
        HashEmbedder.encode = stop
    elif where == "write":
        index.vectors.FaissStore.save = stop
    elif where == "publish":
        index.build.pub.publish = stop
    elif where == "switch":
        def switch(src, dst, *args, **kwargs):
            if Path(dst).name == index.publish.POINTER:
                stop()
            return replace(src, dst, *args, **kwargs)

        os.replace = switch
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
    # Only the version it replaced and its own remain: the killed build's partial folder is gone.
    assert _versions(hash_index) == {before.strip(), report.version}
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
            [*CLI_WITH_HASH, *argv],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert other.returncode == 1 and "another build is running" in other.stderr
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert open_index(hash_index).passages.count() == 127


def _versions(index_dir: Path) -> set[str]:
    return {p.name for p in (index_dir / pub.VERSIONS).iterdir()}


def _pointed(index_dir: Path) -> str:
    return (index_dir / pub.POINTER).read_text().strip()


def _two_versions(index_dir: Path, tmp_path: Path) -> tuple[str, str]:
    """Publish a second version (one more passage) over the fixture's; both names."""
    first = _pointed(index_dir)
    extra = tmp_path / "extra.md"
    extra.write_text("## Is this a second version?\n\nYes, with one more passage.\n")
    add_sources([extra], index_dir, HashEmbedder())
    return first, _pointed(index_dir)


def test_killed_between_version_rename_and_pointer_switch(hash_index: Path, tmp_path: Path):
    # Two published versions (the fixture's 127 passages, then 128), so that a fallback has an
    # older good one to choose besides the killed build's leftover.
    first, published = _two_versions(hash_index, tmp_path)
    assert _versions(hash_index) == {first, published}

    doc = new_document(tmp_path)
    argv = ["add", str(doc), "--index", str(hash_index), "--model", "hash-test"]
    proc, _ = start_child(tmp_path, "switch", *argv)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    # The kill landed in the window: the new version is complete under its final name (it has
    # its manifest), a pointer file may be half made, and CURRENT still names the old version.
    assert _pointed(hash_index) == published
    [leftover] = _versions(hash_index) - {first, published}
    assert not leftover.endswith(pub.PARTIAL) and leftover > published
    assert (hash_index / pub.VERSIONS / leftover / pub.MANIFEST).is_file()
    # The unpublished version is not one of the published-now-or-before versions.
    assert leftover not in {p.name for p in pub.complete_versions(hash_index)}

    # A searcher opened now serves the old version: 128 passages, without the new document.
    searcher = Searcher.open(hash_index)
    assert searcher.version.version == published and searcher.info().passages == 128

    def questions(words: str) -> set[str]:
        return {h.passage.question for h in searcher.search(words, k=10, mode="lexical")}

    assert "Is this a second version?" in questions("second version")
    assert "Is it normal to cry in therapy?" not in questions("normal cry tears welcome")
    searcher.close()

    # When the current version is damaged or the pointer names a missing version, the
    # fallback serves a version that was published, never the killed build's leftover.
    for how, expected in [("truncate", first), ("pointer", published)]:
        copy = tmp_path / f"damaged-{how}"
        shutil.copytree(hash_index, copy)
        if how == "pointer":
            (copy / pub.POINTER).write_text("v-missing\n")
        else:
            vectors = copy / pub.VERSIONS / published / pub.VECTORS
            vectors.write_bytes(vectors.read_bytes()[:100])
        with pytest.raises(IndexCorrupt):
            open_index(copy)
        version = open_index(copy, fallback=True)
        assert version.version == expected, how
        assert version.damaged
        version.close()
    # With no other good version, the fallback refuses rather than serve the leftover.
    copy = tmp_path / "damaged-only"
    shutil.copytree(hash_index, copy)
    shutil.rmtree(copy / pub.VERSIONS / first)
    vectors = copy / pub.VERSIONS / published / pub.VECTORS
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexCorrupt):
        open_index(copy, fallback=True).close()

    # The next build succeeds, publishes, keeps the version it replaced and removes the
    # killed build's leftovers: its version folder and its half-made pointer file.
    report = add_sources([doc], hash_index, HashEmbedder())
    assert report.passages == 129
    assert _pointed(hash_index) == report.version
    assert _versions(hash_index) == {published, report.version}
    assert list(hash_index.glob(f"{pub.POINTER}.tmp-*")) == []
    assert open_index(hash_index).passages.count() == 129


def test_killed_after_the_switch_the_version_counts_as_published(hash_index: Path, tmp_path: Path):
    # A build killed after CURRENT switched but before it cleared its version's UNPUBLISHED
    # mark (simulated: the mark put back) has still published that version.
    first, published = _two_versions(hash_index, tmp_path)
    (hash_index / pub.VERSIONS / published / pub.UNPUBLISHED).touch()
    assert [p.name for p in pub.complete_versions(hash_index)] == [published, first]
    searcher = Searcher.open(hash_index)
    assert searcher.version.version == published and searcher.info().passages == 128
    searcher.close()
    # The next build keeps it as the previous version, and a fallback from there serves it.
    report = add_sources([new_document(tmp_path)], hash_index, HashEmbedder())
    assert _versions(hash_index) == {published, report.version}
    vectors = hash_index / pub.VERSIONS / report.version / pub.VECTORS
    vectors.write_bytes(vectors.read_bytes()[:100])
    version = open_index(hash_index, fallback=True)
    assert version.version == published and version.passages.count() == 128
    version.close()
