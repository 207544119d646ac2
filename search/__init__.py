"""Search stage: open an index and answer queries."""

from search.engine import Filters, PassageNotFound, Searcher, UnknownMode
from search.explain import Sentence
from search.hits import WEAK_NOTE, Hit, IndexInfo
from search.ranking import DEFAULT_MODE, MODES

__all__ = [
    "DEFAULT_MODE",
    "MODES",
    "WEAK_NOTE",
    "Filters",
    "Hit",
    "IndexInfo",
    "PassageNotFound",
    "Searcher",
    "Sentence",
    "UnknownMode",
]
