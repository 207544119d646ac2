"""Run the performance benchmarks in one go and write docs/performance.md.

    .venv/bin/python -m benchmarks.all                     # ~10 min of perf, plus scale
    .venv/bin/python -m benchmarks.all --no-scale --index DIR --skip page

Runs `python -m benchmarks.scale` first, when benchmarks/scale.py exists (it writes
docs/scale.md), then `python -m benchmarks.perf`, which writes docs/performance.md and includes
docs/scale.md's table with how scale ended and its runtime. Options other than the ones below go
to benchmarks.perf (see its --help). Other work on the machine skews every timing: --quiet waits
for the 1-minute load average to fall below a threshold (at most --quiet-wait minutes) before
each benchmark starts.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import DOCS, ROOT, command_line, timed

HERE = Path(__file__).resolve().parent


def wait_for_quiet(threshold: float, minutes: float) -> None:
    """Block until the 1-minute load average is under `threshold`, or `minutes` have passed."""
    deadline = time.monotonic() + minutes * 60
    while (load := os.getloadavg()[0]) >= threshold and time.monotonic() < deadline:
        print(f"load average {load:.2f} ≥ {threshold}: waiting", flush=True)
        time.sleep(30)


def run(module: str, args: list[str]) -> tuple[int, float]:
    """Run a benchmark module from the repository root; returns (exit code, seconds)."""
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args]
    print("$ " + shlex.join(cmd), flush=True)
    return timed(subprocess.call, cmd, cwd=ROOT)


def main() -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("--no-scale", action="store_true", help="do not run benchmarks.scale")
    parser.add_argument(
        "--scale-args", default="", help="arguments for benchmarks.scale, one string"
    )
    parser.add_argument("--quiet", type=float, metavar="LOAD", help="wait for load below LOAD")
    parser.add_argument("--quiet-wait", type=float, default=10.0, help="minutes, at most")
    args, perf_args = parser.parse_known_args()
    started = time.perf_counter()
    scale = HERE / "scale.py"
    status, seconds = "was not run (--no-scale)", None
    if not args.no_scale and not scale.is_file():
        status = "does not exist yet, so was not run"
    elif not args.no_scale:
        if args.quiet:
            wait_for_quiet(args.quiet, args.quiet_wait)
        code, seconds = run("scale", shlex.split(args.scale_args))
        status = "finished" if code == 0 else f"failed (exit code {code})"
    perf = [*perf_args, "--scale-status", status]
    if seconds is not None:
        perf += ["--scale-seconds", f"{seconds:.1f}"]
    with tempfile.TemporaryDirectory(prefix="counsel-all-") as tmp:
        written = DOCS / "scale.md"
        if seconds is not None and written.is_file():
            # What this run's scale wrote, should anything rewrite it while perf runs.
            perf += ["--scale-md", str(shutil.copy2(written, Path(tmp) / "scale.md"))]
        if args.quiet:
            wait_for_quiet(args.quiet, args.quiet_wait)
        code, _ = run("perf", perf)
    print(f"all benchmarks: {(time.perf_counter() - started) / 60:.1f} min", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
