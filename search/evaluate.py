"""Evaluation harness: retrieval quality (nDCG@10, MRR@10, Recall@10/100) and query latency."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.store import PassageStore
from ingest import IngestError
from ingest.text import normalize_text
from search.config import RankingConfig
from search.engine import Searcher


@dataclass(frozen=True)
class Query:
    """A judged query: its text and the ids of the passages relevant to it (binary)."""

    qid: str
    text: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class EvalResult:
    """Metrics averaged over queries, query latency percentiles in milliseconds, and the ranking
    settings that produced them (the searcher's RankingConfig)."""

    mode: str
    queries: int
    ndcg_at_10: float
    mrr_at_10: float
    recall_at_10: float
    recall_at_100: float
    latency_p50_ms: float
    latency_p95_ms: float
    ranking: RankingConfig = field(default_factory=RankingConfig)

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready dict; the ranking settings as a dict under "ranking"."""
        return asdict(self)


@dataclass(frozen=True)
class PassageRef:
    """A relevant passage named by its file and its question (document corpora): it matches
    a passage from a file of that name (any folder) whose question is that text."""

    source: str
    question: str


@dataclass(frozen=True)
class JudgedQuery:
    """A query whose relevant passages are named by file and question, not by id."""

    qid: str
    text: str
    refs: tuple[PassageRef, ...]


def _query_line(path: Path, no: int, line: str) -> Query | JudgedQuery:
    row = json.loads(line)
    if "relevant_ids" in row:
        return Query(
            str(row["qid"]), str(row["query"]), frozenset(str(r) for r in row["relevant_ids"])
        )
    refs = tuple(PassageRef(str(r["source"]), str(r["question"])) for r in row["relevant"])
    return JudgedQuery(str(row["qid"]), str(row["query"]), refs)


def load_queries(path: Path | str) -> list[Query | JudgedQuery]:
    """Read a queries JSONL file. Each line is {qid, query, relevant_ids: [passage id, ...]}
    (corpora of passages with ids) or {qid, query, relevant: [{source, question}, ...]}
    (document corpora: a passage named by its file name and question text)."""
    path = Path(path)
    out: list[Query | JudgedQuery] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise IngestError(str(path), f"cannot read the queries file ({exc.strerror})") from exc
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(_query_line(path, no, line))
        except (ValueError, KeyError, TypeError) as exc:
            raise IngestError(
                str(path),
                f"not a query line ({exc})",
                'each line must be {"qid": ..., "query": ..., "relevant_ids": [...]} or '
                '{"qid": ..., "query": ..., "relevant": [{"source": ..., "question": ...}]}',
                line=no,
            ) from exc
    if not out:
        raise IngestError(str(path), "holds no queries", "one JSON object a line")
    return out


def _same_text(text: str) -> str:
    return " ".join(normalize_text(text).split()).casefold()


def resolve(queries: Sequence[Query | JudgedQuery], store: PassageStore) -> tuple[list[Query], int]:
    """Queries with their relevant passages as ids. A reference no passage of the index
    matches (a question the splitter lost, say) stays relevant and is never found, so it
    costs the query as a miss would. Returns the queries and the number of such references."""
    # Every passage that matches is relevant: a question may head several sections of a file.
    by_ref: dict[tuple[str, str], set[str]] = {}
    for _, passage in store.all_passages():
        for source in passage.sources or (passage.source,):
            ref = (Path(source).name, _same_text(passage.question))
            by_ref.setdefault(ref, set()).add(passage.id)
    out, unmatched = [], 0
    for q in queries:
        if isinstance(q, Query):
            out.append(q)
            continue
        ids: set[str] = set()
        for ref in q.refs:
            found = by_ref.get((Path(ref.source).name, _same_text(ref.question)))
            if not found:
                unmatched += 1
                found = {f"missing:{ref.source}#{ref.question}"}
            ids |= found
        out.append(Query(q.qid, q.text, frozenset(ids)))
    return out, unmatched


def ndcg_at(ranked: Sequence[str], relevant: frozenset[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k."""
    dcg = sum(1 / math.log2(i + 2) for i, pid in enumerate(ranked[:k]) if pid in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def mrr_at(ranked: Sequence[str], relevant: frozenset[str], k: int = 10) -> float:
    """Reciprocal rank of the first relevant passage within the top k (0 if none)."""
    return next((1 / (i + 1) for i, pid in enumerate(ranked[:k]) if pid in relevant), 0.0)


def recall_at(ranked: Sequence[str], relevant: frozenset[str], k: int) -> float:
    """Share of the relevant passages found in the top k."""
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def _percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
        if len(values) > 1
        else values[0]
    )


def evaluate(searcher: Searcher, queries: Sequence[Query], mode: str) -> EvalResult:
    """Run every query one at a time (as a user would) and average the metrics; the result
    records the searcher's ranking settings (`searcher.with_config(...)` to measure others).

    Latency covers the ranking (query embedding, dense, lexical, fusion), not the explanations,
    which a face computes only for the hits it shows.
    """
    searcher.search(queries[0].text, k=100, mode=mode, explain=False)  # warm caches and model
    # Each query is new to the searcher, as for a user: an earlier mode's run must not leave its
    # query vectors in the cache, or later modes would look faster than they are.
    searcher.clear_query_cache()
    sums = {"ndcg": 0.0, "mrr": 0.0, "r10": 0.0, "r100": 0.0}
    times = []
    for q in queries:
        start = time.perf_counter()
        hits = searcher.search(q.text, k=100, mode=mode, explain=False)
        times.append((time.perf_counter() - start) * 1000)
        ranked = [h.passage.id for h in hits]
        sums["ndcg"] += ndcg_at(ranked, q.relevant)
        sums["mrr"] += mrr_at(ranked, q.relevant)
        sums["r10"] += recall_at(ranked, q.relevant, 10)
        sums["r100"] += recall_at(ranked, q.relevant, 100)
    n = len(queries)
    return EvalResult(
        mode=mode,
        queries=n,
        ndcg_at_10=round(sums["ndcg"] / n, 4),
        mrr_at_10=round(sums["mrr"] / n, 4),
        recall_at_10=round(sums["r10"] / n, 4),
        recall_at_100=round(sums["r100"] / n, 4),
        latency_p50_ms=round(statistics.median(times), 2),
        latency_p95_ms=round(_percentile(times, 95), 2),
        ranking=searcher.config,
    )
