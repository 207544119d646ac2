"""In-memory lookup tables for ranking: which passage owns each window, the windows and answer
group of each passage, and the order of passage ids, as numpy arrays.

Every query needs these for a few hundred candidates. Asking SQLite each time cost more than the
model's encode of the query (docs/performance.md); read once per index version, they answer by
array indexing. Row and chunk ids are small non-negative integers (SQLite rowids assigned in build
order), so arrays indexed by them stay dense; a missing id maps to -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.store import PassageStore


def _gather(ptr: np.ndarray, values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, ...]:
    """For CSR arrays (`values[ptr[k]:ptr[k+1]]` belong to key k): every value of these keys, in
    key order, plus the index into `keys` of each value's owner and each key's offset."""
    starts, ends = ptr[keys], ptr[keys + 1]
    lens = ends - starts
    offsets = np.cumsum(lens) - lens
    total = int(lens.sum())
    pos = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lens)
    owner = np.repeat(np.arange(len(keys), dtype=np.int64), lens)
    return values[pos], owner, offsets, lens


def _csr(keys: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Group values by key (stable, so values keep their order within a key)."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=size)
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, values[order]


@dataclass(frozen=True)
class RankTables:
    """Arrays indexed by chunk id or passage row (see the module docstring)."""

    chunk_row: np.ndarray  # chunk id -> passage row
    chunk_start: np.ndarray  # chunk id -> start of its span in the answer
    chunk_end: np.ndarray
    row_ptr: np.ndarray  # CSR: chunks of row r are row_chunks[row_ptr[r]:row_ptr[r + 1]]
    row_chunks: np.ndarray  # in chunk order within each row (the first is the opening)
    row_group: np.ndarray  # row -> answer group (-1: no such row)
    group_ptr: np.ndarray  # CSR: rows of group g are group_rows[group_ptr[g]:group_ptr[g + 1]]
    group_rows: np.ndarray
    id_rank: np.ndarray  # row -> position of its passage id in sorted order (ties by id)

    @classmethod
    def load(cls, store: PassageStore) -> RankTables:
        """Read the tables from a passage database (one pass over passages and chunks)."""
        conn = store.conn
        chunks = np.array(
            conn.execute("SELECT chunk, row, start, end FROM chunks ORDER BY chunk").fetchall(),
            dtype=np.int64,
        ).reshape(-1, 4)
        passages = conn.execute("SELECT row, grp, id FROM passages").fetchall()
        rows = np.array([p[0] for p in passages], dtype=np.int64)
        groups = np.array([p[1] for p in passages], dtype=np.int64)
        n_rows = int(rows.max()) + 1 if rows.size else 0
        n_rows = max(n_rows, int(chunks[:, 1].max()) + 1 if len(chunks) else 0)
        n_chunks = int(chunks[:, 0].max()) + 1 if len(chunks) else 0

        chunk_row = np.full(n_chunks, -1, dtype=np.int64)
        chunk_start = np.zeros(n_chunks, dtype=np.int64)
        chunk_end = np.zeros(n_chunks, dtype=np.int64)
        chunk_row[chunks[:, 0]] = chunks[:, 1]
        chunk_start[chunks[:, 0]] = chunks[:, 2]
        chunk_end[chunks[:, 0]] = chunks[:, 3]
        row_ptr, row_chunks = _csr(chunks[:, 1], chunks[:, 0], n_rows)

        row_group = np.full(n_rows, -1, dtype=np.int64)
        row_group[rows] = groups
        n_groups = int(groups.max()) + 1 if groups.size else 0
        group_ptr, group_rows = _csr(groups, rows, n_groups)
        # Group members in row order, as the database's siblings() gives them.
        for_sort = np.lexsort((group_rows, np.repeat(np.arange(n_groups), np.diff(group_ptr))))
        group_rows = group_rows[for_sort]

        id_rank = np.full(n_rows, np.iinfo(np.int64).max, dtype=np.int64)
        by_id = sorted(range(len(passages)), key=lambda i: passages[i][2])
        id_rank[rows[by_id]] = np.arange(len(by_id), dtype=np.int64)
        return cls(
            chunk_row,
            chunk_start,
            chunk_end,
            row_ptr,
            row_chunks,
            row_group,
            group_ptr,
            group_rows,
            id_rank,
        )

    def chunks_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Windows of these rows: (chunk ids, index into `rows` of each chunk's owner, offset of
        each row's first chunk, number of chunks per row). Chunks of a row are in chunk order."""
        rows = np.asarray(rows, dtype=np.int64)
        return _gather(self.row_ptr, self.row_chunks, rows)

    def siblings(self, rows: np.ndarray) -> np.ndarray:
        """Every row in the answer groups of these rows (the rows themselves included)."""
        rows = np.asarray(rows, dtype=np.int64)
        groups = np.unique(self.row_group[rows])
        members, _, _, _ = _gather(self.group_ptr, self.group_rows, groups[groups >= 0])
        return members
