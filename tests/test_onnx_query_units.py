"""What the fast query path records and reads, on the fake embedder: the manifest's query encoder,
and explanations from the sentence vectors embedded at build (index/sentences.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index import open_index
from index import publish as pub
from index import sentences as sv
from index.manifest import Manifest
from search import Searcher
from search import explain as ex
from tests.fakes import HashEmbedder


class CountingHash(HashEmbedder):
    """The hashing embedder, keeping every text it encodes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts, *, batch_size=64, progress=None):  # type: ignore[override]
        self.seen += list(texts)
        return super().encode(texts, batch_size=batch_size, progress=progress)


def _folder(index_dir: Path) -> Path:
    return index_dir / pub.VERSIONS / (index_dir / pub.POINTER).read_text().strip()


def test_the_manifest_records_the_query_encoder_and_old_ones_read_a_default(
    hash_index: Path, tmp_path: Path
) -> None:
    path = _folder(hash_index) / pub.MANIFEST
    assert Manifest.read(path).query_encoder == "HashEmbedder"
    raw = json.loads(path.read_text())
    del raw["query_encoder"]  # a manifest written before the field
    old = tmp_path / "manifest.json"
    old.write_text(json.dumps(raw))
    assert Manifest.read(old).query_encoder == "sentence-transformers"


def test_sentences_are_stored_per_passage_row(hash_index: Path) -> None:
    version = open_index(hash_index)
    try:
        m = version.manifest
        stored = sv.load(version.folder, m.passages, m.dim)
        assert stored is not None
        rows = list(range(m.passages))
        passages = version.passages.by_rows(rows)
        for row in rows[:: max(1, len(rows) // 25)]:
            spans, vectors = stored.of_row(row)
            answer = passages[row].answer
            assert spans == sv.split_sentences(answer)
            want = HashEmbedder().encode([sv.sentence_text(answer, s) for s in spans])
            np.testing.assert_allclose(vectors, want.reshape(len(spans), m.dim), atol=1e-6)
    finally:
        version.close()


def test_explanations_use_the_stored_vectors_and_match_query_time_ones(
    hash_index: Path, tmp_path: Path
) -> None:
    queries = ["how do I stop worrying at night", "my therapist ignores me", "grief and loss"]
    model = CountingHash()
    searcher = Searcher(open_index(hash_index), model)
    stored = [searcher.search(q) for q in queries]
    searcher.close()
    assert model.seen == queries, "only the queries went through the model"
    assert any(h.sentences for hits in stored for h in hits)

    # The same version without its sentence files (built before them): embedded at query time.
    old = tmp_path / "old"
    shutil.copytree(hash_index, old)
    shutil.rmtree(_folder(old) / sv.SENTENCES)
    ex._CACHE.clear()  # query-time sentence vectors of earlier tests
    model = CountingHash()
    searcher = Searcher(open_index(old), model)
    live = [searcher.search(q) for q in queries]
    searcher.close()
    assert len(model.seen) > len(queries)
    for a, b in zip(stored, live, strict=True):
        assert [h.passage.id for h in a] == [h.passage.id for h in b]
        assert [[s.text for s in h.sentences] for h in a] == [
            [s.text for s in h.sentences] for h in b
        ]


def test_damaged_sentence_files_fall_back_to_the_model(
    hash_index: Path, caplog: pytest.LogCaptureFixture
) -> None:
    where = _folder(hash_index) / sv.SENTENCES
    np.save(where / "offsets.npy", np.zeros(3, dtype=np.int64))  # not this version's rows
    ex._CACHE.clear()
    model = CountingHash()
    searcher = Searcher(open_index(hash_index), model)
    hits = searcher.search("how do I stop worrying at night")
    searcher.close()
    assert any(h.sentences for h in hits) and len(model.seen) > 1
    assert "does not match its version" in caplog.text
