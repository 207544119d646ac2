"""Performance against the issue-7 targets, every figure measured in one run on this machine.

    .venv/bin/python -m benchmarks.perf                  # writes docs/performance.md (~10 min)
    .venv/bin/python -m benchmarks.perf --index DIR --skip build,sweep   # reuse an index
    .venv/bin/python -m benchmarks.perf --skip page,sweep --json /tmp/perf.json
    .venv/bin/python -m benchmarks.perf --render /tmp/perf.json   # rewrite the page only

What is measured (medians; each target is judged by a ratio measured in the same run):

- build: passages per second of a full build of the bundled corpus (fresh index directory, so a
  fresh embedding cache), against a bare sentence-transformers `model.encode` of the very texts
  the build embeds (its windows and its answers' sentences), run by a wrapper around the
  embedder beside each of the build's encode calls and left out of the build's time; the
  sentences' share of the build; the built index serves the rest;
- sweep: the bare encode of a length-stratified sample of those texts under other torch thread
  counts and batch sizes, one fresh process per setting;
- latency: `Searcher.search` per mode, in process, model warm, on distinct queries; "new" empties
  the query-vector and sentence caches first, "repeated" asks the same query again; with
  explain=False (ranking, what the target is about) and explain=True (what the page shows);
  against the bare floor: one encode of the query by the searcher's own encoder (ONNX Runtime)
  plus one flat inner-product FAISS search over the index's vectors (and, for comparison, the
  same with PyTorch's `model.encode`);
- cold start: wall time of a fresh `counsel-search search` process (and where it goes) against
  a fresh process that merely imports torch and sentence-transformers, runs interleaved; and of
  `streamlit run app.py` until headless Chromium shows the first answer (and from pressing
  Enter to the results being visible, in the browser);
- what-ifs, timed in the same loops as the figures they qualify: the default mode with FAISS held
  to one thread, and the page by plain `streamlit run app.py` (no preload);
- memory: peak RSS (VmHWM) of the page process after the first answer and after the map view;
  bytes of index per passage.

docs/scale.md (benchmarks/scale.py) is included when present; `-m benchmarks.all` runs both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import perf_report
from benchmarks.common import (
    BENCH,
    CORPUS,
    DOCS,
    ROOT,
    command_line,
    percentiles,
    question_titles,
    shown_path,
    timed,
    write_report,
)
from benchmarks.perf_page import cli_breakdown, cli_cold_start, page_cold_start
from index import build_index, load_embedder, open_index
from index import publish as pub
from index.cache import FILE as CACHE_FILE
from index.embed import SentenceTransformerEmbedder, default_model_path
from search import MODES, Searcher
from search import explain as ex

SECTIONS = ("build", "sweep", "latency", "cli", "page")
BENCH_QUERIES = BENCH / "cc_title_to_answer" / "queries.dev.jsonl"
# Bare-encode settings compared in the sweep: (label, torch threads or None, batch size).
# sentence-transformers' own default batch is 32; the build encodes in batches of 64.
SETTINGS = [
    ("default threads, batch 32", None, 32),
    ("set_num_threads(2), batch 32", 2, 32),
    ("set_num_threads(1), batch 32", 1, 32),
    ("default threads, batch 8", None, 8),
    ("default threads, batch 16", None, 16),
    ("default threads, batch 64", None, 64),
    ("default threads, batch 128", None, 128),
]


def ms(seconds: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    p50, p99 = percentiles(seconds)
    return {"p50": p50 * 1000, "p99": p99 * 1000, "n": len(seconds)}


def load_questions(n: int) -> tuple[list[str], str]:
    """Distinct real questions: the bench dev query titles, else the CSV's question titles."""
    out: list[str] = []
    if BENCH_QUERIES.is_file():
        with BENCH_QUERIES.open(encoding="utf-8") as f:
            out = [json.loads(line)["query"].strip() for line in f if line.strip()]
        source = str(BENCH_QUERIES.relative_to(ROOT.parent))
    if len(set(out)) < n:
        out += question_titles()
        source = "questionTitle column of data/corpus/counselchat_answers.csv"
    distinct = list(dict.fromkeys(q for q in out if q))
    return distinct[:n], source


class Recording:
    """An embedder wrapper that keeps every text it is asked to embed and times its encode and
    token_spans calls. With a `bare` sentence-transformers model (for a build), right beside
    each encode call (before it on every other call) it also times a bare `model.encode` of the
    same texts, so both see the same load on the machine."""

    def __init__(self, inner, bare=None) -> None:
        self.inner, self.bare = inner, bare
        self.name, self.fingerprint = inner.name, inner.fingerprint
        self.dim, self.max_tokens = inner.dim, inner.max_tokens
        self.texts: list[str] = []
        self.encode_s = self.spans_s = self.bare_s = 0.0
        self.calls = 0

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        spans, seconds = timed(self.inner.token_spans, text)
        self.spans_s += seconds
        return spans

    def encode(self, texts, *, batch_size: int = 64, progress=None):
        texts = list(texts)
        self.calls += 1
        if self.bare is not None and self.calls % 2 == 0:
            self.bare_s += bare_encode(self.bare, texts)
        self.texts.extend(texts)
        out, seconds = timed(self.inner.encode, texts, batch_size=batch_size, progress=progress)
        self.encode_s += seconds
        if self.bare is not None and self.calls % 2 == 1:
            self.bare_s += bare_encode(self.bare, texts)
        return out


def bare_encode(model, texts: list[str], batch_size: int = 32) -> float:
    """Seconds for one plain sentence-transformers encode of the texts."""
    kwargs = {"batch_size": batch_size, "convert_to_numpy": True, "show_progress_bar": False}
    return timed(model.encode, texts, **kwargs)[1]


def torch_model():
    """The default model in sentence-transformers (PyTorch): the bare encodes' model."""
    fast = load_embedder()
    return SentenceTransformerEmbedder(fast.name, default_model_path(), fast.fingerprint).model


def bench_build(
    corpus: Path, embedder, bare, tmp: Path, repeat: int
) -> tuple[dict, Path, list[str]]:
    """Full builds, each with the bare encodes of its texts interleaved (and not counted)."""
    builds, bares, parts, said = [], [], [], []
    texts: list[str] = []
    report = None
    for run in range(repeat):
        rec = Recording(embedder, bare)
        marks: dict[str, tuple[float, float]] = {}

        def progress(stage: str, _d: int, _t: int, rec: Recording = rec, marks=marks) -> None:
            # (wall clock, bare seconds so far) at each stage's last report: the sentences'
            # stage ends where the windows' did.
            marks[stage] = (time.perf_counter(), rec.bare_s)

        report, seconds = timed(build_index, [corpus], tmp / f"index{run}", rec, progress=progress)
        (w_at, w_bare), (s_at, s_bare) = marks["embed"], marks["sentences"]
        said.append((s_at - w_at) - (s_bare - w_bare))
        builds.append(seconds - rec.bare_s)
        bares.append(rec.bare_s)
        texts = rec.texts
        parts.append((rec.encode_s, rec.spans_s, rec.calls))
        print(f"build {run}: {builds[-1]:.1f} s, bare encode {bares[-1]:.1f} s", flush=True)
    assert report is not None
    build_s, bare_s = statistics.median(builds), statistics.median(bares)
    step = max(1, len(texts) // 500)
    tokens = [len(embedder.token_spans(t)) for t in texts[::step]]
    result = {
        "corpus": shown_path(corpus),
        "runs": repeat,
        "passages": report.passages,
        "windows": report.vectors,
        "embedded": report.embedded,
        "encode_calls": parts[0][2],
        "sentences_s": statistics.median(said),
        "texts": len(texts),
        "build_s": build_s,
        "bare_s": bare_s,
        "build_pps": report.passages / build_s,
        "bare_pps": report.passages / bare_s,
        "ratio": bare_s / build_s,
        "encode_in_build_s": statistics.median(p[0] for p in parts),
        "chunking_s": statistics.median(p[1] for p in parts),
        "mean_tokens_sampled": sum(tokens) / max(len(tokens), 1),
        "builds": builds,
        "bares": bares,
    }
    return result, tmp / "index0", texts


def encode_worker(path: Path, threads: int | None, batch: int) -> None:
    """Child process of the sweep, one setting: loads the model, says it is ready, then encodes
    the texts once per "go" line on stdin, answering each with its seconds (JSON lines)."""
    import torch

    default = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    model = torch_model()
    model.encode(["warm up"], show_progress_bar=False)
    texts = json.loads(path.read_text(encoding="utf-8"))
    print(json.dumps({"default_threads": default, "threads": torch.get_num_threads()}), flush=True)
    for _ in sys.stdin:
        print(json.dumps({"seconds": bare_encode(model, texts, batch)}), flush=True)


def length_blocks(texts: list[str], size: int, blocks: int = 2) -> list[str]:
    """`size` texts in `blocks` runs of neighbours in length order, centred on evenly spaced
    quantiles: within a run lengths are as close as in the whole set, so a batch pads about as
    much as it would in a full encode (an every-n-th sample would exaggerate padding)."""
    ranked = sorted(texts, key=len)
    run = size // blocks
    out: list[str] = []
    for b in range(blocks):
        centre = len(ranked) * (2 * b + 1) // (2 * blocks)
        start = max(0, min(len(ranked) - run, centre - run // 2))
        out += ranked[start : start + run]
    return out


def bench_sweep(texts: list[str], tmp: Path, size: int, rounds: int) -> dict:
    """The bare encode of a length-stratified sample under each setting, one process each.

    All the processes are started (and load the model) first; then they encode in turn, round
    after round, so a change in the machine's load during the sweep hits every setting alike.
    """
    sample = length_blocks(texts, size)
    path = tmp / "sweep-texts.json"
    path.write_text(json.dumps(sample), encoding="utf-8")
    workers = []
    for _, threads, batch in SETTINGS:
        cmd = [sys.executable, "-m", "benchmarks.perf", "--encode-worker", str(path)]
        cmd += ["--batch", str(batch), "--threads", str(threads or 0)]
        workers.append(
            subprocess.Popen(
                cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        )
    try:
        rows = []
        for (label, _, _), w in zip(SETTINGS, workers, strict=True):
            rows.append({"setting": label, **json.loads(w.stdout.readline()), "times": []})
        for r in range(rounds):
            for i in range(len(workers)):
                j = (i + r) % len(workers)  # rotate which setting goes first
                workers[j].stdin.write("go\n")
                workers[j].stdin.flush()
                rows[j]["times"].append(json.loads(workers[j].stdout.readline())["seconds"])
            print(f"sweep round {r + 1} of {rounds} done", flush=True)
    finally:
        for w in workers:
            w.stdin.close()
            w.wait()
    for row in rows:
        row["seconds"] = statistics.median(row["times"])
        row["speedup"] = rows[0]["seconds"] / row["seconds"]
    return {"texts": len(sample), "rounds": rounds, "rows": rows}


def bench_latency(index_dir: Path, embedder, bare, n: int, explain_every: int) -> dict:
    """Per-query latency of each mode against the bare floor, interleaved query by query."""
    import faiss
    import numpy as np

    questions, source = load_questions(n)
    searcher = Searcher(open_index(index_dir), embedder).warm()
    store = searcher.version.vectors
    flat = faiss.IndexFlatIP(store.dim)
    flat.add(store.get(np.arange(store.count(), dtype=np.int64)))

    def floor(q: str) -> None:
        flat.search(embedder.encode([q]), 10)

    def floor_torch(q: str) -> None:
        flat.search(bare.encode([q], convert_to_numpy=True, show_progress_bar=False), 10)

    for q in ("warm up the model", "how do I stop worrying", "grief after my mother died"):
        floor(q)
        for mode in MODES:
            searcher.search(q, mode=mode)
    times: dict[str, list[float]] = {"floor": []}

    def clock(key: str, call) -> None:
        times.setdefault(key, []).append(timed(call)[1])

    def single_threaded_faiss(q: str) -> None:
        # What-if: FAISS and torch each bring their own OpenMP runtime; on two cores their
        # threads compete. This is the default mode with FAISS limited to the calling thread.
        searcher.clear_query_cache()
        faiss.omp_set_num_threads(1)
        try:
            searcher.search(q, explain=False)
        finally:
            faiss.omp_set_num_threads(omp)

    omp = faiss.omp_get_max_threads()
    modes = list(MODES)
    for i, q in enumerate(questions):
        order = modes[i % 3 :] + modes[: i % 3]  # rotate so no mode always runs first
        clock("floor", lambda q=q: floor(q))
        clock("floor_torch", lambda q=q: floor_torch(q))
        clock("faiss1", lambda q=q: single_threaded_faiss(q))
        for explain in (False, True) if i % explain_every == 0 else (False,):
            for mode in order:
                searcher.clear_query_cache()
                ex._CACHE.clear()  # sentence vectors: a new query explains passages afresh
                call = lambda q=q, m=mode, e=explain: searcher.search(q, mode=m, explain=e)  # noqa: E731
                clock(f"{mode}/new/{explain}", call)
                clock(f"{mode}/repeated/{explain}", call)
    out = {key: ms(v) for key, v in times.items()}
    searcher.close()
    return {"queries": len(questions), "source": source, "k": 10, "omp": omp, "times": out}


def explain_load(index_dir: Path, embedder, n: int) -> dict:
    """Texts the model embeds for one new query with explanations (sentence cache emptied)."""
    questions, _ = load_questions(n)
    rec = Recording(embedder)
    searcher = Searcher(open_index(index_dir), rec)
    counts, pieces = [], []
    for q in questions:
        searcher.clear_query_cache()
        ex._CACHE.clear()
        before = len(rec.texts)
        searcher.search(q)
        new = rec.texts[before + 1 :]  # the first is the query itself
        counts.append(len(new))
        pieces.append(sum(len(embedder.token_spans(t)) for t in new))
    searcher.close()
    return {
        "queries": len(questions),
        "sentences": statistics.median(counts),
        "word_pieces": statistics.median(pieces),
    }


def bench_profile(index_dir: Path, embedder, n: int) -> list[dict]:
    """Top functions (by own time) of default-mode ranking beyond the model: each query is
    asked once unprofiled (its vector is then cached), then profiled, explain=False."""
    import cProfile
    import pstats

    questions, _ = load_questions(n)
    searcher = Searcher(open_index(index_dir), embedder).warm()
    prof = cProfile.Profile()
    for q in questions:
        searcher.search(q, explain=False)
        prof.enable()
        searcher.search(q, explain=False)
        prof.disable()
    searcher.close()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():
        where = f"{Path(file).name}:{line}({func})" if line else func
        rows.append({"where": where, "calls": calls, "tottime": tottime, "cumtime": cumtime})
    total = sum(r["tottime"] for r in rows)
    rows.sort(key=lambda r: -r["tottime"])
    return [{**r, "share": r["tottime"] / total, "queries": len(questions)} for r in rows[:12]]


def index_size(index_dir: Path) -> dict:
    """Bytes of the current version folder and of the embedding cache, per passage."""
    folder = pub.current_version(index_dir)
    manifest = open_index(index_dir)
    passages, vectors = manifest.manifest.passages, manifest.manifest.vectors
    manifest.close()
    files = {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    total = sum(files.values())
    cache = index_dir / CACHE_FILE
    cache_bytes = cache.stat().st_size if cache.is_file() else 0
    return {
        "passages": passages,
        "vectors": vectors,
        "version_bytes": total,
        "per_passage": total / passages,
        "files": files,
        "cache_bytes": cache_bytes,
    }


def main() -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--index", type=Path, help="reuse this index (skips the build figures)")
    parser.add_argument("--out", type=Path, default=DOCS / "performance.md")
    parser.add_argument(
        "--json",
        type=Path,
        default=DOCS / "performance.json",
        help="also write the raw figures here (--render rewrites the report from them)",
    )
    parser.add_argument("--skip", default="", help=f"comma-separated, of: {','.join(SECTIONS)}")
    parser.add_argument("--queries", type=int, default=200, help="distinct queries timed")
    parser.add_argument("--explain-every", type=int, default=5, help="explain=True on every n-th")
    parser.add_argument("--build-repeat", type=int, default=1)
    parser.add_argument("--sweep-texts", type=int, default=256, help="windows per setting")
    parser.add_argument("--sweep-rounds", type=int, default=2, help="encodes per setting")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument(
        "--scale-md", type=Path, default=DOCS / "scale.md", help="included at the end"
    )
    parser.add_argument("--scale-seconds", type=float, help="(from all) benchmarks.scale's runtime")
    parser.add_argument("--scale-status", default="", help="(from all) how benchmarks.scale ended")
    parser.add_argument("--render", type=Path, help="only rewrite --out from a --json file")
    parser.add_argument("--encode-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.encode_worker:
        encode_worker(args.encode_worker, args.threads or None, args.batch)
        return 0
    if args.render:
        res = json.loads(args.render.read_text(encoding="utf-8"))
        write_report(args.out, perf_report.render(res, args.out.parent))
        return 0
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if unknown := skip - set(SECTIONS):
        parser.error(f"unknown sections to skip: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    res: dict = {"machine": perf_report.machine(), "skipped": sorted(skip)}
    import torch

    res["machine"]["torch_threads"] = torch.get_num_threads()
    embedder = load_embedder()  # the default model's ONNX export: what searches use
    embedder.encode(["warm up"])
    res["machine"]["query_encoder"] = type(embedder).__name__
    bare = torch_model()  # PyTorch, for the bare encodes
    bare.encode(["warm up"], show_progress_bar=False)
    with tempfile.TemporaryDirectory(prefix="counsel-perf-") as tmp_name:
        tmp = Path(tmp_name)
        index_dir = args.index
        texts: list[str] = []
        loads = res["loads"] = {}

        def section(name: str, run):
            """Run one section, noting the 1-minute load average and wall time around it."""
            before, t0 = os.getloadavg()[0], time.perf_counter()
            out = run()
            loads[name] = (before, os.getloadavg()[0], time.perf_counter() - t0)
            return out

        if index_dir is None or "build" not in skip:
            build, built, texts = section(
                "build", lambda: bench_build(args.corpus, embedder, bare, tmp, args.build_repeat)
            )
            res["build"] = build
            index_dir = index_dir or built
        res["index"] = {"dir": str(index_dir), "given": args.index is not None}
        res["size"] = index_size(index_dir)
        if "sweep" not in skip and texts:
            res["sweep"] = section(
                "sweep", lambda: bench_sweep(texts, tmp, args.sweep_texts, args.sweep_rounds)
            )
        if "latency" not in skip:
            res["latency"] = section(
                "latency",
                lambda: bench_latency(index_dir, embedder, bare, args.queries, args.explain_every),
            )
            res["profile"] = bench_profile(index_dir, embedder, min(args.queries, 60))
            res["explain_load"] = explain_load(index_dir, embedder, min(args.queries, 20))
        # A copy for the cold starts: the page's map view caches its projection in the version.
        cold_index = tmp / "cold-index"
        shutil.copytree(index_dir, cold_index, ignore=shutil.ignore_patterns("*.lock"))
        question = "can I trust a therapist who acts like he knows everything?"
        if "cli" not in skip:
            res["cli"] = section(
                "cli", lambda: cli_cold_start(cold_index, question, args.cold_runs)
            )
            res["cli"]["phases"] = cli_breakdown(cold_index, question)
        if "page" not in skip:
            res["page"] = section(
                "page", lambda: page_cold_start(cold_index, question, args.cold_runs)
            )
    res["seconds"] = time.perf_counter() - started
    res["machine"]["load_after"] = os.getloadavg()
    res["scale"] = {
        "seconds": args.scale_seconds,
        "status": args.scale_status,
        **perf_report.scale_snapshot(args.scale_md),
    }
    text = perf_report.render(res, args.out.parent)
    write_report(args.out, text)
    if args.json:
        write_report(args.json, json.dumps(res, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
