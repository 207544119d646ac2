"""CSV and JSONL sources: one row, one passage.

The question and answer columns are found by their usual names (or named by the user); every
other column travels along as metadata, so that search can filter on it (a topic, an author).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.errors import IngestError
from ingest.text import normalize_text
from ingest.types import Passage, content_id, doc_id_for

logger = logging.getLogger(__name__)

# Column names recognized without being told, in order of preference (case does not matter).
QUESTION_COLUMNS = ("question", "questions", "questionTitle", "title")
ANSWER_COLUMNS = ("answer", "answers", "answerText", "text", "body")
ID_COLUMN = "id"
_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024
# Line ends in CSV and JSONL files: Windows, Unix and old Mac (lone CR). Not U+2028 and its
# kind, which JSON allows inside strings and which a CSV cell may hold.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Columns:
    """Which of a table's columns hold the question, the answer and the id."""

    question: str | None
    answer: str
    id: str | None


@dataclass(frozen=True)
class Row:
    """One record of a table, with the line where it starts (for error messages)."""

    line: int
    values: dict[str, Any]


def _find(columns: Sequence[str], wanted: str) -> str | None:
    return next((c for c in columns if c.casefold() == wanted.casefold()), None)


def _listing(columns: Sequence[str], most: int = 12) -> str:
    """The column names for an error message: a few, so that the message stays one line."""
    names = ", ".join(repr(c[:40]) for c in columns[:most]) or "none"
    return names + (f" and {len(columns) - most} more" if len(columns) > most else "")


def pick_columns(
    columns: Sequence[str],
    source: str,
    question_col: str | None = None,
    answer_col: str | None = None,
) -> Columns:
    """Choose the question, answer and id columns, by the names given or the usual names."""
    found = _listing(columns)
    question = answer = None
    for role, wanted in (("question", question_col), ("answer", answer_col)):
        if wanted is None:
            continue
        column = _find(columns, wanted)
        if column is None:
            raise IngestError(
                source,
                f"has no {role} column named {wanted!r} (columns found: {found})",
                hint=f"name one of the columns found with --{role}-col",
            )
        if role == "question":
            question = column
        else:
            answer = column
    if answer is None:
        answer = next(
            (c for name in ANSWER_COLUMNS if (c := _find(columns, name)) and c != question),
            None,
        )
    if answer is None:
        raise IngestError(
            source,
            f"has no answer column (looked for {', '.join(ANSWER_COLUMNS)};"
            f" columns found: {found})",
            hint="name it with --answer-col",
        )
    if question is None:
        question = next(
            (c for name in QUESTION_COLUMNS if (c := _find(columns, name)) and c != answer),
            None,
        )
    if question == answer:
        raise IngestError(
            source,
            f"uses column {answer!r} for both the question and the answer",
            hint="name two different columns with --question-col and --answer-col",
        )
    id_column = _find(columns, ID_COLUMN)
    return Columns(question, answer, id_column if id_column not in (question, answer) else None)


def _as_text(value: Any) -> str:
    """A cell as text: lists of strings (several answers) become paragraphs."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n\n".join(_as_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _metadata_value(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Lists and objects are kept, as JSON text, so metadata stays flat and storable.
    return json.dumps(value, ensure_ascii=False)


def rows_to_passages(
    rows: Sequence[Row], columns: Sequence[str], chosen: Columns, source: str
) -> tuple[list[Passage], list[IngestError]]:
    """One passage per row that has an answer (a question without one is reported and
    skipped); the other columns are metadata.

    A row whose given id was already used, on an earlier row, for different text is skipped
    and reported: its id would otherwise stand for two passages.
    """
    doc_id = doc_id_for(source)
    errors: list[IngestError] = []
    first_line: dict[str, tuple[int, str, str]] = {}  # given id -> (line, question, answer)
    # Unnamed columns (a spreadsheet's index column, a trailing delimiter) carry no meaning.
    extra = [c for c in columns if c and c not in (chosen.question, chosen.answer, chosen.id)]
    passages: list[Passage] = []
    for row in rows:
        question = ""
        if chosen.question:
            question = normalize_text(_as_text(row.values.get(chosen.question)))
        answer = normalize_text(_as_text(row.values.get(chosen.answer)))
        if not question and not answer:
            continue
        if not answer:
            # A question nobody answered (common in Q&A site exports) is nothing to find.
            errors.append(
                IngestError(
                    source,
                    f"the question {question[:80]!r} has no answer; row skipped",
                    hint="fill in its answer, or leave the row out",
                    line=row.line,
                )
            )
            continue
        given_id = _as_text(row.values.get(chosen.id)).strip() if chosen.id else ""
        if given_id:
            first = first_line.setdefault(given_id, (row.line, question, answer))
            if first[1:] != (question, answer):
                errors.append(
                    IngestError(
                        source,
                        f"id {given_id!r} is already used by line {first[0]} for different text;"
                        " row skipped",
                        hint="give every row a unique id",
                        line=row.line,
                    )
                )
                continue
        metadata = {}
        for column in extra:
            value = _metadata_value(row.values.get(column))
            if value is not None:
                metadata[column] = value
        passages.append(
            Passage(
                id=given_id or content_id(question, answer),
                doc_id=doc_id,
                source=source,
                question=question,
                answer=answer,
                metadata=metadata,
                position=len(passages),
                sources=(source,),
            )
        )
    return passages, errors


# -- CSV ------------------------------------------------------------------------------------


def _sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that the sample uses; comma when in doubt."""
    sample = text[:_SNIFF_CHARS]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    # The sniffer can be fooled by punctuation in long text cells: trust it only when the
    # delimiter splits the header line; else take the candidate the header uses most.
    first_line = _LINE_BREAK.split(sample, maxsplit=1)[0]
    if delimiter and delimiter in first_line:
        return delimiter
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(text: str, source: str) -> tuple[list[str], list[Row], list[IngestError]]:
    """Parse CSV text (any of the usual delimiters, quoted newlines) into a header and rows.

    Short rows get "" for their missing cells; cells beyond the header are ignored (and logged).
    A quote never closed would swallow the rest of the file into one cell: that last row is
    skipped and reported, with the line where the quote opens.
    """
    # Answers can be long: the default 128 KiB field limit would reject a long answer, and no
    # field can be longer than the text itself.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    errors: list[IngestError] = []
    records = _records(text, _sniff_delimiter(text), source, errors)
    # The header is the first record with a name in it (blank lines may come before it).
    header_line, header = next(((n, r) for n, r in records if any(c.strip() for c in r)), (0, []))
    header = [name.strip() for name in header]
    rows: list[Row] = []
    ragged: list[int] = []
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            ragged.append(line)
        values = {name: record[i] if i < len(record) else "" for i, name in enumerate(header)}
        rows.append(Row(line, values))
    if ragged:
        logger.warning(
            "%s: %d rows (the first on line %d) have more cells than the header's %d columns;"
            " extra cells ignored",
            source,
            len(ragged),
            ragged[0],
            len(header),
        )
    logger.debug("%s: header on line %d, %d rows", source, header_line, len(rows))
    return header, rows, errors


class _Lines:
    """The lines of a text for csv.reader, counting the characters handed out so far."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.offset = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.offset += len(line)
        return line


def _records(
    text: str, delimiter: str, source: str, errors: list[IngestError]
) -> Iterator[tuple[int, list[str]]]:
    """Records with the line each starts on; a CSV syntax error names its line.

    The last record is held back until the end: if it holds a quote that is never closed, it
    is the rest of the file read as one cell, and is reported instead of yielded.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter)
    line = 1
    last: tuple[int, list[str], int] | None = None  # (line, record, offset where it starts)
    while True:
        start = lines.offset
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise IngestError(
                source, f"is not valid CSV: {exc}", hint="fix the quoting", line=reader.line_num
            ) from exc
        if last is not None:
            yield last[0], last[1]
        last = (line, record, start)
        line = reader.line_num + 1
    if last is None:
        return
    first, record, start = last
    if reader.line_num > first and _ends_in_open_quote(text[start:], delimiter):
        errors.append(
            IngestError(
                source,
                f"a quote opened on this line is never closed, so lines {first}-"
                f"{reader.line_num} were read as one cell; row skipped",
                hint='close the quote; write "" for a quote inside a quoted cell',
                line=first,
            )
        )
    else:
        yield first, record


def _ends_in_open_quote(tail: str, delimiter: str) -> bool:
    """Whether the CSV text ends inside a quoted cell (the tolerant reader accepts that)."""
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


# -- JSONL ----------------------------------------------------------------------------------


def read_jsonl(text: str, source: str) -> tuple[list[str], list[Row], list[IngestError]]:
    """Parse JSON Lines: one object per line, blank lines allowed.

    A line that is not a JSON object is reported (with its line number) and skipped; the other
    lines still go in. The columns are all keys, in the order they first appear.
    """
    columns: dict[str, None] = {}
    rows: list[Row] = []
    errors: list[IngestError] = []
    # Not str.splitlines: it would also split at U+2028, which JSON allows in text.
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problem = f"is not valid JSON ({exc.msg}, column {exc.colno})"
        except RecursionError:
            # Valid JSON that Python will not load must not stop the file either.
            problem = "nests arrays or objects too deeply to load"
        except ValueError as exc:  # an integer of thousands of digits
            problem = f"cannot be loaded ({str(exc).split(':')[0][:80]})"
        else:
            problem = ""
        if problem:
            errors.append(
                IngestError(
                    source,
                    f"{problem}; line skipped",
                    hint="fix or remove that line; the other lines were read",
                    line=number,
                )
            )
            continue
        if not isinstance(value, dict):
            errors.append(
                IngestError(
                    source,
                    f"holds a JSON {_json_type(value)}, not an object; line skipped",
                    hint='write one object per line, like {"question": ..., "answer": ...}',
                    line=number,
                )
            )
            continue
        columns.update(dict.fromkeys(value))
        rows.append(Row(number, value))
    return list(columns), rows, errors


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
    return names.get(type(value), "null")
