"""The product path at scale, for benchmarks/scale.py: synthetic passages in SQLite + FTS5
through `build_from_result`, then the `Searcher`, with a stand-in embedder (no model time)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import percentiles, recall_at, timed, timed_each, vm_hwm
from benchmarks.synthetic import DIM, exact_top10, synthetic
from index import build_from_result, open_index
from ingest import IngestResult, Passage, SourceFile, content_id, doc_id_for
from search import Searcher

PRODUCT_QUERIES = 300

# ~25k pseudo-words: 350 first syllables x 70 second ones, so that BM25 postings are as sparse
# as in real text (each cluster writes with its own 30 words).
_FIRST = [a + b + c for a in "bdfgklmnprstvz" for b in "aeiou" for c in ("", "n", "r", "l", "st")]
WORDS = [f + a + b for f in _FIRST for a in "bdgkmnpstvlrfz" for b in "aeiou"]
TAG = re.compile(r"\b([pq])(\d+)\b")


class TaggedEmbedder:
    """Stands in for the model: every text carries a tag (p12 for passage 12, q3 for query 3)
    naming its synthetic vector, so the product path runs without model time."""

    name = "synthetic-384"
    fingerprint = "synthetic-384-tagged"
    dim = DIM
    max_tokens = 512  # every synthetic passage fits one window

    def __init__(self, corpus: np.ndarray, queries: np.ndarray) -> None:
        self.table = {"p": corpus, "q": queries}

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in re.finditer(r"\w+", text)]

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            if tag := TAG.search(text):
                out[i] = self.table[tag.group(1)][int(tag.group(2))]
        if progress:
            progress(len(texts), len(texts))
        return out


def synthetic_passages(labels: np.ndarray, n: int, docs: int = 100):
    """An ingest result of n passages over `docs` files; each cluster has its own words."""

    rng = np.random.default_rng(2)
    vocab = rng.integers(0, len(WORDS), (int(labels.max()) + 1, 30))
    passages, sources = [], [f"doc{d:03d}.txt" for d in range(docs)]
    for i in range(n):
        words = [WORDS[w] for w in rng.choice(vocab[labels[i]], 40)]
        q, a = f"How do I cope with {words[0]} and {words[1]}?", f"p{i} " + " ".join(words[2:])
        src = sources[i % docs]
        passages.append(
            Passage(content_id(q, a), doc_id_for(src), src, q, a, {}, i // docs, (src,))
        )
    files = tuple(
        SourceFile(s, doc_id_for(s), s, f"{d:064x}", "txt", len(range(d, n, docs)))
        for d, s in enumerate(sources)
    )
    return IngestResult(tuple(passages), files), vocab


def measure_product(n: int) -> dict[str, object]:
    """Build an index of n synthetic passages through the product and search it."""

    xb, xq, labels = synthetic(n, PRODUCT_QUERIES, seed=n)
    embedder = TaggedEmbedder(xb, xq)
    result, vocab = synthetic_passages(labels, n)
    rng = np.random.default_rng(3)
    texts = [
        f"q{j} " + " ".join(WORDS[w] for w in rng.choice(vocab[labels[n + j]], 5))
        for j in range(PRODUCT_QUERIES)
    ]
    truth = exact_top10(xq, xb)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        _, build_s = timed(build_from_result, result, index_dir, embedder)
        searcher = Searcher(open_index(index_dir), embedder)  # type: ignore[arg-type]
        out: dict[str, object] = {"n": n, "index": searcher.version.manifest.index_type}
        out["build_s"] = round(build_s, 1)

        def run(label: str, call: Callable[[str], list]) -> list[list]:
            call(texts[0])  # first query warms the caches
            hits, ms = timed_each(call, texts)
            out[f"{label}_p50_ms"], out[f"{label}_p99_ms"] = map(round, percentiles(ms), (2, 2))
            return hits

        dense = run("dense", lambda t: searcher.search(t, k=10, mode="dense", explain=False))
        found = np.array([[int(h.passage.answer.split()[0][1:]) for h in hs] for hs in dense])
        out["dense_recall10"] = round(recall_at(found, truth), 3)
        run("hybrid", lambda t: searcher.search(t, k=10, explain=False))
        one_doc = {"source": ["doc007.txt"]}  # 1% of the passages
        run("filtered", lambda t: searcher.search(t, k=10, filters=one_doc, explain=False))
        run(
            "filtered_dense",
            lambda t: searcher.search(t, k=10, filters=one_doc, mode="dense", explain=False),
        )
        searcher.version.close()
    out["peak_rss_mb"] = vm_hwm() // 2**20
    out["load_avg"] = round(os.getloadavg()[0], 1)
    return out
