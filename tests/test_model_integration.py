"""Integration with the real packaged all-MiniLM-L6-v2 model (no network, no mocks)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index import (
    ModelChecksumMismatch,
    ModelMismatch,
    ModelNotFound,
    build_index,
    load_embedder,
)
from index import embed as embed_mod
from index.models import MINILM
from search import Searcher
from tests.conftest import assert_embeds_sensibly

pytestmark = pytest.mark.integration


def test_default_model_is_verified_and_offline() -> None:
    model = load_embedder()
    assert model.name == "all-MiniLM-L6-v2"
    assert model.fingerprint == f"sha256:{MINILM.sha256}"
    assert model.dim == 384
    assert_embeds_sensibly(model, 384)


def test_corrupted_weights_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "model"
    shutil.copytree(embed_mod.default_model_path(), copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(embed_mod, "default_model_path", lambda: copy)
    monkeypatch.setattr(embed_mod, "_CACHE", {})
    with pytest.raises(ModelChecksumMismatch, match="reinstall"):
        load_embedder()


def test_other_model_by_path(tmp_path: Path, real_index: Path) -> None:
    # Any sentence-transformers folder works with --model; here a copy of the packaged one.
    copy = tmp_path / "my-model"
    shutil.copytree(embed_mod.default_model_path(), copy)
    model = load_embedder(str(copy))
    assert model.dim == 384 and model.fingerprint.startswith("sha256:")
    with pytest.raises(ModelNotFound, match="nothing is downloaded"):
        load_embedder("someone/not-a-local-model")
    # The same weights under another name search the same index; a different model is refused.
    assert Searcher.open(real_index, model=str(copy)).search("trust", k=1)
    with pytest.raises(ModelMismatch, match="built with model all-MiniLM-L6-v2"):
        Searcher.open(real_index, model="hash-test")


def test_seed_query_ranks_resistance_first(real_index: Path) -> None:
    searcher = Searcher.open(real_index)
    hits = searcher.search("what does resistance mean in psychoanalysis", k=5)
    assert hits[0].passage.question == "What is psychotherapy resistance?"
    hits = searcher.search("can I trust a therapist who acts like he knows everything?", k=3)
    assert hits[0].passage.question == "Can you trust your therapist if they know it all?"


def test_weak_match_on_the_real_model(real_index: Path) -> None:
    searcher = Searcher.open(real_index)
    for query in ("asdf qwerty", "best pizza in Rome"):
        assert searcher.search(query, k=3)[0].weak
    assert not searcher.search("I feel depressed and can't sleep", k=1)[0].weak


def test_long_answer_text_is_findable(tmp_path: Path) -> None:
    # A fact only in the last part of a long answer, past the model's 256 word pieces.
    filler = " ".join(
        f"Sentence {i} talks about how therapy sessions are usually scheduled weekly."
        for i in range(60)
    )
    tail = (
        "Grief after losing a pet can feel as heavy as losing a relative. "
        "When your dog dies, the house feels empty and the routines you shared are gone. "
        "Let yourself mourn the animal you loved; the sadness is real grief. "
        "Talking about your pet with people who understand can ease the loss."
    )
    corpus = tmp_path / "long.jsonl"
    rows = [
        {"id": "long", "question": "", "answer": f"{filler} {tail}"},
        {"id": "other", "question": "", "answer": "Scheduling therapy sessions weekly helps."},
        {"id": "third", "question": "", "answer": "Couples counseling can help communication."},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    build_index([corpus], tmp_path / "ix", load_embedder())
    hits = Searcher.open(tmp_path / "ix").search(
        "grief over the death of my dog", k=1, mode="dense"
    )
    assert hits[0].passage.id == "long"
    start, end = hits[0].matched_span
    assert start > 0 and end == len(hits[0].passage.answer)  # the matching part is the last one
    # The sentences shown as the reason are the grief ones, at the end.
    assert all(s.start > len(filler) for s in hits[0].sentences)


def test_search_is_deterministic(real_index: Path) -> None:
    searcher = Searcher.open(real_index)
    first = [(h.passage.id, h.score) for h in searcher.search("feeling worthless", k=10)]
    again = [(h.passage.id, h.score) for h in searcher.search("feeling worthless", k=10)]
    assert first == again


def test_cli_search_with_real_model(real_index: Path) -> None:
    bin_ = Path(sys.executable).with_name("counsel-search")
    proc = subprocess.run(
        [
            str(bin_),
            "search",
            "what does resistance mean in psychoanalysis",
            "--index",
            str(real_index),
            "-k",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    hits = [json.loads(line) for line in proc.stdout.splitlines()]
    assert hits[0]["question"] == "What is psychotherapy resistance?"
    assert proc.stderr == "" or "Traceback" not in proc.stderr


def test_one_searcher_serves_many_threads(real_index: Path) -> None:
    # The page's users share one searcher and one model. Hugging Face tokenizers fail when
    # shared by threads unguarded ("Unable to create tensor"); answers must match sequential ones.
    from concurrent.futures import ThreadPoolExecutor

    queries = [f"{q} {i}" for i in range(4) for q in ("trust my therapist", "feeling sad", "anger")]
    alone = Searcher.open(real_index)
    expected = {q: [h.passage.id for h in alone.search(q, k=5)] for q in queries}
    shared = Searcher.open(real_index)
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = dict(zip(queries, pool.map(lambda q: shared.search(q, k=5), queries), strict=True))
    assert {q: [h.passage.id for h in hits] for q, hits in got.items()} == expected
