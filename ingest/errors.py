"""Typed exceptions shared by every stage.

The library raises these; the CLI and the page turn each into one line that says what to do.
They live in the lowest stage so that `index/` and `search/` can subclass without importing upward.
"""

from __future__ import annotations


class CounselSearchError(Exception):
    """Base class: a user-facing problem with a message and a hint on how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint as a single line, as the faces print it."""
        text = " ".join(self.message.split())
        if self.hint:
            text = f"{text} ({' '.join(self.hint.split())})"
        return text

    def __str__(self) -> str:
        return self.one_line()


class IngestError(CounselSearchError):
    """A source could not be read or split; names the file (and line or row where known)."""

    def __init__(self, source: str, message: str, hint: str = "", line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}", hint)
        self.source = source
        self.line = line


class UnsupportedFile(IngestError):
    """The file's type is not one counsel-search reads."""


class SourceNotFound(IngestError):
    """A path given as a source does not exist."""
