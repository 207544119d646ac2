"""Cold starts for benchmarks/perf.py: a fresh CLI process, and the page in headless Chromium.

Each timing is wall time from launching the process to the first answer: for the CLI, until the
process exits after printing its hits; for the page, until Chromium shows the results caption
("best-matching sentences highlighted") after a question was typed and Enter pressed. Each CLI
run is paired with a fresh process that only imports torch and sentence-transformers (what
every search paid before queries went through ONNX Runtime), alternating which goes first. The
page's peak RSS (VmHWM of the Streamlit process) is read after the first answer and after the
map view.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.browser import (
    APP,
    CHROMIUM,
    CHROMIUM_ARGS,
    PageServer,
    free_port,
    page_server,
    settled,
    streamlit_command,
)
from benchmarks.common import ROOT, timed, vm_hwm

# The what-ifs, each started by plain `streamlit run`, same settings otherwise: the page without
# the launcher that loads the searcher as the server starts (ui/launch.py), and Streamlit's own
# floor (a page with a title, a box and a caption, nothing loaded).
WHAT_IFS = {"no_preload": APP, "floor": ROOT / "benchmarks" / "floor_page.py"}
# Run in a fresh interpreter: the CLI's path to its first answer, one phase at a time. Each
# line printed is (phase, wall clock at its end), so interpreter start-up counts too.
PHASES = """
import json, sys, time
stamps = []
def mark(name): stamps.append((name, time.time()))
mark("interpreter started")
import cli.commands
from search import Searcher
mark("imports (cli, index, search)")
s = Searcher.open(sys.argv[1])
mark("Searcher.open (manifest, SQLite, FAISS file)")
s.embedder
mark("load the model (its ONNX export: onnxruntime session, tokenizer, sha256 of the files)")
s.needs_crisis_notice(sys.argv[2])
mark("crisis check (its exemplars' cached vectors, the query)")
s.search(sys.argv[2])
mark("first search with explanations")
heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
print(json.dumps({"stamps": stamps, "heavy": heavy}))
"""


IMPORT_TORCH = "import torch, sentence_transformers"


def cli_cold_start(index_dir: Path, question: str, runs: int) -> dict:
    """Wall time of `counsel-search search QUESTION --index DIR` in a fresh process, against a
    fresh process importing torch and sentence-transformers, run in alternating order."""
    exe = Path(sys.executable).parent / "counsel-search"
    search = [str(exe), "search", question, "--index", str(index_dir)]
    times, imports = [], []
    for run in range(runs):
        order = [search, [sys.executable, "-c", IMPORT_TORCH]]
        for cmd in order if run % 2 == 0 else order[::-1]:
            done, seconds = timed(subprocess.run, cmd, capture_output=True, text=True, cwd=ROOT)
            (times if cmd is search else imports).append(seconds)
            if done.returncode != 0:
                raise RuntimeError(f"{cmd[1]} failed: {done.stderr[-500:]}")
    print(f"cli cold start: {', '.join(f'{t:.2f}' for t in times)} s", flush=True)
    print(f"import torch + s-t: {', '.join(f'{t:.2f}' for t in imports)} s", flush=True)
    median, torch_s = statistics.median(times), statistics.median(imports)
    return {
        "median_s": median,
        "runs": times,
        "import_torch_s": torch_s,
        "import_torch_runs": imports,
        "ratio": median / torch_s,
    }


def cli_breakdown(index_dir: Path, question: str) -> list[dict]:
    """Seconds spent in each phase of a fresh process's way to its first answer."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", PHASES, str(index_dir), question],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    said = json.loads(done.stdout.strip().splitlines()[-1])
    out, before = [], started
    for name, at in said["stamps"]:
        out.append({"phase": name, "seconds": at - before})
        before = at
    heavy = ", ".join(said["heavy"]) or "none of torch, sentence_transformers, transformers"
    out.append({"phase": f"modules loaded by the end: {heavy}", "seconds": 0.0})
    return out


# A second question on a page that has answered once: Enter to results with nothing left to load.
NEXT_QUESTION = "how do I cope with grief after my mother died?"
# The page's main part has new text, its results caption, no element left over from the last
# run (stale) and no run in progress: the new results are drawn.
NEW_RESULTS = """before => {
    const main = document.querySelector("[data-testid='stMain']");
    return main && main.innerText !== before
        && main.innerText.includes("best-matching sentences highlighted")
        && !document.querySelector("[data-testid='stStatusWidget']")
        && document.querySelectorAll("[data-stale='true']").length === 0;
}"""


def _next_answer(pg, box) -> float:
    """Seconds from Enter to the results of NEXT_QUESTION being visible (the page warm)."""
    before = pg.locator("[data-testid='stMain']").inner_text()
    box.fill(NEXT_QUESTION)
    pressed = time.perf_counter()
    box.press("Enter")
    pg.wait_for_function(NEW_RESULTS, arg=before, polling=20)
    seconds = time.perf_counter() - pressed
    settled(pg)
    return seconds


def _ask_and_map(pg, server: PageServer, question: str, with_map: bool) -> dict:
    """Open the page, ask, wait for the answer, then open the map: timings and peak RSS."""
    started = server.started
    out = {"serving_s": time.perf_counter() - started}
    pg.goto(server.url)
    box = pg.get_by_label("Your question")
    box.wait_for()
    out["input_s"] = time.perf_counter() - started
    box.fill(question)
    pressed = time.perf_counter()
    box.press("Enter")
    pg.get_by_text("best-matching sentences highlighted").wait_for()
    out["first_answer_s"] = time.perf_counter() - started
    out["enter_to_answer_s"] = time.perf_counter() - pressed
    settled(pg)
    out["rss_answer"] = vm_hwm(server.proc.pid)
    out["next_enter_to_answer_s"] = _next_answer(pg, box)
    if not with_map:
        return out
    before_map = time.perf_counter()
    pg.get_by_text("Map", exact=True).click()
    pg.get_by_text("of their embeddings").wait_for()
    pg.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    settled(pg)
    out["map_s"] = time.perf_counter() - before_map
    out["rss_map"] = vm_hwm(server.proc.pid)
    return out


def _one_page_run(
    browser, index_dir: Path, question: str, app: Path | None, with_map: bool
) -> dict:
    port = free_port()
    env = {**os.environ, "COUNSEL_SEARCH_INDEX": str(index_dir)}
    context = browser.new_context()  # before the server starts: not timed
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    try:
        cmd = streamlit_command(port, app=app)
        with page_server(cmd, port, env=env, timeout=120, poll=0.05) as server:
            return _ask_and_map(pg, server, question, with_map)
    finally:
        context.close()


def _summary(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if k.endswith("_s") or k.startswith("rss_")]
    out: dict = {k: statistics.median(r[k] for r in rows) for k in keys}
    out["rss_max"] = max(r[k] for r in rows for k in keys if k.startswith("rss_"))
    out["runs"] = rows
    return out


def page_cold_start(index_dir: Path, question: str, runs: int, what_if: bool = True) -> dict:
    """Process start to first answer on the page, and its peak RSS, median of `runs`.

    Chromium is launched once, before any timing; each run starts a new Streamlit server, from
    the repository root as a user would (so .streamlit/config.toml applies). With `what_if`,
    each run is followed by one of each of WHAT_IFS, for comparison.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed: pip install -e '.[dev]'"}
    if CHROMIUM is None:
        return {"skipped": "no Chromium found (Debian: apt-get install chromium)"}
    rows: list[dict] = []
    variants: dict[str, list[dict]] = {key: [] for key in WHAT_IFS} if what_if else {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                rows.append(_one_page_run(browser, index_dir, question, None, True))
                r = rows[-1]
                print(
                    f"page: first answer {r['first_answer_s']:.2f} s, RSS "
                    f"{r['rss_answer'] / 2**20:.0f} MiB, after map {r['rss_map'] / 2**20:.0f} MiB",
                    flush=True,
                )
                for key, runs_of in variants.items():
                    app = WHAT_IFS[key]
                    runs_of.append(_one_page_run(browser, index_dir, question, app, False))
                    t = runs_of[-1]["first_answer_s"]
                    print(f"page, what-if {key}: first answer {t:.2f} s", flush=True)
        finally:
            browser.close()
    out = _summary(rows)
    out.update({key: _summary(runs_of) for key, runs_of in variants.items()})
    return out
