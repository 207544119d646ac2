"""Export results as CSV or JSON lines, every row carrying where it came from.

A row names the index version and model that produced it, the query and mode, and the passage's
ids and source (and, for a PDF, its pages: "3" or "3-4"), so an exported file can be traced
back (and re-run) long after the index has been rebuilt.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ingest import page_label
from search.engine import Searcher
from search.explore import CorpusMap, Themes, passage_table
from search.hits import Hit

FIELDS: tuple[str, ...] = (
    "kind",
    "query",
    "mode",
    "index_version",
    "model",
    "step",
    "from_id",
    "rank",
    "passage_id",
    "doc_id",
    "source",
    "pages",
    "question",
    "answer",
    "score",
    "dense_score",
    "lexical_score",
    "topic",
    "cluster",
    "cluster_label",
    "exported_at",
)
# Columns of the corpus map export (`counsel-search map`).
MAP_FIELDS: tuple[str, ...] = ("id", "x", "y", "topic", "source", "question")
THEME_MODE = "kmeans"


def _now() -> str:
    """UTC time to the second, ISO 8601: one value for every row of one export."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def _base(searcher: Searcher, kind: str, query: str, mode: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FIELDS)
    row.update(
        kind=kind,
        query=query,
        mode=mode,
        index_version=searcher.version.version,
        model=searcher.version.manifest.model_name,
        exported_at=_now(),
    )
    return row


def hit_rows(
    hits: Sequence[Hit],
    *,
    searcher: Searcher,
    query: str,
    mode: str,
    kind: str = "search",
    step: int | None = None,
    from_id: str | None = None,
    themes: Themes | None = None,
) -> list[dict[str, Any]]:
    """One row per hit (keys = FIELDS), in the given order, with provenance; `themes` (optional)
    fills each passage's cluster and cluster label."""
    base = _base(searcher, kind, query, mode)
    base.update(step=step, from_id=from_id)
    rows = []
    for hit in hits:
        p = hit.passage
        row = dict(base)
        row.update(
            rank=hit.rank,
            passage_id=p.id,
            doc_id=p.doc_id,
            source=p.source,
            pages=page_label(p.pages) or None,
            question=p.question,
            answer=p.answer,
            score=_round(hit.score),
            dense_score=_round(hit.dense_score),
            lexical_score=_round(hit.lexical_score),
            topic=str(p.metadata.get("topic") or ""),
        )
        if themes is not None and p.id in themes.ids:
            cluster = themes.cluster_of(p.id)
            row.update(cluster=cluster, cluster_label=themes.themes[cluster].label)
        rows.append(row)
    return rows


def walk_rows(searcher: Searcher, walk: Sequence[str], k: int = 10) -> list[dict[str, Any]]:
    """Rows of a related-passage walk (passage ids, the first where it started): for each step
    i, the k passages related to walk[i] (kind "related", step i, from_id walk[i], query
    "related:" + walk[0], mode "dense"). Raises PassageNotFound for an id not in the index."""
    if not walk:
        return []
    query = f"related:{walk[0]}"
    rows: list[dict[str, Any]] = []
    for i, passage_id in enumerate(walk):
        hits = searcher.related(passage_id, k=k)
        rows += hit_rows(
            hits,
            searcher=searcher,
            query=query,
            mode="dense",
            kind="related",
            step=i,
            from_id=passage_id,
        )
    return rows


def theme_rows(searcher: Searcher, themes: Themes) -> list[dict[str, Any]]:
    """One row per passage (kind "theme"), cluster by cluster in index order, with its cluster
    number and label; mode "kmeans", query "k=<k>"."""
    base = _base(searcher, "theme", f"k={themes.k}", THEME_MODE)
    table = {p["id"]: p for p in passage_table(searcher)}
    order = sorted(range(len(themes.ids)), key=lambda i: (int(themes.labels[i]), i))
    rows = []
    for i in order:
        p = table[themes.ids[i]]
        cluster = int(themes.labels[i])
        row = dict(base)
        row.update(
            passage_id=p["id"],
            doc_id=p["doc_id"],
            source=p["source"],
            pages=page_label(p["metadata"].get("pages") or ()) or None,
            question=p["question"],
            answer=p["answer"],
            topic=p["topic"],
            cluster=cluster,
            cluster_label=themes.themes[cluster].label,
        )
        rows.append(row)
    return rows


def map_rows(searcher: Searcher, corpus_map: CorpusMap) -> list[dict[str, Any]]:
    """One row per passage of a corpus map (keys = MAP_FIELDS), in index order."""
    table = {p["id"]: p for p in passage_table(searcher)}
    rows = []
    for pid, (x, y) in zip(corpus_map.ids, corpus_map.xy.tolist(), strict=True):
        p = table.get(pid, {})
        rows.append(
            {
                "id": pid,
                "x": round(x, 6),
                "y": round(y, 6),
                "topic": p.get("topic", ""),
                "source": p.get("source", ""),
                "question": p.get("question", ""),
            }
        )
    return rows


def to_csv(rows: Iterable[Mapping[str, Any]], fields: Sequence[str] = FIELDS) -> str:
    """CSV text: a header of `fields`, then one line per row (None as ""). Newlines, commas and
    quotes inside values are quoted, so the file reads back with any CSV reader."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(fields), quoting=csv.QUOTE_MINIMAL, lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({f: "" if row.get(f) is None else row.get(f) for f in fields})
    return buf.getvalue()


def to_jsonl(rows: Iterable[Mapping[str, Any]], fields: Sequence[str] = FIELDS) -> str:
    """JSON lines: one object per row with exactly `fields` as keys (None as null)."""
    return "".join(
        json.dumps({f: row.get(f) for f in fields}, ensure_ascii=False) + "\n" for row in rows
    )
