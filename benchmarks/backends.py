"""FAISS against Milvus, the two vector backends: build time, query p50/p99 and recall@10, on the
bundled corpus (the product: `build_index` then `Searcher.search`) and on 100k synthetic vectors
(the vector stores alone, at a size where both use their approximate index).

    bash scripts/milvus_server.sh start /tmp/milvus 19530
    .venv/bin/python -m benchmarks.backends --milvus-uri http://127.0.0.1:19530
    bash scripts/milvus_server.sh stop /tmp/milvus

Writes docs/scaling.md's measured section (between the markers) unless --no-write. The bundled
corpus is embedded once: the Milvus build starts from a copy of the FAISS build's embedding
cache, so both build times are ingest + storage, not the model. Queries are the 200 first dev
queries of cc_title_to_answer, asked in the default mode, one at a time, their vectors cached
(the model's share is the same for both and would hide the backends' difference), and again
with a new vector each time. Recall@10 compares each backend's top 10 with exact search.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.common import (
    BENCH,
    CORPUS,
    DOCS,
    command_line,
    percentiles,
    recall_at,
    splice,
    timed,
    timed_each,
)
from benchmarks.synthetic import FETCH, exact_top10, synthetic, timed_search
from index import build_index, load_embedder
from index.milvus_store import MilvusStore, collection_name
from index.vectors import FaissStore
from search import Searcher

QUERIES = BENCH / "cc_title_to_answer" / "queries.dev.jsonl"
DOC = DOCS / "scaling.md"
BEGIN, END = "<!-- measured: begin -->", "<!-- measured: end -->"


def _queries(path: Path, n: int) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["query"] for line in fh][:n]


def product(uri: str, queries: list[str], tmp: Path) -> list[dict]:
    """Build the bundled corpus on each backend and time the default mode."""
    embedder = load_embedder()
    rows, tops = [], {}
    for backend in ("faiss", "milvus"):
        index_dir = tmp / backend
        if backend == "milvus":  # the same embeddings, from the FAISS build's cache
            index_dir.mkdir()
            shutil.copy(tmp / "faiss" / "embeddings.sqlite", index_dir / "embeddings.sqlite")
        report, build_s = timed(
            build_index, [CORPUS], index_dir, embedder, backend=backend, milvus_uri=uri
        )
        s = Searcher.open(index_dir)
        for q in queries:
            s.search(q, explain=False)  # vectors cached, model and tables warm
        # Every vector is in the cache after the warm-up pass.
        hits, cached = timed_each(partial(s.search, explain=False), queries)
        found = [[h.passage.id for h in hs] for hs in hits]
        new = []
        for q in queries:
            s.clear_query_cache()
            t0 = time.perf_counter()
            s.search(q, explain=False)
            new.append((time.perf_counter() - t0) * 1000)
        tops[backend] = found
        exact = sum(
            len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(found, tops["faiss"], strict=True)
        ) / len(queries)
        rows.append(
            {
                "what": f"bundled corpus ({report.passages:,} passages, {report.vectors:,} "
                "vectors), hybrid",
                "backend": backend,
                "index": s.version.manifest.index_type,
                "build_s": build_s,
                "p50": statistics.median(cached),
                "p99": float(np.percentile(cached, 99)),
                "new_p50": statistics.median(new),
                "recall": exact,
            }
        )
        s.close()
        print(json.dumps(rows[-1]), flush=True)
    return rows


def stores(uri: str, n: int, nq: int) -> list[dict]:
    """The two vector stores alone on n synthetic vectors: build, k=10 searches, recall."""
    corpus, queries, _ = synthetic(n, nq)  # held-out queries, as in scale.py
    truth = exact_top10(queries, corpus)
    ids = np.arange(n, dtype=np.int64)
    rows = []
    for backend in ("faiss", "milvus"):
        if backend == "faiss":
            store, build_s = timed(FaissStore.build, ids, corpus)
        else:
            name = collection_name(f"bench_{n}_{int(time.time())}")
            store, build_s = timed(
                MilvusStore.build, uri, name, ids, corpus, model_name="synthetic"
            )
        # As the engine asks: FETCH candidates, of which the top 10 are compared with exact.
        timed_search(store, queries[:20], FETCH)  # warm
        ms, found = timed_search(store, queries, FETCH)
        p50, p99 = percentiles(ms)
        rows.append(
            {
                "what": f"{n:,} synthetic vectors (384-d), top {FETCH}",
                "backend": backend,
                "index": store.index_type,
                "build_s": build_s,
                "p50": p50,
                "p99": p99,
                "new_p50": None,
                "recall": recall_at(found, truth),
            }
        )
        if backend == "milvus":
            store.drop_collection(store.collection, force=True)
        store.close()
        print(json.dumps(rows[-1]), flush=True)
    return rows


def render(rows: list[dict], uri: str, seconds: float) -> str:
    """The measured section of docs/scaling.md."""

    def cell(v: float | None, fmt: str) -> str:
        return "–" if v is None else format(v, fmt)

    lines = [
        BEGIN,
        f"Measured by `.venv/bin/python -m benchmarks.backends --milvus-uri {uri}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({seconds / 60:.1f} min), this "
        "2-core machine, with the Milvus standalone server (`milvus` 2.3.5 from PyPI, "
        "`scripts/milvus_server.sh`) on the same machine, over loopback. Medians and 99th "
        "percentiles in ms; recall@10 against exact search (for the bundled corpus: the "
        "FAISS build's top 10, itself exact).",
        "",
        "| what | backend | index | build s | query p50 | p99 | p50, new query | recall@10 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['what']} | {r['backend']} | {r['index']} | {r['build_s']:.1f} | "
            f"{r['p50']:.2f} | {r['p99']:.2f} | {cell(r['new_p50'], '.2f')} | "
            f"{r['recall']:.3f} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def main() -> int:
    parser = command_line(__spec__.name, __doc__)
    parser.add_argument("--milvus-uri", required=True)
    parser.add_argument("--synthetic", type=int, default=100_000, help="vectors (100,000)")
    parser.add_argument("--queries", type=int, default=200, help="bundled-corpus queries")
    parser.add_argument("--synthetic-queries", type=int, default=1_000, help="as scale")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = product(args.milvus_uri, _queries(QUERIES, args.queries), Path(tmp))
    rows += stores(args.milvus_uri, args.synthetic, args.synthetic_queries)
    section = render(rows, args.milvus_uri, time.perf_counter() - started)
    if not args.no_write:
        splice(DOC, BEGIN, END, section.removeprefix(BEGIN).removesuffix(END))
        print(f"wrote {DOC}")
    else:
        print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
