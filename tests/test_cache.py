"""The embedding cache (index/cache.py): vectors kept apart per model fingerprint, and pruned
least recently used first beyond a bound; directly and through real builds."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

import index.cache as cache_mod
from index import build_index, open_index
from index.cache import EmbeddingCache, text_key
from index.chunking import passage_windows
from tests.conftest import SEED
from tests.fakes import HashEmbedder

DIM = 16


def unit(seed: int, n: int = 1, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def rows(path: Path) -> set[tuple[str, bytes]]:
    """(model fingerprint, text key) of every entry in the cache file."""
    with sqlite3.connect(path / cache_mod.FILE) as conn:
        return {(m, bytes(k)) for m, k in conn.execute("SELECT model, key FROM vectors")}


class Clock:
    """A settable time.time for index.cache: LRU order without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(cache_mod.time, "time", fake)
    return fake


# -- separation by model fingerprint -----------------------------------------------------------


def test_the_same_text_under_two_fingerprints_keeps_each_models_vector(tmp_path: Path) -> None:
    key = text_key("I feel anxious before every session")
    va, vb = unit(1), unit(2)
    a = EmbeddingCache.open(tmp_path, "sha256:model-a", DIM)
    a.put_many([key], va)
    b = EmbeddingCache.open(tmp_path, "sha256:model-b", DIM)
    # Same text, same dimension, same file: still a miss for another model.
    assert b.get_many([key]) == {}
    b.put_many([key], vb)
    got_b = b.get_many([key])
    assert list(got_b) == [key] and np.array_equal(got_b[key], vb[0])
    got_a = a.get_many([key])  # B's write replaced nothing of A's
    assert list(got_a) == [key] and np.array_equal(got_a[key], va[0])
    assert EmbeddingCache.open(tmp_path, "sha256:model-c", DIM).get_many([key]) == {}
    for c in (a, b):
        c.close()
    # And after reopening the file, each model still gets its own.
    again = EmbeddingCache.open(tmp_path, "sha256:model-a", DIM)
    assert np.array_equal(again.get_many([key])[key], va[0])
    again.close()


def test_a_lookup_returns_only_its_own_models_vectors(tmp_path: Path) -> None:
    keys = [text_key(f"passage {i}") for i in range(6)]
    a = EmbeddingCache.open(tmp_path, "fp-a", DIM)
    b = EmbeddingCache.open(tmp_path, "fp-b", DIM)
    a.put_many(keys[:4], unit(10, 4))
    vb = unit(20, 4)
    b.put_many(keys[2:], vb)
    got = b.get_many(keys)
    assert set(got) == set(keys[2:])  # keys 0 and 1 are A's only: misses for B
    for key, want in zip(keys[2:], vb, strict=True):
        assert np.array_equal(got[key], want)
    a.close()
    b.close()


# -- pruning: least recently used first, beyond max(MIN_KEEP, KEEP_FACTOR x in use) -----------


def test_nothing_is_pruned_within_the_bound(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_mod, "MIN_KEEP", 4)
    c = EmbeddingCache.open(tmp_path, "fp", DIM)
    keys = [text_key(str(i)) for i in range(6)]
    c.put_many(keys[:4], unit(0, 4))
    assert c.prune(in_use=1) == 0  # 4 entries, bound max(4, 3 x 1) = 4
    assert len(rows(tmp_path)) == 4
    clock.now += 1
    c.put_many(keys[4:], unit(1, 2))
    assert c.prune(in_use=2) == 0  # 6 entries, bound max(4, 3 x 2) = 6: the factor counts
    assert len(rows(tmp_path)) == 6
    c.close()


def test_pruning_drops_the_least_recently_used_and_a_read_is_a_use(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_mod, "MIN_KEEP", 4)
    c = EmbeddingCache.open(tmp_path, "fp", DIM)
    keys = [text_key(f"text {i}") for i in range(6)]
    vectors = unit(5, 6)
    for key, vec in zip(keys, vectors, strict=True):  # written at times 1001 .. 1006
        clock.now += 1
        c.put_many([key], vec[None])
    clock.now += 10
    assert set(c.get_many(keys[:2])) == set(keys[:2])  # the two oldest, read again: used now
    assert c.prune(in_use=1) == 2  # 6 entries, bound 4: the two least recently used go
    assert rows(tmp_path) == {("fp", k) for k in (keys[0], keys[1], keys[4], keys[5])}
    got = c.get_many(keys)
    assert set(got) == {keys[0], keys[1], keys[4], keys[5]}
    for i in (0, 1, 4, 5):
        assert np.array_equal(got[keys[i]], vectors[i])
    c.close()


def test_the_bound_holds_for_the_whole_file_across_models(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file stays bounded whatever models wrote it: an older model's entries count, and
    # being least recently used, go first.
    monkeypatch.setattr(cache_mod, "MIN_KEEP", 3)
    old = EmbeddingCache.open(tmp_path, "fp-old", DIM)
    new = EmbeddingCache.open(tmp_path, "fp-new", DIM)
    old_keys = [text_key(f"old {i}") for i in range(3)]
    new_keys = [text_key(f"new {i}") for i in range(3)]
    old.put_many(old_keys, unit(1, 3))
    clock.now += 5
    new.put_many(new_keys, unit(2, 3))
    assert new.prune(in_use=1) == 3
    assert rows(tmp_path) == {("fp-new", k) for k in new_keys}
    old.close()
    new.close()


# -- through real builds -----------------------------------------------------------------------


class OtherHashEmbedder(HashEmbedder):
    """A second test model: the same dimension and tokens as HashEmbedder, another fingerprint
    and other vectors (words hashed with a salt)."""

    def __init__(self, dim: int = 64, max_tokens: int = 48) -> None:
        super().__init__(dim, max_tokens)
        self.fingerprint = f"hash-{dim}-salted"

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8, key=b"salt").digest()
                h = int.from_bytes(digest, "big")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        if progress:
            progress(len(texts), len(texts))
        norms = np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out / norms


def stored_vectors_and_texts(index_dir: Path, embedder: HashEmbedder) -> tuple[np.ndarray, list]:
    """The published version's vectors by chunk id, and the window text of each chunk."""
    version = open_index(index_dir)
    try:
        texts: list[str] = []
        owners: list[int] = []
        for row, passage in version.passages.all_passages():
            windows = passage_windows(passage, embedder)
            texts += [w.text for w in windows]
            owners += [row] * len(windows)
        chunks = version.passages.all_chunks()
        assert [r for _, r in chunks] == owners  # chunk i is text i
        assert [c for c, _ in chunks] == list(range(len(chunks)))
        return version.vectors.get(np.arange(len(chunks), dtype=np.int64)), texts
    finally:
        version.close()


def test_a_build_with_another_model_never_gets_the_first_models_vectors(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    a, b = HashEmbedder(), OtherHashEmbedder()
    assert (a.dim, a.name) == (b.dim, b.name) and a.fingerprint != b.fingerprint
    first = build_index([SEED], index_dir, a)
    assert first.embedded == first.vectors > 0
    stored_a, texts = stored_vectors_and_texts(index_dir, a)
    np.testing.assert_allclose(stored_a, a.encode(texts), atol=1e-6)

    # The same text with model B: every window goes through B, none comes from A's entries.
    second = build_index([SEED], index_dir, b)
    assert second.embedded == second.vectors == first.vectors
    stored_b, texts_b = stored_vectors_and_texts(index_dir, b)
    assert texts_b == texts
    np.testing.assert_allclose(stored_b, b.encode(texts), atol=1e-6)
    # A's vectors really differ (or the assertions above could not tell the models apart).
    assert np.abs(stored_b - stored_a).max(axis=1).min() > 0.1

    # Both models' entries live side by side: back to A, everything from the cache, A's own.
    third = build_index([SEED], index_dir, a)
    assert third.embedded == 0
    np.testing.assert_allclose(stored_vectors_and_texts(index_dir, a)[0], stored_a, atol=1e-6)


def _doc(folder: Path, i: int, passages: int = 5) -> Path:
    body = "".join(
        f"## What helps with worry number {i}-{j}?\n\nAnswer {i}-{j}: breathe, walk, talk.\n\n"
        for j in range(passages)
    )
    path = folder / f"doc{i}.md"
    path.write_text(f"# Notes {i}\n\n{body}", encoding="utf-8")
    return path


def test_builds_prune_the_cache_to_the_bound_keeping_recent_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_mod, "MIN_KEEP", 0)  # the bound is KEEP_FACTOR x windows in use
    assert cache_mod.KEEP_FACTOR == 3
    index_dir = tmp_path / "index"
    docs = [_doc(tmp_path, i) for i in range(4)]
    e = HashEmbedder()
    for doc in docs:  # each build replaces the last: 5 new windows each time
        report = build_index([doc], index_dir, e)
        assert report.vectors == report.embedded == 5
    # Each build caches 5 windows and their answers' 5 sentences (index/sentences.py): 40
    # entries written, bound 3 x 10: the oldest build's 10 were pruned.
    assert len(rows(index_dir)) == 30
    assert build_index([docs[3]], index_dir, e).embedded == 0  # the current windows are kept
    assert build_index([docs[2]], index_dir, e).embedded == 0  # and recent ones
    assert build_index([docs[0]], index_dir, e).embedded == 5  # the oldest had to be redone
    assert len(rows(index_dir)) == 30
