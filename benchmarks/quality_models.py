"""Every bundled model and pair of models side by side on the bench: docs/models.md.

    .venv/bin/python -m benchmarks.quality_models                 # all; writes docs/models.md
    .venv/bin/python -m benchmarks.quality_models --models minilm,minilm+bge

For each bench task and model: nDCG@10 of dense and of the default mode (hybrid), build time
and passages per second, query p50, all measured in one run against all-MiniLM-L6-v2 (the
default, measured first); a sweep of the fusion weight per model and of a pair's part weights
(dev only); and the weak-match cosines of each model's top hits, to calibrate its threshold as
the default model's was. The page is rewritten after each model, so a long run leaves the
models measured so far.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.bench_tasks import (
    OFF_TOPIC,
    TASKS,
    PlainScores,
    TaskIndex,
    plain_cosines,
    task_indexes,
    top_cosines,
)
from benchmarks.common import BENCH, DOCS, command_line, table, write_report
from index import Embedder, build_index, load_embedder, open_index
from index.cache import FILE as CACHE_FILE
from index.errors import ModelNotFound
from index.models import BGE_SMALL, MINILM, MINILM_BGE, MPNET, MPNET_BGE
from index.mpnet import locate_parts
from index.pair import PairEmbedder
from search import RankingConfig, Searcher
from search.evaluate import EvalResult, evaluate

# Dense weights of the hybrid score swept (RankingConfig.dense_weight).
ALPHAS = (0.6, 0.7, 0.8, 0.9)
# Weights of a pair's first model swept (the second gets 1 - it; index/pair.py). 0.32 makes the
# two models' cosines spread alike on the CounselChat corpus (0.104 against 0.049).
PART_WEIGHTS = (0.25, 0.32, 0.4, 0.5)


@dataclass
class ModelRun:
    """What one model measured: per task, dense and hybrid results; per corpus, build time."""

    model: str
    results: dict[str, dict[str, EvalResult]] = field(default_factory=dict)
    sweep: dict[str, dict[float, float]] = field(default_factory=dict)
    build_s: dict[str, float] = field(default_factory=dict)  # by task whose corpus it built
    passages: dict[str, int] = field(default_factory=dict)
    in_domain: list[float] = field(default_factory=list)
    off_topic: list[float] = field(default_factory=list)
    part_weights: dict[str, dict[float, float]] = field(default_factory=dict)  # of a pair
    parts: tuple[str, ...] = ()  # the models of a pair, whose vectors its builds reused


def measure(
    model: str, bench: Path, tasks: list[str], off_topic: list[str], vectors: Path | None = None
) -> ModelRun:
    """Build each distinct corpus with `model` and evaluate dense and hybrid on its tasks.
    `vectors`: embedding caches shared between runs (bench_tasks.task_indexes), so a pair
    reuses the vectors of its models' own runs."""
    embedder = load_embedder(model)
    parts = tuple(m.name for m in getattr(embedder, "parts", ()))
    run = ModelRun(embedder.name, parts=parts)
    with tempfile.TemporaryDirectory(prefix="counsel-models-") as tmp:
        for opened in task_indexes(bench, tasks, embedder, Path(tmp), vectors):
            task, searcher, queries = opened.task, opened.searcher, opened.queries
            if opened.build:
                report, run.build_s[task] = opened.build
                run.passages[task] = report.passages
            run.results[task] = {m: evaluate(searcher, queries, m) for m in ("dense", "hybrid")}
            run.sweep[task] = {}
            for alpha in ALPHAS:
                swept = searcher.with_config(searcher.config.replace(dense_weight=alpha))
                run.sweep[task][alpha] = evaluate(swept, queries, "hybrid").ndcg_at_10
            run.in_domain += top_cosines(searcher, [q.text for q in queries])
            if task.startswith("cc_"):
                run.off_topic += top_cosines(searcher, off_topic)
            if isinstance(embedder, PairEmbedder):
                run.part_weights[task] = _part_weights(embedder, opened, Path(tmp))
            print(model, task, {m: r.ndcg_at_10 for m, r in run.results[task].items()}, flush=True)
    return run


def weak_threshold_for(run: ModelRun) -> float:
    """The calibration rule of the default model: above the highest off-topic cosine, below
    the 1st percentile of answerable queries, rounded up to 0.05."""
    top_off = max(run.off_topic)
    return math.ceil(top_off / 0.05) * 0.05


def _part_weights(pair: PairEmbedder, opened: TaskIndex, tmp: Path) -> dict[float, float]:
    """Hybrid nDCG@10 of the task with the pair's first model weighted by each of PART_WEIGHTS,
    each built from a copy of the task index's cache of vectors (nothing embedded again)."""
    out = {}
    for weight in PART_WEIGHTS:
        variant = PairEmbedder(pair.name, *pair.parts, (weight, 1 - weight))
        folder = tmp / f"{opened.key}-w{weight}"
        folder.mkdir()
        shutil.copy(tmp / opened.key / CACHE_FILE, folder / CACHE_FILE)
        build_index([opened.source], folder, variant)
        searcher = Searcher(open_index(folder), variant)
        try:
            out[weight] = evaluate(searcher, opened.queries, "hybrid").ndcg_at_10
        finally:
            searcher.close()
        shutil.rmtree(folder)
    return out


def plain_pair(searcher, queries, first: Embedder, second: Embedder, weights) -> dict[str, float]:
    """nDCG@10 of the plainest search (bench_tasks.plain_cosines) with each model alone, with
    both fused as the sum of per-query z-scores (equal weights), and with both as a pair scores
    them (the weighted mean of cosines, index/pair.py); and each model's cosine spread (the
    mean per-query standard deviation of its cosines)."""
    a = plain_cosines(searcher, queries, first)
    b = plain_cosines(searcher, queries, second)

    def z(m: np.ndarray) -> np.ndarray:
        return (m - m.mean(axis=1, keepdims=True)) / m.std(axis=1, keepdims=True)

    w1, w2 = (w / sum(weights) for w in weights)
    fused = {"z-fused": z(a.scores) + z(b.scores), "pair": w1 * a.scores + w2 * b.scores}
    out = {first.name: a.ndcg(queries), second.name: b.ndcg(queries)}
    out.update({k: PlainScores(a.ids, v).ndcg(queries) for k, v in fused.items()})
    for model, plain in ((first, a), (second, b)):
        out[f"{model.name} spread"] = round(float(plain.scores.std(axis=1).mean()), 4)
    return out


def render_plain(plain: dict[str, dict[str, float]], weights) -> list[str]:
    """The "Two models, plain cosines" section (the table of issue 17, reproduced)."""
    names = [n for n in next(iter(plain.values())) if not n.endswith(" spread")]
    spreads = [n for n in next(iter(plain.values())) if n.endswith(" spread")]
    lines = [
        "## Two models, plain cosines",
        "",
        "Each model's plain cosine between the query and each passage's `question\\nanswer` "
        "(256 word pieces for both; bge-small's queries with its instruction), and the two "
        "fused: the sum of per-query z-scores with equal weights, and the pair's own score, "
        f"the weighted mean of the cosines (weights {weights[0]:.2f} / {weights[1]:.2f}, "
        "`index/models.py`). nDCG@10 on dev, no windows, no hubness correction, no lexical side.",
        "",
    ]
    rows = [[task, *(f"{plain[task][n]:.4f}" for n in names)] for task in plain]
    lines += table(["task", *names], rows)
    lines += ["", "Cosine spread (mean per-query standard deviation of the plain cosines):", ""]
    rows = [[task, *(f"{plain[task][n]:.4f}" for n in spreads)] for task in plain]
    return lines + table(["task", *spreads], rows) + [""]


def render(runs: list[ModelRun]) -> list[str]:
    """The "Models side by side" section: each run on each task, the default model's first."""
    base = next((r for r in runs if r.model == MINILM.name), runs[0])
    lines = [
        "## Models side by side",
        "",
        "Every model and pair of models the registry ships, measured in the same run: same dev "
        "queries, same ranking code, the default ranking settings. all-MiniLM-L6-v2 and "
        "all-mpnet-base-v2 embed through ONNX Runtime (exported once), bge-small-en-v1.5 is "
        "int8 ONNX. Build time is cold (a fresh index folder, nothing cached) and per distinct "
        "corpus (the two CounselChat tasks without titles share one); a pair's builds reused "
        "the vectors of its models' own runs, so its build time (≈) is the sum of theirs, "
        "embedding being nearly all of a build. Query p50 is the default mode's, model warm, "
        "one query at a time (a pair encodes the query with both models at once).",
        "",
    ]
    rows = []
    for task in runs[0].results:
        for run in runs:
            r = run.results.get(task)
            if r is None:
                continue
            build = _build_s(run, runs, task)
            n = run.passages.get(task)
            speed = f"{n / build:.1f}" if build and n else "–"
            shown = f"{'≈ ' if run.parts else ''}{build:.1f}" if build else "–"
            rows.append(
                f"{task} | {run.model} | {r['dense'].ndcg_at_10:.4f} | "
                f"{r['hybrid'].ndcg_at_10:.4f} | {r['hybrid'].latency_p50_ms:.1f} | "
                f"{shown} | {speed}"
            )
    header = "task | model | dense nDCG@10 | hybrid nDCG@10 | hybrid p50 ms | build s | passages/s"
    lines += table(header, rows)
    lines += ["", f"Against {base.model} alone, in the same run:", ""]
    lines += table(
        ["model", "mean hybrid nDCG@10", "build time", "hybrid p50 (median over tasks)"],
        (_against(run, base, runs) for run in runs),
    )
    for run in runs:
        if run.sweep:
            lines += _sweep(run)
        if run.part_weights:
            lines += _part_weight_table(run)
        if run.off_topic and run is not base:
            lines += _weak(run)

    return lines


def _build_s(run: ModelRun, runs: list[ModelRun], task: str) -> float | None:
    """A run's cold build time of the task's corpus; a pair's is the sum of its models'
    (None when one of them was not measured)."""
    if not run.parts:
        return run.build_s.get(task)
    by_name = {r.model: r for r in runs}
    times = [by_name[p].build_s.get(task) if p in by_name else None for p in run.parts]
    return sum(times) if all(times) else None  # type: ignore[arg-type]


def _against(run: ModelRun, base: ModelRun, runs: list[ModelRun]) -> list[str]:
    """A run's mean hybrid nDCG@10 and its build time and query p50 as ratios to the base's."""
    tasks = [t for t in base.results if t in run.results]
    mean = statistics.mean(run.results[t]["hybrid"].ndcg_at_10 for t in tasks)
    times = {t: (_build_s(run, runs, t), base.build_s.get(t)) for t in tasks}
    times = {t: (a, b) for t, (a, b) in times.items() if a and b}
    build = (
        f"{sum(a for a, _ in times.values()) / sum(b for _, b in times.values()):.2f}x"
        if times
        else "–"
    )
    p50 = statistics.median(
        run.results[t]["hybrid"].latency_p50_ms / base.results[t]["hybrid"].latency_p50_ms
        for t in tasks
    )
    return [run.model, f"{mean:.4f}", build, f"{p50:.2f}x"]


def _sweep(run: ModelRun) -> list[str]:
    lines = [
        "",
        f"Fusion weight for {run.model} (hybrid nDCG@10, dev; the product's is "
        f"{RankingConfig().dense_weight}):",
        "",
    ]
    sweeps = [[run.sweep[t][alpha] for t in run.sweep] for alpha in ALPHAS]
    return lines + table(
        ["dense weight", *run.sweep, "mean"],
        (
            [alpha, *(f"{v:.4f}" for v in vals), f"{statistics.mean(vals):.4f}"]
            for alpha, vals in zip(ALPHAS, sweeps, strict=True)
        ),
    )


def _part_weight_table(run: ModelRun) -> list[str]:
    lines = [
        "",
        f"Weight of the first model of {run.model} (hybrid nDCG@10, dev; the second model "
        "gets the rest; the registry's is the one in the table above):",
        "",
    ]
    tasks = list(run.part_weights)
    return lines + table(
        ["first model's weight", *tasks, "mean"],
        (
            [w, *(f"{v:.4f}" for v in vals), f"{statistics.mean(vals):.4f}"]
            for w in PART_WEIGHTS
            for vals in [[run.part_weights[t][w] for t in tasks]]
        ),
    )


def _weak(run: ModelRun) -> list[str]:
    pct = statistics.quantiles(run.in_domain, n=100)
    return [
        "",
        f"Weak matches with {run.model}: top-hit cosine of answerable dev queries p1 "
        f"{pct[0]:.3f}, median {statistics.median(run.in_domain):.3f}; of off-topic queries "
        f"max {max(run.off_topic):.3f}, median {statistics.median(run.off_topic):.3f}. "
        f"The default model's rule gives a threshold of {weak_threshold_for(run):.2f} "
        f"(in `index/models.py`, `weak_cosine`).",
    ]


def main() -> int:
    """Measure the models in turn and write the page after each."""
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("--bench", type=Path, default=BENCH)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--out", type=Path, default=DOCS / "models.md")
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated, the first the one others are compared with; by default "
        "every bundled model and pair, the mpnet ones when installed",
    )
    args = parser.parse_args()
    models = args.models.split(",") if args.models else bundled()
    tasks = args.tasks.split(",")
    runs: list[ModelRun] = []
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="counsel-models-") as tmp:
        for model in models:
            runs.append(measure(model, args.bench, tasks, OFF_TOPIC, Path(tmp)))
            header = [
                "# Models side by side",
                "",
                f"Produced by `.venv/bin/python -m {__spec__.name}` "
                f"(dev queries of `../shared/bench`; {len(runs)} of {len(models)} models "
                "measured). The default model's own report, with every ranking choice and "
                "the weak-match calibration: `docs/quality.md`. Load average of the machine "
                f"at the start {load[0]:.1f}, at this writing {os.getloadavg()[0]:.1f} "
                f"({os.cpu_count()} cores): times are comparable within a run only.",
                "",
            ]
            write_report(args.out, "\n".join(header + render(runs)[2:]) + "\n")
            print(f"wrote {args.out} ({len(runs)} models)", flush=True)
    return 0


def bundled() -> list[str]:
    """all-MiniLM-L6-v2 first, then every other bundled model and pair, those with mpnet
    when its parts are installed (scripts/install_mpnet.sh)."""
    try:
        locate_parts()
        mpnet = True
    except ModelNotFound:
        mpnet = False
    specs = (MINILM, BGE_SMALL, MINILM_BGE, MPNET, MPNET_BGE)
    return [s.name for s in specs if mpnet or MPNET.name not in (s.name, *s.parts)]


if __name__ == "__main__":
    sys.exit(main())
