"""Incremental build timings on the bundled corpus: full build, add one document, no-op rebuild.

    .venv/bin/python -m benchmarks.incremental            # writes docs/incremental.md

Targets (issue 4): adding one document of up to 20 passages takes under 10% of the full build's
time; a rebuild with nothing changed embeds nothing. The model is loaded before timing starts;
each timing is the median of --repeat runs (a full build is run once per repeat on an empty
index and cache, each add uses a document never seen before, so nothing is served from cache).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.common import CORPUS, DOCS, command_line, table, timed, write_report
from index import add_sources, build_index, load_embedder

TOPICS = [
    ("sleep", "racing thoughts at night", "a wind-down routine and a fixed wake time"),
    ("anger", "snapping at my kids", "noticing the body's early warning signs"),
    ("grief", "missing my father", "letting the waves of sadness come and go"),
    ("work stress", "dreading Monday mornings", "naming what exactly feels threatening"),
    ("loneliness", "no one to talk to", "small regular contacts before big ones"),
]


def new_document(folder: Path, run: int, passages: int = 20) -> Path:
    """A Q&A article of `passages` questions that no earlier run has seen."""
    lines = [f"Questions readers asked us, part {run}", ""]
    for i in range(passages):
        topic, problem, advice = TOPICS[i % len(TOPICS)]
        lines.append(f"How do I cope with {topic} when I keep {problem} (question {run}.{i})?")
        lines.append(
            f"Many people struggle with {topic}. Start with {advice}. Notice when {problem} "
            f"begins, write it down, and bring the notes to your counselor (note {run}.{i}). "
            "Change comes from small steps repeated over weeks, not from one big decision."
        )
    path = folder / f"new-{run}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DOCS / "incremental.md")
    args = parser.parse_args()
    embedder = load_embedder()
    embedder.encode(["warm up"])
    full, add, noop = [], [], []
    facts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="counsel-incr-") as tmp:
        for run in range(args.repeat):
            ix = Path(tmp) / f"ix{run}"
            report, seconds = timed(build_index, [args.corpus], ix, embedder)
            full.append(seconds)
            facts.update(
                passages=report.passages, vectors=report.vectors, full_embedded=report.embedded
            )
            doc = new_document(Path(tmp), run)
            report, seconds = timed(add_sources, [doc], ix, embedder)
            add.append(seconds)
            facts.update(add_passages=report.plan.passages_added, add_embedded=report.embedded)
            report, seconds = timed(build_index, [args.corpus, doc], ix, embedder)
            noop.append(seconds)
            facts.update(noop_embedded=report.embedded)
            print(
                f"run {run}: full {full[-1]:.1f} s, add {add[-1]:.2f} s, no-op {noop[-1]:.2f} s",
                flush=True,
            )
    m_full, m_add, m_noop = (statistics.median(x) for x in (full, add, noop))
    rows = [
        (
            f"full build of the bundled corpus ({facts['passages']} passages, "
            f"{facts['vectors']} windows), empty cache",
            f"{m_full:.1f} s",
            f"{facts['passages']} / {facts['full_embedded']}",
        ),
        (
            f"`add` one new document of {facts['add_passages']} passages",
            f"{m_add:.2f} s ({m_add / m_full:.1%} of the full build)",
            f"{facts['add_passages']} / {facts['add_embedded']}",
        ),
        ("`build` again with nothing changed", f"{m_noop:.2f} s", f"0 / {facts['noop_embedded']}"),
    ]
    add_met = "met" if m_add < 0.1 * m_full else "NOT met"
    noop_met = "met" if facts["noop_embedded"] == 0 else "NOT met"
    text = "\n".join(
        [
            "# Incremental builds",
            "",
            f"Produced by `.venv/bin/python -m benchmarks.incremental` ({args.repeat} runs, "
            "medians, model loaded before timing; this machine: 2 cores).",
            "",
            *table(["step", "median time", "passages / windows embedded"], rows),
            "",
            f"Targets: add under 10% of the full build ({add_met}); "
            f"a rebuild with nothing changed embeds nothing ({noop_met}).",
            "",
        ]
    )
    write_report(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
