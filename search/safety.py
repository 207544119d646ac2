"""Crisis signal: does a query suggest suicide, self-harm or immediate danger?

Such a query gets a notice to contact emergency services or a crisis line above its results
(the results still follow). Missing a person in crisis costs far more than an extra notice, so
the check favours recall, in two halves:

- phrase rules and cue pairs (search/crisis_patterns.py) catch the common wordings;
- a semantic check catches paraphrases no rule lists: the query (and each clause of a long
  query) is compared with a bank of crisis phrasings and of ordinary questions, idioms of death
  and harm among them (search/crisis_bank.txt). The notice shows when the query is closer to the
  crisis side by at least the model's margin (index/models.py; negative margins lean to recall).
  Comparing with both sides, not only crisis statements, is what keeps "this job is killing me"
  and "I can't sleep at night" out: they have ordinary neighbours closer than any crisis one.

Figures, and how each model's margin was calibrated: docs/safety.md. Nothing about the query is
logged or kept.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from index import Embedder
from index.models import crisis_margin
from index.mpnet import default_cache_dir
from index.pair import encode_queries
from search import derived
from search.crisis_patterns import crisis_by_pattern

log = logging.getLogger(__name__)

BANK = Path(__file__).with_name("crisis_bank.txt")
CRISIS_NOTE = (
    "If you are thinking about suicide or harming yourself, or you are in danger right now, "
    "please contact your local emergency number or a crisis line now (in the US, call or text "
    "988; in the UK and Ireland, Samaritans on 116 123). You don't have to go through this "
    "alone. The passages below are not a substitute for help."
)


def read_bank(path: Path = BANK) -> dict[str, list[str]]:
    """The phrasings of a bank file by section ("crisis", "ordinary"); `#` lines are comments."""
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif line and not line.startswith("#"):
            sections.setdefault(current, []).append(line)
    return sections


# A long query is also judged clause by clause: "gave my dog to my sister and sold my guitar, I
# won't need anything after this weekend" carries its danger in one clause, which the whole
# sentence's embedding dilutes.
_CLAUSE_SPLIT = re.compile(r"[.,;:!?\n]+|\b(?:and|but|so|because|though)\b", re.IGNORECASE)
_MIN_CLAUSE_WORDS = 4


def clauses(query: str) -> list[str]:
    """The clauses of a query worth judging on their own (three words or more), not counting
    the query itself."""
    whole = query.strip()
    parts = (p.strip() for p in _CLAUSE_SPLIT.split(whole))
    return list(
        dict.fromkeys(p for p in parts if len(p.split()) >= _MIN_CLAUSE_WORDS and p != whole)
    )


class CrisisCheck:
    """Patterns plus, for models with a calibrated margin, the semantic check."""

    def __init__(self, embedder: Embedder, bank: Path = BANK) -> None:
        # A pair of models (index/pair.py) is judged by its first model alone, whose margin is
        # calibrated: the first part of a pair's query vector is that model's own vector,
        # scaled, so no second encoding is needed.
        parts = getattr(embedder, "parts", None)
        self.embedder = parts[0] if parts else embedder
        self._part_dim = parts[0].dim if parts else None
        self.margin = crisis_margin(self.embedder.name)
        self._bank_path = bank
        self._bank: tuple[np.ndarray, np.ndarray] | None = None  # crisis, ordinary vectors
        self._lock = threading.Lock()

    def _bank_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """The bank's vectors: computed once per model and bank text, then read from the cache
        (a few seconds of encoding saved at every start of the CLI)."""
        with self._lock:
            if self._bank is None:
                bank = read_bank(self._bank_path)
                crisis, ordinary = bank["crisis"], bank["ordinary"]
                key = [self.embedder.fingerprint, *crisis, "\x1e", *ordinary]
                digest = hashlib.sha256("\n".join(key).encode()).hexdigest()[:16]
                name = re.sub(r"[^A-Za-z0-9._-]+", "_", self.embedder.name)
                path = default_cache_dir() / "crisis" / f"{name}-{digest}.npz"
                cached = derived.load(path, key)
                if cached is not None:
                    vectors = cached["vectors"]
                else:
                    vectors = encode_queries(self.embedder, crisis + ordinary)
                    try:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        derived.save(path, key, vectors=vectors)
                    except OSError as exc:
                        log.info("crisis bank vectors kept in memory only (%s)", exc)
                self._bank = (vectors[: len(crisis)], vectors[len(crisis) :])
            return self._bank

    def warm(self) -> None:
        """Compute (or read) the bank's vectors now rather than at the first query."""
        if self.margin is not None:
            self._bank_vectors()

    def margins(self, vectors: np.ndarray) -> np.ndarray:
        """For each row: cosine to the closest crisis phrasing less the cosine to the closest
        ordinary one."""
        crisis, ordinary = self._bank_vectors()
        return (vectors @ crisis.T).max(axis=1) - (vectors @ ordinary.T).max(axis=1)

    def score(self, query: str, vector: np.ndarray | None = None) -> float:
        """The query's semantic crisis score: the highest margin of the query and its clauses.
        `vector` is the query's own embedding when the caller has it."""
        parts = clauses(query)
        if vector is None:
            whole = encode_queries(self.embedder, [query.strip()])[0]
        elif self._part_dim is not None:
            whole = vector[: self._part_dim] / np.linalg.norm(vector[: self._part_dim])
        else:
            whole = vector
        rows = [whole[None, :]]
        if parts:
            rows.append(encode_queries(self.embedder, parts))
        return float(self.margins(np.vstack(rows)).max())

    def __call__(self, query: str, vector: Callable[[], np.ndarray] | None = None) -> bool:
        """Does this query call for the crisis notice? `vector` gives the query's embedding
        (from the caller's cache); it is only asked for when no pattern matched."""
        if not query.strip():
            return False
        if crisis_by_pattern(query):
            return True
        if self.margin is None:
            return False
        return self.score(query, vector() if vector is not None else None) >= self.margin
