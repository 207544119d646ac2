"""The index manifest: what built the index, from what, and what it holds."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from index.errors import IndexCorrupt

FORMAT_VERSION = 1
SIMILARITY = "cosine"  # inner product over L2-normalized vectors


@dataclass(frozen=True)
class SourceRecord:
    """One source file in the index and the hash of its bytes at build time."""

    source: str
    doc_id: str
    sha256: str
    kind: str
    title: str
    passages: int


@dataclass(frozen=True)
class Manifest:
    """The JSON manifest at the root of every index version."""

    version: str
    model_name: str
    model_fingerprint: str
    dim: int
    passages: int
    vectors: int  # one per window: long passages have several
    documents: int
    built_at: str
    build_seconds: float
    sources: tuple[SourceRecord, ...]
    similarity: str = SIMILARITY
    format_version: int = FORMAT_VERSION
    packages: dict[str, str] = field(default_factory=dict, hash=False)
    # The vector index FAISS holds (index.vectors): "flat" (exact) or "ivf" (approximate), with
    # its lists and the lists scanned per query. Manifests written before IVF read as flat.
    index_type: str = "flat"
    nlist: int = 0
    nprobe: int = 0
    # Where the vectors are (index.backends): "faiss" (vectors.faiss in the version folder) or
    # "milvus" (the collection named here, on the server at milvus_uri).
    backend: str = "faiss"
    milvus_uri: str = ""
    collection: str = ""
    # (name, weight fingerprint) of each model whose vectors are in the index: the model alone,
    # or both models of a pair (index/pair.py). Manifests written before pairs leave it empty.
    models: tuple[tuple[str, str], ...] = ()
    # Seconds the update that wrote this version took; build_seconds stays the last full build's
    # (an add or remove carries it over). Manifests written before this field read as 0.
    update_seconds: float = 0.0
    # What the index's queries can be encoded with (index.embed.query_encoder): "onnxruntime"
    # (the model's ONNX export and fast tokenizer, no torch) or "sentence-transformers"
    # (PyTorch). Manifests written before this field read as sentence-transformers, which was
    # the query path then; such an index is still searched through the export when the model
    # has one (the vectors are the same, tests/test_onnx_query.py).
    query_encoder: str = "sentence-transformers"

    def to_json(self) -> str:
        """Pretty JSON, stable key order."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read and validate a manifest file."""
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            raw["sources"] = tuple(SourceRecord(**s) for s in raw.get("sources", []))
            raw["models"] = tuple(tuple(m) for m in raw.get("models", []))
            manifest = cls(**raw)
        except FileNotFoundError as exc:
            raise IndexCorrupt(
                f"{path} is missing", "rebuild the index with: counsel-search build SOURCE..."
            ) from exc
        except (ValueError, TypeError) as exc:
            raise IndexCorrupt(
                f"{path} is not a valid manifest ({exc})",
                "rebuild the index with: counsel-search build SOURCE...",
            ) from exc
        if manifest.format_version != FORMAT_VERSION:
            raise IndexCorrupt(
                f"{path} has index format {manifest.format_version}, this version reads "
                f"{FORMAT_VERSION}",
                "rebuild the index with: counsel-search build SOURCE...",
            )
        return manifest


def package_versions() -> dict[str, str]:
    """Versions of the packages whose changes could change vectors or the file formats."""
    out = {"python": platform.python_version()}
    for name in (
        "counsel-search",
        "sentence-transformers",
        "transformers",
        "torch",
        "faiss-cpu",
        "numpy",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
