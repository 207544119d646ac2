"""How a searcher ranks: the search modes and the ranking settings (RankingConfig).

Every choice of the ranking that has a number or an alternative lives in one frozen
`RankingConfig` handed to the searcher (`Searcher(version, config=...)`), so that a figure can be
traced to the settings that produced it (`counsel-search eval --json` records them) and the
quality benchmarks compare settings as configs, not by patching module globals.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from index.hubness import NEIGHBOURS
from ingest import CounselSearchError

MODES = ("hybrid", "dense", "lexical")
DEFAULT_MODE = "hybrid"
# How a passage's dense score comes from its windows' (hubness-corrected) cosines: the mean of
# its opening window and its best window, the opening window only, or the best window only.
WINDOW_AGGREGATIONS = ("mean", "opening", "best")


class InvalidRankingConfig(CounselSearchError):
    """A ranking setting out of its range."""


@dataclass(frozen=True)
class RankingConfig:
    """The ranking settings of a searcher; the defaults are the product's ranking.

    - `dense_weight`: weight of the dense part in the hybrid score (the lexical part gets
      1 - it), on z-normalized scores. Tuned on the dev queries of the bench tasks; see
      docs/quality.md for the sweep.
    - `same_question_weight`: how much the best answer to a question lifts the other answers to
      the same question (hybrid); 0 turns the boost off.
    - `hub_weight`: hubness correction of dense scores (CSLS, index/hubness.py): a window scores
      its cosine to the query less this times its hub radius. 0.5 is CSLS's own formula
      (2 cos - r_q - r_w, halved), not a tuned value; 0 turns the correction off.
    - `hub_neighbours`: the neighbours a hub radius is the mean cosine to. The default is the
      radii saved with the index version; another count computes radii from the version's
      vectors on first use (cached per version and count).
    - `candidates`: passages taken from each side (dense, lexical) before fusion (at least k).
    - `lexical_pool`: BM25 scores kept per query, so that dense candidates have theirs without
      a second lexical pass.
    - `window_aggregation`: one of WINDOW_AGGREGATIONS: "mean" (of the opening window, the
      passage as a whole as far as the model reads, and the best window, the part that matches
      best), "opening" or "best".
    - `drop_stop_words`: whether the lexical side drops the query's function words
      (search/lexical.py STOPWORDS).
    """

    dense_weight: float = 0.8
    same_question_weight: float = 1.0
    hub_weight: float = 0.5
    hub_neighbours: int = NEIGHBOURS
    candidates: int = 100
    lexical_pool: int = 10_000
    window_aggregation: str = "mean"
    drop_stop_words: bool = True

    def __post_init__(self) -> None:
        if self.window_aggregation not in WINDOW_AGGREGATIONS:
            raise InvalidRankingConfig(
                f"unknown window aggregation {self.window_aggregation!r}",
                f"use one of {', '.join(WINDOW_AGGREGATIONS)}",
            )
        for name in ("hub_neighbours", "candidates", "lexical_pool"):
            if getattr(self, name) < 1:
                raise InvalidRankingConfig(f"{name} must be at least 1, not {getattr(self, name)}")

    @property
    def saved_radii(self) -> bool:
        """Do the hub radii come with the index version (no computation on first use)?"""
        return self.hub_neighbours == NEIGHBOURS

    def replace(self, **changes: Any) -> RankingConfig:
        """A copy with these settings changed: `RankingConfig().replace(hub_weight=0.0)`."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (recorded with evaluation results)."""
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """One line naming every setting: "dense_weight=0.8 same_question_weight=1.0 ..."."""
        return " ".join(f"{k}={v}" for k, v in self.to_dict().items())
