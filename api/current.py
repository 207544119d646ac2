"""The searcher of an index's published version, reopened when a build publishes another one.

The same rule as the page (app.py): the name in the index's CURRENT file is the version token,
read on every request (one small file read); when it changes, the next request opens the new
version, so a rebuilt index is served without a restart.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from index import open_index
from index.publish import POINTER
from ingest import CounselSearchError
from search import Searcher

log = logging.getLogger(__name__)


class CurrentSearcher:
    """One shared, thread-safe `Searcher` over the published version of `index_dir`."""

    def __init__(self, index_dir: Path, warm: bool = True) -> None:
        self.index_dir = Path(index_dir)
        self.warm = warm
        self._lock = threading.Lock()
        self._token: str | None = None
        self._searcher: Searcher | None = None

    def token(self) -> str:
        """The published version's name, or "" while none is published."""
        try:
            return (self.index_dir / POINTER).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def get(self) -> Searcher:
        """The searcher of the published version, opened on first use and whenever CURRENT
        names another version; raises IndexNotFound / IndexCorrupt while none can be opened."""
        token = self.token()
        searcher, seen = self._searcher, self._token
        if searcher is not None and token == seen:
            return searcher
        with self._lock:  # one thread opens; the others wait for it rather than open twice
            if self._searcher is not None and token == self._token:
                return self._searcher
            fresh = self._open(self._searcher)
            self._searcher, self._token = fresh, token
            return fresh

    def _open(self, previous: Searcher | None) -> Searcher:
        # A damaged current version gives way to an older good one, as on the page.
        version = open_index(self.index_dir, fallback=True)
        embedder = None
        if previous is not None and (
            previous.version.manifest.model_fingerprint == version.manifest.model_fingerprint
        ):
            # The same model: keep it rather than load its weights again for every build.
            try:
                embedder = previous.embedder
            except CounselSearchError:
                embedder = None  # it never loaded; the new searcher tries again
        try:
            searcher = Searcher(version, embedder)
        except BaseException:
            version.close()
            raise
        if self.warm:
            try:
                searcher.warm()
            except CounselSearchError as exc:
                # Facts, passages and related passages need no model: serve those, and let
                # searches answer with the reason (503) until the model can be loaded.
                log.warning("the model could not be loaded: %s", exc.one_line())
        log.info("serving index version %s of %s", version.version, self.index_dir)
        # The previous searcher is not closed here: requests that took it may still be
        # running. Dropping the last reference to it closes its files (sqlite3 and FAISS free
        # their handles when collected), as the page's evicted searchers are.
        return searcher
