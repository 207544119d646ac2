"""Cost of the hub radii a build computes (index/hubness.py), and the approximate path's error.

    .venv/bin/python -m benchmarks.hubness                   # writes docs/hubness.md
    .venv/bin/python -m benchmarks.hubness --sizes 10000 50000 --no-write

Vectors are the synthetic MiniLM-like ones of benchmarks/synthetic.py (as benchmarks/scale.py
uses them), two windows a passage. Up to
hubness.EXACT_MAX_WINDOWS the radii come from an exact k-NN; above it from an IVF search. At the
sizes listed in --compare both are run on the same vectors, and the approximate radii are
compared with the exact ones. Times are medians of --repeat runs.
"""

from __future__ import annotations

import statistics
import sys

import numpy as np

from benchmarks.common import DOCS, command_line, write_report
from benchmarks.common import timed as timed_call
from benchmarks.synthetic import synthetic
from index import hubness


def timed(vectors: np.ndarray, owner: np.ndarray, exact_max: int, repeat: int):
    """The median seconds of `repeat` computations of the radii, and the radii."""
    runs = [
        timed_call(hubness.window_radii, vectors, owner, exact_max=exact_max) for _ in range(repeat)
    ]
    return statistics.median(t for _, t in runs), runs[-1][0]


def main() -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000, 1_000_000]
    )
    parser.add_argument("--compare", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows, checks = [], []
    for n in args.sizes:
        vectors, _, _ = synthetic(n, 0)
        owner = np.arange(n) // 2
        path = "exact" if n <= hubness.EXACT_MAX_WINDOWS else "IVF"
        seconds, _ = timed(
            vectors, owner, hubness.EXACT_MAX_WINDOWS, 1 if n > 200_000 else args.repeat
        )
        rows.append(f"| {n:,} | {path} | {seconds:.2f} |")
        print(rows[-1], flush=True)
    for n in args.compare:
        vectors, _, _ = synthetic(n, 0)
        owner = np.arange(n) // 2
        t_exact, exact = timed(vectors, owner, n, 1)
        t_approx, approx = timed(vectors, owner, 0, 1)
        diff = exact - approx
        corr = float(np.corrcoef(exact, approx)[0, 1])
        checks.append(
            f"| {n:,} | {t_exact:.1f} | {t_approx:.1f} | {float(np.mean(diff)):.4f} | "
            f"{float(np.percentile(diff, 99)):.4f} | {corr:.4f} |"
        )
        print(checks[-1], flush=True)
    text = "\n".join(
        [
            "# Hub radii: build cost",
            "",
            "Produced by `.venv/bin/python -m benchmarks.hubness` (synthetic MiniLM-like vectors "
            "from benchmarks/synthetic.py, two windows a passage, 2-core machine). Every build "
            "computes each window's hub radius, the mean cosine to its 10 nearest windows of "
            "other passages (index/hubness.py); the ranking effect is in docs/quality.md.",
            "",
            "| windows | search | seconds |",
            "|---|---|---|",
            *rows,
            "",
            "Approximate (IVF) radii against exact ones on the same vectors: a missed neighbour "
            "can only lower a radius, so the error is one-sided.",
            "",
            "| windows | exact s | IVF s | mean(exact - IVF) | p99 | correlation |",
            "|---|---|---|---|---|---|",
            *checks,
            "",
        ]
    )
    if not args.no_write:
        write_report(DOCS / "hubness.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
