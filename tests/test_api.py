"""The HTTP API (api/, `counsel-search serve`), driven over HTTP against a real uvicorn server.

Each server is `counsel-search serve` in a child process on a port uvicorn picked, with the
hashing test model registered (tests.fakes.CLI_WITH_HASH); the real-model test is marked
integration.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.schemas import MAX_BODY_BYTES, MAX_QUERY_CHARS
from benchmarks.api import ApiServer, Client, api_server
from cli import main
from index import build_index
from search import Searcher
from search.safety import CRISIS_NOTE
from tests.conftest import SEED
from tests.fakes import CLI_WITH_HASH, HashEmbedder

SEARCH_FIELDS = {"hits", "weak_match", "crisis_notice", "index_version", "model"}
ORIGIN = "https://clinic.example"


@pytest.fixture(scope="module")
def hash_ix(tmp_path_factory: pytest.TempPathFactory, sample_corpus: Path) -> Path:
    """The sample corpus indexed with the hashing model, once for this module."""
    index_dir = tmp_path_factory.mktemp("api") / "index"
    build_index([sample_corpus], index_dir, HashEmbedder())
    return index_dir


@pytest.fixture(scope="module")
def server(hash_ix: Path) -> Iterator[ApiServer]:
    with api_server(hash_ix, command=CLI_WITH_HASH) as running:
        yield running


@pytest.fixture()
def client(server: ApiServer) -> Iterator[Client]:
    c = server.client()
    yield c
    c.close()


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    """What the CLI prints with --json, one dict a line."""
    assert main(list(argv)) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_search_answers_with_the_cli_json_hits(
    client: Client, hash_ix: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "can I trust my therapist?"
    status, data = client.search(query, k=5)
    assert status == 200 and set(data) == SEARCH_FIELDS
    expected = cli_json(capsys, "search", query, "--index", str(hash_ix), "-k", "5", "--json")
    assert data["hits"] == expected and len(expected) == 5
    searcher = Searcher.open(hash_ix)
    assert data["index_version"] == searcher.version.version and data["model"] == "hash-test"
    assert data["weak_match"] == expected[0]["weak_match"] and data["crisis_notice"] is None
    # Every mode, and explanations off.
    for mode in ("dense", "lexical", "hybrid"):
        status, data = client.search(query, k=3, mode=mode, explain=False)
        hits = searcher.search(query, k=3, mode=mode, explain=False)
        assert status == 200 and data["hits"] == [json.loads(json.dumps(h.to_dict())) for h in hits]
        assert all(h["best_sentences"] == [] for h in data["hits"])
    searcher.close()


def test_notes_and_filters(client: Client, hash_ix: Path) -> None:
    searcher = Searcher.open(hash_ix)
    crisis = "I want to kill myself tonight"
    assert searcher.needs_crisis_notice(crisis)
    status, data = client.search(crisis)
    assert status == 200 and data["crisis_notice"] == CRISIS_NOTE
    odd = "zyxw qqqq"
    status, data = client.search(odd, k=3)
    assert data["weak_match"] == searcher.search(odd, k=3)[0].weak
    topic = searcher.facet("topic")[0][0]
    status, data = client.search("sad", k=4, filters={"topic": [topic]})
    assert status == 200 and [h["metadata"]["topic"] for h in data["hits"]] == [topic] * 4
    status, data = client.search("sad", k=4, filters={"source": [SEED.name]})
    assert status == 200 and {Path(h["source"]).name for h in data["hits"]} == {SEED.name}
    searcher.close()


def test_passages_related_info_health_and_docs(
    client: Client, hash_ix: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hit = client.search("what is psychotherapy resistance", k=1)[1]["hits"][0]
    status, _, data = client.request("GET", f"/v1/passages/{hit['id']}")
    assert status == 200 and data["passage"]["id"] == hit["id"]
    printed = cli_json(capsys, "passages", str(SEED), "--json")
    assert set(data["passage"]) == set(printed[0])  # the fields of `passages --json`
    status, _, related = client.request("GET", f"/v1/passages/{hit['id']}/related?k=3")
    expected = cli_json(capsys, "related", hit["id"], "--index", str(hash_ix), "-k", "3", "--json")
    assert status == 200 and related["hits"] == expected and related["id"] == hit["id"]
    status, _, info = client.request("GET", "/v1/info")
    printed = cli_json(capsys, "info", "--index", str(hash_ix), "--json")[0]
    assert status == 200 and info == {**printed, "damaged": ""}
    status, _, health = client.request("GET", "/healthz")
    assert status == 200 and health["status"] == "ok" and health["index_version"]
    status, _, schema = client.request("GET", "/openapi.json")
    assert status == 200 and "/v1/search" in schema["paths"]
    assert set(schema["paths"]["/v1/search"]) == {"post"}  # the question never in a URL
    status, _, page = client.request("GET", "/docs")
    assert status == 200 and "swagger" in page.lower()


def test_docs_page_fetches_nothing_from_outside(client: Client) -> None:
    """/docs names only the API's own URLs (no CDN: the product runs on closed networks), and
    the API serves the Swagger UI script, style and icon that it names."""
    status, headers, page = client.request("GET", "/docs")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert not re.search(r"https?:|[\"'(]//", page), "the page names a URL outside the API"
    assert "url: '/openapi.json'" in page
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(refs) == 3 and all(ref.startswith("/") for ref in refs), refs
    served = {}
    for ref in refs:
        status, headers, body = client.request("GET", ref)
        assert status == 200 and body, ref
        served[ref.rsplit(".", 1)[-1]] = (headers["content-type"], body)
    assert set(served) == {"js", "css", "png"}, refs
    (js_type, js), (css_type, css) = served["js"], served["css"]
    assert "javascript" in js_type and "SwaggerUIBundle" in js and len(js) > 100_000
    assert css_type.startswith("text/css") and ".swagger-ui" in css
    # Swagger UI 5 or later: 4 shows "Unable to render this definition" for OpenAPI 3.1.
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', js)
    assert version and int(version.group(1)) >= 5
    assert client.request("GET", "/openapi.json")[2]["openapi"].startswith("3.1")
    assert client.request("GET", "/redoc")[0] == 404  # FastAPI's CDN pages are off


def test_schema_describes_every_field(hash_ix: Path) -> None:
    from api.schemas import HitOut, PassageOut

    searcher = Searcher.open(hash_ix)
    hit = searcher.search("trust", k=1)[0]
    searcher.close()
    assert set(HitOut.model_fields) == set(hit.to_dict())
    # Passage.to_dict, shared by the API and `passages --json`, leaves out no field.
    fields = {f.name for f in dataclasses.fields(hit.passage)}
    # ... and adds `pages` (of a PDF), kept in its metadata
    assert set(PassageOut.model_fields) == set(hit.passage.to_dict()) == fields | {"pages"}


def _one_line_error(status: int, data: object, expected: int) -> None:
    assert status == expected, data
    assert isinstance(data, dict) and set(data) == {"error", "detail"}, data
    assert "\n" not in data["detail"] and "Traceback" not in data["detail"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"query": ""}, 422, "empty"),
        ({"query": " \u200b\t"}, 422, "empty"),
        ({"query": "x", "k": 0}, 422, "k:"),
        ({"query": "x", "k": 101}, 422, "k:"),
        ({"query": "x", "mode": "semantic"}, 422, "mode:"),
        ({"query": "x" * (MAX_QUERY_CHARS + 1)}, 422, "query:"),
        ({"query": "x", "filters": {"topic": "anxiety"}}, 422, "filters.topic"),
        ({"querry": "x"}, 422, "querry"),
        ({}, 422, "query: Field required"),
    ],
)
def test_bad_searches(client: Client, body: dict, status: int, needle: str) -> None:
    got, data = client.request("POST", "/v1/search", body)[::2]
    _one_line_error(got, data, status)
    assert needle in data["detail"]


def test_bad_requests_of_every_kind(client: Client, server: ApiServer) -> None:
    json_type = {"Content-Type": "application/json"}
    cases = [
        (("POST", "/v1/search"), {"raw": b'{"query": ', "headers": json_type}, 400),
        (("POST", "/v1/search"), {"raw": b"query=x"}, 400),  # a form, not JSON
        (("POST", "/v1/search"), {"raw": b"", "headers": json_type}, 422),
        (("POST", "/v1/search"), {"raw": b"{" + b" " * MAX_BODY_BYTES + b"}"}, 413),
        (("GET", "/v1/passages/nope"), {}, 404),
        (("GET", "/v1/passages/nope/related"), {}, 404),
        (("GET", "/v1/passages/nope/related?k=0"), {}, 422),
        (("GET", "/v1/search?query=x"), {}, 405),
        (("GET", "/v1/nothing"), {}, 404),
    ]
    for (method, path), kwargs, expected in cases:
        status, _, data = client.request(method, path, **kwargs)
        _one_line_error(status, data, expected)
    # A body sent in chunks, with no length to refuse it by, is cut off as it arrives.
    conn = http.client.HTTPConnection(*server.url.removeprefix("http://").rsplit(":", 1))
    chunks = iter([b'{"query": "', *[b"x" * 8192] * 10, b'"}'])
    conn.request("POST", "/v1/search", body=chunks, headers=json_type, encode_chunked=True)
    response = conn.getresponse()
    _one_line_error(response.status, json.loads(response.read()), 413)
    conn.close()


def test_32_concurrent_searches(server: ApiServer) -> None:
    people = ["mother", "father", "son", "boss"]
    feelings = ["sad", "angry", "anxious", "lonely", "alone", "guilty", "tired", "numb"]
    questions = [f"how do I talk to my {w} about feeling {f}" for w in people for f in feelings]
    assert len(questions) == 32
    alone = server.client()
    expected = {q: [h["id"] for h in alone.search(q, k=5)[1]["hits"]] for q in questions}
    alone.close()
    ready = threading.Barrier(32)

    def ask(question: str) -> tuple[int, list[str]]:
        c = server.client()
        try:
            ready.wait(timeout=60)  # all 32 in flight together
            status, data = c.search(question, k=5)
            return status, [h["id"] for h in data["hits"]]
        finally:
            c.close()

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(ask, questions))
    assert [status for status, _ in answers] == [200] * 32
    assert {q: ids for q, (_, ids) in zip(questions, answers, strict=True)} == expected


def test_query_text_never_reaches_the_log(hash_ix: Path, tmp_path: Path) -> None:
    secrets = ["marmalade quixotic nightmare", "xylophone abandonment", "zeppelin grief"]
    log = tmp_path / "server.log"
    with api_server(hash_ix, command=CLI_WITH_HASH, log_path=log) as running:
        c = running.client()
        assert c.search(secrets[0])[0] == 200
        assert c.search(secrets[1], k=1000)[0] == 422  # refused, still not logged
        assert c.request("GET", "/v1/search?query=" + secrets[2].replace(" ", "+"))[0] == 405
        assert c.search(secrets[2] + " " * MAX_BODY_BYTES)[0] == 413
        c.close()
    text = log.read_text(encoding="utf-8")
    assert '"POST /v1/search HTTP/1.1" 200' in text  # the access log was captured
    assert '"GET /v1/search?… HTTP/1.1" 405' in text
    for secret in secrets:
        for word in secret.split():
            assert word not in text


def test_no_index_then_a_build_then_a_rebuild(
    tmp_path: Path, sample_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir = tmp_path / "index"
    with api_server(index_dir, "--cors-origin", ORIGIN, command=CLI_WITH_HASH) as running:
        c = running.client()
        status, _, health = c.request("GET", "/healthz")
        assert status == 503 and health["status"] == "unavailable"
        assert "no index" in health["detail"]
        status, data = c.search("trust")
        _one_line_error(status, data, 503)
        assert data["error"] == "no_index" and "counsel-search build" in data["detail"]
        _one_line_error(*c.request("GET", "/v1/info")[::2], 503)

        first = build_index([SEED], index_dir, HashEmbedder())
        status, data = c.search("what is psychotherapy resistance", k=3)
        assert status == 200 and data["index_version"] == first.version
        assert c.request("GET", "/v1/info")[2]["passages"] == 7

        # A rebuild publishes a new version: the next request is answered from it.
        second = build_index([sample_corpus], index_dir, HashEmbedder())
        assert second.version != first.version
        status, data = c.search("what is psychotherapy resistance", k=3)
        assert status == 200 and data["index_version"] == second.version
        assert c.request("GET", "/v1/info")[2]["passages"] == 127
        assert c.request("GET", "/healthz")[2]["index_version"] == second.version

        # CORS for the named origin only.
        preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
        status, headers, _ = c.request("OPTIONS", "/v1/search", headers=preflight)
        assert status == 200 and headers["access-control-allow-origin"] == ORIGIN
        _, headers, _ = c.request("POST", "/v1/search", {"query": "x"}, {"Origin": ORIGIN})
        assert headers["access-control-allow-origin"] == ORIGIN
        _, headers, _ = c.request("POST", "/v1/search", {"query": "x"}, {"Origin": "https://x.io"})
        assert "access-control-allow-origin" not in headers
        c.close()


def test_cors_is_off_by_default(client: Client) -> None:
    _, headers, _ = client.request("POST", "/v1/search", {"query": "x"}, {"Origin": ORIGIN})
    assert "access-control-allow-origin" not in headers
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    _, headers, _ = client.request("OPTIONS", "/v1/search", headers=preflight)
    assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--workers", "0"], "--workers must be at least 1"),
        (["--cors-origin", "clinic.example"], "is not a web origin"),
        (["--cors-origin", "https://clinic.example/page"], "is not a web origin"),
        (["--port", "70000"], "is not a port number"),
    ],
)
def test_serve_mistakes_are_one_line(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--index", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1


@pytest.mark.integration
def test_real_model_with_two_workers(real_index: Path) -> None:
    with api_server(real_index, "--workers", "2") as running:
        c = running.client()
        status, data = c.search("can I trust a therapist who acts like he knows everything?")
        assert status == 200 and data["model"] == "all-MiniLM-L6-v2"
        assert data["hits"] and data["hits"][0]["best_sentences"]
        status, data = c.search("I don't want to be alive anymore")
        assert status == 200 and data["crisis_notice"] == CRISIS_NOTE
        answers = {c.search("how do I stop panic attacks", k=3)[1]["index_version"] for _ in "1234"}
        assert len(answers) == 1
        c.close()
