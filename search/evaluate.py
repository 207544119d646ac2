"""Evaluation harness: retrieval quality (nDCG@10, MRR@10, Recall@10/100) and query latency."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ingest import IngestError
from search.engine import Searcher


@dataclass(frozen=True)
class Query:
    """A judged query: its text and the ids of the passages relevant to it (binary)."""

    qid: str
    text: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class EvalResult:
    """Metrics averaged over queries, and query latency percentiles in milliseconds."""

    mode: str
    queries: int
    ndcg_at_10: float
    mrr_at_10: float
    recall_at_10: float
    recall_at_100: float
    latency_p50_ms: float
    latency_p95_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_queries(path: Path | str) -> list[Query]:
    """Read a queries JSONL file: {qid, query, relevant_ids} per line."""
    path = Path(path)
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise IngestError(str(path), f"cannot read the queries file ({exc.strerror})") from exc
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Query(
                    str(row["qid"]),
                    str(row["query"]),
                    frozenset(str(r) for r in row["relevant_ids"]),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise IngestError(
                str(path),
                f"not a query line ({exc})",
                'each line must be {"qid": ..., "query": ..., "relevant_ids": [...]}',
                line=no,
            ) from exc
    if not out:
        raise IngestError(str(path), "holds no queries", "one JSON object a line")
    return out


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
    """Run every query one at a time (as a user would) and average the metrics.

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
    )
