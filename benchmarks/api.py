"""The HTTP API under load: throughput and p50/p99 latency of POST /v1/search at 1, 8 and 32
concurrent clients, against the bundled corpus indexed with the real default model.

    .venv/bin/python -m benchmarks.api                   # writes its section of docs/api.md
    .venv/bin/python -m benchmarks.api --index DIR       # an existing index of data/corpus/

The server is `counsel-search serve` in its own process (one worker, its defaults: hybrid
ranking, k=10, explanations on); each client is a thread with one kept-alive connection,
sending its next question as soon as the last is answered. Every question is asked once
(distinct real question titles from the CounselChat CSV), so no answer comes from the
server's query-embedding cache. Latency is measured at the client: request sent to JSON read.

Also the server helpers of tests/test_api.py: a server process on a free port, and a client.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    CORPUS,
    DOCS,
    ROOT,
    command_line,
    percentiles,
    question_titles,
    shown_path,
    splice,
    stop,
    table,
    timed_each,
)
from search import Searcher

SERVE = [sys.executable, "-m", "cli"]  # `counsel-search` in this interpreter
LEVELS = (1, 8, 32)  # concurrent clients
REQUESTS = {1: 100, 8: 240, 32: 320}  # searches measured at each level
WARMUP = 10
BASELINE = 60  # searches made in process, without HTTP, for comparison
BEGIN = "<!-- benchmarks.api: begin -->\n"
END = "<!-- benchmarks.api: end -->"
LISTENING = re.compile(r"Uvicorn running on (http://\S+?:\d+)")


@dataclass
class ApiServer:
    """A running `counsel-search serve`: its process, base URL and log file."""

    proc: subprocess.Popen
    url: str
    log_path: Path

    def log_text(self) -> str:
        """What the server has written so far (access log and its own lines)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def client(self, timeout: float = 120.0) -> Client:
        """A client with its own kept-alive connection to this server."""
        return Client(self.url, timeout)


@contextlib.contextmanager
def api_server(
    index_dir: Path,
    *extra: str,
    command: Sequence[str] = SERVE,
    log_path: Path | None = None,
    timeout: float = 180.0,
) -> Iterator[ApiServer]:
    """Start `command serve --index DIR --port 0 *extra` from the repository root, yield it once
    it answers (on the port uvicorn chose, read from its log: no race for a free port), and stop it
    (SIGTERM: uvicorn finishes what it is answering and flushes its log) on the way out."""
    with contextlib.ExitStack() as stack:
        if log_path is None:
            log_path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "server.log"
        cmd = [*command, "serve", "--index", str(index_dir), "--port", "0", *extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the log is read while it runs
        with log_path.open("wb") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        server = ApiServer(proc, "", log_path)
        try:
            started = time.monotonic()
            while not (found := LISTENING.search(server.log_text())):
                if proc.poll() is not None or time.monotonic() - started > timeout:
                    raise RuntimeError(f"the API server did not start: {server.log_text()[-2000:]}")
                time.sleep(0.1)
            server.url = found.group(1)
            # With --workers the port is bound before any worker listens on it: wait for one.
            while not _answers(server.url):
                if proc.poll() is not None or time.monotonic() - started > timeout:
                    tail = server.log_text()[-2000:]
                    raise RuntimeError(f"the API server did not answer: {tail}")
                time.sleep(0.1)
            yield server
        finally:
            stop(proc, timeout=30)


def _answers(url: str) -> bool:
    """Does the server answer /healthz at all (200, or 503 while it has no index)?"""
    client = Client(url, timeout=5)
    try:
        return client.request("GET", "/healthz")[0] in (200, 503)
    except OSError:
        return False
    finally:
        client.close()


class Client:
    """JSON over one kept-alive HTTP connection (the standard library's; reconnects when the
    server closed it). One thread at a time."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """(status, lower-cased headers, parsed JSON or the text) of one request; `body` is sent
        as JSON, `raw` as it is."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"} if body is not None else {}
        sent.update(headers or {})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=sent)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # a kept-alive connection the server had closed: once more
                if attempt == 2:
                    raise
        if response.getheader("connection", "").lower() == "close":
            self.close()
        text = payload.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed

    def search(self, query: str, **fields: Any) -> tuple[int, Any]:
        """POST /v1/search: (status, JSON)."""
        status, _, data = self.request("POST", "/v1/search", {"query": query, **fields})
        return status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_clients(url: str, queries: Sequence[str], clients: int) -> tuple[list[float], float]:
    """Ask every query once, from `clients` threads each with its own connection: (latency of
    each search in ms, wall seconds). Any answer but 200 fails the run."""
    todo = iter(queries)
    lock = threading.Lock()
    latencies: list[float] = []

    def work() -> None:
        client = Client(url)
        try:
            while True:
                with lock:
                    query = next(todo, None)
                if query is None:
                    return
                started = time.perf_counter()
                status, data = client.search(query)
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    raise RuntimeError(f"search answered {status}: {data}")
                with lock:
                    latencies.append(elapsed)
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(work) for _ in range(clients)]:
            future.result()
    return latencies, time.perf_counter() - started


def build_corpus_index(index_dir: Path) -> None:
    """Index the bundled corpus with the default model, as `counsel-search build` does."""
    subprocess.run([*SERVE, "build", str(CORPUS), "--index", str(index_dir)], cwd=ROOT, check=True)


def in_process(index_dir: Path, queries: Sequence[str]) -> list[float]:
    """Milliseconds of each query's work without HTTP, one at a time: what the API does for a
    search (the ranked hits with explanations, and the crisis check), in this process."""
    searcher = Searcher.open(index_dir).warm()
    try:
        return timed_each(lambda q: (searcher.search(q), searcher.needs_crisis_notice(q)), queries)[
            1
        ]
    finally:
        searcher.close()


def measure(index_dir: Path) -> dict[str, Any]:
    """Throughput and latency at each level, one server for all of them; and the same work in
    process, before the server starts."""
    titles = list(dict.fromkeys(t for t in question_titles() if t))
    needed = 2 * WARMUP + BASELINE + sum(REQUESTS.values())
    if len(titles) < needed:
        raise RuntimeError(f"{needed} distinct questions needed, {len(titles)} found")
    in_process(index_dir, titles[-WARMUP:])  # the same lazy parts, loaded in this process
    baseline = in_process(index_dir, titles[-WARMUP - BASELINE : -WARMUP])
    rows = []
    with api_server(index_dir) as server:
        client = server.client()
        info = client.request("GET", "/v1/info")[2]
        for title in titles[:WARMUP]:  # the first answers load lazy parts (arrays, radii)
            client.search(title)
        client.close()
        offset = WARMUP
        for clients in LEVELS:
            queries = titles[offset : offset + REQUESTS[clients]]
            offset += len(queries)
            latencies, seconds = run_clients(server.url, queries, clients)
            p50, p99 = percentiles(latencies)
            rows.append(
                {
                    "clients": clients,
                    "requests": len(latencies),
                    "per_second": len(latencies) / seconds,
                    "p50_ms": p50,
                    "p99_ms": p99,
                }
            )
            print(
                f"{clients:>3} clients: {rows[-1]['per_second']:.1f} searches/s, "
                f"p50 {p50:.0f} ms, p99 {p99:.0f} ms",
                file=sys.stderr,
            )
    # What else ran meanwhile: the figures are wall-clock, on CPUs that may be shared.
    p50, p99 = percentiles(baseline)
    base = {"requests": len(baseline), "per_second": 1000 * len(baseline) / sum(baseline)}
    return {
        "info": info,
        "rows": rows,
        "baseline": {**base, "p50_ms": p50, "p99_ms": p99},
        "load": os.getloadavg()[1],
    }


def render(res: dict[str, Any], index_shown: str) -> str:
    """The measured section of docs/api.md."""
    info = res["info"]
    lines = [
        "Measured by `.venv/bin/python -m benchmarks.api` on "
        f"{time.strftime('%Y-%m-%d')} ({platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}): `counsel-search serve` with one worker on "
        f"{index_shown} ({info['passages']} passages of {info['documents']} documents, model "
        f"{info['model']}, {info['backend']} {info['index_type']}). `POST /v1/search` with the "
        "defaults (hybrid, k=10, explanations on); every question a distinct real question "
        "title, so none is answered from the query cache. Latency at the client, over "
        f"kept-alive connections on the loopback interface. Load average over the run: "
        f"{res['load']:.1f} on {os.cpu_count()} CPUs (the clients share them with the server).",
        "",
        *table(
            "clients | searches | searches/s | p50 ms | p99 ms",
            [_row(f"{r['clients']} over HTTP", r) for r in res["rows"]]
            + [
                _row(
                    "1 in process, no HTTP (the same work: `Searcher.search` and the crisis check)",
                    res["baseline"],
                )
            ],
        ),
        "",
        "The in-process row is the same work without HTTP, in the benchmark's own process "
        "just before the server starts: the gap to the one-client row is the cost of HTTP and"
        " JSON, but the rows are minutes apart, so on shared CPUs (see the load average) the "
        "gap is as much the noise of other work. One worker answers searches from a thread "
        "pool, but the model encodes one call at a time (its tokenizer is not thread-safe), "
        "so throughput grows little with more clients and the extra clients wait: latency "
        "grows with the queue. More throughput needs more cores and `--workers N` (a model "
        "per process); `explain: false` saves the encode of the hits' sentences.",
        "",
    ]
    return "\n".join(lines)


def _row(label: str, r: dict[str, Any]) -> tuple[object, ...]:
    return (
        label,
        r["requests"],
        f"{r['per_second']:.1f}",
        f"{r['p50_ms']:.0f}",
        f"{r['p99_ms']:.0f}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = command_line("benchmarks.api", __doc__)
    parser.add_argument(
        "--index", type=Path, help="an index of data/corpus/ (default: build one in a temp folder)"
    )
    parser.add_argument("--out", type=Path, default=DOCS / "api.md", help="page to update")
    parser.add_argument("--no-write", action="store_true", help="print the section instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="counsel-api-bench-") as tmp:
        index_dir = args.index
        if index_dir is None:
            index_dir = Path(tmp) / "index"
            build_corpus_index(index_dir)
        res = measure(index_dir)
    section = render(res, "the bundled corpus (`data/corpus/`)")  # --index is an index of it
    if args.no_write:
        print(section)
    else:
        splice(args.out, BEGIN, END, section)
        print(f"wrote {shown_path(args.out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
