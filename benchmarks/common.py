"""What the benchmarks share: where things are, percentiles and recall, timing, memory, real
questions, and the Markdown their reports are written in."""

from __future__ import annotations

import argparse
import csv
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")
A = TypeVar("A")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BENCH = ROOT.parent / "shared" / "bench"  # the bench's tasks, beside the repository
CORPUS = ROOT / "data" / "corpus"  # the bundled corpus
COUNSELCHAT_CSV = CORPUS / "counselchat_answers.csv"


def command_line(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of `python -m module`'s arguments, its description the docstring's first
    paragraph."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}", description=(doc or "").split("\n\n")[0]
    )


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 99)) -> tuple[float, ...]:
    """The values' percentiles (numpy's linear interpolation), p50 and p99 by default."""
    return tuple(float(np.percentile(values, q)) for q in qs)


def recall_at(found: Sequence[Sequence[int]], truth: Sequence[Sequence[int]], k: int = 10) -> float:
    """Mean share of each query's true top k that its found ids contain."""
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def timed(call: Callable[..., T], *args: object, **kwargs: object) -> tuple[T, float]:
    """(what call(*args, **kwargs) returns, its wall time in seconds)."""
    started = time.perf_counter()
    out = call(*args, **kwargs)
    return out, time.perf_counter() - started


def timed_each(call: Callable[[A], T], items: Iterable[A]) -> tuple[list[T], list[float]]:
    """Call once per item, one at a time: (what each call returned, milliseconds each)."""
    outs, ms = [], []
    for item in items:
        started = time.perf_counter()
        outs.append(call(item))
        ms.append((time.perf_counter() - started) * 1000)
    return outs, ms


def vm_hwm(pid: int | str = "self") -> int:
    """Peak resident set size of a process (VmHWM in Linux /proc), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def question_titles() -> Iterator[str]:
    """The questionTitle of every row of the bundled CounselChat CSV, in file order (stripped;
    empty where a row has none): real questions in users' own words."""
    with COUNSELCHAT_CSV.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield (row.get("questionTitle") or "").strip()


def shown_path(path: Path) -> str:
    """A path relative to the repository when inside it, else absolute."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# --- reports ----------------------------------------------------------------------------------


def table(header: str | Sequence[str], rows: Iterable[str | Sequence[object]]) -> list[str]:
    """A Markdown table, one line each: the header, its rule, then a line per row. The header and
    each row are their cells, or one string of them as Markdown writes them ("a | b | c")."""
    if isinstance(header, str):
        header = header.split(" | ")
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *(f"| {row if isinstance(row, str) else ' | '.join(map(str, row))} |" for row in rows),
    ]


def write_report(path: Path, text: str) -> None:
    """Write a report (its folder created if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def splice(path: Path, begin: str, end: str, inner: str) -> None:
    """Replace what stands between the markers `begin` and `end` of a page with `inner`."""
    head, rest = path.read_text(encoding="utf-8").split(begin, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{begin}{inner}{end}{tail}", encoding="utf-8")


def stop(proc: subprocess.Popen, timeout: float) -> None:
    """Stop a server process: terminate, and kill it if it has not exited within `timeout`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
