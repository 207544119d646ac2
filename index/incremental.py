"""Plan an index update: which documents and passages are added, changed, removed or unchanged.

Pure bookkeeping, no embedding: the builder turns a plan into a new version, and the embedding
cache makes only new text cost model time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from ingest import IngestError, IngestResult, Passage, SourceFile, doc_id_for, merge_passages


@dataclass(frozen=True)
class Plan:
    """The passages and files of the next version, and what changed to get there."""

    passages: tuple[Passage, ...]
    files: tuple[SourceFile, ...]
    documents_added: tuple[str, ...] = ()
    documents_changed: tuple[str, ...] = ()
    documents_removed: tuple[str, ...] = ()
    documents_unchanged: tuple[str, ...] = ()
    passages_added: int = 0
    passages_changed: int = 0
    passages_removed: int = 0
    passages_unchanged: int = 0
    errors: tuple[IngestError, ...] = ()


def per_source(result: IngestResult) -> dict[str, list[Passage]]:
    """The passages of each file read, in order (a merged duplicate under each of its files)."""
    out: dict[str, list[Passage]] = {f.source: [] for f in result.files}
    for p in result.passages:
        for source in p.sources or (p.source,):
            if source in out:
                out[source].append(p)
    return out


def matches(source: str, names: Sequence[str]) -> bool:
    """Whether a source is named by a path or a file name in `names`."""
    return any(source == n or PurePosixPath(source).name == n for n in names)


def _compare(old: Sequence[Passage], new: Sequence[Passage]) -> tuple[int, int, int, int]:
    """(added, changed, removed, unchanged) passages of one document: a passage whose text
    changed in place (same position, new id) counts as changed, not as removed and added."""
    old_ids, new_ids = {p.id for p in old}, {p.id for p in new}
    unchanged = len(old_ids & new_ids)
    gone = {p.position: p for p in old if p.id not in new_ids}
    fresh = [p for p in new if p.id not in old_ids]
    changed = sum(1 for p in fresh if p.position in gone)
    return len(fresh) - changed, changed, len(gone) - changed, unchanged


def plan_update(
    old_files: Mapping[str, SourceFile],
    old_passages: Mapping[str, list[Passage]],
    read: IngestResult,
    *,
    keep_others: bool,
    remove: Sequence[str] = (),
) -> Plan:
    """Combine the current index with freshly read files.

    keep_others=False (build): the index holds exactly the files read. True (add): files already
    in the index stay unless re-read or named in `remove`. A file that could not be read keeps
    its indexed passages, so a bad or vanished file never loses what was indexed.
    """
    fresh = per_source(read)
    new_files = {f.source: f for f in read.files}
    failed = {e.source for e in read.errors} - set(new_files)
    docs: dict[str, tuple[SourceFile, list[Passage]]] = {}
    added, changed, removed, unchanged = [], [], [], []
    counts = [0, 0, 0, 0]
    for source, file in old_files.items():
        if matches(source, remove):
            removed.append(source)
            counts[2] += len(old_passages.get(source, []))
        elif source in new_files or keep_others or source in failed:
            if source not in new_files:
                docs[source] = (file, old_passages.get(source, []))
        else:
            removed.append(source)
            counts[2] += len(old_passages.get(source, []))
    for source, file in new_files.items():
        new = fresh.get(source, [])
        if source in old_files:
            old = old_passages.get(source, [])
            same = old_files[source].sha256 == file.sha256
            (unchanged if same else changed).append(source)
            counts = [a + b for a, b in zip(counts, _compare(old, new), strict=True)]
        else:
            added.append(source)
            counts[0] += len(new)
        docs[source] = (file, new)
    for source in docs:
        if source not in new_files:
            unchanged.append(source)
            counts[3] += len(docs[source][1])
    ordered = sorted(docs)
    passages, merge_errors = merge_passages([_as_of(source, docs[source][1]) for source in ordered])
    return Plan(
        passages=passages,
        files=tuple(docs[s][0] for s in ordered),
        documents_added=tuple(added),
        documents_changed=tuple(changed),
        documents_removed=tuple(removed),
        documents_unchanged=tuple(unchanged),
        passages_added=counts[0],
        passages_changed=counts[1],
        passages_removed=counts[2],
        passages_unchanged=counts[3],
        errors=read.errors + merge_errors,
    )


def _as_of(source: str, passages: list[Passage]) -> list[Passage]:
    """The passages of one document, each seen as coming from it alone; merging duplicates
    then rebuilds `sources` from the documents that are still there."""
    doc_id = doc_id_for(source)
    return [
        p
        if p.sources == (source,) and p.source == source
        else dataclasses.replace(p, source=source, sources=(source,), doc_id=doc_id)
        for p in passages
    ]
