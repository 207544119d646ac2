"""The bench's tasks as the quality benchmarks read them: where each task's corpus is, its
judged dev queries (resolved to passage ids of the index built from it), and the plain baseline.

Four tasks are passages with ids (`corpus.jsonl`); `articles` is a folder of Q&A articles in
the seed's layout, read with the product's own readers, whose queries name the relevant
passage by file name and question text (search.evaluate.resolve).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from search import Searcher
from search.evaluate import Query, load_queries, ndcg_at, resolve

TASKS = [
    "cc_body_to_titled_answer",
    "cc_body_to_answer",
    "cc_title_to_answer",
    "faq_question_to_answer",
    "articles",
]


def task_source(bench: Path, task: str) -> Path:
    """What to index for a task: its documents folder, or its corpus of passages."""
    docs = bench / task / "docs"
    return docs if docs.is_dir() else bench / task / "corpus.jsonl"


def source_key(source: Path) -> str:
    """One index per distinct corpus (two tasks share one): a hash of its bytes."""
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")) if source.is_dir() else [source]:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def task_queries(searcher: Searcher, bench: Path, task: str) -> list[Query]:
    """The task's dev queries, their relevant passages as ids of this index."""
    queries, unmatched = resolve(
        load_queries(bench / task / "queries.dev.jsonl"), searcher.version.passages
    )
    if unmatched:
        print(f"{task}: {unmatched} relevant passages match no passage of the index", flush=True)
    return queries


def plain_dense_ndcg(searcher: Searcher, queries: list[Query]) -> float:
    """nDCG@10 of the plainest search: the model's cosine between the query and each
    passage's `question\\nanswer` (the model reads its first word pieces; nothing prepended,
    no windows, no correction), over every passage of the index."""
    rows_passages = searcher.version.passages.all_passages()
    ids = [p.id for _, p in rows_passages]
    texts = [f"{p.question}\n{p.answer}" if p.question else p.answer for _, p in rows_passages]
    vectors = searcher.embedder.encode(texts)
    query_vectors = searcher.embedder.encode([q.text for q in queries])
    total = 0.0
    for q, v in zip(queries, query_vectors, strict=True):
        top = np.argsort(-(vectors @ v), kind="stable")[:10]
        total += ndcg_at([ids[i] for i in top], q.relevant)
    return round(total / len(queries), 4)
