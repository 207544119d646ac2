"""Test doubles: a deterministic hashing embedder, registered as model "hash-test".

No meaning, no model files: fast unit tests build and search real indexes with it. It is
registered in the model registry (index/models.py) by `register_hash_model()`, which
tests/conftest.py calls, so `--model hash-test` and indexes built with it work in tests (a child
process calls it itself).
"""

from __future__ import annotations

import hashlib
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.models import MODELS, ModelSpec, register

HASH_MODEL = "hash-test"
HASH_SPEC = ModelSpec(
    name=HASH_MODEL,
    aliases=frozenset({HASH_MODEL}),
    source="registered",
    sha256=None,
    dim=64,
    max_tokens=48,
    weak_cosine=0.30,
    crisis_margin=None,  # no meaning, so no semantic crisis check: rules only
)
Progress = Callable[[int, int], None]


class HashEmbedder:
    """Deterministic bag-of-words hashing embedder: no model, for fast unit tests only."""

    def __init__(self, dim: int = 64, max_tokens: int = 48) -> None:
        self.name = HASH_MODEL
        self.fingerprint = f"hash-{dim}"
        self.dim = dim
        # Small on purpose, so that fast tests exercise long-passage windows.
        self.max_tokens = max_tokens

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Words are the tokens."""
        return [m.span() for m in re.finditer(r"\w+", text)]

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """Embed each text as the normalized sum of hashed word vectors."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        if progress:
            progress(len(texts), len(texts))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


# The command line, in a child process, with "hash-test" registered (run it from the repository
# root, so that `tests` is importable).
CLI_WITH_HASH = [
    sys.executable,
    "-c",
    "from tests.fakes import register_hash_model as r; r(); import cli, sys; "
    "sys.exit(cli.main(sys.argv[1:]))",
]


def register_hash_model() -> None:
    """Make "hash-test" a known model (idempotent)."""
    if HASH_MODEL not in MODELS:
        register(HASH_SPEC, HashEmbedder)


def run_on_terminal(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run a command with its stderr on a pseudo-terminal (so that progress bars show); its
    exit code and everything it wrote there."""
    primary, replica = pty.openpty()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=replica, cwd=cwd)
    os.close(replica)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    return proc.returncode, b"".join(chunks).decode(errors="replace")
