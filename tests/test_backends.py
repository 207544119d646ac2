"""The product on either vector backend: build, search, add, remove and publish behave the same
on FAISS and on a real Milvus server (COUNSEL_SEARCH_MILVUS_URI; see tests/conftest.py)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from cli import main
from index import add_sources, build_index, open_index, remove_sources
from index import publish as pub
from index.backends import BackendError, alias, prefix
from index.errors import IndexCorrupt
from search import Searcher
from tests.conftest import ROOT, SEED, without_hanging
from tests.fakes import HashEmbedder

QUERIES = [
    "I feel anxious and can't sleep",
    "my husband doesn't listen to me",
    "can I trust a therapist who acts like he knows everything?",
    "grief after losing my mother",
    "how do I stop panic attacks",
]
BACKENDS = ["faiss", pytest.param("milvus", marks=pytest.mark.milvus)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Keyword arguments that select a backend for build_index and add_sources."""
    monkeypatch.delenv("COUNSEL_SEARCH_BACKEND", raising=False)
    if request.param == "faiss":
        return {"backend": "faiss"}
    uri = request.getfixturevalue("milvus_uri")
    monkeypatch.delenv("COUNSEL_SEARCH_MILVUS_URI", raising=False)  # only what the test passes
    return {"backend": "milvus", "milvus_uri": uri}


def _collections(uri: str) -> list[str]:
    from index.milvus_store import MilvusStore

    client = MilvusStore.connect(uri)
    try:
        return list(client.list_collections())
    finally:
        client.close()


def _ranked(index_dir: Path) -> dict[str, list[str]]:
    s = Searcher.open(index_dir)
    try:
        return {
            f"{mode}|{q}": [h.passage.id for h in s.search(q, k=10, mode=mode, explain=False)]
            for q in QUERIES
            for mode in ("hybrid", "dense")
        } | {
            f"filtered|{q}": [
                h.passage.id
                for h in s.search(q, k=5, filters={"topic": ["depression"]}, explain=False)
            ]
            for q in QUERIES
        }
    finally:
        s.close()


@pytest.fixture(scope="module")
def faiss_answers(tmp_path_factory: pytest.TempPathFactory, sample_corpus: Path) -> dict:
    index_dir = tmp_path_factory.mktemp("faiss") / "index"
    build_index([sample_corpus], index_dir, HashEmbedder(), backend="faiss")
    return _ranked(index_dir)


def test_same_answers_on_either_backend(
    tmp_path: Path, sample_corpus: Path, backend: dict, faiss_answers: dict
) -> None:
    index_dir = tmp_path / "index"
    build_index([sample_corpus], index_dir, HashEmbedder(), **backend)
    version = open_index(index_dir)
    try:
        assert version.manifest.backend == backend["backend"]
        assert version.manifest.index_type == "flat"  # exact below the size threshold
        if backend["backend"] == "milvus":
            assert version.manifest.milvus_uri == backend["milvus_uri"]
            assert version.manifest.collection.startswith(prefix(index_dir))
            assert not (version.folder / pub.VECTORS).exists()
    finally:
        version.close()
    answers = _ranked(index_dir)
    assert answers == faiss_answers
    assert all(len(ids) == 5 for key, ids in answers.items() if key.startswith("filtered"))


def test_add_and_remove_publish_new_versions(
    tmp_path: Path, sample_corpus: Path, backend: dict
) -> None:
    index_dir = tmp_path / "index"
    embedder = HashEmbedder()
    build_index([sample_corpus], index_dir, embedder, **backend)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "owls.md").write_text(
        "# Owls\n\n## Why do owls hoot at night?\n\nOwls hoot to mark territory and call mates.\n",
        encoding="utf-8",
    )
    # No backend flag: an update keeps the backend (and server) the index was built with.
    add_sources([extra], index_dir, embedder)
    s = Searcher.open(index_dir)
    try:
        assert s.version.manifest.backend == backend["backend"]
        assert "owls.md" in s.search("owls hoot at night", k=1)[0].passage.source
    finally:
        s.close()
    remove_sources(["owls.md"], index_dir, embedder)
    s = Searcher.open(index_dir)
    try:
        assert all("owls.md" not in h.passage.source for h in s.search("owls hoot", k=20))
        collection = s.version.manifest.collection
    finally:
        s.close()
    if backend["backend"] == "milvus":
        # Kept: the current and the previous version's collections, and the alias's target.
        ours = [c for c in _collections(backend["milvus_uri"]) if c.startswith(prefix(index_dir))]
        kept = {
            json.loads((f / pub.MANIFEST).read_text())["collection"]
            for f in pub.complete_versions(index_dir)
        }
        assert set(ours) == kept and collection in ours and len(ours) == 2
        from index.milvus_store import MilvusStore

        store = MilvusStore.open(backend["milvus_uri"], alias(index_dir))
        try:
            assert store.collection == collection
        finally:
            store.close()


def test_failed_build_leaves_the_last_good_version(
    tmp_path: Path, sample_corpus: Path, backend: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index([sample_corpus], index_dir, HashEmbedder(), **backend)
    before = _ranked(index_dir)
    published = (index_dir / pub.POINTER).read_text()
    # Dies while the new version's vectors are being written (after the collection exists).
    if backend["backend"] == "milvus":
        from index.milvus_store import MilvusStore

        def boom(self) -> None:
            raise RuntimeError("killed mid-write")

        monkeypatch.setattr(MilvusStore, "sync", boom)
    else:
        from index.vectors import FaissStore

        monkeypatch.setattr(
            FaissStore,
            "save",
            lambda self, path: (_ for _ in ()).throw(RuntimeError("killed mid-write")),
        )
    extra = tmp_path / "more.md"
    extra.write_text("# More\n\n## A new question?\n\nA new answer.\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="killed"):
        add_sources([extra], index_dir, HashEmbedder())
    monkeypatch.undo()
    assert (index_dir / pub.POINTER).read_text() == published
    assert _ranked(index_dir) == before
    if backend["backend"] == "milvus":
        ours = [c for c in _collections(backend["milvus_uri"]) if c.startswith(prefix(index_dir))]
        assert len(ours) == 1  # the failed build's collection was dropped


def test_milvus_needs_an_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNSEL_SEARCH_MILVUS_URI", raising=False)
    with pytest.raises(BackendError, match="--milvus-uri"):
        build_index([SEED], tmp_path / "index", HashEmbedder(), backend="milvus")
    with pytest.raises(BackendError, match="unknown vector backend"):
        build_index([SEED], tmp_path / "index", HashEmbedder(), backend="annoy")


@pytest.mark.milvus
def test_server_gone_is_a_one_line_error(
    tmp_path: Path, sample_corpus: Path, milvus_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index([SEED], index_dir, HashEmbedder(), backend="milvus", milvus_uri=milvus_uri)
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("COUNSEL_SEARCH_MILVUS_URI", dead)
    from index.milvus_store import VectorStoreUnavailable

    with pytest.raises(VectorStoreUnavailable) as caught:
        # An outage is not hidden behind an old version. (The guard only catches a hang: the
        # store's calls have their own timeouts; speed is measured in benchmarks/.)
        without_hanging(lambda: open_index(index_dir, fallback=True), "opening a dead server")
    assert "\n" not in caught.value.one_line() and "unreachable" in caught.value.one_line()
    # A collection dropped behind the index's back: the index is damaged, not the server.
    monkeypatch.setenv("COUNSEL_SEARCH_MILVUS_URI", milvus_uri)
    version = open_index(index_dir)
    name = version.manifest.collection
    version.vectors.drop_collection(name, force=True)
    version.close()
    with pytest.raises(IndexCorrupt, match="vectors are gone"):
        open_index(index_dir)


@pytest.mark.milvus
def test_cli_build_and_search_on_milvus(
    tmp_path: Path, sample_corpus: Path, milvus_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ix = str(tmp_path / "index")
    args = ["build", str(sample_corpus), "--index", ix, "--model", "hash-test"]
    assert main([*args, "--backend", "milvus", "--milvus-uri", milvus_uri, "--json"]) == 0
    capsys.readouterr()
    assert main(["search", "trust my therapist", "--index", ix, "-k", "3", "--json"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(hits) == 3
    assert main(["info", "--index", ix, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "milvus" and info["index_type"] == "flat"


@pytest.fixture()
def own_server(tmp_path: Path, milvus_uri: str):
    """A second Milvus server of this test's own (the shared one must stay up), stopped at the
    end whatever happens. Yields its URI and a function that stops it."""
    script = ROOT / "scripts" / "milvus_server.sh"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1] // 16 * 16 % 50_000 + 10_000  # room for its 11 ports
    data = tmp_path / "milvus"
    subprocess.run(["bash", str(script), "start", str(data), str(port)], check=True, timeout=180)

    def stop() -> None:
        subprocess.run(["bash", str(script), "stop", str(data)], check=False, timeout=60)

    try:
        yield f"http://127.0.0.1:{port}", stop
    finally:
        stop()


@pytest.mark.milvus
def test_server_going_away_mid_session(
    tmp_path: Path, own_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Searches fail with a one-line error (and do not hang) once the server is gone, and a
    build that cannot reach it publishes nothing."""
    uri, stop = own_server
    monkeypatch.delenv("COUNSEL_SEARCH_MILVUS_URI")  # the index's own server, not the shared one
    index_dir = tmp_path / "index"
    build_index([SEED], index_dir, HashEmbedder(), backend="milvus", milvus_uri=uri)
    published = (index_dir / pub.POINTER).read_text()
    s = Searcher.open(index_dir)
    assert s.search("trust my therapist", k=3, explain=False)
    stop()
    from index.milvus_store import VectorStoreUnavailable

    s.clear_query_cache()
    with pytest.raises(VectorStoreUnavailable) as caught:
        without_hanging(
            lambda: s.search("a different question about sleep", k=3, explain=False),
            "a search on a stopped server",
        )
    assert "\n" not in caught.value.one_line()
    s.close()
    extra = tmp_path / "more.md"
    extra.write_text("# More\n\n## A new question?\n\nA new answer.\n", encoding="utf-8")
    with pytest.raises(VectorStoreUnavailable):
        add_sources([extra], index_dir, HashEmbedder())
    assert (index_dir / pub.POINTER).read_text() == published
    assert not [p for p in (index_dir / pub.VERSIONS).iterdir() if p.name.endswith(pub.PARTIAL)]
