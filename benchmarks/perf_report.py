"""docs/performance.md from the figures of benchmarks/perf.py: targets first, then the detail.

Every target is judged by a ratio of two figures measured in the same run (a latency against the
bare floor, a build against a bare encode) or by a figure against its fixed limit.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
from pathlib import Path

from benchmarks.common import DOCS, table
from benchmarks.perf_page import IMPORT_TORCH
from benchmarks.perf_targets import targets
from search import MODES

MB = 2**20
GB = 2**30


def _proc_value(path: str, key: str) -> str:
    """What follows the colon on the first line of a /proc file that starts with `key`."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine() -> dict:
    """Facts about this machine that the figures depend on."""
    import torch

    mem = _proc_value("/proc/meminfo", "MemTotal:")
    return {
        "cores": os.cpu_count(),
        "cpu": _proc_value("/proc/cpuinfo", "model name"),
        "memory": int(mem.split()[0]) * 1024 if mem else 0,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": os.getloadavg(),
    }


def _latency(res: dict) -> list[str]:
    lat = res["latency"]
    t = lat["times"]
    floor = t["floor"]["p50"]

    def cells(key: str) -> list[str]:  # p50 / p99, and p50 against the floor
        if key not in t:
            return ["–", "–"]
        return [f"{t[key]['p50']:.1f} / {t[key]['p99']:.1f}", f"{t[key]['p50'] / floor:.2f}×"]

    rows = [["bare floor (ONNX encode + flat IP search)", cells("floor")[0], "1.00×", "–", "–"]]
    if "floor_torch" in t:
        rows.append(["the floor with PyTorch's encode", *cells("floor_torch"), "–", "–"])
    for mode in MODES:
        for kind in ("new", "repeated"):
            key = f"{mode}/{kind}"
            rows.append([f"{mode}, {kind} query", *cells(f"{key}/False"), *cells(f"{key}/True")])
    if "faiss1" in t:
        rows.append(["what-if: hybrid, new query, FAISS on one thread", *cells("faiss1"), "–", "–"])
    default = "hybrid/new/False"
    faiss1 = f"{t['faiss1']['p50'] / t[default]['p50']:.2f}×" if "faiss1" in t else "–"
    out = [
        "## Query latency",
        "",
        f"`Searcher.search(q, k={lat['k']})` in process on the bundled index, model warm, "
        f"{lat['queries']} distinct queries ({lat['source']}); modes interleaved query by query "
        "(rotating which goes first). **New query**: the query-vector cache and the sentence "
        "cache are emptied before the call; **repeated**: the same query asked again right "
        f"after. explain=True was timed on {t.get('hybrid/new/True', {}).get('n', 0)} of the "
        "queries. The bare floor is one encode of the query by the searcher's own encoder "
        "(the model's ONNX export in ONNX Runtime, `index/ort.py`) plus one "
        f"`IndexFlatIP.search(k=10)` over the same {res['size']['vectors']} vectors.",
        "",
        *table(
            "what | explain=False p50 / p99 ms | p50 × floor | explain=True p50 / p99 ms "
            "| p50 × floor",
            rows,
        ),
    ]
    if load := res.get("explain_load"):
        out += [
            "",
            "explain=True scores the hits' candidate sentences with vectors embedded at build "
            "(`index/sentences.py`): texts the model embeds for a new query beyond the query "
            f"itself, median over {load['queries']} queries: {load['sentences']:.0f} "
            f"({load['word_pieces']:.0f} word pieces). explain=True adds the sentence lookup, "
            "the FTS5 highlight of the query terms and the Hit copies.",
        ]
    out += [
        "",
        f"The what-if row is the default mode with FAISS held to one OpenMP thread by the "
        f"caller (`faiss.omp_set_num_threads(1)`; FAISS defaults to {lat['omp']} here), timed "
        "in the same loop: torch and faiss-cpu each bring their own libgomp, and a FAISS "
        "parallel region on two cores shared with torch's (or anyone's) threads waits for a "
        f"descheduled team member. Its p50 is {faiss1} the default row's; a store that keeps "
        "single-query searches on one thread itself makes the two agree.",
        "",
    ]
    if prof := res.get("profile"):
        functions = (
            f"`{r['where']}` | {r['calls']} | {r['tottime']:.3f} | {r['share']:.0%} | "
            f"{r['cumtime']:.3f}"
            for r in prof
        )
        out += [
            "### Where default-mode ranking goes, beyond the model "
            f"(cProfile, {prof[0]['queries']} queries)",
            "",
            "Each query asked once, then profiled when asked again (its vector cached: this is "
            "what the searcher adds to the encode), explain=False. Functions by own time; "
            "profiling slows Python code more than native code, so shares are indicative:",
            "",
            *table("function | calls | own time s | share | cumulative s", functions),
            "",
        ]
    return out


def _cold(res: dict) -> list[str]:
    out = [
        "## Cold start",
        "",
        "A search process imports neither torch nor sentence-transformers: the query is encoded "
        "by the model's ONNX export (made the first time the model is loaded, normally by the "
        "first build, and cached under `~/.cache/counsel-search/models/onnx/`) in ONNX Runtime "
        "with the model's fast tokenizer (`index/ort.py`). Where the export is missing (an "
        "index built on another machine) the first load imports torch once to make it; a model "
        "it cannot reproduce stays on sentence-transformers.",
        "",
    ]
    if cli := res.get("cli"):
        runs = ", ".join(f"{x:.2f}" for x in cli["runs"])
        phases = ((p["phase"], f"{p['seconds']:.2f}") for p in cli.get("phases", []))
        out += [
            f"`counsel-search search QUESTION --index DIR`, a fresh process each time: median "
            f"**{cli['median_s']:.2f} s** (runs: {runs} s)"
            + (
                f", against {cli['import_torch_s']:.2f} s for a fresh process that only runs "
                f"`{IMPORT_TORCH}` (runs: "
                f"{', '.join(f'{x:.2f}' for x in cli['import_torch_runs'])} s; the two "
                f"alternate): **{cli['ratio']:.2f}×**"
                if "import_torch_s" in cli
                else ""
            )
            + ". Where a fresh process's time goes "
            "(one run of the same steps, timed phase by phase):",
            "",
            *table("phase | seconds", phases),
            "",
        ]
    page = res.get("page")
    if page and "skipped" in page:
        out += [f"Page: skipped ({page['skipped']}).", ""]
    elif page:
        out += _page(page)
    return out


def _page(page: dict) -> list[str]:
    later = [r["map_s"] for r in page["runs"][1:]]
    off, floor = page.get("no_preload"), page.get("floor")

    def row(label: str, key: str, bold: str = "") -> list[str]:
        alts = [f"{bold}{w[key]:.2f}{bold}" if w and key in w else "–" for w in (off, floor)]
        return [label, f"{bold}{page[key]:.2f}{bold}", *alts]

    rows = [
        row("server answers /_stcore/health", "serving_s"),
        row("question box shown (page loaded; the model may still be loading)", "input_s"),
        row("**first answer shown**", "first_answer_s", bold="**"),
        row(
            "of which: Enter pressed to answer shown (any loading left, then the search)",
            "enter_to_answer_s",
        ),
        row(
            "then a second question: Enter pressed to its answer shown (nothing left to load)",
            "next_enter_to_answer_s",
        ),
        "then the Map view, first run (projection computed and cached in the version) | "
        f"+{page['runs'][0]['map_s']:.2f} | – | –",
        "then the Map view, later runs (projection read from the cache) | "
        f"{f'+{statistics.median(later):.2f}' if later else '–'} | – | –",
    ]
    out = [
        "The page as `counsel-search app` starts it (`python -m ui.launch`: `streamlit run "
        "app.py` with the index and model loading once the server is up) from the repository "
        "root (so `.streamlit/config.toml` applies) on a free port with COUNSEL_SEARCH_INDEX "
        "set, opened in headless Chromium (launched "
        "beforehand, not timed) on the same two cores; a question typed and Enter pressed as "
        f"soon as the question box shows. Medians of {len(page['runs'])} runs, seconds from "
        "process start:",
        "",
        *table(
            "step | as launched | what-if: plain `streamlit run app.py` | what-if: a bare "
            "Streamlit page",
            rows,
        ),
        "",
    ]
    if off or floor:
        out += [
            "The what-if runs are interleaved with the others, without the map. Plain "
            "`streamlit run app.py` runs the page's script, and so loads the model and the "
            "index, only once the browser has connected. The bare page "
            "(`benchmarks/floor_page.py`: a title, the question box and the results caption, "
            "nothing imported or loaded) is Streamlit's own floor here: the same server, client "
            "and browser, with none of the page's work.",
            "",
        ]
    return out


def _build(res: dict) -> list[str]:
    b = res["build"]
    rest = b["build_s"] - b["encode_in_build_s"] - b["chunking_s"]
    steps = [
        f"full build (`build_index`) | {b['build_s']:.1f} | {b['build_pps']:.1f}",
        f"bare `model.encode` of the same {b.get('texts', b['windows'])} texts | "
        f"{b['bare_s']:.1f} "
        f"| {b['bare_pps']:.1f}",
    ]
    out = [
        "## Build throughput",
        "",
        f"A full build of `{b['corpus']}` into a fresh index directory (so a fresh embedding "
        f"cache): {b['passages']} passages, {b['windows']} windows"
        + (f" and {b['texts'] - b['windows']} distinct sentences" if "texts" in b else "")
        + f" embedded (mean {b['mean_tokens_sampled']:.0f} word pieces each). The bare encode is "
        "`model.encode(texts)` (sentence-transformers defaults: batch 32, sorted by length) of "
        f"exactly the texts of each of the build's {b['encode_calls']} encode calls, run beside "
        "the call (after it, then before the next, alternating) so that both see the same load "
        f"on the machine, and left out of the build's time. Median of {b['runs']} build(s).",
        "",
        *table("step | seconds | passages/s", steps),
        "",
        f"Build / bare throughput: **{b['ratio']:.2f}×**. Inside the build: "
        f"{b['encode_in_build_s']:.1f} s in the embedder's encode, {b['chunking_s']:.1f} s "
        f"tokenizing to cut windows, {rest:.1f} s reading, writing SQLite, the cache and FAISS.",
        "",
        *_sentences(res),
        "The build encodes through ONNX Runtime (`index/ort.py`: the model exported once per "
        "weight fingerprint, batches of 8 texts sorted by length); the bare encode is PyTorch's, "
        "as sentence-transformers runs it. The vectors agree to cosine ≥ 0.99999 "
        "(`tests/test_ort.py`) and nDCG@10 of the default mode is unchanged on all four bench "
        "tasks (docs/quality.md figures reproduced exactly). Dynamic int8 quantization was "
        "faster still (2.4× PyTorch) but cost 0.012–0.016 nDCG@10, beyond the 0.005 allowed.",
        "",
    ]
    if sw := res.get("sweep"):
        settings = (
            f"{r['setting']} | {r['threads']} | {r['seconds']:.2f} | {r['speedup']:.2f}×"
            for r in sw["rows"]
        )
        out += [
            f"Bare-encode settings, each in its own process (all started and loaded first), on "
            f"{sw['texts']} of the windows (two runs of neighbours in length order, at the "
            f"quartiles, so batches pad as in a full encode): {sw['rounds']} rounds in which "
            "every process encodes them once, in rotating order; medians. "
            f"torch.get_num_threads() is {sw['rows'][0]['default_threads']} by default here; "
            "speed-up is against the first row:",
            "",
            *table("setting | threads in effect | seconds | speed-up", settings),
            "",
        ]
    return out


def _sentences(res: dict) -> list[str]:
    """What embedding the answers' sentences at build time costs (index/sentences.py)."""
    b, files = res["build"], res["size"]["files"]
    if "sentences_s" not in b:
        return []
    disk = sum(v for k, v in files.items() if k.startswith("sentences/"))
    n = b["texts"] - b["windows"]
    return [
        f"Of the build, {b['sentences_s']:.1f} s ({b['sentences_s'] / b['build_s']:.0%}) went "
        f"to embedding the answers' {n} distinct sentences for explanations, and "
        f"{disk / MB:.1f} MB of the version "
        f"folder ({disk / max(res['size']['passages'], 1):,.0f} B per passage) holds them "
        "(float32 vectors, spans, offsets); the embedding cache keeps them too, so a rebuild "
        "embeds only new sentences.",
        "",
    ]


def _memory(res: dict) -> list[str]:
    s = res["size"]
    files = ", ".join(f"{k} {v / MB:.1f} MB" for k, v in sorted(s["files"].items()))
    page = res.get("page", {})
    rows = []
    if "rss_answer" in page:
        rows += [
            f"page peak RSS (VmHWM) after the first answer, median of {len(page['runs'])} "
            f"| {page['rss_answer'] / MB:.0f} MiB",
            f"page peak RSS after the Map view, median | {page['rss_map'] / MB:.0f} MiB",
            f"page peak RSS, highest of all runs | {page['rss_max'] / MB:.0f} MiB",
        ]
    rows += [
        f"index version folder | {s['version_bytes'] / MB:.1f} MB ({files})",
        f"index bytes per passage | {s['per_passage']:,.0f} B ({s['passages']} passages, "
        f"{s['vectors']} vectors)",
        f"embedding cache beside the versions | {s['cache_bytes'] / MB:.1f} MB "
        f"({s['cache_bytes'] / max(s['passages'], 1):,.0f} B per passage)",
    ]
    return ["## Memory and disk", "", *table("measure | value", rows), ""]


def scale_snapshot(path: Path) -> dict:
    """docs/scale.md's text and when it was written, kept with the figures of this run."""
    if not path.is_file():
        return {}
    when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M")
    return {"text": path.read_text(encoding="utf-8"), "written": when}


def _scale(res: dict, docs_dir: Path) -> list[str]:
    info = res.get("scale", {})
    ran = ""
    if info.get("status"):
        took = f" in {info['seconds']:.0f} s" if info.get("seconds") is not None else ""
        ran = f" (in this run, `benchmarks/scale.py` {info['status']}{took})"
    if not info.get("text"):
        return ["## Scale", "", f"No docs/scale.md yet{ran}: `benchmarks/scale.py` writes it.", ""]
    link = os.path.relpath(DOCS / "scale.md", docs_dir)
    lines = info["text"].splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return [
        "## Scale",
        "",
        f"From [scale.md]({link}) as written {info['written']} UTC{ran}:",
        "",
        # Its headings go two levels down, under this one.
        *("##" + line if line.startswith("#") else line for line in lines),
        "",
    ]


def _loads(res: dict) -> list[str]:
    if not (loads := res.get("loads")):
        return []
    cells = "; ".join(
        f"{name} {a:.1f} → {b:.1f} ({s / 60:.1f} min)" for name, (a, b, s) in loads.items()
    )
    return [
        "Other work shares these two cores: the 1-minute load average at the start and end of "
        f"each section (and its length) was {cells}. The benchmark itself keeps up to two "
        "threads busy (about 2 while the model encodes); well above that, other work was "
        "running: absolute times suffer first, ratios of figures taken side by side much less.",
        "",
    ]


def render(res: dict, docs_dir: Path) -> str:
    """The whole of docs/performance.md."""
    m = res["machine"]
    before = ", ".join(f"{x:.1f}" for x in m["load_before"])
    after = ", ".join(f"{x:.1f}" for x in m.get("load_after", ()))
    scale_s = res.get("scale", {}).get("seconds")
    runtime = f"perf.py took {res['seconds'] / 60:.1f} min"
    if scale_s is not None:
        total = (res["seconds"] + scale_s) / 60
        runtime += f", scale.py {scale_s / 60:.1f} min: {total:.1f} min in all"
    where = "an index given with --index" if res["index"]["given"] else "the index this run built"
    if res.get("scale", {}).get("status"):
        how = (
            "`.venv/bin/python -m benchmarks.all` (which runs `benchmarks.scale`, then "
            "`benchmarks.perf`)"
        )
    else:
        how = "`.venv/bin/python -m benchmarks.perf`"
    text = [
        "# Performance",
        "",
        f"Produced by {how} on {m['date']}; {runtime}. This machine: {m['cores']} "
        f"cores ({m['cpu']}), {m['memory'] / GB:.0f} GiB RAM, Python {m['python']}, torch "
        f"{m['torch']} with {m['torch_threads']} threads. Load average (1, 5, 15 min) before: "
        f"{before}; after: {after}. Figures are medians; a target stated as a ratio compares "
        f"two figures measured in the same run. Latency, cold start and memory use {where}.",
        "",
        *_loads(res),
        "## Targets",
        "",
        *targets(res),
        "",
        *(_latency(res) if "latency" in res else []),
        *(_cold(res) if "cli" in res or "page" in res else []),
        *(_build(res) if "build" in res else []),
        *_memory(res),
        *_scale(res, docs_dir),
    ]
    return "\n".join(text).rstrip() + "\n"
