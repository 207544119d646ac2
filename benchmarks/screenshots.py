"""Screenshots of the page as a visitor sees it, in headless Chromium at desktop and phone width:
the empty page, a question's results, a weak (off-topic) question, a crisis question, the
related-passage walk and the map.

    .venv/bin/python -m benchmarks.screenshots --index DIR     # an index of data/corpus/
    .venv/bin/python -m benchmarks.screenshots --index DIR --out /tmp/shots --app OTHER/app.py

Writes NAME-desktop.png (1400x1000 viewport) and NAME-phone.png (390x844) into --out (default
docs/screenshots/), full-page, and prints each file with the page's height in pixels.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.browser import (
    APP,
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    page_server,
    settled,
    streamlit_command,
)
from benchmarks.common import DOCS, command_line

SIZES = {"desktop": (1400, 1000), "phone": (390, 844)}
QUESTION = "can I trust a therapist who acts like he knows everything?"
WEAK = "how do I bake sourdough bread"
CRISIS = "I don't want to live anymore"
MAP_WAIT_MS = 120_000  # a first UMAP map took 38 s on an idle 2-core machine, more when loaded


def ask(pg, question: str) -> None:
    """Type a question, press Enter, wait for the run to end."""
    box = pg.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    settled(pg, calm_checks=4)


def shoot(pg, out: Path, name: str, size: str) -> None:
    """A full-page screenshot, named, and its height printed."""
    path = out / f"{name}-{size}.png"
    # Streamlit scrolls inside its main block, not the window: a full-page screenshot needs the
    # page's own height, so the viewport is grown to the content for the shot.
    # (The main block's bottom edge: collapsed expanders' hidden content does not count.)
    height = pg.evaluate(
        """() => { const main = document.querySelector("[data-testid='stMainBlockContainer']");
            const box = main.getBoundingClientRect();
            return Math.ceil(box.bottom + main.parentElement.scrollTop); }"""
    )
    width, view = SIZES[size]
    pg.set_viewport_size({"width": width, "height": max(view, min(int(height), 16000))})
    pg.wait_for_timeout(400)
    pg.screenshot(path=str(path), full_page=True)
    pg.set_viewport_size({"width": width, "height": view})
    print(f"{path}  ({height} px high)", flush=True)


def run(index_dir: Path, out: Path, app: Path) -> None:
    """Start the page on the index and take every screenshot at both sizes."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = streamlit_command(port, ["--server.fileWatcherType", "none"], None if app == APP else app)
    env = {**os.environ, "COUNSEL_SEARCH_INDEX": str(index_dir)}
    with page_server(cmd, port, env=env, timeout=120) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size, (width, height) in SIZES.items():
            pg = browser.new_page(viewport={"width": width, "height": height})
            pg.set_default_timeout(180_000)
            pg.goto(server.url)
            pg.get_by_label("Your question").wait_for()
            settled(pg, calm_checks=4)
            shoot(pg, out, "start", size)
            ask(pg, QUESTION)
            shoot(pg, out, "results", size)
            pg.get_by_role("button", name="Related passages").first.click()
            settled(pg, calm_checks=4)
            shoot(pg, out, "walk", size)
            ask(pg, WEAK)
            shoot(pg, out, "weak", size)
            ask(pg, CRISIS)
            shoot(pg, out, "crisis", size)
            pg.get_by_text("Map", exact=True).click()
            settled(pg, calm_checks=4)
            pg.locator("[data-testid='stVegaLiteChart']").first.scroll_into_view_if_needed()
            # Vega draws a large chart on a canvas, a small one as SVG symbols.
            points = "[data-testid='stVegaLiteChart'] :is(canvas, path[role='graphics-symbol'])"
            try:
                pg.locator(points).first.wait_for(timeout=MAP_WAIT_MS)
            except PlaywrightTimeout:
                print(f"map: no points after {MAP_WAIT_MS / 1000:.0f} s; shot as it is", flush=True)
            shoot(pg, out, "map", size)
            pg.close()
        browser.close()


def main() -> None:
    parser = command_line("benchmarks.screenshots", __doc__)
    parser.add_argument("--index", type=Path, required=True, help="an index of data/corpus/")
    parser.add_argument("--out", type=Path, default=DOCS / "screenshots")
    parser.add_argument("--app", type=Path, default=APP, help="the page script (default app.py)")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("no Chromium found: install it (Debian: apt-get install chromium)")
    run(args.index, args.out, args.app)


if __name__ == "__main__":
    main()
