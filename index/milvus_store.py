"""Vectors in a Milvus server behind FaissStore's interface, for corpora that outgrow one
machine: int64 ids, L2-normalized float32 vectors, inner product (= cosine), `search` shaped
(queries, min(k, count)) padded with id -1, the allow-list applied *before* the top-k cut.

One collection per index version (`collection_name`): a build never touches what readers
search, and `publish_alias` points an alias at the new collection in one server-side step (the
CURRENT pointer's counterpart). The model is recorded as JSON in the collection's description
and checked by `open`, as the manifest is for FAISS.

Exact (FLAT) below `APPROX_MIN_VECTORS`, HNSW above. Not IVF as in FaissStore: FAISS needs it
to reconstruct by id, which Milvus does for any index; and under a selective filter
Milvus's HNSW scans the allowed vectors exactly, where its IVF scans only the probed lists and
comes back short (server 2.3.5, 60k clustered 32-d vectors, a filter allowing 0.5%: IVF_FLAT
filled k for 55% of queries). Every call has a timeout and reads are retried, so a server that
is down or goes away raises `VectorStoreUnavailable` within ~10 s instead of hanging.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexCorrupt, IndexNotFound, ModelMismatch
from index.vectors import FLAT, IVF_MIN_VECTORS
from ingest.errors import CounselSearchError

try:
    import grpc
    from pymilvus import DataType, MilvusClient, MilvusException

    _SERVER_ERRORS: tuple[type[Exception], ...] = (MilvusException, grpc.RpcError, OSError)
except ImportError:  # pragma: no cover - pymilvus is an optional dependency
    MilvusClient = DataType = None  # type: ignore[assignment,misc]
    _SERVER_ERRORS = (OSError,)

log = logging.getLogger(__name__)

HNSW = "hnsw"
APPROX_MIN_VECTORS = IVF_MIN_VECTORS  # exact below, HNSW above: FaissStore's threshold
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
# Search breadth (Milvus wants ef >= k). At 60k clustered 32-d vectors, ef 128 gave recall@10
# 0.96; a filter allowing 10-30% of the corpus dropped it to 0.83-0.87, and ef 512 brought it
# back to 0.98-0.99. Filters allowing under ~7% are scanned exactly by the server (recall 1).
HNSW_EF = 128
FILTER_EF_FACTOR = 4  # for a filter allowing under half of the corpus
TOPK_MAX = 16_384  # Milvus answers at most this many hits per query
# Ids per `id in [...]` expression. The server parses the list at ~4 us per id (10k ids
# ~36 ms, 100k ~430 ms, embedded server), so a longer allow-list is searched in several
# requests whose top-k are merged: exact, but its cost grows with its length.
FILTER_IDS_MAX = 10_000
QUERY_BATCH = 1_024  # queries per search request (Milvus caps nq at 16,384)
GET_BATCH = 5_000  # ids per query request: 5k x 384 floats keeps replies near 8 MB
INSERT_BYTES = 16 << 20  # vector bytes per insert request (the server accepts 64 MB)
# Reads are tried RETRIES times with these timeouts and pauses: a server that is down fails
# each try at once, a hung one at the timeout, so either way within ~10 s.
RETRIES = 3
CONNECT_TIMEOUT = 2.5
CALL_TIMEOUT = 3.0
BACKOFF = (0.25, 0.5)
WRITE_TIMEOUT = 60.0  # inserts, drops, aliases: tried once (an insert is not idempotent)
BUILD_TIMEOUT = 3_600.0  # creating, flushing, indexing and loading a collection
# Reads use Bounded consistency (~4 ms a search). After this store writes, its next read is
# a Strong count, which waits until the server has applied every write so far (0.2-0.6 s, the
# next time tick), so every later read sees them. Strong on every read would cost that each
# time, and pymilvus's "Session" level does not track MilvusClient's writes (pymilvus 2.5.18).
READ_CONSISTENCY = "Bounded"
META_KEY = "counsel_search"
# What pymilvus and gRPC say when the server is down, unreachable or too slow.
TRANSIENT_WORDS = ("unavailable", "deadline", "timeout", "fail connecting", "connection", "closed")
FLT_MIN = -np.finfo(np.float32).max  # the score of an empty slot, as FAISS pads


class VectorStoreError(CounselSearchError):
    """A problem with the vector store itself (not with the corpus or the model)."""


class VectorStoreUnavailable(VectorStoreError):
    """The Milvus server cannot be reached, or stopped answering."""


def collection_name(version: str, prefix: str = "counsel") -> str:
    """A Milvus collection name for an index version: letters, digits and underscores only."""
    return f"{prefix}_{re.sub(r'[^0-9A-Za-z_]', '_', version)}"[:255]


class MilvusStore:
    """Inner-product search in one Milvus collection keyed by int64 ids. Get one with `open`,
    `create` or `build`; `close` it when done (the collection stays on the server)."""

    nlist = 0  # FaissStore reports IVF's lists and probes; HNSW has none (manifest: 0)
    nprobe = 0

    def __init__(self, client: Any, uri: str, collection: str, meta: dict[str, Any]) -> None:
        self._client = client
        self.uri = uri
        self.collection = collection
        self.dim = int(meta["dim"])
        self.model_name = str(meta.get("model_name") or "unknown")
        self.model_fingerprint = str(meta.get("model_fingerprint", ""))
        self.index_type = str(meta.get("index_type", FLAT))
        self._count: int | None = None
        self._stale = False  # written to since the last Strong read (see READ_CONSISTENCY)

    @staticmethod
    def connect(uri: str) -> Any:
        """A client of its own for `uri` (pymilvus shares one connection per URI, and closing
        a shared one would cut off every other store on that server)."""
        if MilvusClient is None:
            raise VectorStoreError("the Milvus backend needs pymilvus", "pip install pymilvus")
        alias = f"counsel-{uuid.uuid4().hex}"

        def client(timeout: float, retry_times: int) -> Any:
            return MilvusClient(uri, timeout=timeout, alias=alias)

        return _call(f"connect to {uri}", client, timeout=CONNECT_TIMEOUT)

    @classmethod
    def open(
        cls, uri: str, name: str, *, dim: int | None = None, model_fingerprint: str | None = None
    ) -> MilvusStore:
        """Open a collection, or the one an alias points to (resolved now: a reader keeps its
        version until it reopens). IndexNotFound if there is none; ModelMismatch if its
        dimension or model fingerprint differs from the ones given."""
        client = cls.connect(uri)
        try:
            if not _call("look up", client.has_collection, name):
                raise IndexNotFound(
                    f"no Milvus collection or alias {name!r} at {uri}",
                    "build the index first, or check the name and the server address",
                )
            info = _call(f"describe {name}", client.describe_collection, name)
            store = cls(client, uri, info["collection_name"], _meta(info))
            store._check(dim, model_fingerprint)
            _call(f"load {name}", client.load_collection, name, tries=1, timeout=BUILD_TIMEOUT)
        except BaseException:
            client.close()
            raise
        return store

    @classmethod
    def create(
        cls, uri: str, collection: str, dim: int, index_type: str = FLAT, **model: str
    ) -> MilvusStore:
        """A new, empty, indexed and loaded collection; `model` names what made the vectors
        (model_name=, model_fingerprint=). Refuses a collection that exists."""
        meta = {META_KEY: 1, "dim": int(dim), "similarity": "cosine", "index_type": index_type}
        meta |= {key: model.get(key, "") for key in ("model_name", "model_fingerprint")}
        client = cls.connect(uri)
        try:
            if _call("look up", client.has_collection, collection):
                raise VectorStoreError(
                    f"Milvus collection {collection!r} already exists at {uri}",
                    "drop it first, or build under another version name",
                )
            schema = MilvusClient.create_schema(auto_id=False, description=json.dumps(meta))
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(dim))
            index = client.prepare_index_params()
            extra = HNSW_PARAMS if index_type == HNSW else {}
            index.add_index("vector", index_type=index_type.upper(), metric_type="IP", params=extra)
            # Strong is the default for other clients; this store reads as READ_CONSISTENCY says.
            kwargs = {"schema": schema, "index_params": index, "consistency_level": "Strong"}
            kwargs |= {"tries": 1, "timeout": WRITE_TIMEOUT}
            _call(f"create {collection}", client.create_collection, collection, **kwargs)
        except BaseException:
            client.close()
            raise
        return cls(client, uri, collection, meta)

    @classmethod
    def build(
        cls, uri: str, collection: str, ids: np.ndarray, vectors: np.ndarray, **model: str
    ) -> MilvusStore:
        """A new collection holding these vectors, exact or HNSW by their number, flushed and
        indexed (`sync`): what `FaissStore.build` is for FAISS. `model` as for `create`."""
        index_type = FLAT if len(vectors) < APPROX_MIN_VECTORS else HNSW
        store = cls.create(uri, collection, np.shape(vectors)[1], index_type, **model)
        try:
            store.add(ids, vectors)
            store.sync()
        except BaseException:
            # Half-written: nobody can use it; drop it (best effort, a later prune catches it).
            with contextlib.suppress(CounselSearchError, *_SERVER_ERRORS):
                store.drop_collection(collection, force=True)
            store.close()
            raise
        log.info("Milvus %s: %d vectors, %s index", collection, len(vectors), index_type)
        return store

    def _check(self, dim: int | None, fingerprint: str | None) -> None:
        if dim is not None and dim != self.dim:
            raise ModelMismatch(
                f"Milvus collection {self.collection} holds vectors of dim {self.dim}, not {dim}",
                f"use the model that built it ({self.model_name}), or rebuild",
            )
        if fingerprint and fingerprint != self.model_fingerprint:
            raise ModelMismatch(
                f"Milvus collection {self.collection} was built with model {self.model_name} "
                f"(fingerprint {self.model_fingerprint[:12] or 'none'}), not this one",
                "search it with that model, or rebuild the index with this one",
            )

    def _vectors(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ModelMismatch(
                f"vectors of shape {vectors.shape} do not fit Milvus collection "
                f"{self.collection} (dim {self.dim}, model {self.model_name})",
                "embed with the model that built the index, or rebuild it",
            )
        return vectors

    def _do(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return _call(f"{what} in {self.collection} at {self.uri}", fn, *args, **kwargs)

    def _write(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._stale = True
        kwargs.setdefault("timeout", WRITE_TIMEOUT)
        return self._do(what, fn, *args, tries=1, **kwargs)

    def _query(self, what: str, expr: str, fields: list[str], level: str = "") -> list[Any]:
        kwargs = {"filter": expr, "output_fields": fields}
        kwargs["consistency_level"] = level or READ_CONSISTENCY
        return self._do(what, self._client.query, self.collection, **kwargs)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given int64 ids (an id added twice is stored twice, as in
        FaissStore: builds add fresh ids)."""
        ids, vectors = _ids(ids), self._vectors(vectors)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        step = max(1, INSERT_BYTES // (4 * self.dim))
        for start in range(0, len(ids), step):
            part = zip(
                ids[start : start + step].tolist(), vectors[start : start + step], strict=True
            )
            rows = [{"id": i, "vector": v} for i, v in part]
            self._write("insert", self._client.insert, self.collection, rows)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; `allowed` restricts the candidates *before* the cut,
        so a filtered search still returns k hits when k exist. Missing slots have id -1.

        Milvus returns at most TOPK_MAX hits: without an allow-list a larger k is capped there,
        with one the top k are computed here from the allowed vectors (fetched as by `get`).
        """
        queries = self._vectors(queries)
        n = self.count()
        k = max(1, min(k, n))
        scores = np.full((len(queries), k), FLT_MIN, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        groups: list[np.ndarray | None] = [None]
        ef = HNSW_EF
        if allowed is not None:
            allowed = np.unique(_ids(allowed))
            if k > TOPK_MAX:
                found = self._fetch(allowed)
                if found:
                    sims = queries @ np.stack(list(found.values())).T
                    keys = np.fromiter(found, dtype=np.int64, count=len(found))
                    _merge(scores, ids, sims, np.broadcast_to(keys, sims.shape))
                return scores, ids
            groups = list(_batches(allowed, FILTER_IDS_MAX))
            ef *= FILTER_EF_FACTOR if allowed.size * 2 < n else 1
        elif k > TOPK_MAX:
            log.warning("Milvus returns at most %d hits per query, not %d", TOPK_MAX, k)
        params: dict[str, Any] = {"metric_type": "IP"}
        if self.index_type == HNSW:
            params["params"] = {"ef": max(ef, min(k, TOPK_MAX))}
        for start in range(0, len(queries) if n else 0, QUERY_BATCH):
            part = slice(start, start + QUERY_BATCH)
            for group in groups:
                limit = min(k, TOPK_MAX, k if group is None else group.size)
                kwargs = {"limit": limit, "search_params": params}
                kwargs |= {"filter": "" if group is None else _in(group)}
                kwargs |= {"consistency_level": READ_CONSISTENCY}
                result = self._do(
                    "search", self._client.search, self.collection, queries[part], **kwargs
                )
                got = np.full((len(result), limit), FLT_MIN, dtype=np.float32)
                got_ids = np.full((len(result), limit), -1, dtype=np.int64)
                for row, hits in enumerate(result):
                    got[row, : len(hits)] = [h["distance"] for h in hits]
                    got_ids[row, : len(hits)] = [h["id"] for h in hits]
                _merge(scores[part], ids[part], got, got_ids)
        return scores, ids

    def _fetch(self, ids: np.ndarray) -> dict[int, np.ndarray]:
        """Stored vectors by id, for those of these ids that are stored."""
        self.count()  # sees this store's own writes first
        found: dict[int, np.ndarray] = {}
        for batch in _batches(np.unique(ids), GET_BATCH):
            for row in self._query("get", _in(batch), ["vector"]):
                found[int(row["id"])] = np.asarray(row["vector"], dtype=np.float32)
        return found

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors for these ids, in order; KeyError names ids that are not stored."""
        ids = _ids(ids)
        if ids.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        found = self._fetch(ids)
        missing = [i for i in ids.tolist() if i not in found]
        if missing:
            raise KeyError(f"ids not in {self.collection}: {missing[:5]}")
        return np.stack([found[i] for i in ids.tolist()])

    def count(self) -> int:
        """Number of stored vectors (kept until this store writes: a version's collection is
        written by its build only)."""
        if self._count is None or self._stale:
            level = "Strong" if self._stale else READ_CONSISTENCY
            rows = self._query("count", "", ["count(*)"], level)
            self._count, self._stale = int(rows[0]["count(*)"]), False
        return self._count

    def sync(self) -> None:
        """Persist what was written and make it visible to every reader: flush (seal and write
        the segments), wait for their index, then a Strong count."""
        self._write("flush", self._client.flush, self.collection, timeout=BUILD_TIMEOUT)
        deadline = time.monotonic() + BUILD_TIMEOUT
        while True:
            info = self._do("index state", self._client.describe_index, self.collection, "vector")
            if not info.get("pending_index_rows") and info.get("state") != "InProgress":
                break
            if time.monotonic() > deadline:
                raise VectorStoreError(f"the index of {self.collection} was not built in time")
            time.sleep(0.5)
        if self.index_type != FLAT:
            # Loaded while it grew, the collection is still served from Milvus's interim index
            # (fixed breadth: recall@10 0.855 at 60k vectors whatever ef asked). Reloading
            # serves the finished HNSW: ef 64 gave 0.938, 512 gave 0.998.
            self._write("release", self._client.release_collection, self.collection)
            self._write(
                "load", self._client.load_collection, self.collection, timeout=BUILD_TIMEOUT
            )
        self.count()

    def save(self, path: Path) -> None:
        """`sync`, then write a small JSON file naming the server and the collection (the
        vectors stay in Milvus): what a version folder holds instead of a FAISS file (open it
        with `open(ref["uri"], ref["collection"], dim=..., model_fingerprint=...)`)."""
        self.sync()
        ref = {"backend": "milvus", "uri": self.uri, "collection": self.collection}
        ref |= {"dim": self.dim, "model_fingerprint": self.model_fingerprint}
        Path(path).write_text(json.dumps(ref, indent=2) + "\n", encoding="utf-8")

    def publish_alias(self, alias: str, collection: str | None = None) -> None:
        """Point `alias` at `collection` (default: this store's) in one server-side step:
        readers opening the alias get the old collection or the new, never a mix."""
        known = self._do("list aliases", self._client.list_aliases).get("aliases", [])
        change = self._client.alter_alias if alias in known else self._client.create_alias
        self._write("publish alias", change, collection or self.collection, alias)

    def drop_collection(self, collection: str, force: bool = False) -> None:
        """Drop a collection (an old version). Refuses one an alias points to, which Milvus
        would drop along with its aliases, unless `force`."""
        info = self._do("describe", self._client.describe_collection, collection)
        if info.get("aliases") and not force:
            raise VectorStoreError(
                f"Milvus collection {collection} is published as {', '.join(info['aliases'])}",
                "publish another collection under that alias first",
            )
        self._write("drop", self._client.drop_collection, collection)

    def collections(self) -> list[str]:
        """Names of every collection on the server."""
        return list(self._do("list collections", self._client.list_collections))

    def close(self) -> None:
        """Close this store's connection."""
        self._client.close()


def _ids(ids: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(ids, dtype=np.int64).ravel()


def _batches(items: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in(ids: np.ndarray | list[int]) -> str:
    return f"id in [{','.join(map(str, np.asarray(ids).tolist()))}]"


def _merge(scores: np.ndarray, ids: np.ndarray, new: np.ndarray, new_ids: np.ndarray) -> None:
    """Fold candidate (scores, ids) rows into the running top-k, in place, best first."""
    both, both_ids = np.hstack([scores, new]), np.hstack([ids, new_ids])
    top = np.argsort(-both, axis=1, kind="stable")[:, : ids.shape[1]]
    scores[:], ids[:] = np.take_along_axis(both, top, 1), np.take_along_axis(both_ids, top, 1)


def _meta(info: dict[str, Any]) -> dict[str, Any]:
    """The counsel-search record in a collection's description, checked against its schema."""
    name = info.get("collection_name", "?")
    try:
        meta = json.loads(info.get("description") or "{}")
    except ValueError:
        meta = {}
    fix = "open a collection that counsel-search built, or rebuild the index"
    if not isinstance(meta, dict) or META_KEY not in meta:
        raise IndexCorrupt(f"Milvus collection {name} has no counsel-search model record", fix)
    dims = [f["params"].get("dim") for f in info.get("fields", []) if f.get("name") == "vector"]
    if not dims or int(dims[0]) != int(meta.get("dim", -1)):
        raise IndexCorrupt(f"Milvus collection {name} disagrees with its model record", fix)
    return meta


def _call(what: str, fn: Callable[..., Any], *args: Any, tries: int = RETRIES, **kw: Any) -> Any:
    """fn(*args, **kw) with a timeout (CALL_TIMEOUT unless given); tried `tries` times while
    the server is unreachable or too slow, then VectorStoreUnavailable. The timeout is a float
    and retry_times 0 because pymilvus would otherwise retry by itself, ~75 times."""
    kw.setdefault("timeout", CALL_TIMEOUT)
    for attempt in range(tries):
        try:
            return fn(*args, retry_times=0, **kw)
        except _SERVER_ERRORS as exc:
            text = " ".join(str(exc).split())
            if not (isinstance(exc, OSError) or any(w in text.lower() for w in TRANSIENT_WORDS)):
                raise
            if attempt == tries - 1:
                details = getattr(exc, "details", None)  # a gRPC error's own message
                detail = details() if callable(details) else re.sub(r".*message=", "", text)
                detail = " ".join(str(detail).split()).rstrip(")>")[:120]
                raise VectorStoreUnavailable(
                    f"Milvus server unreachable: {what} failed ({detail})",
                    "start it (scripts/milvus_server.sh start DIR PORT) or check the URI",
                ) from exc
            log.info("Milvus: %s failed, retrying: %s", what, text)
            time.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
    raise AssertionError("unreachable")  # pragma: no cover
