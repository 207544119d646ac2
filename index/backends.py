"""Where a version's vectors live: a FAISS file in the version folder (the default, embedded) or
a collection on a Milvus server or cluster. Passages, metadata and BM25 stay in the version's
SQLite file either way; only the vectors move, and ranking reads them through the same calls.

With Milvus, each version gets its own collection (named from the index folder and the version,
so several indexes share a server), written and flushed before the version's manifest: a build
interrupted at any point leaves the published version and its collection untouched. After the
CURRENT switch, the alias `<prefix>_current` is pointed at the new collection in one server-side
step, for other tools; counsel-search itself opens the collection its manifest names.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index import publish as pub
from index.errors import IndexCorrupt, IndexNotFound
from index.vectors import FaissStore
from ingest.errors import CounselSearchError

if TYPE_CHECKING:
    from index.manifest import Manifest

log = logging.getLogger(__name__)

FAISS, MILVUS = "faiss", "milvus"
BACKENDS = (FAISS, MILVUS)
ENV_BACKEND = "COUNSEL_SEARCH_BACKEND"
ENV_MILVUS_URI = "COUNSEL_SEARCH_MILVUS_URI"


class BackendError(CounselSearchError):
    """A vector backend that does not exist, or one missing its settings."""


@dataclass(frozen=True)
class Backend:
    """The vector backend of a build: kind, and the server address for Milvus."""

    kind: str = FAISS
    uri: str = ""

    @classmethod
    def choose(
        cls, kind: str | None = None, uri: str | None = None, previous: Manifest | None = None
    ) -> Backend:
        """The flag, else the environment, else what the published version uses, else FAISS."""
        kind = kind or os.environ.get(ENV_BACKEND) or (previous.backend if previous else FAISS)
        kind = kind.strip().lower()
        if kind not in BACKENDS:
            raise BackendError(
                f"unknown vector backend {kind!r}", f"use one of {', '.join(BACKENDS)}"
            )
        if kind == FAISS:
            return cls()
        before = previous.milvus_uri if previous and previous.backend == MILVUS else ""
        uri = uri or os.environ.get(ENV_MILVUS_URI) or before
        if not uri:
            raise BackendError(
                "the Milvus backend needs the server's address",
                f"pass --milvus-uri http://HOST:19530 or set {ENV_MILVUS_URI}",
            )
        return cls(MILVUS, uri)


def prefix(index_dir: Path) -> str:
    """Collection names of one index folder start with this (several indexes, one server)."""
    digest = hashlib.sha1(str(Path(index_dir).resolve()).encode()).hexdigest()[:10]
    return f"counsel_{digest}"


def alias(index_dir: Path) -> str:
    """The Milvus alias that follows the index's current version."""
    return f"{prefix(index_dir)}_current"


def write(
    backend: Backend,
    index_dir: Path,
    folder: Path,
    version: str,
    vectors: np.ndarray,
    model: tuple[str, str],
) -> Any:
    """Store a new version's vectors (ids 0..n-1, the chunk ids); returns the open store."""
    ids = np.arange(len(vectors), dtype=np.int64)
    if backend.kind == FAISS:
        store = FaissStore.build(ids, vectors)
        store.save(folder / pub.VECTORS)
        return store
    from index.milvus_store import MilvusStore, collection_name

    name = collection_name(version, prefix(index_dir))
    return MilvusStore.build(
        backend.uri, name, ids, vectors, model_name=model[0], model_fingerprint=model[1]
    )


def published(backend: Backend, index_dir: Path, store: Any) -> None:
    """After CURRENT switched: point the alias at the new collection, drop unused ones."""
    if backend.kind != MILVUS:
        return
    try:
        store.publish_alias(alias(index_dir))
        prune(index_dir, store)
    except CounselSearchError as exc:
        # The version is published and complete either way; the next build retries both.
        log.warning("Milvus alias or clean-up not done: %s", exc.one_line())
    finally:
        store.close()


def discard(backend: Backend, store: Any | None, collection: str = "") -> None:
    """A build failed: drop what it wrote to the server (best effort, the next build's prune
    catches anything left)."""
    if backend.kind != MILVUS or store is None:
        return
    try:
        store.drop_collection(collection or store.collection, force=True)
    except CounselSearchError as exc:
        log.warning("could not drop an unpublished collection: %s", exc.one_line())
    finally:
        store.close()


def prune(index_dir: Path, store: Any) -> list[str]:
    """Drop this index's collections that no kept version names (old versions, interrupted
    builds)."""
    from index.manifest import Manifest

    keep = set()
    for folder in pub.complete_versions(index_dir):
        try:
            keep.add(Manifest.read(folder / pub.MANIFEST).collection)
        except IndexCorrupt:
            continue
    ours = [c for c in store.collections() if c.startswith(prefix(index_dir) + "_")]
    dropped = [c for c in ours if c not in keep and c != alias(index_dir)]
    for name in dropped:
        store.drop_collection(name, force=True)
    if dropped:
        log.info("dropped old Milvus collections: %s", ", ".join(dropped))
    return dropped


def open_vectors(manifest: Manifest, folder: Path) -> Any:
    """The vector store of a version, as its manifest says. A Milvus collection is opened at
    the recorded address unless COUNSEL_SEARCH_MILVUS_URI names another (a moved server)."""
    if manifest.backend != MILVUS:
        # The manifest's nprobe is the one calibrated at build time.
        return FaissStore.open(folder / pub.VECTORS, nprobe=manifest.nprobe or None)
    from index.milvus_store import MilvusStore

    uri = os.environ.get(ENV_MILVUS_URI) or manifest.milvus_uri
    try:
        return MilvusStore.open(
            uri, manifest.collection, dim=manifest.dim, model_fingerprint=manifest.model_fingerprint
        )
    except IndexNotFound as exc:
        raise IndexCorrupt(
            f"{folder.name}'s vectors are gone: {exc.one_line()}",
            "rebuild the index with: counsel-search build SOURCE... --backend milvus",
        ) from exc
