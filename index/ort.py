"""ONNX Runtime for sentence-transformers models: the same vectors as PyTorch, faster, and a
query path that never imports torch.

On 2 cores ONNX Runtime runs all-MiniLM-L6-v2 about 1.6-1.9× faster than PyTorch eager, with
vectors at cosine ≥ 0.99999 to PyTorch's (docs/performance.md, "Build throughput"); int8
quantization was faster still but moved nDCG@10 by 0.016 on the FAQ task, beyond what we accept.

The model's transformer is exported once per weight fingerprint to a cache folder
($COUNSEL_SEARCH_MODEL_CACHE, else ~/.cache/counsel-search/models/onnx), written atomically,
beside the model's fast tokenizer (KEY.tokenizer.json) and a record (KEY.json: pooling,
lower-casing, length, dimension, the ONNX file's sha256). The record is written last: with it
the export is complete, and `ExportedEmbedder` encodes from these files alone, through
onnxruntime and `tokenizers` (index/onnx_model.py's OnnxEmbedder, mean-pooled), so a process
that only searches never imports torch or sentence-transformers.

Only the common sentence-transformers stack is handled (Transformer, mean Pooling, optional
Normalize, a fast tokenizer); anything else, or any failure to export or load, falls back to
PyTorch with a warning. COUNSEL_SEARCH_ONNX=0 turns it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index import files
from index.mpnet import default_cache_dir
from index.onnx_model import OnnxEmbedder, _sha256

log = logging.getLogger(__name__)

ENV_ONNX = "COUNSEL_SEARCH_ONNX"
OPSET = 17


def enabled() -> bool:
    """ONNX Runtime is installed and not turned off."""
    if os.environ.get(ENV_ONNX, "1").strip().lower() in {"0", "false", "no", "off"}:
        return False
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def supported(model: Any) -> bool:
    """Is the model the stack this module reproduces (Transformer, mean Pooling, Normalize)?"""
    names = [type(m).__name__ for m in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    config = model[1].get_config_dict()
    return config.get("pooling_mode", "mean") == "mean" or bool(
        config.get("pooling_mode_mean_tokens")
    )


class OrtEncoder:
    """The transformer of a sentence-transformers model in an ONNX Runtime session."""

    def __init__(self, model: Any, fingerprint: str, threads: int) -> None:
        self.tokenizer = model.tokenizer
        self.max_length = int(model.max_seq_length)
        self.lower = bool(getattr(model[0], "do_lower_case", False))
        self.normalize = type(model[-1]).__name__ == "Normalize"
        path = _exported(model, fingerprint)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch as sentence-transformers would (strip, truncate, mean-pool)."""
        texts = [t.strip().lower() if self.lower else t.strip() for t in texts]
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np"
        )
        feed = {name: np.asarray(batch[name], dtype=np.int64) for name in self.inputs}
        hidden = self.session.run(None, feed)[0]
        mask = np.asarray(batch["attention_mask"], dtype=np.float32)[..., None]
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        if self.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


_EXPORT_LOCK = threading.Lock()


def _paths(fingerprint: str) -> tuple[Path, Path, Path]:
    """(ONNX file, tokenizer.json, record) of a weight fingerprint's export."""
    folder = default_cache_dir() / "onnx"
    key = hashlib.sha256(f"{fingerprint}|opset{OPSET}".encode()).hexdigest()[:16]
    return folder / f"{key}.onnx", folder / f"{key}.tokenizer.json", folder / f"{key}.json"


def _exported(model: Any, fingerprint: str) -> Path:
    """The ONNX file of this model's transformer, exported on first use, with its tokenizer and
    record (written for an export made before records existed too)."""
    path, tokenizer, record = _paths(fingerprint)
    with _EXPORT_LOCK:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            with files.replacing(path) as tmp:  # a reader sees the whole file or none
                _export(model, tmp)
            log.info("exported %s to %s", fingerprint, path)
        if not record.is_file() and getattr(model.tokenizer, "is_fast", False):
            files.write_atomic(tokenizer, model.tokenizer.backend_tokenizer.to_str())
            getdim = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension
            )
            facts = Export(
                fingerprint=fingerprint,
                onnx_sha256=_sha256(path),
                tokenizer_sha256=_sha256(tokenizer),
                max_length=int(model.max_seq_length),
                dim=int(getdim()),
                lower=bool(getattr(model[0], "do_lower_case", False)),
                normalize=type(model[-1]).__name__ == "Normalize",
            )
            files.write_atomic(record, json.dumps(asdict(facts), indent=1))
    return path


@dataclass(frozen=True)
class Export:
    """The record of an export: what the ONNX file computes and how to feed it."""

    fingerprint: str  # of the weights exported
    onnx_sha256: str
    tokenizer_sha256: str
    max_length: int  # word pieces read, [CLS] and [SEP] included
    dim: int
    lower: bool  # sentence-transformers lower-cases the text first
    normalize: bool
    pooling: str = "mean"
    opset: int = OPSET


def find_export(fingerprint: str) -> tuple[Export, Path, Path] | None:
    """The complete export of these weights (record, ONNX file, tokenizer), or None when there
    is none yet (or ONNX Runtime is off). Each file is checked against its recorded sha256
    (again whenever it changed, index/embed.py's remembered_sha256): these files, not the
    original weights, are what a query then runs."""
    if not enabled():
        return None
    path, tokenizer, record = _paths(fingerprint)
    try:
        facts = Export(**json.loads(record.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if facts.fingerprint != fingerprint or not (path.is_file() and tokenizer.is_file()):
        return None
    from index.embed import remembered_sha256

    for file, digest in ((path, facts.onnx_sha256), (tokenizer, facts.tokenizer_sha256)):
        if remembered_sha256(file) != digest:
            log.warning("%s does not match its export record; exporting again", file)
            record.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            return None
    return facts, path, tokenizer


def export(model: Any, fingerprint: str) -> tuple[Export, Path, Path] | None:
    """Export a loaded sentence-transformers model (the one time torch is needed), or None
    when this module cannot reproduce it or the export fails (a warning says why)."""
    if not (enabled() and supported(model) and getattr(model.tokenizer, "is_fast", False)):
        return None
    try:
        _exported(model, fingerprint)
    except Exception as exc:  # any export failure: the PyTorch model still works
        log.warning("could not export %s to ONNX (%s); using PyTorch", fingerprint, exc)
        return None
    return find_export(fingerprint)


class ExportedEmbedder(OnnxEmbedder):
    """An exported sentence-transformers model (the Embedder protocol): the tokenizer and
    ONNX session of OnnxEmbedder, mean-pooled as sentence-transformers pools. No torch."""

    encoder = "onnxruntime"

    def __init__(self, name: str, found: tuple[Export, Path, Path], threads: int = 0) -> None:
        facts, path, tokenizer = found
        self.name = name
        self.fingerprint = facts.fingerprint
        self.dim = facts.dim
        self.max_tokens = facts.max_length - 2  # [CLS] and [SEP] take two positions
        self.query_prefix = ""
        self.lower = facts.lower
        self._open(path, tokenizer, threads)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 8, progress: Any = None
    ) -> np.ndarray:
        """L2-normalized mean-pooled vectors, one row per text. ONNX Runtime is fastest on
        small batches here (8: 1.8x PyTorch's batch of 32; 32: 1.55x), texts being sorted by
        length across the whole input."""
        return super().encode(texts, batch_size=batch_size, progress=progress)

    def _run(self, batch: list[str]) -> np.ndarray:
        # What sentence-transformers does before tokenizing.
        return super()._run([t.strip().lower() if self.lower else t.strip() for t in batch])

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean of the token states under the attention mask (padding left out)."""
        weights = mask.astype(np.float32)[..., None]
        summed = (hidden * weights).sum(axis=1)
        return (summed / np.maximum(weights.sum(axis=1), 1e-9)).astype(np.float32)


def _export(model: Any, dest: Path) -> None:
    import torch

    transformer = model[0].auto_model.eval()
    sample = model.tokenizer(["a short sample", "a second one"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Hidden(torch.nn.Module):
        """Keyword arguments in, last hidden state out (what mean pooling reads)."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]}
    # The tracer warns about shape-dependent Python branches in transformers' masking code;
    # the axes above keep batch and length dynamic, and the result is checked in the tests.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(),
            tuple(sample[n] for n in names),
            str(dest),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
