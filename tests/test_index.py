"""Index stage: layout, manifest, atomic publishing, locking, damage and model checks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from index import (
    BuildLocked,
    EmptyBuild,
    IndexCorrupt,
    IndexNotFound,
    ModelMismatch,
    build_from_result,
    build_index,
    open_index,
)
from index import publish as pub
from index.publish import build_lock
from ingest import IngestResult, Passage, SourceFile, content_id, doc_id_for
from search import Searcher
from tests.fakes import HashEmbedder


def make_result(texts: list[tuple[str, str]], source: str = "mem.txt") -> IngestResult:
    passages = tuple(
        Passage(content_id(q, a), doc_id_for(source), source, q, a, {"topic": "t"}, i, (source,))
        for i, (q, a) in enumerate(texts)
    )
    files = (SourceFile(source, doc_id_for(source), "T", "0" * 64, "txt", len(passages)),)
    return IngestResult(passages, files)


class ExplodingEmbedder(HashEmbedder):
    """Fails half-way through embedding, like a build killed mid-run."""

    def encode(self, texts, *, batch_size=64, progress=None):  # type: ignore[override]
        raise RuntimeError("boom")


def test_layout_and_manifest(hash_index: Path, sample_corpus: Path) -> None:
    current = (hash_index / pub.POINTER).read_text().strip()
    folder = hash_index / pub.VERSIONS / current
    assert sorted(p.name for p in folder.iterdir()) == [
        "hubness.npy",
        "lexical.npz",
        "manifest.json",
        "passages.sqlite",
        "sentences",  # the answers' sentence vectors, for explanations (index/sentences.py)
        "vectors.faiss",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model_name"] == "hash-test"
    assert manifest["model_fingerprint"] == "hash-64"
    assert manifest["dim"] == 64
    assert manifest["similarity"] == "cosine"
    assert manifest["version"] == current
    assert manifest["documents"] == 2
    n = manifest["passages"]
    assert n == 7 + 120  # seed passages + CSV rows (all distinct)
    sources = {Path(s["source"]).name: s for s in manifest["sources"]}
    assert set(sources) == {"000_6fe00c9fba106d10.txt", "counselchat_sample.csv"}
    assert all(len(s["sha256"]) == 64 for s in sources.values())
    assert {"python", "faiss-cpu", "numpy"} <= set(manifest["packages"])
    version = open_index(hash_index)
    assert version.passages.count() == n
    # Long passages have several windows: more vectors than passages, as the manifest says.
    assert version.vectors.count() == manifest["vectors"] > n
    norms = np.linalg.norm(version.embeddings(), axis=1)
    assert len(norms) == n
    assert np.allclose(norms, 1.0, atol=1e-5)  # normalized: inner product is cosine


def test_failed_build_keeps_previous_version(
    hash_index: Path, sample_corpus: Path, tmp_path: Path
) -> None:
    before = (hash_index / pub.POINTER).read_text()
    new_doc = tmp_path / "new.txt"
    new_doc.write_text("Is it normal to cry in therapy?\nYes, many people do.\n")
    with pytest.raises(RuntimeError, match="boom"):
        build_index([sample_corpus, new_doc], hash_index, ExplodingEmbedder())
    assert (hash_index / pub.POINTER).read_text() == before
    assert not any(p.name.endswith(pub.PARTIAL) for p in (hash_index / pub.VERSIONS).iterdir())
    hits = Searcher.open(hash_index).search("therapist trust", k=3)
    assert len(hits) == 3


def test_leftover_partial_folder_is_ignored_and_cleaned(hash_index: Path, sample_corpus: Path):
    # What a build killed with SIGKILL leaves behind: a partial folder, CURRENT untouched.
    junk = hash_index / pub.VERSIONS / f"v99999999T000000Z-dead{pub.PARTIAL}"
    junk.mkdir()
    (junk / "passages.sqlite").write_bytes(b"half")
    assert open_index(hash_index).passages.count() == 127
    build_index([sample_corpus], hash_index, HashEmbedder())
    assert not junk.exists()


def test_rebuild_publishes_new_version_and_keeps_one_previous(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    names = []
    for i in range(3):
        build_from_result(make_result([(f"q{i}?", f"answer {i}")]), index_dir, HashEmbedder())
        names.append((index_dir / pub.POINTER).read_text().strip())
    assert len(set(names)) == 3
    remaining = sorted(p.name for p in (index_dir / pub.VERSIONS).iterdir())
    assert remaining == sorted(names[1:])
    hits = Searcher.open(index_dir).search("answer", k=5)
    assert [h.passage.question for h in hits] == ["q2?"]


def test_second_build_is_refused_while_one_runs(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    with build_lock(index_dir), pytest.raises(BuildLocked, match="another build"):
        build_from_result(make_result([("q?", "a")]), index_dir, HashEmbedder())
    # The lock is released afterwards.
    build_from_result(make_result([("q?", "a")]), index_dir, HashEmbedder())


def test_empty_build_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmptyBuild):
        build_from_result(IngestResult((), ()), tmp_path / "ix", HashEmbedder())
    assert not (tmp_path / "ix" / pub.POINTER).exists()


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="counsel-search build"):
        open_index(tmp_path / "nothing")


@pytest.mark.parametrize("damage", ["vectors", "passages", "manifest", "pointer", "truncate"])
def test_damaged_index_gives_fixable_error(hash_index: Path, damage: str) -> None:
    folder = hash_index / pub.VERSIONS / (hash_index / pub.POINTER).read_text().strip()
    if damage == "vectors":
        (folder / pub.VECTORS).unlink()
    elif damage == "passages":
        (folder / pub.PASSAGES).unlink()
    elif damage == "manifest":
        (folder / pub.MANIFEST).write_text("{not json")
    elif damage == "pointer":
        (hash_index / pub.POINTER).write_text("v-missing\n")
    else:
        data = (folder / pub.VECTORS).read_bytes()
        (folder / pub.VECTORS).write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt) as err:
        open_index(hash_index)
    assert "rebuild" in err.value.one_line()
    assert "\n" not in err.value.one_line()


def test_other_model_is_refused(hash_index: Path) -> None:
    version = open_index(hash_index)
    with pytest.raises(ModelMismatch, match="built with model hash-test"):
        version.check_embedder(HashEmbedder(dim=32))


def test_no_pickle_in_index(hash_index: Path) -> None:
    for path in hash_index.rglob("*"):
        if path.is_file():
            head = path.read_bytes()[:2]
            # Pickles of protocol 2 and later start with 0x80 and the protocol number.
            assert not (
                head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
            ), path
    folder = hash_index / pub.VERSIONS / (hash_index / pub.POINTER).read_text().strip()
    with sqlite3.connect(folder / pub.PASSAGES) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"passages", "passage_sources", "documents"} <= tables


def _damage(index_dir: Path, how: str) -> None:
    folder = index_dir / pub.VERSIONS / (index_dir / pub.POINTER).read_text().strip()
    if how == "pointer":
        (index_dir / pub.POINTER).write_text("v-missing\n")
    elif how == "truncate":
        data = (folder / pub.VECTORS).read_bytes()
        (folder / pub.VECTORS).write_bytes(data[: len(data) // 2])
    elif how == "passages":
        (folder / pub.PASSAGES).unlink()
    else:  # a manifest written for another model (768 dimensions, not this index's)
        manifest = json.loads((folder / pub.MANIFEST).read_text())
        manifest.update(model_name="all-mpnet-base-v2", dim=768, model_fingerprint="other")
        (folder / pub.MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize("how", ["pointer", "truncate", "passages", "model"])
def test_damaged_current_version_falls_back_to_the_previous(
    hash_index: Path, sample_corpus: Path, tmp_path: Path, how: str
) -> None:
    previous = (hash_index / pub.POINTER).read_text().strip()
    extra = tmp_path / "extra.md"
    extra.write_text("## Is this a second version?\n\nYes, with one more passage.\n")
    build_index([sample_corpus, extra], hash_index, HashEmbedder())
    newest = (hash_index / pub.POINTER).read_text().strip()
    _damage(hash_index, how)
    with pytest.raises(IndexCorrupt) as strict:
        open_index(hash_index)  # the CLI's way: say what is wrong and how to fix it
    assert "\n" not in strict.value.one_line() and "build" in strict.value.one_line()
    version = open_index(hash_index, fallback=True)  # the page's way: keep serving
    # A lost pointer leaves the newest version intact: that one serves; else the one before.
    assert version.version == (newest if how == "pointer" else previous)
    assert version.damaged == strict.value.one_line()
    searcher = Searcher(version, HashEmbedder())
    assert len(searcher.search("trust my therapist", k=3)) == 3


def test_no_fallback_without_a_good_older_version(hash_index: Path) -> None:
    _damage(hash_index, "truncate")
    with pytest.raises(IndexCorrupt):
        open_index(hash_index, fallback=True)
