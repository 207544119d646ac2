"""The page in a real headless browser (Chromium driven by Playwright): what a user does, with the
real model, a real Streamlit server and real clicks.

Needs Chromium (Debian: `apt-get install chromium`; `.ci/run` installs it). Without it the test is
skipped with that hint, unless COUNSEL_SEARCH_REQUIRE_BROWSER=1 (set in CI) makes that a failure.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import add_sources, load_embedder
from search.export import FIELDS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a closed network and a root user (see the machine notes in DEVELOPERS.md).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = (
    "# Tricky formatting\n\n"
    "## What does a hostile document look like on the page?\n\n"
    'It says <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned=2"> '
    "and [a link](http://example.invalid) and ![an image](http://example.invalid/x.png) "
    "about zebrafish counseling.\n"
)


def _need_browser() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        CHROMIUM_MISSING = "playwright is not installed: pip install -e '.[dev]'"
        _skip_or_fail(CHROMIUM_MISSING)
    if CHROMIUM is None:
        _skip_or_fail("no Chromium found: install it (Debian: apt-get install chromium)")


def _skip_or_fail(why: str) -> None:
    if os.environ.get("COUNSEL_SEARCH_REQUIRE_BROWSER") == "1":
        pytest.fail(why)
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(real_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Streamlit server on a private copy of the real index, plus a hostile document."""
    _need_browser()
    index_dir = tmp_path_factory.mktemp("browser") / "index"
    shutil.copytree(real_index, index_dir)
    doc = index_dir.parent / "hostile.md"
    doc.write_text(HOSTILE, encoding="utf-8")
    add_sources([doc], index_dir, load_embedder())
    port = _free_port()
    # Started the way a user starts it, so the page runs with the command's own settings
    # (tests/test_app_command.py checks those: loopback address, no usage statistics).
    cmd = [sys.executable, "-m", "cli", "app", "--port", str(port), "--index", str(index_dir)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise RuntimeError(f"streamlit did not start: {tail}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture()
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(90_000)
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.goto(server)
        pg.get_by_label("Your question").wait_for()
        pg.dialogs = dialogs  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _settled(pg) -> None:
    """Wait until the script run triggered by the last action has finished: until then the
    page may still show the previous run's (stale) elements, or only part of the new ones."""
    idle = """() => !document.querySelector("[data-testid='stStatusWidget']")
        && document.querySelectorAll("[data-stale='true']").length === 0"""
    calm = 0
    while calm < 4:  # idle for four checks in a row (0.8 s): the run is over, not yet starting
        pg.wait_for_timeout(200)
        calm = calm + 1 if pg.evaluate(idle) else 0


def _ask(pg, question: str) -> None:
    box = pg.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    pg.get_by_text("best-matching sentences highlighted").wait_for()
    _settled(pg)


def test_question_walk_map_and_download(page) -> None:
    pg = page
    _ask(pg, "can I trust a therapist who acts like he knows everything?")
    first = pg.locator("strong").filter(has_text="1.").first.inner_text()
    assert "trust" in first.lower()
    assert pg.locator("mark, span[style*='background']").count() > 0  # highlighted sentences
    pg.get_by_role("button", name="Related passages").first.click()
    _settled(pg)
    pg.get_by_role("heading", name="Related passages").wait_for()
    crumb = pg.get_by_role("button", name="1. ")
    assert crumb.count() == 1 and crumb.is_disabled()
    pg.get_by_role("button", name="Related passages").first.click()
    _settled(pg)
    pg.get_by_role("button", name="2. ").wait_for()
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert rows and list(rows[0]) == list(FIELDS)
    assert {r["step"] for r in rows} == {"0", "1"} and all(r["index_version"] for r in rows)
    pg.get_by_role("button", name="1. ").click()  # back along the breadcrumb
    _settled(pg)
    pg.get_by_role("button", name="2. ").wait_for(state="detached")
    pg.get_by_text("Map", exact=True).click()
    _settled(pg)
    pg.get_by_text("of their embeddings").wait_for()  # PCA, or UMAP when installed
    # Charts are drawn when scrolled into view; Vega draws each passage as an SVG symbol whose
    # label carries its question, so a point can be found and clicked like a user would.
    pg.locator("[data-testid='stVegaLiteChart']").first.scroll_into_view_if_needed()
    points = pg.locator("[data-testid='stVegaLiteChart'] path[role='graphics-symbol']")
    points.first.wait_for()
    assert points.count() >= 128 + 2  # every passage, plus the rings of the hits and the walk
    if shot := os.environ.get("COUNSEL_SEARCH_SHOT"):  # a picture of the map, for a person
        pg.screenshot(path=shot, full_page=True)
    # Click a passage's point; another may be drawn over it, so the passage expected is the one
    # whose symbol is topmost where the mouse clicks.
    point = pg.locator("path[aria-label*='question: What is psychotherapy resistance?']").first
    box = point.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    label = pg.evaluate("([x, y]) => document.elementFromPoint(x, y).ariaLabel", [x, y])
    target = re.search(r"question: (.*?); (?:topic|marked):", label).group(1)
    pg.mouse.click(x, y)
    _settled(pg)
    pg.get_by_role("button", name="Related passages").click()  # walk on from the map
    _settled(pg)
    pg.get_by_role("heading", name="Related passages").wait_for()
    assert pg.get_by_text(f"Here: {target}").count() == 1


def test_hostile_text_shows_literally_and_crisis_notice(page) -> None:
    pg = page
    _ask(pg, "zebrafish counseling hostile document")
    body = pg.locator("body").inner_text().replace("\u2060", "")  # invisible word joiners
    assert "<script>window.__pwned = 1</script>" in body
    assert '<img src=x onerror="window.__pwned=2">' in body
    assert "[a link](http://example.invalid)" in body
    assert pg.evaluate("() => window.__pwned") is None and pg.dialogs == []
    assert pg.locator("img[src='x'], a[href*='example.invalid']").count() == 0
    _ask(pg, "I don't want to be alive anymore")
    pg.get_by_text("988").first.wait_for()
