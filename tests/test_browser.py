"""The page in a real headless browser (Chromium driven by Playwright): what a user does, with the
real model, a real Streamlit server and real clicks.

Needs Chromium (Debian: `apt-get install chromium`; `.ci/run` installs it). Without it the test is
skipped with that hint, unless COUNSEL_SEARCH_REQUIRE_BROWSER=1 (set in CI) makes that a failure.
The server and Chromium start as benchmarks/perf_page.py starts them (benchmarks/browser.py).
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.browser import CHROMIUM, app_command, free_port, page_server, settled
from benchmarks.browser import CHROMIUM_ARGS as BENCH_CHROMIUM_ARGS
from index import add_sources, load_embedder
from search.export import FIELDS

pytestmark = pytest.mark.integration
# Flags for a closed network and a root user (see the machine notes in DEVELOPERS.md).
CHROMIUM_ARGS = [*BENCH_CHROMIUM_ARGS, "--disable-quic"]
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


@pytest.fixture(scope="module")
def server(real_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Streamlit server on a private copy of the real index, plus a hostile document."""
    _need_browser()
    index_dir = tmp_path_factory.mktemp("browser") / "index"
    shutil.copytree(real_index, index_dir)
    doc = index_dir.parent / "hostile.md"
    doc.write_text(HOSTILE, encoding="utf-8")
    add_sources([doc], index_dir, load_embedder())
    port = free_port()
    # Started the way a user starts it, so the page runs with the command's own settings
    # (tests/test_app_command.py checks those: loopback address, no usage statistics).
    with page_server(app_command(port, index_dir), port, timeout=60, poll=0.3) as running:
        yield running.url


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
    """Wait until the script run triggered by the last action has finished."""
    settled(pg, calm_checks=4)  # idle for 0.8 s: the run is over, not yet starting


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
