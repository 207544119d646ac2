"""Reading sources: files and folders in, passages (exact duplicates merged) out.

A bad file never stops a batch: its error is recorded in the result and the rest goes in.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

from ingest.docx import read_docx
from ingest.errors import IngestError, SourceNotFound, UnsupportedFile
from ingest.markup import html_to_text
from ingest.pdf import read_pdf
from ingest.split import Unanswered, parse_document, split_document_report
from ingest.structured import PageProgress, split_structured
from ingest.tables import pick_columns, read_csv, read_jsonl, rows_to_passages
from ingest.text import decode_bytes
from ingest.types import IngestResult, Passage, SourceFile, doc_id_for

logger = logging.getLogger(__name__)

# Larger files are refused: reading one means holding it (and its passages) in memory at once.
# Module-level so that a caller with more memory, or a test, can change it.
MAX_FILE_BYTES = 50 * 1024 * 1024

# File extension (lower case) -> kind recorded in SourceFile.kind.
SUPPORTED_EXTENSIONS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".pdf": "pdf",
    ".docx": "docx",
}

PathLike = str | os.PathLike[str]
Progress = Callable[[int, int], None]
# Called as page_progress(source, done, total) while a PDF is read, page by page.
SourceProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FileRead:
    """Everything read from one file: the file, its passages, and problems that skipped a part.

    `warnings` are errors confined to part of the file (a broken JSONL line); the rest of the
    file was read.
    """

    file: SourceFile
    passages: tuple[Passage, ...]
    warnings: tuple[IngestError, ...] = ()


def source_for(path: PathLike) -> str:
    """The source string of a path: as given, normalized, in POSIX form (not made absolute)."""
    return PurePath(os.path.normpath(os.fspath(path))).as_posix()


def _kind_of(name: str) -> str | None:
    return SUPPORTED_EXTENSIONS.get(os.path.splitext(name)[1].lower())


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def _too_big(source: str, size: int) -> IngestError:
    return IngestError(
        source,
        f"is {_size(size)}, over the {_size(MAX_FILE_BYTES)} limit for one file",
        hint="split it into smaller files, or raise ingest.readers.MAX_FILE_BYTES",
    )


def _read_bytes(path: PathLike, source: str) -> bytes:
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IngestError(
                source,
                "is a folder, not a file",
                hint="pass the folder to read_sources to read its files",
            )
        if not stat.S_ISREG(info.st_mode):
            # Reading a named pipe or a device would block, or never end.
            raise IngestError(
                source, "is not a regular file (a pipe, socket or device)", hint="leave it out"
            )
        if info.st_size > MAX_FILE_BYTES:
            raise _too_big(source, info.st_size)
        with open(path, "rb") as handle:
            # The file may have grown since it was measured: read one byte more to see, and the
            # rest only up to one byte over the limit. (read(n) sets n bytes aside at once, so
            # n is the size measured, not the limit.)
            data = handle.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += handle.read(MAX_FILE_BYTES + 1 - len(data))
    except FileNotFoundError as exc:
        what = (
            "is a link to a file that does not exist" if os.path.islink(path) else "does not exist"
        )
        raise SourceNotFound(source, what, hint="check the path") from exc
    except OSError as exc:
        raise IngestError(
            source, f"cannot be read: {exc.strerror or exc}", hint="check that it is readable"
        ) from exc
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(source, len(data))
    return data


def read_file_report(
    path: PathLike,
    *,
    question_col: str | None = None,
    answer_col: str | None = None,
    page_progress: PageProgress | None = None,
) -> FileRead:
    """Read one file into passages, keeping the errors that only skipped part of it.

    Raises IngestError (UnsupportedFile, SourceNotFound, ...) when the file cannot be read at
    all. `question_col`/`answer_col` name the columns of CSV and JSONL files;
    `page_progress(done, total)` is called after each page of a PDF.
    """
    source = source_for(path)
    kind = _kind_of(source)
    if kind is None:
        supported = " ".join(SUPPORTED_EXTENSIONS)
        if not os.path.lexists(path):
            raise SourceNotFound(source, "does not exist", hint="check the path")
        raise UnsupportedFile(
            source, "is not a supported file type", hint=f"counsel-search reads {supported}"
        )
    data = _read_bytes(path, source)
    if kind in ("pdf", "docx"):
        return _read_structured(source, kind, data, page_progress)
    text = decode_bytes(data, source)
    if not text.strip():
        raise IngestError(source, "is empty", hint="add text to it or leave it out")
    title = ""
    warnings: list[IngestError] = []
    if kind in ("txt", "md", "html"):
        if kind == "html":
            html_title, body = html_to_text(text)
            doc = parse_document(source, body, "html", title=html_title)
        else:
            doc = parse_document(source, text, kind)
        title = doc.title
        passages, unanswered = split_document_report(doc)
        warnings.extend(_unanswered(source, text, unanswered))
        if not passages:
            raise IngestError(
                source, "has no text to index", hint="check that it is the file you meant"
            )
    else:
        if kind == "csv":
            columns, rows, warnings = read_csv(text, source)
        else:
            columns, rows, warnings = read_jsonl(text, source)
        passages = []
        if columns:  # a CSV header alone still has its columns checked
            chosen = pick_columns(columns, source, question_col, answer_col)
            passages, row_errors = rows_to_passages(rows, columns, chosen, source)
            warnings.extend(row_errors)
        if not passages and not warnings:
            logger.warning("%s: no rows with a question or an answer", source)
    file = _source_file(source, title, data, kind, len(passages))
    return FileRead(file, tuple(passages), tuple(warnings))


def _read_structured(
    source: str, kind: str, data: bytes, page_progress: PageProgress | None
) -> FileRead:
    """A PDF or Word file: its headings and paragraphs, split like any document."""
    if not data:
        raise IngestError(source, "is empty", hint="add text to it or leave it out")
    found = read_pdf(data, source, page_progress) if kind == "pdf" else read_docx(data, source)
    doc, passages, unanswered = split_structured(source, found)
    if not passages:
        raise IngestError(
            source, "has no text to index", hint="check that it is the file you meant"
        )
    file = _source_file(source, doc.title, data, kind, len(passages))
    # No line numbers: a PDF's or Word file's lines are not the lines an editor shows.
    return FileRead(file, tuple(passages), tuple(_unanswered(source, "", unanswered)))


def _source_file(source: str, title: str, data: bytes, kind: str, n: int) -> SourceFile:
    sha = hashlib.sha256(data).hexdigest()
    return SourceFile(source, doc_id_for(source), title, sha, kind, n)


def _unanswered(source: str, text: str, questions: list[Unanswered]) -> list[IngestError]:
    """A warning per question with nothing under it, at its line in the file: the line that
    holds its words with as many such lines after it as the splitter counted."""
    lines = text.splitlines()
    out = []
    for q in questions:
        holding = [i for i, line in enumerate(lines) if q.question in line]
        line = holding[-1 - q.after] + 1 if q.after < len(holding) else None
        out.append(
            IngestError(
                source,
                f"the question {q.question!r} has nothing under it; it is not indexed",
                hint="add its answer below it, or remove the line",
                line=line,
            )
        )
    return out


def read_file(
    path: PathLike, *, question_col: str | None = None, answer_col: str | None = None
) -> tuple[SourceFile, list[Passage]]:
    """Read one .txt/.md/.markdown/.html/.htm/.csv/.jsonl/.pdf/.docx file into passages.

    Raises an IngestError subclass when the file cannot be read. Problems confined to part of
    the file (a broken JSONL line) are logged as warnings and the rest is returned; use
    `read_sources` to receive them as errors.

    >>> file, passages = read_file("data/corpus/000_6fe00c9fba106d10.txt")  # doctest: +SKIP
    """
    report = read_file_report(path, question_col=question_col, answer_col=answer_col)
    for warning in report.warnings:
        logger.warning("%s", warning.one_line())
    return report.file, list(report.passages)


def _expand(paths: Sequence[PathLike], errors: list[IngestError]) -> list[tuple[PathLike, str]]:
    """The files to read, as (path to open, source), each once, in the order given."""
    targets: list[tuple[PathLike, str]] = []
    seen: set[str] = set()

    def add(path: PathLike) -> None:
        source = source_for(path)
        if source not in seen:
            seen.add(source)
            targets.append((path, source))

    def listing_failed(exc: OSError) -> None:
        where = source_for(exc.filename) if exc.filename else "?"
        errors.append(IngestError(where, f"cannot be listed: {exc.strerror or exc}"))

    for path in paths:
        if not os.path.exists(path):
            errors.append(SourceNotFound(source_for(path), "does not exist", hint="check the path"))
        elif os.path.isdir(path):
            found = _walk(path, listing_failed)
            if not found:
                errors.append(
                    IngestError(
                        source_for(path),
                        "is a folder with no supported files",
                        hint=f"counsel-search reads {' '.join(SUPPORTED_EXTENSIONS)}",
                    )
                )
            for file in found:
                add(file)
        else:
            add(path)  # an unsupported file named directly is reported when it is read
    return targets


def _walk(top: PathLike, onerror: Callable[[OSError], None]) -> list[str]:
    """Supported files under `top`, sorted, skipping hidden files and folders."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(os.fspath(top), onerror=onerror):
        # Sorting in place also fixes the order os.walk descends in.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and _kind_of(name) is not None:
                found.append(os.path.join(dirpath, name))
    return found


def read_sources(
    paths: Sequence[str | os.PathLike[str]],
    *,
    question_col: str | None = None,
    answer_col: str | None = None,
    progress: Progress | None = None,
    page_progress: SourceProgress | None = None,
) -> IngestResult:
    """Read files and folders into passages, merging exact duplicates.

    Folders are walked recursively in sorted order (hidden entries and unsupported files are
    skipped). Errors never stop the batch: each is recorded in `IngestResult.errors`.
    A passage seen again (same id: same normalized question and answer) keeps its first
    occurrence and lists every source it came from in `sources`. `progress(done, total)` is
    called after each file, and `page_progress(source, done, total)` after each page of a PDF
    (a 300-page file takes a while: a caller can show a bar for it).

    >>> result = read_sources(["data/corpus/"])  # doctest: +SKIP
    >>> len(result.passages), [e.one_line() for e in result.errors]  # doctest: +SKIP
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]  # a lone path is a common slip; a str is a Sequence of characters
    errors: list[IngestError] = []
    targets = _expand(paths, errors)
    by_id: dict[str, Passage] = {}
    files: list[SourceFile] = []
    n_read = 0
    for done, (path, source) in enumerate(targets, start=1):
        try:
            report = read_file_report(
                path,
                question_col=question_col,
                answer_col=answer_col,
                page_progress=_for_source(page_progress, source),
            )
        except IngestError as exc:
            errors.append(exc)
        except Exception as exc:
            # A failure nobody foresaw (a parser's internal limit, memory) is still confined to
            # its file: the batch goes on and the file is reported like any bad file.
            logger.debug("reading %s failed", source, exc_info=True)
            errors.append(
                IngestError(
                    source,
                    f"could not be read ({type(exc).__name__}: {str(exc)[:120]})",
                    hint="the other files were read; please report this file's problem",
                )
            )
        else:
            files.append(report.file)
            errors.extend(report.warnings)
            n_read += len(report.passages)
            for passage in report.passages:
                _merge(by_id, passage, errors)
        logger.debug("read %s (%d/%d)", source, done, len(targets))
        if progress is not None:
            progress(done, len(targets))
    logger.info(
        "read %d files: %d passages (%d duplicates merged), %d errors",
        len(files),
        len(by_id),
        n_read - len(by_id),
        len(errors),
    )
    return IngestResult(tuple(by_id.values()), tuple(files), tuple(errors))


def _for_source(progress: SourceProgress | None, source: str) -> PageProgress | None:
    if progress is None:
        return None
    return lambda done, total: progress(source, done, total)


def merge_passages(
    groups: Iterable[Sequence[Passage]],
) -> tuple[tuple[Passage, ...], tuple[IngestError, ...]]:
    """Merge documents' passage lists as read_sources does: exact duplicates become one
    passage listing every source, in order; a reused given id is reported and skipped."""
    by_id: dict[str, Passage] = {}
    errors: list[IngestError] = []
    for group in groups:
        for passage in group:
            _merge(by_id, passage, errors)
    return tuple(by_id.values()), tuple(errors)


def _merge(by_id: dict[str, Passage], passage: Passage, errors: list[IngestError]) -> None:
    """Add a passage, or record its source on the identical passage already there."""
    first = by_id.get(passage.id)
    if first is None:
        by_id[passage.id] = passage
    elif (first.question, first.answer) == (passage.question, passage.answer):
        new = [s for s in passage.sources or (passage.source,) if s not in first.sources]
        if new:
            by_id[passage.id] = replace(first, sources=(*first.sources, *new))
    else:
        # Only ids given in the data can collide on different text; content ids cannot.
        errors.append(
            IngestError(
                passage.source,
                f"id {passage.id!r} is already used by a different passage"
                f" (from {first.source}); this one was skipped",
                hint="give every row a unique id",
            )
        )
