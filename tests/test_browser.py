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


# -- issue 18: the page a reader scans, its bugs, and an accessibility audit ---------------------

BLOCKING = ("serious", "critical")


def _audit(pg, view: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(pg).response["violations"]
    return [
        f"{view}: {v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} element(s), the "
        f"first: {v['nodes'][0]['target']}: "
        + "; ".join(c["message"] for c in v["nodes"][0].get("any", []))
        + "]"
        for v in found
        if v.get("impact") in BLOCKING
    ]


def _ranks(pg) -> list[int]:
    """The ranks of the cards on the page, top to bottom."""
    heads = pg.locator("[data-testid='stMarkdownContainer'] strong").all_inner_texts()
    return [int(m.group(1)) for h in heads if (m := re.match(r"^(\d+)\. ", h))]


def test_a_new_question_during_a_walk_shows_its_results(page) -> None:
    pg = page
    _ask(pg, "can I trust a therapist who acts like he knows everything?")
    pg.get_by_role("button", name="Related passages").first.click()
    _settled(pg)
    pg.get_by_role("heading", name="Related passages").wait_for()
    _ask(pg, "how do I stop feeling anxious all the time")  # Enter in the question box
    assert pg.get_by_role("heading", name="Related passages").count() == 0
    assert _ranks(pg)[:1] == [1]
    # The Search button beside the box does the same as Enter.
    pg.get_by_label("Your question").fill("how do I build trust with my therapist")
    pg.get_by_role("button", name="Search", exact=True).click()
    _settled(pg)
    assert "trust" in pg.locator("strong").filter(has_text="1.").first.inner_text().lower()


def test_results_read_in_rank_order_without_fragments(page) -> None:
    pg = page
    _ask(pg, "I don't want to go to therapy, it doesn't help")
    ranks = _ranks(pg)
    assert ranks[0] == 1 and ranks == sorted(ranks)
    words = [
        t.split("your words: ", 1)[1]
        for t in pg.locator("[data-testid='stCaptionContainer']").all_inner_texts()
        if "your words: " in t
    ]
    terms = {w.strip() for line in words for w in line.split(",")}
    assert terms and not terms & {"t", "s", "don", "doesn", "ve"}
    # Scannable: each hit is its question and best sentences; the whole answer is one click away.
    assert pg.get_by_text("Read the whole answer").count() == len(ranks)
    body = pg.locator("section.main, [data-testid='stMain']").first.inner_text()
    assert not re.search(r"\bp[0-9a-f]{15}\b", body)  # no passage ids in the main view


def test_weak_and_crisis_questions(page) -> None:
    pg = page
    _ask(pg, "how do I bake sourdough bread")
    pg.get_by_text("Weak match").first.wait_for()
    assert pg.get_by_text("Read the whole answer").count() == 0  # the passages stay collapsed
    _ask(pg, "I don't want to live anymore")
    pg.get_by_text("988").first.wait_for()
    pg.get_by_text("about suicidal thoughts, self-harm and getting help now").wait_for()


def test_no_serious_accessibility_violations(page) -> None:
    pg = page
    _settled(pg)
    problems = _audit(pg, "search")
    _ask(pg, "can I trust a therapist who acts like he knows everything?")
    problems += _audit(pg, "results")
    pg.get_by_role("button", name="Related passages").first.click()
    _settled(pg)
    pg.get_by_role("heading", name="Related passages").wait_for()
    problems += _audit(pg, "walk")
    pg.get_by_text("Map", exact=True).click()
    _settled(pg)
    pg.locator("[data-testid='stVegaLiteChart']").first.scroll_into_view_if_needed()
    pg.locator("[data-testid='stVegaLiteChart'] path[role='graphics-symbol']").first.wait_for()
    problems += _audit(pg, "map")
    pg.get_by_text("Themes", exact=True).click()
    _settled(pg)
    pg.get_by_text("Most central passage").first.wait_for()
    problems += _audit(pg, "themes")
    assert not problems, "\n".join(problems)
