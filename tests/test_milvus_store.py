"""Vector-store contract, run against FAISS and Milvus alike; Milvus's own failure modes.

The Milvus runs need a server: set COUNSEL_SEARCH_MILVUS_URI (e.g. http://127.0.0.1:19530,
started with scripts/milvus_server.sh). Without it they are skipped, unless
COUNSEL_SEARCH_REQUIRE_MILVUS=1 makes that a failure (CI).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import index.vectors as vec
from index.errors import IndexNotFound, ModelMismatch
from index.vectors import FaissStore
from tests.conftest import require_pymilvus, without_hanging

DIM = 32
N = 2_000

Store = FaissStore  # or MilvusStore: the same interface
Factory = Callable[[np.ndarray, np.ndarray], Store]


def unit(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in Gaussian clusters, the structure approximate indexes rely on."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 30, DIM)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top(queries: np.ndarray, ids: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """Ids of the k best inner products, by brute force."""
    sims = queries @ x.T
    return ids[np.argsort(-sims, axis=1, kind="stable")[:, :k]]


def assert_exact(got: np.ndarray, queries: np.ndarray, ids: np.ndarray, x: np.ndarray) -> None:
    """`got` is the exact top-k among (ids, x), best first: the true score of each returned id
    equals the exact k best scores, rank by rank (so near-ties may come in either order)."""
    k = got.shape[1]
    assert all(len(set(row)) == k for row in got.tolist())
    row_of = {int(i): r for r, i in enumerate(ids)}
    true = np.array([[q @ x[row_of[int(i)]] for i in g] for q, g in zip(queries, got, strict=True)])
    best = np.sort(queries @ x.T, axis=1)[:, ::-1][:, :k]
    np.testing.assert_allclose(true, best, atol=1e-5)


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, vectors, queries): random unit vectors, ids sparse and shuffled."""
    ids = np.random.default_rng(1).permutation(N).astype(np.int64) * 7 + 5
    return ids, unit(N, 0), unit(20, 99)


BACKENDS = ["faiss", pytest.param("milvus", marks=pytest.mark.milvus)]


@contextmanager
def factory(backend: str, request: pytest.FixtureRequest) -> Iterator[Factory]:
    """Builds stores of a backend from (ids, vectors); Milvus collections are dropped after."""
    if backend == "faiss":
        yield lambda ids, x: FaissStore.build(ids, x)
        return
    from index.milvus_store import MilvusStore, collection_name

    uri = request.getfixturevalue("milvus_uri")
    made: list[MilvusStore] = []

    def build(ids: np.ndarray, x: np.ndarray) -> MilvusStore:
        name = collection_name(f"test_{uuid.uuid4().hex[:12]}")
        made.append(MilvusStore.build(uri, name, ids, x, model_name="t", model_fingerprint="f"))
        return made[-1]

    yield build
    for store in made:
        store.drop_collection(store.collection, force=True)
        store.close()


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest) -> Iterator[Factory]:
    with factory(request.param, request) as make:
        yield make


@pytest.fixture()
def store(make_store: Factory, corpus) -> Store:
    """The corpus in a store of its own (for tests that change it)."""
    ids, x, _ = corpus
    return make_store(ids, x)


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request: pytest.FixtureRequest, corpus) -> Iterator[Store]:
    """The corpus in a store built once per backend (Milvus takes ~6 s), for read-only tests."""
    ids, x, _ = corpus
    with factory(request.param, request) as make:
        yield make(ids, x)


def test_top_k_is_exact_top_k(shared: Store, corpus) -> None:
    ids, x, queries = corpus
    scores, got = shared.search(queries, 10)
    assert got.shape == scores.shape == (len(queries), 10)
    assert_exact(got, queries, ids, x)
    assert (got == exact_top(queries, ids, x, 10)).mean() > 0.95  # the same ids, bar near-ties
    np.testing.assert_allclose(scores, np.sort(queries @ x.T, axis=1)[:, ::-1][:, :10], atol=1e-5)


def test_k_above_count_is_cut_to_count(make_store: Factory) -> None:
    x = unit(5, 3)
    _, got = make_store(np.arange(5), x).search(x[:2], 10)
    assert got.shape == (2, 5)
    assert sorted(got[0].tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("n_allowed", [3, 37, 1_500])
def test_filter_applies_before_the_cut(shared: Store, corpus, n_allowed: int) -> None:
    ids, x, queries = corpus
    pick = np.random.default_rng(n_allowed).choice(N, n_allowed, replace=False)
    _, got = shared.search(queries, 10, ids[pick])
    k = min(10, n_allowed)
    assert_exact(got[:, :k], queries, ids[pick], x[pick])
    assert (got[:, k:] == -1).all()  # fewer allowed than k: padded, never other ids


def test_add_is_seen_by_the_next_search(store: Store) -> None:
    new = unit(1, 7)
    store.add(np.array([999_999]), new)
    _, got = store.search(new, 1)
    assert got[0, 0] == 999_999
    assert store.count() == N + 1


def test_get_returns_the_vectors_in_order(shared: Store, corpus) -> None:
    ids, x, _ = corpus
    order = np.array([17, 3, 1_999, 0])
    np.testing.assert_allclose(shared.get(ids[order]), x[order], atol=1e-6)
    assert shared.get(np.array([], dtype=np.int64)).shape == (0, DIM)
    assert shared.count() == N


def test_approximate_index_above_threshold(
    make_store: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the size threshold the store goes approximate and still finds neighbours, and a
    filtered search still fills k."""
    monkeypatch.setattr(vec, "IVF_MIN_VECTORS", 1_000)
    monkeypatch.setattr("index.milvus_store.APPROX_MIN_VECTORS", 1_000, raising=False)
    x = clustered(3_100)
    ids, data, queries = np.arange(3_000), x[:3_000], x[3_000:]
    store = make_store(ids, data)
    assert store.index_type != vec.FLAT
    _, got = store.search(queries, 10)
    truth = exact_top(queries, ids, data, 10)
    recall = np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth, strict=True)])
    assert recall >= 0.9
    allowed = ids[::20]
    _, got = store.search(queries, 10, allowed)
    assert np.isin(got, allowed).all()


# Milvus only: the server's failure modes and the model record.


@pytest.fixture()
def milvus_store(corpus, milvus_uri: str) -> Iterator:
    from index.milvus_store import MilvusStore, collection_name

    ids, x, _ = corpus
    name = collection_name(f"test_{uuid.uuid4().hex[:12]}")
    store = MilvusStore.build(milvus_uri, name, ids, x, model_name="t", model_fingerprint="f")
    yield store
    store.drop_collection(name, force=True)
    store.close()


@pytest.mark.milvus
def test_wrong_dimension_or_model_is_refused(milvus_store, milvus_uri: str) -> None:
    from index.milvus_store import MilvusStore

    name = milvus_store.collection
    with pytest.raises(ModelMismatch, match="dim 32, not 64"):
        MilvusStore.open(milvus_uri, name, dim=64)
    with pytest.raises(ModelMismatch, match="built with model t"):
        MilvusStore.open(milvus_uri, name, dim=DIM, model_fingerprint="other")
    with pytest.raises(ModelMismatch):
        milvus_store.search(unit(1, 0, dim=64), 5)
    with pytest.raises(ModelMismatch):
        milvus_store.add(np.array([1]), unit(1, 0, dim=16))
    with pytest.raises(IndexNotFound):
        MilvusStore.open(milvus_uri, "counsel_no_such_version")
    MilvusStore.open(milvus_uri, name, dim=DIM, model_fingerprint="f").close()


@pytest.mark.milvus
def test_alias_switch_and_guarded_drop(milvus_store, milvus_uri: str, corpus) -> None:
    from index.milvus_store import MilvusStore, VectorStoreError

    alias = f"test_current_{uuid.uuid4().hex[:8]}"
    milvus_store.publish_alias(alias)
    reader = MilvusStore.open(milvus_uri, alias)
    assert reader.collection == milvus_store.collection
    ids, x, _ = corpus
    other = MilvusStore.build(milvus_uri, f"{alias}_v2", ids[:10], x[:10])
    try:
        milvus_store.publish_alias(alias, other.collection)
        switched = MilvusStore.open(milvus_uri, alias)
        assert switched.count() == 10
        switched.close()
        assert reader.count() == N  # an open reader keeps its version
        with pytest.raises(VectorStoreError, match="published as"):
            milvus_store.drop_collection(other.collection)
    finally:
        other.drop_collection(other.collection, force=True)
        other.close()
        reader.close()


def test_unreachable_server_is_a_typed_one_line_error() -> None:
    require_pymilvus()  # no server needed; CI (COUNSEL_SEARCH_REQUIRE_MILVUS=1) must run it
    from index.milvus_store import MilvusStore, VectorStoreUnavailable

    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    with pytest.raises(VectorStoreUnavailable) as caught:
        # The calls have their own timeouts and a bounded number of tries: this only catches
        # an open that never ends (speed is measured in benchmarks/, not here).
        without_hanging(lambda: MilvusStore.open(uri, "anything"), "opening an unreachable server")
    line = caught.value.one_line()
    assert "\n" not in line and f"127.0.0.1:{port}" in line
