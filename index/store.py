"""Passages and their metadata in SQLite (standard library): the passage side of an index."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from index.errors import IndexCorrupt
from ingest import Passage, SourceFile

SCHEMA = """
CREATE TABLE passages (
    row INTEGER PRIMARY KEY,          -- the vector id in the vector store
    id TEXT NOT NULL UNIQUE,          -- stable, content-derived (or given) passage id
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    position INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE passage_sources (
    row INTEGER NOT NULL REFERENCES passages(row),
    source TEXT NOT NULL,
    name TEXT NOT NULL,               -- file name of source, so a filter can use either
    PRIMARY KEY (row, source)
);
CREATE INDEX passage_sources_source ON passage_sources(source);
CREATE INDEX passage_sources_name ON passage_sources(name);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    passages INTEGER NOT NULL
);
"""

# Filter keys that are columns or joins rather than metadata fields.
SOURCE_KEY = "source"


def _row_to_passage(row: sqlite3.Row, sources: Sequence[str]) -> Passage:
    return Passage(
        id=row["id"],
        doc_id=row["doc_id"],
        source=row["source"],
        question=row["question"],
        answer=row["answer"],
        metadata=json.loads(row["metadata"]),
        position=row["position"],
        sources=tuple(sources) or (row["source"],),
    )


class PassageStore:
    """Read and write access to the passage database of one index version."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.conn.row_factory = sqlite3.Row
        self.path = path

    @classmethod
    def create(cls, path: Path) -> PassageStore:
        """A new, empty database at `path` (which must not exist)."""
        conn = sqlite3.connect(path)
        conn.executescript(SCHEMA)
        return cls(conn, path)

    @classmethod
    def open(cls, path: Path) -> PassageStore:
        """Open an existing database read-only; a published version is never written again."""
        if not path.is_file():
            raise IndexCorrupt(
                f"{path} is missing", "rebuild the index with: counsel-search build SOURCE..."
            )
        try:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("SELECT count(*) FROM passages").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(
                f"{path} is not a readable passage database ({exc})",
                "rebuild the index with: counsel-search build SOURCE...",
            ) from exc
        return cls(conn, path)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def write(self, passages: Sequence[Passage], files: Iterable[SourceFile]) -> np.ndarray:
        """Insert passages (row ids 0..n-1 in order) and documents; returns the row ids."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO passages(row, id, doc_id, source, question, answer, metadata,"
                " position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        i,
                        p.id,
                        p.doc_id,
                        p.source,
                        p.question,
                        p.answer,
                        json.dumps(p.metadata, ensure_ascii=False, sort_keys=True),
                        p.position,
                    )
                    for i, p in enumerate(passages)
                ),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO passage_sources(row, source, name) VALUES (?, ?, ?)",
                (
                    (i, s, PurePosixPath(s).name)
                    for i, p in enumerate(passages)
                    for s in (p.sources or (p.source,))
                ),
            )
            self.conn.executemany(
                "INSERT INTO documents(doc_id, source, title, sha256, kind, passages)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((f.doc_id, f.source, f.title, f.sha256, f.kind, f.n_passages) for f in files),
            )
        return np.arange(len(passages), dtype=np.int64)

    def count(self) -> int:
        """Number of passages."""
        return int(self.conn.execute("SELECT count(*) FROM passages").fetchone()[0])

    def by_rows(self, rows: Sequence[int]) -> dict[int, Passage]:
        """Passages for these row ids, keyed by row."""
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        found = self.conn.execute(
            f"SELECT * FROM passages WHERE row IN ({marks})", [int(r) for r in rows]
        ).fetchall()
        sources: dict[int, list[str]] = {}
        for r in self.conn.execute(
            f"SELECT row, source FROM passage_sources WHERE row IN ({marks}) ORDER BY rowid",
            [int(r) for r in rows],
        ):
            sources.setdefault(r["row"], []).append(r["source"])
        return {r["row"]: _row_to_passage(r, sources.get(r["row"], [])) for r in found}

    def row_of(self, passage_id: str) -> int | None:
        """The row id of a passage id, or None."""
        found = self.conn.execute("SELECT row FROM passages WHERE id = ?", (passage_id,)).fetchone()
        return None if found is None else int(found[0])

    def filtered_rows(self, filters: Mapping[str, Sequence[str]]) -> np.ndarray:
        """Row ids of passages matching every filter (values of one key are alternatives).

        `source` matches a passage's source path or its file name; any other key matches the
        metadata field of that name, case-insensitively.
        """
        clauses: list[str] = []
        params: list[str] = []
        for key, values in filters.items():
            values = [v for v in values if v]
            if not values:
                continue
            marks = ",".join("?" * len(values))
            if key == SOURCE_KEY:
                clauses.append(
                    "row IN (SELECT row FROM passage_sources "
                    f"WHERE source IN ({marks}) OR name IN ({marks}))"
                )
                params += values + values
            else:
                clauses.append(f"lower(json_extract(metadata, ?)) IN ({marks})")
                params += [f'$."{key}"'] + [v.lower() for v in values]
        sql = "SELECT row FROM passages" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        return np.array([r[0] for r in self.conn.execute(sql, params)], dtype=np.int64)

    def facet(self, key: str) -> list[tuple[str, int]]:
        """Distinct values of a filterable field with passage counts, most common first."""
        if key == SOURCE_KEY:
            sql = "SELECT source AS v, count(*) AS n FROM passage_sources GROUP BY source"
            rows = self.conn.execute(sql).fetchall()
        else:
            sql = (
                "SELECT json_extract(metadata, ?) AS v, count(*) AS n FROM passages "
                "WHERE v IS NOT NULL AND v != '' GROUP BY v"
            )
            rows = self.conn.execute(sql, (f'$."{key}"',)).fetchall()
        return sorted(((str(r["v"]), int(r["n"])) for r in rows), key=lambda t: (-t[1], t[0]))

    def documents(self) -> list[dict[str, object]]:
        """The documents table as dicts."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM documents ORDER BY source")]
