"""Exceptions raised by the index stage; each carries a hint the faces print."""

from __future__ import annotations

from ingest.errors import CounselSearchError


class IndexNotFound(CounselSearchError):
    """No published index at the given directory."""


class IndexCorrupt(CounselSearchError):
    """An index directory exists but a file in it is missing or unreadable."""


class ModelMismatch(CounselSearchError):
    """The index was built with another model (or dimension) than the one asked for."""


class ModelNotFound(CounselSearchError):
    """The embedding model cannot be found locally (nothing is downloaded)."""


class ModelChecksumMismatch(CounselSearchError):
    """The model's weight file does not match its published sha256."""


class BuildLocked(CounselSearchError):
    """Another build holds the index's lock."""


class EmptyBuild(CounselSearchError):
    """The sources gave no passages at all, so there is nothing to publish."""
