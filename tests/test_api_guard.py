"""The API's last resort and its log filter: an unexpected error answers a JSON 500 with no
traceback and logs nothing of what was asked; query strings never reach the access log."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api import CurrentSearcher, create_app
from api.guard import NoQueryString
from api.server import check_origins, log_config
from benchmarks.api import Client
from ingest import CounselSearchError

SECRET = "my secret question about my marriage"


@pytest.fixture()
def broken_server(
    hash_index: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, list[str]]]:
    """A real uvicorn server (in a thread) whose searcher fails with a message quoting the
    question; (its URL, the log lines it wrote)."""

    def fail(self: CurrentSearcher) -> None:
        raise RuntimeError(f"something broke while searching {SECRET!r}")

    config = uvicorn.Config(
        create_app(hash_index, warm=False), host="127.0.0.1", port=0, log_config=None
    )
    server = uvicorn.Server(config)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(logging.Formatter().format(record))  # type: ignore[method-assign]
    root = logging.getLogger()
    root.addHandler(handler)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        monkeypatch.setattr(CurrentSearcher, "get", fail)  # after start-up, which opens it
        yield f"http://127.0.0.1:{port}", lines
    finally:
        server.should_exit = True
        thread.join(30)
        root.removeHandler(handler)


def test_an_unexpected_error_is_a_json_500(broken_server: tuple[str, list[str]]) -> None:
    url, lines = broken_server
    client = Client(url)
    status, _, data = client.request("POST", "/v1/search", {"query": SECRET})
    client.close()
    assert status == 500 and data == {
        "error": "internal",
        "detail": "internal error; see the server's log",
    }
    logged = "\n".join(lines)
    assert "RuntimeError" in logged  # the operator learns what failed, and where
    assert "secret" not in logged and "marriage" not in logged


def test_access_log_lines_lose_their_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/search?query=my+secret", "1.1", 405),
        None,
    )
    assert NoQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /v1/search?… HTTP/1.1" 405'
    config = log_config()
    assert "no_query_string" in config["handlers"]["access"]["filters"]


def test_origins() -> None:
    assert check_origins(["https://a.example/", "http://127.0.0.1:3000", "*"]) == [
        "https://a.example",
        "http://127.0.0.1:3000",
        "*",
    ]
    for bad in ["a.example", "ftp://a.example", "https://a.example/path", "https://a b"]:
        with pytest.raises(CounselSearchError):
            check_origins([bad])
