"""Open the published version of an index directory for reading."""

from __future__ import annotations

import dataclasses
import threading
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from index import backends, hubness
from index import publish as pub
from index.bm25 import LEXICAL_ARRAYS_MAX_PASSAGES, LexicalArrays
from index.embed import Embedder
from index.errors import IndexCorrupt, ModelMismatch
from index.manifest import Manifest
from index.store import PassageStore
from index.tables import RankTables
from index.vectors import FaissStore

# One thread at a time derives a version's lexical arrays (the FTS5 pass uses a temp table) or
# hub radii (both are computed once per version).
_DERIVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class IndexVersion:
    """One published, complete version: its manifest, passages and vectors."""

    index_dir: Path
    folder: Path
    manifest: Manifest
    passages: PassageStore
    vectors: FaissStore  # or a MilvusStore (index.backends): the same calls
    # Set when this is an older version opened because the current one is damaged: why.
    damaged: str = ""

    @property
    def version(self) -> str:
        return self.folder.name

    @cached_property
    def tables(self) -> RankTables:
        """Lookup arrays the ranking reads on every query, loaded on first use (a version
        never changes once published, so they stay valid while it is open)."""
        return RankTables.load(self.passages)

    @cached_property
    def lexical(self) -> LexicalArrays | None:
        """BM25 postings as arrays (index/bm25.py), or None for a corpus too large for them:
        read from the version's file, else from its FTS5 index (versions built before it)."""
        if self.manifest.passages > LEXICAL_ARRAYS_MAX_PASSAGES:
            return None
        with _DERIVE_LOCK:
            try:
                return LexicalArrays.load(self.folder / pub.LEXICAL)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                return LexicalArrays.from_db(self.passages.conn)

    @cached_property
    def radii(self) -> np.ndarray | None:
        """Each window's hub radius (index/hubness.py; indexed by chunk id), for hubness-
        corrected dense scores: read from the version's file, else computed from its vectors
        when they are few enough for an exact pass (versions built before it), else None
        (plain cosines)."""
        windows = self.manifest.vectors
        radii = hubness.load(self.folder / pub.HUBNESS, windows)
        if radii is None and 0 < windows <= hubness.EXACT_MAX_WINDOWS:
            with _DERIVE_LOCK:
                radii = self.window_radii()
        return radii

    def window_radii(self, k: int = hubness.NEIGHBOURS) -> np.ndarray:
        """Hub radii over k neighbours, computed from this version's stored vectors."""
        ids = np.arange(self.manifest.vectors)
        return hubness.window_radii(self.vectors.get(ids), self.tables.chunk_row[ids], k=k)

    def check_embedder(self, embedder: Embedder) -> None:
        """Refuse a model other than the one that built this version."""
        m = self.manifest
        if embedder.dim != m.dim or embedder.fingerprint != m.model_fingerprint:
            raise ModelMismatch(
                f"the index at {self.index_dir} was built with model {m.model_name} "
                f"(dim {m.dim}), not {embedder.name} (dim {embedder.dim})",
                f"search it with --model {m.model_name}, or rebuild it with: "
                f"counsel-search build SOURCE... --model {embedder.name}",
            )

    def embeddings(self) -> np.ndarray:
        """One vector per passage, in row order: the first window's (the passage's opening,
        which is its whole text when it fits the model)."""
        firsts = self.passages.first_chunks()
        return self.vectors.get(firsts)

    def close(self) -> None:
        """Release the database connection (and a vector server's)."""
        self.passages.close()
        self.vectors.close()


def open_index(index_dir: Path, fallback: bool = False) -> IndexVersion:
    """Open the current version; raises IndexNotFound, IndexCorrupt with a fix in the hint.

    With `fallback`, a damaged current version gives way to the newest older version that opens
    cleanly, with `damaged` saying what is wrong (the page keeps serving and says so); the
    error is raised only when no version opens.
    """
    index_dir = Path(index_dir)
    try:
        return _open_folder(index_dir, pub.current_version(index_dir))
    except IndexCorrupt as exc:
        if not fallback:
            raise
        for folder in pub.complete_versions(index_dir):
            try:
                version = _open_folder(index_dir, folder)
            except IndexCorrupt:
                continue
            if version.folder.name != _pointed(index_dir):
                return dataclasses.replace(version, damaged=exc.one_line())
            version.close()
        raise


def _pointed(index_dir: Path) -> str:
    try:
        return (index_dir / pub.POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _open_folder(index_dir: Path, folder: Path) -> IndexVersion:
    """Open one version folder, checking that its files agree with its manifest."""
    manifest = Manifest.read(folder / pub.MANIFEST)
    passages = PassageStore.open(folder / pub.PASSAGES)
    vec_path = folder / pub.VECTORS
    fix = "rebuild the index with: counsel-search build SOURCE..."
    try:
        vectors = backends.open_vectors(manifest, folder)
    except RuntimeError as exc:  # FAISS raises RuntimeError on missing or truncated files
        passages.close()
        raise IndexCorrupt(f"{vec_path} is missing or damaged", fix) from exc
    except BaseException:  # a Milvus server down, a collection gone: the error says which
        passages.close()
        raise
    if vectors.index_type != manifest.index_type:
        passages.close()
        vectors.close()
        raise IndexCorrupt(
            f"{vec_path} holds a {vectors.index_type} index, the manifest says "
            f"{manifest.index_type}",
            fix,
        )
    n = passages.count()
    if vectors.count() != manifest.vectors or vectors.dim != manifest.dim or n != manifest.passages:
        passages.close()
        vectors.close()
        raise IndexCorrupt(
            f"{folder} is inconsistent: {vectors.count()} vectors of dim {vectors.dim} and "
            f"{n} passages, the manifest says {manifest.vectors} of dim {manifest.dim} and "
            f"{manifest.passages}",
            fix,
        )
    return IndexVersion(index_dir, folder, manifest, passages, vectors)
