"""The page in a real browser, for benchmarks/perf_page.py and tests/test_browser.py: a Streamlit
server on a free port, serving once /_stcore/health answers and stopped afterwards, and the
system's Chromium with flags for a closed network and a root user."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import ROOT, stop

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
APP = ROOT / "app.py"


def free_port() -> int:
    """A TCP port of the loopback interface that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_command(port: int, index_dir: Path) -> list[str]:
    """The page started the way a user starts it: `counsel-search app` (with the command's own
    settings: loopback address, no usage statistics)."""
    return [sys.executable, "-m", "cli", "app", "--port", str(port), "--index", str(index_dir)]


def streamlit_command(port: int, extra: Sequence[str] = (), app: Path | None = None) -> list[str]:
    """The page as `counsel-search app` starts it (`streamlit run app.py` with the searcher
    loading beside the server's start, ui/launch.py), headless on the loopback port, the index
    from the environment; with `app`, plain `streamlit run` of that page script instead."""
    if app is None:
        cmd = [sys.executable, "-m", "ui.launch"]
    else:
        cmd = [sys.executable, "-m", "streamlit", "run", str(app)]
    cmd += ["--server.port", str(port), "--server.headless", "true"]
    cmd += ["--server.address", "127.0.0.1"]
    return [*cmd, "--browser.gatherUsageStats", "false", *extra]


@dataclass
class PageServer:
    """A running page: its process, its address, and when the process was started
    (time.perf_counter())."""

    proc: subprocess.Popen
    url: str
    started: float


@contextlib.contextmanager
def page_server(
    cmd: Sequence[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    poll: float = 0.3,
) -> Iterator[PageServer]:
    """Start a page server (`cmd`, listening on `port`) from the repository root, yield it once
    its health endpoint answers (polled every `poll` s; RuntimeError with the end of its output
    if it exits or `timeout` s pass first), and stop it on the way out."""
    url = f"http://127.0.0.1:{port}"
    # The server's output goes to a file, not a pipe: a full pipe would stall it.
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not _healthy(url):
                if proc.poll() is not None or time.perf_counter() - started > timeout:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"streamlit did not start: {tail}")
                time.sleep(poll)
            yield PageServer(proc, url, started)
        finally:
            stop(proc, timeout=20)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def settled(pg, calm_checks: int = 3) -> None:
    """Wait until the Streamlit script run triggered by the last action has finished: idle (no
    running widget, nothing stale) for `calm_checks` checks 0.2 s apart. Until then the page may
    still show the previous run's elements, or only part of the new ones."""
    idle = """() => !document.querySelector("[data-testid='stStatusWidget']")
        && document.querySelectorAll("[data-stale='true']").length === 0"""
    calm = 0
    while calm < calm_checks:
        pg.wait_for_timeout(200)
        calm = calm + 1 if pg.evaluate(idle) else 0
