"""Queries through the model's ONNX export: the same vectors and rankings as sentence-transformers,
and a search process that never imports torch (real packaged model: integration)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import build_index, load_embedder, open_index, ort
from index.embed import SentenceTransformerEmbedder, default_model_path, query_encoder
from index.models import MINILM
from search import Searcher
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

BENCH = ROOT / "data" / "bench_sample"
TASKS = ("cc_title_to_answer", "cc_body_to_answer", "cc_body_to_titled_answer", "articles")


def dev_queries(task: str) -> list[str]:
    with (BENCH / task / "queries.dev.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["query"] for line in fh if line.strip()]


@pytest.fixture(scope="module")
def encoders() -> tuple[ort.ExportedEmbedder, SentenceTransformerEmbedder]:
    """The default model through its export (what load_embedder gives) and through PyTorch."""
    fast = load_embedder()
    assert isinstance(fast, ort.ExportedEmbedder), "the default model has an ONNX export"
    slow = SentenceTransformerEmbedder(MINILM.name, default_model_path(), fast.fingerprint)
    return fast, slow


def test_query_vectors_match_sentence_transformers(encoders) -> None:
    fast, slow = encoders
    queries = [q for task in TASKS for q in dev_queries(task)]
    queries += ["ok", "  Grief, after loss.  ", "Ça va? ¿Qué tal? 你好", "word " * 400]
    a = np.vstack([fast.encode_queries([q]) for q in queries])  # one at a time, as searched
    b = slow.model.encode(queries, normalize_embeddings=True, show_progress_bar=False)
    assert (a * b).sum(axis=1).min() >= 1 - 1e-4
    text = "I don't know why I'm anxious: it's 3am, Ça va? (really)."
    assert fast.token_spans(text) == slow.token_spans(text)


@pytest.mark.parametrize("task", TASKS)
def test_top_ten_ids_are_the_same_with_both_encoders(
    task: str, encoders, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fast, slow = encoders
    folder = BENCH / task
    source = folder / "docs" if (folder / "docs").is_dir() else folder / "corpus.jsonl"
    index_dir = tmp_path_factory.mktemp(task) / "index"
    build_index([source], index_dir, fast)
    assert open_index(index_dir).manifest.query_encoder == "onnxruntime"
    for mode in ("hybrid", "dense"):
        tops = []
        for embedder in (fast, slow):
            searcher = Searcher(open_index(index_dir), embedder)
            # `info` (and the page's "About this index") tells which encoder the index records.
            assert searcher.info().query_encoder == "onnxruntime"
            hits = searcher.search_many(dev_queries(task), k=10, mode=mode, explain=False)
            tops.append([[h.passage.id for h in q] for q in hits])
            searcher.close()
        assert tops[0] == tops[1], f"{task} {mode}"


# The search a user runs, in a fresh interpreter; it prints what it imported.
SEARCH = """
import contextlib, io, json, sys
import cli
with contextlib.redirect_stdout(io.StringIO()):
    code = cli.main(["search", "how do I deal with anxiety", "--index", sys.argv[1], "--json"])
heavy = ("torch", "sentence_transformers", "transformers")
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def test_a_search_process_imports_neither_torch_nor_sentence_transformers(
    real_index: Path,
) -> None:
    load_embedder()  # the export exists (the fixture's build made it)
    run = subprocess.run(
        [sys.executable, "-c", SEARCH, str(real_index)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out == {"code": 0, "loaded": []}, run.stderr[-2000:]
    assert "how do I deal" not in run.stderr  # never log query text


def test_a_missing_export_is_made_at_first_load_then_used_without_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index built elsewhere: this machine's model cache has no export yet.
    monkeypatch.setenv("COUNSEL_SEARCH_MODEL_CACHE", str(tmp_path / "models"))
    monkeypatch.setattr("index.embed._CACHE", {})
    monkeypatch.delenv(ort.ENV_ONNX, raising=False)
    fingerprint = f"sha256:{MINILM.sha256}"
    assert ort.find_export(fingerprint) is None
    embedder = load_embedder()  # imports torch this once, to export
    assert isinstance(embedder, ort.ExportedEmbedder) and query_encoder(embedder) == "onnxruntime"
    found = ort.find_export(fingerprint)
    assert found is not None and found[0].pooling == "mean" and found[0].max_length == 256
    names = sorted(p.name for p in (tmp_path / "models" / "onnx").iterdir())
    assert [n.split(".", 1)[1] for n in names] == ["json", "onnx", "tokenizer.json"]
    # A damaged export is noticed (its sha256) and made again rather than run.
    found[1].write_bytes(found[1].read_bytes()[:-10])
    assert ort.find_export(fingerprint) is None


def test_switched_off_stays_on_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ort.ENV_ONNX, "0")
    monkeypatch.setattr("index.embed._CACHE", {})
    embedder = load_embedder()
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert query_encoder(embedder) == "sentence-transformers"
