"""Searching under load while the index changes: 8 concurrent searchers, incremental builds
publishing new versions meanwhile. Checks that no search fails, that every answer comes from one
complete version, and reports throughput and latency.

    .venv/bin/python -m benchmarks.load                  # writes docs/load.md

Searchers are threads sharing one searcher per index version, the way the page serves its users
(one process, a searcher cached per published version, reopened when CURRENT changes). Each
answer is checked: every hit's passage exists in the version that answered, and the same query on
the same version always gives the same ranked ids (a mixed or half-written index would break
either). The corpus is the seed plus the first --rows CounselChat answers (real model).
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import (
    CORPUS,
    COUNSELCHAT_CSV,
    DOCS,
    command_line,
    question_titles,
    table,
    write_report,
)
from benchmarks.incremental import new_document
from index import Embedder, add_sources, build_index, load_embedder, open_index, remove_sources
from index.publish import POINTER
from search import Searcher

QUESTIONS = 200  # distinct queries, cycled: repeats let a version's answers be compared


def queries_from_corpus(skip: int, n: int = QUESTIONS) -> list[str]:
    """Question titles of CounselChat answers not in the indexed sample: real user wording."""
    out: list[str] = []
    for i, title in enumerate(question_titles()):
        if i >= skip and title and title not in out:
            out.append(title)
        if len(out) >= n:
            break
    return out


class Pool:
    """One searcher per published version, opened on first use (like the page's cache)."""

    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        self.index_dir, self.embedder = index_dir, embedder
        self.searchers: dict[str, Searcher] = {}
        self.lock = threading.Lock()

    def current(self) -> Searcher:
        token = (self.index_dir / POINTER).read_text(encoding="utf-8").strip()
        with self.lock:
            if token not in self.searchers:
                self.searchers[token] = Searcher(open_index(self.index_dir), self.embedder)
            return self.searchers[token]


def sample_corpus(folder: Path, rows: int) -> Path:
    """The seed article and the first `rows` CounselChat answers."""
    folder.mkdir(parents=True)
    shutil.copy(CORPUS / "000_6fe00c9fba106d10.txt", folder)
    with COUNSELCHAT_CSV.open(encoding="utf-8", newline="") as src:
        reader = csv.DictReader(src)
        with (folder / "sample.csv").open("w", encoding="utf-8", newline="") as dst:
            writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
            writer.writeheader()
            for i, row in enumerate(reader):
                if i >= rows:
                    break
                writer.writerow(row)
    return folder


def _rss_mb() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 // 2**20


def run(args: argparse.Namespace) -> dict[str, object]:
    embedder = load_embedder()
    embedder.encode(["warm up"])
    tmp = Path(tempfile.mkdtemp(prefix="counsel-load-"))
    try:
        index_dir = tmp / "index"
        build_index([sample_corpus(tmp / "corpus", args.rows)], index_dir, embedder)
        print(f"built; RSS {_rss_mb()} MB", file=sys.stderr)
        pool = Pool(index_dir, embedder)
        stop = threading.Event()
        latencies: list[float] = []
        errors: list[str] = []
        inconsistent: list[str] = []
        answers: dict[tuple[str, str], list[str]] = {}
        record = threading.Lock()

        queries = queries_from_corpus(args.rows)

        def searcher_loop(worker: int) -> None:
            i = worker * len(queries) // args.workers
            while not stop.is_set():
                query = queries[i % len(queries)]
                i += 1
                try:
                    t0 = time.perf_counter()
                    s = pool.current()
                    hits = s.search(query, k=10)
                    ms = (time.perf_counter() - t0) * 1000
                    ids = [h.passage.id for h in hits]
                    store = s.version.passages
                    missing = [x for x in ids if store.row_of(x) is None]
                except Exception as exc:  # the benchmark counts every failure, whatever it is
                    with record:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                key = (s.version.version, query)
                with record:
                    latencies.append(ms)
                    first = answers.setdefault(key, ids)
                    if missing or first != ids or len(ids) != 10:
                        inconsistent.append(f"{key}: {ids} vs {first}, missing {missing}")

        threads = [
            threading.Thread(target=searcher_loop, args=(w,), daemon=True)
            for w in range(args.workers)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        builds: list[float] = []
        docs = tmp / "docs"
        docs.mkdir()
        n = 0
        try:
            while time.perf_counter() - start < args.seconds:
                time.sleep(args.seconds / (args.builds + 1))
                n += 1
                t0 = time.perf_counter()
                if n % 2:
                    add_sources([new_document(docs, n)], index_dir, embedder)
                else:
                    remove_sources([str(docs / f"new-{n - 1}.txt")], index_dir, embedder)
                builds.append(time.perf_counter() - t0)
                print(f"published {n}; RSS {_rss_mb()} MB", file=sys.stderr)
        finally:
            stop.set()
            for t in threads:
                t.join()
        wall = time.perf_counter() - start
        lat = sorted(latencies)
        return {
            "workers": args.workers,
            "seconds": round(wall, 1),
            "passages": args.rows + 7,
            "queries": len(lat),
            "qps": round(len(lat) / wall, 1),
            "p50_ms": round(statistics.median(lat), 1) if lat else None,
            "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1) if lat else None,
            "errors": len(errors),
            "inconsistent": len(inconsistent),
            "versions_served": len({k[0] for k in answers}),
            "publishes": len(builds),
            "build_median_s": round(statistics.median(builds), 2) if builds else None,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "examples": (errors + inconsistent)[:5],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--builds", type=int, default=4, help="publishes during the run")
    parser.add_argument("--rows", type=int, default=400, help="CounselChat answers indexed")
    parser.add_argument("--out", type=Path, default=DOCS / "load.md")
    args = parser.parse_args()
    r = run(args)
    for key, value in r.items():
        print(f"{key:>16}: {value}")
    measures = table(["measure", "value"], ((k, v) for k, v in r.items() if k != "examples"))
    write_report(
        args.out,
        "# Searching under load while the index changes\n\n"
        "Produced by `.venv/bin/python -m benchmarks.load` (2-core machine, real model; "
        f"{r['passages']} passages). {r['workers']} searcher threads share one searcher per "
        f"published version, as the page's users do, while {r['publishes']} incremental builds "
        "publish new versions (add a 20-passage document, remove it, ...).\n\n"
        + "".join(line + "\n" for line in measures)
        + "\nAn answer counts as inconsistent if a hit's passage is missing from the version "
        "that answered, if it has fewer than 10 hits, or if the same query on the same version "
        "ranks differently from its first answer. Latency is per query, end to end (version "
        "check, embedding, hybrid ranking, explanations).\n",
    )
    return 1 if r["errors"] or r["inconsistent"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
