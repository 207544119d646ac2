"""The bench's tasks as the quality benchmarks (benchmarks/quality.py, quality_models.py) read
them: where each task's corpus is, an index of it built once per distinct corpus, its judged dev
queries (resolved to passage ids of that index), and the plain baseline.

Four tasks are passages with ids (`corpus.jsonl`); `articles` is a folder of Q&A articles in
the seed's layout, read with the product's own readers, whose queries name the relevant
passage by file name and question text (search.evaluate.resolve).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import timed
from index import BuildReport, Embedder, build_index, open_index
from index.cache import FILE as CACHE_FILE
from index.pair import encode_queries
from search import Searcher
from search.evaluate import Query, load_queries, ndcg_at, resolve

TASKS = [
    "cc_body_to_titled_answer",
    "cc_body_to_answer",
    "cc_title_to_answer",
    "faq_question_to_answer",
    "articles",
]

# Questions the corpus cannot answer: everyday topics far from counseling, and noise.
OFF_TOPIC = [
    "best pizza in Rome",
    "asdf qwerty",
    "how do I change a flat tire on a bicycle",
    "python list comprehension syntax",
    "weather forecast for tomorrow in Paris",
    "who won the world cup in 1998",
    "recipe for sourdough bread",
    "zxcv bnm lkjh",
    "how many moons does jupiter have",
    "cheap flights to tokyo in march",
    "what is the capital of australia",
    "how to install a ceiling fan",
    "convert 50 fahrenheit to celsius",
    "best budget laptop for gaming",
    "lorem ipsum dolor sit amet",
    "how to grow tomatoes on a balcony",
    "football transfer news today",
    "sql join example",
    "how to bake chocolate chip cookies",
    "what time does the post office close",
    "stock price of apple",
    "how to knit a scarf for beginners",
    "qqq www eee rrr",
    "train timetable berlin to munich",
    "how to fix a leaking faucet",
    "what is the boiling point of water at altitude",
    "rules of chess castling",
    "how to change the oil in my car",
    "best hiking trails in colorado",
    "kjfdh sdkfj weoiru",
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


def plain_cosines(searcher: Searcher, queries: list[Query], embedder: Embedder) -> PlainScores:
    """The plainest search's scores: `embedder`'s cosine between each query (as the model
    reads queries: bge-small with its instruction) and each passage's `question\nanswer` of
    the index (the model reads its first word pieces; nothing prepended, no windows, no
    correction)."""
    rows_passages = searcher.version.passages.all_passages()
    ids = [p.id for _, p in rows_passages]
    texts = [f"{p.question}\n{p.answer}" if p.question else p.answer for _, p in rows_passages]
    vectors = embedder.encode(texts)
    query_vectors = encode_queries(embedder, [q.text for q in queries])
    return PlainScores(ids, query_vectors @ vectors.T)


@dataclass
class PlainScores:
    """Passage ids and a (queries x passages) matrix of scores."""

    ids: list[str]
    scores: np.ndarray

    def ndcg(self, queries: list[Query]) -> float:
        """Mean nDCG@10 of ranking every passage by its score."""
        total = 0.0
        for q, row in zip(queries, self.scores, strict=True):
            top = np.argsort(-row, kind="stable")[:10]
            total += ndcg_at([self.ids[i] for i in top], q.relevant)
        return round(total / len(queries), 4)


def top_cosines(searcher: Searcher, texts: list[str]) -> list[float]:
    """The best window cosine of the top dense hit for each text."""
    return [searcher.search(t, k=1, mode="dense", explain=False)[0].window_cosine for t in texts]


@dataclass
class TaskIndex:
    """One task, opened: its corpus, a searcher on the index of that corpus, its dev queries,
    and the build (report, seconds) when this task's corpus was the one built."""

    task: str
    source: Path
    key: str
    searcher: Searcher
    queries: list[Query]
    build: tuple[BuildReport, float] | None


def task_indexes(
    bench: Path, tasks: list[str], embedder: Embedder, folder: Path, vectors: Path | None = None
) -> Iterator[TaskIndex]:
    """Each task in turn, its index built in `folder` by `embedder` unless an earlier task had
    the same corpus; the searcher is closed when the next task is asked for. With `vectors`, a
    folder of embedding caches by corpus, each build starts from the corpus's cache and leaves
    its own vectors in it: a model embeds a corpus once per run, whatever uses it next."""
    built: set[str] = set()
    for task in tasks:
        source = task_source(bench, task)
        key = source_key(source)
        build = None
        if key not in built:
            shared = vectors / f"{key}.sqlite" if vectors else None
            if shared and shared.exists():
                (folder / key).mkdir(parents=True, exist_ok=True)
                shutil.copy(shared, folder / key / CACHE_FILE)
            build = timed(build_index, [source], folder / key, embedder)
            if shared:
                shutil.copy(folder / key / CACHE_FILE, shared)
            built.add(key)
        searcher = Searcher(open_index(folder / key), embedder)
        try:
            yield TaskIndex(task, source, key, searcher, task_queries(searcher, bench, task), build)
        finally:
            searcher.close()
