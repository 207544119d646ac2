"""Run the performance benchmarks in one go and write docs/performance.md.

    .venv/bin/python benchmarks/all.py                     # ~10 min of perf.py, plus scale.py
    .venv/bin/python benchmarks/all.py --no-scale --index DIR --skip page

Runs benchmarks/scale.py first, when it exists (it writes docs/scale.md), then
benchmarks/perf.py, which writes docs/performance.md and includes docs/scale.md's table with how
scale.py ended and its runtime. Options other than the ones below go to perf.py (see its --help).
Other work on the machine skews every timing: --quiet waits for the 1-minute load average to
fall below a threshold (at most --quiet-wait minutes) before each script starts.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def wait_for_quiet(threshold: float, minutes: float) -> None:
    """Block until the 1-minute load average is under `threshold`, or `minutes` have passed."""
    deadline = time.monotonic() + minutes * 60
    while (load := os.getloadavg()[0]) >= threshold and time.monotonic() < deadline:
        print(f"load average {load:.2f} ≥ {threshold}: waiting", flush=True)
        time.sleep(30)


def run(cmd: list[str]) -> tuple[int, float]:
    """Run a benchmark script from the repository root; returns (exit code, seconds)."""
    print("$ " + shlex.join(cmd), flush=True)
    started = time.perf_counter()
    code = subprocess.call(cmd, cwd=ROOT)
    return code, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-scale", action="store_true", help="do not run scale.py")
    parser.add_argument("--scale-args", default="", help="arguments for scale.py, one string")
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
        code, seconds = run([sys.executable, str(scale), *shlex.split(args.scale_args)])
        status = "finished" if code == 0 else f"failed (exit code {code})"
    cmd = [sys.executable, str(HERE / "perf.py"), *perf_args, "--scale-status", status]
    if seconds is not None:
        cmd += ["--scale-seconds", f"{seconds:.1f}"]
    with tempfile.TemporaryDirectory(prefix="counsel-all-") as tmp:
        written = ROOT / "docs" / "scale.md"
        if seconds is not None and written.is_file():
            # What this run's scale.py wrote, should anything rewrite it while perf.py runs.
            cmd += ["--scale-md", str(shutil.copy2(written, Path(tmp) / "scale.md"))]
        if args.quiet:
            wait_for_quiet(args.quiet, args.quiet_wait)
        code, _ = run(cmd)
    print(f"all benchmarks: {(time.perf_counter() - started) / 60:.1f} min", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
