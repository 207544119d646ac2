"""The stronger model beside the default one, for docs/quality.md (called by quality.py).

For each bench task: nDCG@10 of dense and of the default mode (hybrid) with all-mpnet-base-v2,
its build time and passages per second, and query p50, next to all-MiniLM-L6-v2's figures from
the same run; a sweep of the fusion weight on the stronger model (tuned on dev only); and the
weak-match cosines of its top hits, to calibrate its threshold as the default model's was.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_tasks import task_indexes, top_cosines
from benchmarks.common import table
from index import load_embedder
from search import RankingConfig
from search.evaluate import EvalResult, evaluate

# Dense weights of the hybrid score swept (RankingConfig.dense_weight).
ALPHAS = (0.6, 0.7, 0.8, 0.9)


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


def measure(model: str, bench: Path, tasks: list[str], off_topic: list[str]) -> ModelRun:
    """Build each distinct corpus with `model` and evaluate dense and hybrid on its tasks."""
    embedder = load_embedder(model)
    run = ModelRun(embedder.name)
    with tempfile.TemporaryDirectory(prefix="counsel-models-") as tmp:
        for opened in task_indexes(bench, tasks, embedder, Path(tmp)):
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
            print(model, task, {m: r.ndcg_at_10 for m, r in run.results[task].items()}, flush=True)
    return run


def weak_threshold_for(run: ModelRun) -> float:
    """The calibration rule of the default model: above the highest off-topic cosine, below
    the 1st percentile of answerable queries, rounded up to 0.05."""
    top_off = max(run.off_topic)
    return math.ceil(top_off / 0.05) * 0.05


def render(base: ModelRun, strong: ModelRun, builds: dict[str, float]) -> list[str]:
    """The "Models side by side" section."""
    lines = [
        "## Models side by side",
        "",
        f"{strong.model} (`--model mpnet`, 768-d, reads 384 word pieces) against "
        f"{base.model} (384-d, 256 word pieces), measured in the same run: same dev queries, "
        "same ranking code. Build time includes embedding (ONNX Runtime for both) and is per "
        "distinct corpus (the two CounselChat tasks without titles share one); query p50 is "
        "the default mode's, model warm, one query at a time.",
        "",
    ]
    rows = []
    for task in strong.results:
        for run in (base, strong):
            r = run.results[task]
            build = builds.get(task) if run is base else run.build_s.get(task)
            n = strong.passages.get(task)
            speed = f"{n / build:.1f}" if build and n else "–"
            rows.append(
                f"{task} | {run.model} | {r['dense'].ndcg_at_10:.4f} | "
                f"{r['hybrid'].ndcg_at_10:.4f} | {r['hybrid'].latency_p50_ms:.1f} | "
                f"{f'{build:.1f}' if build else '–'} | {speed}"
            )
    header = "task | model | dense nDCG@10 | hybrid nDCG@10 | hybrid p50 ms | build s | passages/s"
    lines += table(header, rows)
    lines += [
        "",
        f"Fusion weight for {strong.model} (hybrid nDCG@10, dev; the default model's is "
        f"{RankingConfig().dense_weight}):",
        "",
    ]
    sweeps = [[strong.sweep[t][alpha] for t in strong.sweep] for alpha in ALPHAS]
    lines += table(
        ["dense weight", *strong.sweep, "mean"],
        (
            [alpha, *(f"{v:.4f}" for v in vals), f"{statistics.mean(vals):.4f}"]
            for alpha, vals in zip(ALPHAS, sweeps, strict=True)
        ),
    )
    pct = statistics.quantiles(strong.in_domain, n=100)
    lines += [
        "",
        f"Weak matches with {strong.model}: top-hit cosine of answerable dev queries p1 "
        f"{pct[0]:.3f}, median {statistics.median(strong.in_domain):.3f}; of off-topic queries "
        f"max {max(strong.off_topic):.3f}, median {statistics.median(strong.off_topic):.3f}. "
        f"The default model's rule gives a threshold of {weak_threshold_for(strong):.2f} "
        f"(in `index/models.py`, `weak_cosine`).",
        "",
    ]
    return lines
