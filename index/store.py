"""Passages and their metadata in SQLite (standard library): the passage side of an index."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from index.errors import IndexCorrupt
from ingest import Passage, SourceFile

# The FTS5 tokenizer of the passage table; index/bm25.py stems query words with the same one.
TOKENIZE = "porter unicode61 remove_diacritics 2"

SCHEMA = f"""
CREATE TABLE passages (
    row INTEGER PRIMARY KEY,          -- the vector id in the vector store
    id TEXT NOT NULL UNIQUE,          -- stable, content-derived (or given) passage id
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{{}}',
    position INTEGER NOT NULL DEFAULT 0,
    grp INTEGER NOT NULL              -- answers to one question share it: the first one's row
);
CREATE INDEX passages_grp ON passages(grp);
CREATE TABLE passage_sources (
    row INTEGER NOT NULL REFERENCES passages(row),
    source TEXT NOT NULL,
    name TEXT NOT NULL,               -- file name of source, so a filter can use either
    PRIMARY KEY (row, source)
);
CREATE INDEX passage_sources_source ON passage_sources(source);
CREATE INDEX passage_sources_name ON passage_sources(name);
CREATE TABLE chunks (
    chunk INTEGER PRIMARY KEY,        -- the vector id in the vector store
    row INTEGER NOT NULL REFERENCES passages(row),
    start INTEGER NOT NULL,           -- [start, end): character span of the answer embedded
    end INTEGER NOT NULL
);
CREATE INDEX chunks_row ON chunks(row);
-- BM25 over question and answer. Porter stemming so "feelings" finds "feeling"; the text lives
-- once, in passages (external content), not twice.
CREATE VIRTUAL TABLE passages_fts USING fts5(
    question, answer, content='passages', content_rowid='row',
    tokenize='{TOKENIZE}'
);
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
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
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
        first_with: dict[str, int] = {}
        groups = [
            first_with.setdefault(p.question, i) if p.question else i
            for i, p in enumerate(passages)
        ]
        with self.conn:
            self.conn.executemany(
                "INSERT INTO passages(row, id, doc_id, source, question, answer, metadata,"
                " position, grp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                        groups[i],
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
            self.conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
        return np.arange(len(passages), dtype=np.int64)

    def write_chunks(self, chunks: Iterable[tuple[int, int, int, int]]) -> None:
        """Insert (chunk id, passage row, start, end) rows."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO chunks(chunk, row, start, end) VALUES (?, ?, ?, ?)", chunks
            )

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

    def all_passages(self) -> list[tuple[int, Passage]]:
        """Every passage with its row id, in row order (what corpus-wide views walk)."""
        sources: dict[int, list[str]] = {}
        for r in self.conn.execute("SELECT row, source FROM passage_sources ORDER BY rowid"):
            sources.setdefault(r["row"], []).append(r["source"])
        return [
            (int(r["row"]), _row_to_passage(r, sources.get(r["row"], [])))
            for r in self.conn.execute("SELECT * FROM passages ORDER BY row")
        ]

    def all_chunks(self) -> list[tuple[int, int]]:
        """(chunk, row) of every window of every passage, in chunk order."""
        sql = "SELECT chunk, row FROM chunks ORDER BY chunk"
        return [(int(c), int(r)) for c, r in self.conn.execute(sql)]

    def rows_of_ids(self, passage_ids: Sequence[str]) -> dict[str, int]:
        """Row id of each of these passage ids that is in the store."""
        if not len(passage_ids):
            return {}
        marks = ",".join("?" * len(passage_ids))
        sql = f"SELECT id, row FROM passages WHERE id IN ({marks})"
        return {i: int(r) for i, r in self.conn.execute(sql, list(passage_ids))}

    def first_chunks(self) -> np.ndarray:
        """The first chunk id of every passage, in row order."""
        sql = "SELECT min(chunk) FROM chunks GROUP BY row ORDER BY row"
        return np.array([r[0] for r in self.conn.execute(sql)], dtype=np.int64)

    def chunks_of(self, rows: Sequence[int]) -> list[tuple[int, int, int, int]]:
        """(chunk, row, start, end) of every window of these passages, in chunk order."""
        if not len(rows):
            return []
        marks = ",".join("?" * len(rows))
        sql = f"SELECT chunk, row, start, end FROM chunks WHERE row IN ({marks}) ORDER BY chunk"
        return [tuple(r) for r in self.conn.execute(sql, [int(r) for r in rows])]

    def bm25(self, match: str, limit: int, rows: Sequence[int] | None = None) -> dict[int, float]:
        """{row: BM25 score} for an FTS5 MATCH expression, best first, higher is better.

        `rows` restricts the search to these passages (filters, or scoring given candidates).
        The caller builds `match` from user text with every operator quoted away.
        """
        sql = "SELECT rowid, -bm25(passages_fts) FROM passages_fts WHERE passages_fts MATCH ?"
        params: list[object] = [match]
        if rows is not None:
            sql += f" AND rowid IN ({','.join('?' * len(rows))})"
            params += [int(r) for r in rows]
        # Unordered first: when every match fits the limit, sorting here costs less than
        # SQLite's ORDER BY (a quarter of the lexical side's time on the bundled corpus).
        found = self.conn.execute(sql + " LIMIT ?", [*params, limit + 1]).fetchall()
        if len(found) > limit:
            found = self.conn.execute(
                sql + " ORDER BY bm25(passages_fts) LIMIT ?", [*params, limit]
            ).fetchall()
        # Best first; ties by row, so the order never depends on the query plan.
        found.sort(key=lambda rs: (-rs[1], rs[0]))
        # rowid comes back as int and -bm25() as float: no per-row conversion needed.
        return dict(found)

    def highlights(
        self, match: str, rows: Sequence[int], open_mark: str, close_mark: str
    ) -> dict[int, tuple[str, str]]:
        """Question and answer of these passages with the tokens `match` found wrapped in marks."""
        if not len(rows):
            return {}
        marks = ",".join("?" * len(rows))
        sql = (
            "SELECT rowid, highlight(passages_fts, 0, ?, ?), highlight(passages_fts, 1, ?, ?) "
            f"FROM passages_fts WHERE passages_fts MATCH ? AND rowid IN ({marks})"
        )
        params = [open_mark, close_mark, open_mark, close_mark, match, *[int(r) for r in rows]]
        return {int(r): (q, a) for r, q, a in self.conn.execute(sql, params)}

    def siblings(self, rows: Sequence[int]) -> dict[int, list[int]]:
        """Answers to the same question: for each group with two or more members among these
        rows' groups, every member (rows outside `rows` included), keyed by member."""
        if not len(rows):
            return {}
        marks = ",".join("?" * len(rows))
        sql = (
            "SELECT grp, row FROM passages WHERE grp IN "
            f"(SELECT grp FROM passages WHERE row IN ({marks})) ORDER BY grp, row"
        )
        members: dict[int, list[int]] = {}
        for grp, row in self.conn.execute(sql, [int(r) for r in rows]):
            members.setdefault(int(grp), []).append(int(row))
        return {m: ms for ms in members.values() if len(ms) > 1 for m in ms}

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

    def source_files(self) -> dict[str, SourceFile]:
        """The documents in the index as SourceFile records, by source."""
        rows = self.conn.execute("SELECT * FROM documents ORDER BY source").fetchall()
        return {
            r["source"]: SourceFile(
                r["source"], r["doc_id"], r["title"], r["sha256"], r["kind"], r["passages"]
            )
            for r in rows
        }

    def document_passages(self) -> dict[str, list[Passage]]:
        """Every document's passages in order, as that document gave them (a passage shared by
        several documents appears under each)."""
        sources: dict[int, list[str]] = {}
        for r in self.conn.execute("SELECT row, source FROM passage_sources ORDER BY rowid"):
            sources.setdefault(r["row"], []).append(r["source"])
        out: dict[str, list[Passage]] = {}
        for r in self.conn.execute("SELECT * FROM passages ORDER BY row"):
            passage = _row_to_passage(r, sources.get(r["row"], []))
            for source in passage.sources:
                out.setdefault(source, []).append(passage)
        return out

    def documents(self) -> list[dict[str, object]]:
        """The documents table as dicts."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM documents ORDER BY source")]
