"""Search stage: open an index and answer queries."""

from search.engine import Filters, Hit, IndexInfo, PassageNotFound, Searcher

__all__ = ["Filters", "Hit", "IndexInfo", "PassageNotFound", "Searcher"]
