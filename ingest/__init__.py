"""Ingest stage: files in, question-and-answer passages out. Knows nothing of embeddings."""

from ingest.errors import CounselSearchError, IngestError, SourceNotFound, UnsupportedFile
from ingest.readers import SUPPORTED_EXTENSIONS, merge_passages, read_file, read_sources
from ingest.split import parse_document, split_document
from ingest.text import normalize_text
from ingest.types import (
    Document,
    IngestResult,
    Passage,
    SourceFile,
    content_id,
    doc_id_for,
    page_label,
)

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "CounselSearchError",
    "Document",
    "IngestError",
    "IngestResult",
    "Passage",
    "SourceFile",
    "SourceNotFound",
    "UnsupportedFile",
    "content_id",
    "doc_id_for",
    "merge_passages",
    "normalize_text",
    "page_label",
    "parse_document",
    "read_file",
    "read_sources",
    "split_document",
]
