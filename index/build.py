"""Build an index version from sources and publish it atomically."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index import publish as pub
from index.chunking import passage_windows
from index.embed import Embedder
from index.errors import EmptyBuild
from index.manifest import Manifest, SourceRecord, package_versions
from index.store import PassageStore
from index.vectors import FaissStore
from ingest import IngestError, IngestResult, read_sources

log = logging.getLogger(__name__)

# Called as progress(stage, done, total) with stage "read" or "embed".
BuildProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    index_dir: Path
    version: str
    documents: int
    passages: int
    embedded: int
    seconds: float
    errors: tuple[IngestError, ...]


def build_from_result(
    result: IngestResult,
    index_dir: Path,
    embedder: Embedder,
    *,
    progress: BuildProgress | None = None,
    batch_size: int = 64,
) -> BuildReport:
    """Embed the passages of an ingest result into a new version and publish it.

    The previous version keeps serving until the new one is complete on disk; if anything
    fails (or the process is killed) the partial folder is discarded and CURRENT is untouched.
    """
    if not result.passages:
        detail = "; ".join(e.one_line() for e in result.errors[:3])
        raise EmptyBuild(
            "the sources gave no passages" + (f": {detail}" if detail else ""),
            "check the paths and file types (.txt .md .html .csv .jsonl)",
        )
    started = time.perf_counter()
    index_dir = Path(index_dir)
    with pub.build_lock(index_dir):
        versions = index_dir / pub.VERSIONS
        versions.mkdir(parents=True, exist_ok=True)
        name = pub.new_version_name()
        partial = versions / f"{name}{pub.PARTIAL}"
        partial.mkdir()
        try:
            passages = list(result.passages)
            store = PassageStore.create(partial / pub.PASSAGES)
            rows = store.write(passages, result.files)
            chunks: list[tuple[int, int, int, int]] = []
            texts: list[str] = []
            for row, passage in zip(rows, passages, strict=True):
                for w in passage_windows(passage, embedder):
                    chunks.append((len(chunks), int(row), w.start, w.end))
                    texts.append(w.text)
            store.write_chunks(chunks)
            store.close()
            vectors = embedder.encode(
                texts,
                batch_size=batch_size,
                progress=(lambda d, t: progress("embed", d, t)) if progress else None,
            )
            vstore = FaissStore.create(embedder.dim)
            # Vectors are keyed by chunk id; the chunks table maps each to its passage row.
            vstore.add(np.arange(len(chunks), dtype=np.int64), vectors)
            vstore.save(partial / pub.VECTORS)
            seconds = time.perf_counter() - started
            manifest = Manifest(
                version=name,
                model_name=embedder.name,
                model_fingerprint=embedder.fingerprint,
                dim=embedder.dim,
                passages=len(passages),
                vectors=len(chunks),
                documents=len(result.files),
                built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                build_seconds=round(seconds, 3),
                sources=tuple(
                    SourceRecord(f.source, f.doc_id, f.sha256, f.kind, f.title, f.n_passages)
                    for f in result.files
                ),
                packages=package_versions(),
            )
            # The manifest is written last: a version folder with a manifest is complete.
            (partial / pub.MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
            final = pub.publish(index_dir, partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        removed = pub.cleanup(index_dir)
        if removed:
            log.info("removed old index versions: %s", ", ".join(removed))
    return BuildReport(
        index_dir=index_dir,
        version=final.name,
        documents=len(result.files),
        passages=len(passages),
        embedded=len(texts),
        seconds=time.perf_counter() - started,
        errors=result.errors,
    )


def build_index(
    sources: Sequence[str | Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    question_col: str | None = None,
    answer_col: str | None = None,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Read sources, embed their passages and publish a new index version holding exactly them.

    Bad files are reported in `BuildReport.errors` and skipped; the rest goes in.
    """
    result = read_sources(
        sources,
        question_col=question_col,
        answer_col=answer_col,
        progress=(lambda d, t: progress("read", d, t)) if progress else None,
    )
    return build_from_result(result, index_dir, embedder, progress=progress)
