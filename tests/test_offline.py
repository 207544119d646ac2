"""Offline: loading the packaged model, building an index and searching it make no network
connection, not even a name lookup, from a fresh home with no caches.

The work runs in a child interpreter whose `sitecustomize` (found first on PYTHONPATH, so
installed before anything of the product or its libraries is imported, and in any Python
process they start) refuses every network use and records it: socket connect / connect_ex /
create_connection / getaddrinfo / gethostbyname patched, and an audit hook for the same calls
made below the `socket` module. Unix sockets stay allowed. The child first proves the guard
is active (two probes that must be refused and recorded), then does the work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED, write_sample_csv

pytestmark = pytest.mark.integration

GUARD = textwrap.dedent(
    '''
    """Written by tests/test_offline.py: every network use is refused and recorded."""
    import os
    import socket
    import sys

    _LOG = os.environ["COUNSEL_SEARCH_TEST_NET_LOG"]
    _LOCAL = {getattr(socket, "AF_UNIX", None)}


    def _refuse(what):
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {what}\\n")
        raise OSError(f"network use refused by the offline test: {what}")


    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex


    def connect(self, address):
        if self.family in _LOCAL:
            return _connect(self, address)
        _refuse(f"connect {address!r}")


    def connect_ex(self, address):
        if self.family in _LOCAL:
            return _connect_ex(self, address)
        _refuse(f"connect_ex {address!r}")


    def create_connection(address, *args, **kwargs):
        _refuse(f"create_connection {address!r}")


    def getaddrinfo(host, port, *args, **kwargs):
        _refuse(f"getaddrinfo {host!r} {port!r}")


    def gethostbyname(host):
        _refuse(f"gethostbyname {host!r}")


    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname

    _NAMES = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"}
    _SENDS = {"socket.connect", "socket.sendto", "socket.sendmsg"}


    def _audit(event, args):
        # Calls that bypass the patched functions (C extensions using _socket, saved references).
        if event in _NAMES:
            _refuse(f"{event} {args[0]!r}")
        elif event in _SENDS and args[0].family not in _LOCAL:
            _refuse(f"{event} {args[1]!r}")


    sys.addaudithook(_audit)
    '''
)

WORK = textwrap.dedent(
    """
    import _socket, json, socket, sys
    from pathlib import Path

    # The guard is active before any import of the product: both probes are refused.
    probes = 0
    for probe in (
        lambda: socket.create_connection(("192.0.2.1", 9), timeout=1),
        lambda: _socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("192.0.2.1", 9)),
    ):
        try:
            probe()
        except OSError as exc:
            probes += "refused by the offline test" in str(exc)
    assert "index" not in sys.modules and "sentence_transformers" not in sys.modules

    from index import build_index, load_embedder
    from search import Searcher
    from cli import main

    corpus, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
    embedder = load_embedder()
    report = build_index([corpus], index_dir, embedder)
    searcher = Searcher.open(index_dir)
    hybrid = searcher.search("can I trust my therapist?", k=3)
    dense = searcher.search("can I trust my therapist?", k=3, mode="dense")
    related = searcher.related(hybrid[0].passage.id, k=3)
    crisis = searcher.needs_crisis_notice("I want to end my life tonight")
    calm = searcher.needs_crisis_notice("how do I find a good couples counselor")
    code = main(["search", "feeling anxious before my first session", "--index", str(index_dir),
                 "--json", "-k", "2"])
    print(json.dumps({
        "probes": probes,
        "embedder": type(embedder).__name__,
        "model": searcher.info().model,
        "dim": embedder.dim,
        "passages": report.passages,
        "hybrid": [h.passage.question for h in hybrid],
        "dense": len(dense),
        "related": len(related),
        "crisis": [crisis, calm],
        "cli": code,
    }), file=sys.stderr)
    """
)


def test_model_build_and_search_make_no_network_connection(tmp_path: Path) -> None:
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    write_sample_csv(corpus / "counselchat_sample.csv", rows=40)
    log = tmp_path / "network.log"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        # The product's own offline switches are under test, not the caller's.
        if not k.startswith(("HF_", "TRANSFORMERS_", "COUNSEL_SEARCH_", "XDG_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(guard), str(ROOT)]),
        COUNSEL_SEARCH_TEST_NET_LOG=str(log),
        # A fresh machine: no Hugging Face cache, no exported ONNX model.
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        COUNSEL_SEARCH_MODEL_CACHE=str(tmp_path / "models"),
    )
    proc = subprocess.run(
        [sys.executable, "-c", WORK, str(corpus), str(tmp_path / "index")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stderr.strip().splitlines()[-1])
    attempts = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    # The two probes, and nothing else.
    assert result["probes"] == 2
    assert [a.split(" ", 1)[1] for a in attempts] == [
        "create_connection ('192.0.2.1', 9)",
        "socket.connect ('192.0.2.1', 9)",
    ], attempts
    # And everything worked, with the real model.
    # The model exported to ONNX on this fresh machine (torch, this once), then run from it.
    assert result["embedder"] == "ExportedEmbedder"
    assert result["model"] == "all-MiniLM-L6-v2" and result["dim"] == 384
    assert result["passages"] > 40
    assert len(result["hybrid"]) == 3 and result["dense"] == 3 and result["related"] == 3
    assert any("trust" in q.lower() for q in result["hybrid"]), result["hybrid"]
    assert result["crisis"] == [True, False]
    assert result["cli"] == 0 and len(proc.stdout.strip().splitlines()) == 2
