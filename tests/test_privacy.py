"""A question typed into counsel-search stays in memory: it is in no log at any level, on no
stream but the answer's, and in no file, whichever face asked it (Python, the CLI, the page),
with the real packaged model.

The model is loaded afresh with HOME, the XDG folders, the model cache, TMPDIR and the working
directory all pointing into this test's own folders, so every place it or Streamlit could write
is scanned; an audit hook also records every file the process opens for writing (and every
SQLite database it connects to) while the question is handled, wherever it is, and those are
scanned too. A file holding the question's text, or its sha256 (the embedding cache's key), fails.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

TOKEN = "zqxjkvu"  # a made-up word: it occurs in no passage and in no model vocabulary file
# A question someone would not want kept anywhere, which also sets off the crisis notice.
SECRET = f"{TOKEN} my husband hurts me at night and I want to end my life"

# Set by the audit hook below while a question is handled: (path, what) of each write.
_WRITES: list[tuple[str, str]] | None = None
_HOOKED = False


def _audit(event: str, args: tuple) -> None:
    if _WRITES is None:
        return
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing and isinstance(path, str | bytes | os.PathLike):
            _WRITES.append((os.fsdecode(path), "open"))
    elif event == "sqlite3.connect":
        _WRITES.append((os.fsdecode(args[0]), "sqlite3.connect"))


@pytest.fixture()
def writes() -> Iterator[list[tuple[str, str]]]:
    """The files opened for writing while the fixture is active (audit hooks can't be removed:
    the hook is added once and does nothing outside this fixture)."""
    global _WRITES, _HOOKED
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True
    _WRITES = []
    try:
        yield _WRITES
    finally:
        _WRITES = None


@pytest.fixture()
def all_records(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[logging.LogRecord]]:
    """Every log record any logger handles, at DEBUG for the root logger and for Streamlit's
    loggers (which don't propagate to the root logger, so caplog misses them). Streamlit's
    option is patched as well as its level: the page sets the level from the option when it
    (re)reads its config."""
    import streamlit.logger
    from streamlit.testing.v1.util import patch_config_options

    records: list[logging.LogRecord] = []
    handle = logging.Logger.handle

    def recording(self: logging.Logger, record: logging.LogRecord) -> None:
        records.append(record)
        handle(self, record)

    monkeypatch.setattr(logging.Logger, "handle", recording)
    before = streamlit.logger._global_log_level
    try:
        with patch_config_options({"logger.level": "debug"}):
            streamlit.logger.set_log_level(logging.DEBUG)
            yield records
    finally:
        streamlit.logger.set_log_level(before)


def _needles() -> list[bytes]:
    digest = hashlib.sha256(SECRET.encode("utf-8")).digest()
    return [TOKEN.encode(), digest, digest.hex().encode()]


def _leaks(path: Path) -> list[str]:
    """What of the question a file holds (case-insensitively for the text)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return []
    found = []
    if TOKEN.encode() in data.lower():
        found.append("text")
    if _needles()[1] in data:
        found.append("sha256")
    if _needles()[2] in data.lower():
        found.append("sha256 hex")
    return found


def _files(folder: Path, since: float | None = None) -> list[Path]:
    """Files under a folder (only those modified at or after `since`, when given)."""
    if not folder.is_dir():
        return []
    out = []
    for path in folder.rglob("*"):
        try:
            if path.is_file() and (since is None or path.stat().st_mtime >= since):
                out.append(path)
        except OSError:
            continue
    return out


def test_question_is_in_no_log_stream_or_file(
    real_index: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    writes: list[tuple[str, str]],
    all_records: list[logging.LogRecord],
) -> None:
    from streamlit.testing.v1 import AppTest

    import index.embed
    from cli import main
    from index import load_embedder
    from index.mpnet import default_cache_dir
    from search import Searcher

    started = time.time() - 1  # mtime granularity
    shared_model_cache = default_cache_dir()  # where earlier tests' model exports live
    home, work, tmp = tmp_path / "home", tmp_path / "work", tmp_path / "tmp"
    for folder in (home, work, tmp):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.setenv("COUNSEL_SEARCH_MODEL_CACHE", str(tmp_path / "models"))
    monkeypatch.setenv("COUNSEL_SEARCH_INDEX", str(real_index))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.chdir(work)
    # A fresh model object, so that whatever loading and encoding write goes to these folders.
    monkeypatch.setattr(index.embed, "_CACHE", {})

    with caplog.at_level(logging.DEBUG):  # the root logger; Streamlit's: see all_records
        embedder = load_embedder()
        assert type(embedder).__name__ == "ExportedEmbedder"  # exported here, then ONNX
        searcher = Searcher(Searcher.open(real_index).version, embedder)
        for mode in ("hybrid", "dense"):
            hits = searcher.search(SECRET, k=20, mode=mode, explain=True)
            assert hits and any(h.sentences for h in hits)  # explanations were made
        assert searcher.needs_crisis_notice(SECRET)
        searcher.close()

        assert main(["search", SECRET, "--index", str(real_index), "--json"]) == 0
        cli_out, cli_err = capfd.readouterr()
        assert cli_out.count("\n") == 10 and "notice:" in cli_err  # it did run: 10 hits

        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        at.text_input(key="query").input(SECRET).run()
        assert not at.exception
        assert any("crisis" in e.value.lower() for e in at.error)  # the page answered
        assert any(c.value.startswith("cosine ") for c in at.caption)  # and showed hits
        at.text_input(key="query").input("").run()  # the page moves on to something else

    out, err = capfd.readouterr()
    records = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {r.args!r} {r.exc_text or ''}"
        for r in all_records
    )
    # DEBUG logging was on and captured, Streamlit's included.
    debug = [r.name for r in all_records if r.levelno == logging.DEBUG]
    assert any(name.startswith("streamlit.") for name in debug), debug
    assert any(not name.startswith("streamlit") for name in debug), debug
    for where, text in [
        ("logs", records + caplog.text),
        ("stderr", cli_err + err),
        # --json prints hits, never the question; matched_terms lists only words a passage
        # holds, and the made-up word is in none.
        ("stdout", cli_out + out),
    ]:
        assert TOKEN not in text.lower(), f"the question is in the {where}"

    scanned = {
        "index": _files(real_index),
        "home and XDG folders": _files(home),
        "model cache": _files(tmp_path / "models"),
        "temporary files": _files(tmp),
        "working directory": _files(work),
        # Outside this test's folders: only what was written during it.
        "shared model cache": _files(shared_model_cache, since=started),
        "repository's .streamlit": _files(ROOT / ".streamlit", since=started),
        "opened for writing": [Path(p) for p, _ in writes],
    }
    # The model was exported into this test's cache, and the audit hook saw it written.
    assert scanned["index"] and scanned["model cache"]
    assert any(Path(p).is_relative_to(tmp_path / "models") for p, _ in writes)
    leaks = {
        f"{label}: {path}": found
        for label, paths in scanned.items()
        for path in paths
        if (found := _leaks(path))
    }
    assert leaks == {}
