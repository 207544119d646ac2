"""Index stage: passages in, a persisted, versioned index directory out."""

from index.build import (
    BuildReport,
    add_sources,
    build_from_result,
    build_index,
    remove_sources,
)
from index.embed import DEFAULT_MODEL, Embedder, load_embedder
from index.errors import (
    BuildLocked,
    EmptyBuild,
    IndexCorrupt,
    IndexNotFound,
    ModelChecksumMismatch,
    ModelMismatch,
    ModelNotFound,
)
from index.manifest import Manifest
from index.publish import default_index_dir
from index.reader import IndexVersion, open_index

__all__ = [
    "DEFAULT_MODEL",
    "BuildLocked",
    "BuildReport",
    "Embedder",
    "EmptyBuild",
    "IndexCorrupt",
    "IndexNotFound",
    "IndexVersion",
    "Manifest",
    "ModelChecksumMismatch",
    "ModelMismatch",
    "ModelNotFound",
    "add_sources",
    "build_from_result",
    "build_index",
    "default_index_dir",
    "load_embedder",
    "open_index",
    "remove_sources",
]
