"""Build, add to and remove from an index: a new version each time, published atomically.

Every update reads only what it must, embeds only windows the embedding cache has not seen, and
writes a complete new version folder before switching CURRENT. The previous version serves until
then; a failed or killed build leaves it untouched.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index import backends, hubness, sentences
from index import publish as pub
from index.backends import Backend
from index.bm25 import LEXICAL_ARRAYS_MAX_PASSAGES, LexicalArrays
from index.cache import EmbeddingCache, text_key
from index.chunking import passage_windows
from index.embed import Embedder, query_encoder
from index.errors import EmptyBuild, IndexNotFound
from index.incremental import Plan, matches, plan_update
from index.manifest import Manifest, SourceRecord, package_versions
from index.reader import open_index
from index.store import PassageStore
from ingest import IngestError, IngestResult, read_sources

log = logging.getLogger(__name__)

# Called as progress(stage, done, total) with stage "read", "embed" or "pages NAME" (the pages
# of one PDF, while "read" is under way).
BuildProgress = Callable[[str, int, int], None]
# Texts embedded per cache commit: a killed build keeps everything embedded before it.
EMBED_CHUNK = 512


@dataclass(frozen=True)
class BuildReport:
    """What an update did: the new version, and what was added, changed, removed, embedded."""

    index_dir: Path
    version: str
    documents: int
    passages: int
    vectors: int
    embedded: int  # windows that went through the model (the rest came from the cache)
    seconds: float
    plan: Plan
    # False when an add or remove changed nothing: no version was written, the current one stays.
    published: bool = True

    @property
    def errors(self) -> tuple[IngestError, ...]:
        return self.plan.errors


def _current_state(
    index_dir: Path, embedder: Embedder, required: bool
) -> tuple[dict, dict, Manifest | None]:
    """Files and per-document passages of the published version, and its manifest ({}, {} and
    None if there is none)."""
    try:
        version = open_index(index_dir)
    except IndexNotFound:
        if required:
            raise
        return {}, {}, None
    try:
        if version.manifest.model_fingerprint != embedder.fingerprint:
            if required:
                version.check_embedder(embedder)
            # A build with another model makes a new index from its sources alone.
            return {}, {}, version.manifest
        files, passages = version.passages.source_files(), version.passages.document_passages()
        return files, passages, version.manifest
    finally:
        version.close()


def _embed(
    texts: list[str], embedder: Embedder, cache: EmbeddingCache, progress: BuildProgress | None
) -> tuple[np.ndarray, int]:
    """Vectors for the texts, from the cache where possible; returns (vectors, embedded)."""
    keys = [text_key(t) for t in texts]
    known = cache.get_many(keys)
    todo = list(dict.fromkeys(k for k in keys if k not in known))
    text_of = dict(zip(keys, texts, strict=True))
    for start in range(0, len(todo), EMBED_CHUNK):
        part = todo[start : start + EMBED_CHUNK]

        def step(d: int, _t: int, base: int = start) -> None:
            if progress:
                progress("embed", base + d, len(todo))

        vectors = embedder.encode([text_of[k] for k in part], progress=step)
        cache.put_many(part, vectors)
        known.update(zip(part, vectors, strict=True))
    if progress and not todo:
        progress("embed", 0, 0)
    out = np.vstack([known[k] for k in keys]) if keys else np.zeros((0, embedder.dim), np.float32)
    return out.astype(np.float32), len(todo)


def _embed_parts(
    texts: list[str],
    embedder: Embedder,
    caches: list[EmbeddingCache],
    progress: BuildProgress | None,
) -> tuple[np.ndarray, int]:
    """The embedder's vectors of the texts, each model of a pair through its own cache, then
    joined; returns (vectors, texts embedded by the model that embedded most)."""
    parts = getattr(embedder, "parts", None) or (embedder,)
    each = [_embed(texts, m, c, progress) for m, c in zip(parts, caches, strict=True)]
    embedded = max(n for _, n in each)
    vectors = each[0][0] if len(each) == 1 else embedder.join(*(v for v, _ in each))
    return vectors, embedded


def _write_version(
    plan: Plan,
    index_dir: Path,
    embedder: Embedder,
    backend: Backend,
    progress: BuildProgress | None,
    started: float,
    full_build_seconds: float | None = None,
) -> BuildReport:
    """Write a complete version for the plan and publish it (the caller holds the lock).

    `full_build_seconds`: an add or remove keeps the last full build's time in the manifest
    (this run's time goes to `update_seconds`), so `info` does not call an add a build.
    """
    if not plan.passages:
        detail = "; ".join(e.one_line() for e in plan.errors[:3])
        raise EmptyBuild(
            "the index would hold no passages" + (f": {detail}" if detail else ""),
            "check the paths and file types (.txt .md .html .csv .jsonl .pdf .docx)",
        )
    versions = index_dir / pub.VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    name = pub.new_version_name()
    partial = versions / f"{name}{pub.PARTIAL}"
    partial.mkdir()
    # A pair of models (index/pair.py) keeps one cache per model: switching from a model to a
    # pair built on it embeds only with the new one.
    parts = getattr(embedder, "parts", None) or (embedder,)
    caches = [EmbeddingCache.open(index_dir, m.fingerprint, m.dim) for m in parts]
    vstore = None
    try:
        passages = list(plan.passages)
        store = PassageStore.create(partial / pub.PASSAGES)
        rows = store.write(passages, plan.files)
        chunks: list[tuple[int, int, int, int]] = []
        texts: list[str] = []
        for row, passage in zip(rows, passages, strict=True):
            for w in passage_windows(passage, embedder):
                chunks.append((len(chunks), int(row), w.start, w.end))
                texts.append(w.text)
        store.write_chunks(chunks)
        if len(passages) <= LEXICAL_ARRAYS_MAX_PASSAGES:
            LexicalArrays.from_db(store.conn).save(partial / pub.LEXICAL)
        store.close()
        vectors, embedded = _embed_parts(texts, embedder, caches, progress)
        # The answers' sentences, for explanations (index/sentences.py): embedded once here,
        # through the same cache, rather than at every query. A pair's are its first model's
        # alone (like its crisis check): its query vector starts with that model's own.
        offsets, spans, said = sentences.of_answers([p.answer for p in passages])
        sentence_progress = (lambda _s, d, t: progress("sentences", d, t)) if progress else None
        svectors, _ = _embed(said, parts[0], caches[0], sentence_progress)
        sentences.save(partial, offsets, spans, svectors)
        owners = np.array([c[1] for c in chunks], dtype=np.int64)
        hubness.save(partial / pub.HUBNESS, hubness.window_radii(vectors, owners))
        # Vectors are keyed by chunk id; the chunks table maps each to its passage row. The
        # index type (exact or IVF) follows the final count, so an update crossing the
        # threshold switches type.
        model = (embedder.name, embedder.fingerprint)
        vstore = backends.write(backend, index_dir, partial, name, vectors, model)
        # One reading of the clock: a full build's two times must be equal, not 1 ms apart.
        took = round(time.perf_counter() - started, 3)
        manifest = Manifest(
            version=name,
            model_name=embedder.name,
            model_fingerprint=embedder.fingerprint,
            dim=embedder.dim,
            passages=len(passages),
            vectors=len(chunks),
            documents=len(plan.files),
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            build_seconds=full_build_seconds if full_build_seconds is not None else took,
            update_seconds=took,
            sources=tuple(
                SourceRecord(f.source, f.doc_id, f.sha256, f.kind, f.title, f.n_passages)
                for f in plan.files
            ),
            packages=package_versions(),
            index_type=vstore.index_type,
            nlist=vstore.nlist,
            nprobe=vstore.nprobe,
            backend=backend.kind,
            milvus_uri=backend.uri,
            collection=getattr(vstore, "collection", ""),
            models=tuple((m.name, m.fingerprint) for m in parts),
            query_encoder=query_encoder(embedder),
        )
        # The manifest is written last: a version folder with a manifest is complete.
        (partial / pub.MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        final = pub.publish(index_dir, partial)
        for cache in caches:
            cache.prune(len(chunks) + len(said))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        backends.discard(backend, vstore)
        raise
    finally:
        for cache in caches:
            cache.close()
    removed = pub.cleanup(index_dir)
    if removed:
        log.info("removed old index versions: %s", ", ".join(removed))
    backends.published(backend, index_dir, vstore)
    return BuildReport(
        index_dir=index_dir,
        version=final.name,
        documents=len(plan.files),
        passages=len(passages),
        vectors=len(chunks),
        embedded=embedded,
        seconds=time.perf_counter() - started,
        plan=plan,
    )


def update_index(
    index_dir: Path,
    embedder: Embedder,
    *,
    sources: Sequence[str | Path] = (),
    keep_others: bool,
    remove: Sequence[str] = (),
    question_col: str | None = None,
    answer_col: str | None = None,
    progress: BuildProgress | None = None,
    result: IngestResult | None = None,
    backend: str | None = None,
    milvus_uri: str | None = None,
) -> BuildReport:
    """The one update path behind build, add and remove (see those)."""
    started = time.perf_counter()
    index_dir = Path(index_dir)
    with pub.build_lock(index_dir):
        old_files, old_passages, previous = _current_state(index_dir, embedder, keep_others)
        chosen = Backend.choose(backend, milvus_uri, previous)
        if remove:
            unknown = [n for n in remove if not any(matches(s, [n]) for s in old_files)]
            if unknown:
                raise IngestError(
                    unknown[0],
                    "is not a source of this index",
                    "see the sources with: counsel-search info",
                )
        if result is None:
            result = read_sources(
                sources,
                question_col=question_col,
                answer_col=answer_col,
                progress=(lambda d, t: progress("read", d, t)) if progress else None,
                # A long PDF's pages as a stage of their own ("pages NAME"), under the files.
                page_progress=(
                    (lambda s, d, t: progress(f"pages {s}", d, t)) if progress else None
                ),
            )
        plan = plan_update(old_files, old_passages, result, keep_others=keep_others, remove=remove)
        if keep_others and previous is not None and _changes_nothing(plan, previous, chosen):
            # Publishing an identical version would only discard what is cached with the current
            # one (maps, themes) and make every open page reload.
            return _unchanged_report(index_dir, plan, previous, started)
        carried = previous.build_seconds if keep_others and previous is not None else None
        return _write_version(plan, index_dir, embedder, chosen, progress, started, carried)


def _changes_nothing(plan: Plan, previous: Manifest, backend: Backend) -> bool:
    """Whether the plan leaves the published version's documents and backend as they are."""
    moved = plan.documents_added or plan.documents_changed or plan.documents_removed
    return not moved and backend.kind == previous.backend


def _unchanged_report(
    index_dir: Path, plan: Plan, previous: Manifest, started: float
) -> BuildReport:
    """The report of an update that publishes nothing: the current version's counts."""
    return BuildReport(
        index_dir=index_dir,
        version=previous.version,
        documents=previous.documents,
        passages=previous.passages,
        vectors=previous.vectors,
        embedded=0,
        seconds=time.perf_counter() - started,
        plan=plan,
        published=False,
    )


def build_index(
    sources: Sequence[str | Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    question_col: str | None = None,
    answer_col: str | None = None,
    progress: BuildProgress | None = None,
    backend: str | None = None,
    milvus_uri: str | None = None,
) -> BuildReport:
    """Make the index hold exactly these sources (files or folders).

    Unchanged text is not embedded again (the cache); bad files are reported in
    `BuildReport.errors` and skipped, and a file already indexed that can no longer be read
    keeps its passages.
    """
    return update_index(
        index_dir,
        embedder,
        sources=sources,
        keep_others=False,
        question_col=question_col,
        answer_col=answer_col,
        progress=progress,
        backend=backend,
        milvus_uri=milvus_uri,
    )


def add_sources(
    sources: Sequence[str | Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    question_col: str | None = None,
    answer_col: str | None = None,
    progress: BuildProgress | None = None,
    backend: str | None = None,
    milvus_uri: str | None = None,
) -> BuildReport:
    """Add files (or re-read changed ones) to the current index; the rest stays."""
    return update_index(
        index_dir,
        embedder,
        sources=sources,
        keep_others=True,
        question_col=question_col,
        answer_col=answer_col,
        progress=progress,
        backend=backend,
        milvus_uri=milvus_uri,
    )


def remove_sources(
    names: Sequence[str],
    index_dir: Path,
    embedder: Embedder,
    *,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Drop documents (by source path or file name) from the current index."""
    return update_index(
        index_dir,
        embedder,
        keep_others=True,
        remove=names,
        progress=progress,
        result=IngestResult((), ()),
    )


def build_from_result(
    result: IngestResult,
    index_dir: Path,
    embedder: Embedder,
    *,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Make the index hold exactly the passages of an ingest result (already read)."""
    return update_index(index_dir, embedder, keep_others=False, progress=progress, result=result)
