"""The HTTP API's routes: each a thin call into search/, answering JSON (no ranking here)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from swagger_ui_bundle import swagger_ui_path

from api.current import CurrentSearcher
from api.guard import Guard
from api.schemas import (
    MAX_BODY_BYTES,
    MAX_K,
    ErrorOut,
    Health,
    InfoResponse,
    PassageResponse,
    RelatedResponse,
    SearchRequest,
    SearchResponse,
)
from index import IndexCorrupt, IndexNotFound, ModelChecksumMismatch, ModelMismatch, ModelNotFound
from ingest import CounselSearchError
from search import InvalidRankingConfig, PassageNotFound, Searcher, UnknownMode
from search.safety import CRISIS_NOTE

log = logging.getLogger(__name__)

# Errors of the index or the model: the server cannot answer until its operator acts.
UNAVAILABLE = (IndexNotFound, IndexCorrupt, ModelMismatch, ModelNotFound, ModelChecksumMismatch)
ERRORS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    422: "invalid_request",
    503: "unavailable",
}
MAX_ID_CHARS = 200
SWAGGER_UI_URL = "/docs/static"  # where Swagger UI's own files are served, for /docs
PassageId = Annotated[str, PathParam(max_length=MAX_ID_CHARS, description="a passage id")]
DESCRIPTION = """Semantic search over counseling question-and-answer passages.

The question goes in the body of `POST /v1/search`, never in a URL, so that no access log
holds it. Every error is `{"error": code, "detail": one line}`."""


def _version(searcher: Searcher) -> dict[str, str]:
    """Which version and model answered: every answer comes from one version."""
    return {
        "index_version": searcher.version.version,
        "model": searcher.version.manifest.model_name,
    }


def _error(status: int, detail: str, code: str | None = None) -> JSONResponse:
    detail = " ".join(str(detail).split())
    return JSONResponse({"error": code or ERRORS.get(status, "error"), "detail": detail}, status)


def _validation_line(exc: RequestValidationError) -> tuple[int, str]:
    """(status, one line) for a request that failed validation; the values sent are left out
    (they may be the question)."""
    parts = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return 400, "the body is not valid JSON"
        if tuple(err.get("loc", ())) == ("body",) and err.get("type") != "missing":
            # Form data, or JSON without its content type: FastAPI reads only declared JSON.
            return 400, "send a JSON object, with the header Content-Type: application/json"
        loc = [str(x) for x in err.get("loc", ())]
        if loc[:1] == ["body"] and len(loc) == 1 and err.get("type") == "missing":
            return 422, "the body is missing: send a JSON object"
        loc = loc[1:]  # drop where the value was: body, query string or path
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return 422, "; ".join(parts) or "invalid request"


def add_error_handlers(app: FastAPI) -> None:
    """Library errors, validation errors and HTTP errors, each as one JSON line."""

    @app.exception_handler(CounselSearchError)
    async def library_error(request: Request, exc: CounselSearchError) -> JSONResponse:
        if isinstance(exc, PassageNotFound):
            # The library's message names the server's folder; a client needs only the id.
            return _error(404, "no passage with that id in the index")
        if isinstance(exc, UnknownMode | InvalidRankingConfig):
            return _error(422, exc.one_line())
        if isinstance(exc, UNAVAILABLE):
            code = "no_index" if isinstance(exc, IndexNotFound) else "unavailable"
            return _error(503, exc.one_line(), code)
        log.error("%s answering %s: %s", type(exc).__name__, request.url.path, exc.one_line())
        return _error(500, exc.one_line(), "internal")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, line = _validation_line(exc)
        return _error(status, line)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response


def create_app(
    index_dir: Path,
    cors_origins: Sequence[str] = (),
    warm: bool = True,
) -> FastAPI:
    """The API over the published version of the index at `index_dir`.

    `cors_origins`: web origins (e.g. https://clinic.example) whose pages may call the API
    from a browser; none by default. With `warm`, the model is loaded at start-up rather than
    on the first search.
    """
    current = CurrentSearcher(index_dir, warm=warm)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            current.get()
        except CounselSearchError as exc:
            log.warning("%s; searches answer 503 until an index is published", exc.one_line())
        yield

    app = FastAPI(
        title="counsel-search",
        description=DESCRIPTION,
        version=_package_version(),
        lifespan=lifespan,
        docs_url=None,  # add_docs serves /docs, with no CDN
        redoc_url=None,
        responses={
            422: {"model": ErrorOut, "description": "invalid request"},
            503: {"model": ErrorOut, "description": "no index published, or no model"},
        },
    )
    app.state.current = current
    add_error_handlers(app)
    app.add_middleware(Guard, max_body_bytes=MAX_BODY_BYTES)
    if cors_origins:
        # Added last, so outermost: error answers carry the CORS headers too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
    add_routes(app, current)
    add_docs(app)
    return app


def add_docs(app: FastAPI) -> None:
    """The interactive page at /docs, with Swagger UI's script, style and icon served by the API
    itself from the swagger_ui_bundle package (FastAPI's own page fetches them from a CDN, so on
    a closed network it shows nothing)."""
    app.mount(SWAGGER_UI_URL, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        # Behind a proxy that serves the API under a prefix, every URL of the page carries it.
        root = request.scope.get("root_path", "").rstrip("/")
        assets = root + SWAGGER_UI_URL
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
        )


def add_routes(app: FastAPI, current: CurrentSearcher) -> None:
    """The endpoints. Sync functions: FastAPI runs them in its thread pool, and the searcher is
    safe to share between threads."""
    not_found = {404: {"model": ErrorOut, "description": "no passage with that id"}}

    body_errors = {
        400: {"model": ErrorOut, "description": "the body is not JSON"},
        413: {"model": ErrorOut, "description": f"a body over {MAX_BODY_BYTES // 1024} KiB"},
    }

    @app.post("/v1/search", response_model=SearchResponse, responses=body_errors, tags=["search"])
    def search(body: SearchRequest) -> dict[str, Any]:
        """Rank passages for a free-text question."""
        searcher = current.get()  # one version for the whole answer, even if a build publishes
        query = body.query
        hits = searcher.search(
            query, k=body.k, filters=body.filters.as_filters(), mode=body.mode, explain=body.explain
        )
        crisis = searcher.needs_crisis_notice(query)
        return {
            "hits": [hit.to_dict() for hit in hits],
            "weak_match": bool(hits) and hits[0].weak,
            "crisis_notice": CRISIS_NOTE if crisis else None,
            **_version(searcher),
        }

    @app.get(
        "/v1/passages/{passage_id}",
        response_model=PassageResponse,
        responses=not_found,
        tags=["passages"],
    )
    def passage(passage_id: PassageId) -> dict[str, Any]:
        """One passage by id (ids are stable: rebuilding the same text keeps them)."""
        searcher = current.get()
        found = searcher.passage(passage_id)
        # Every field of the Passage, as `counsel-search passages --json` prints them.
        return {"passage": found.to_dict(), **_version(searcher)}

    @app.get(
        "/v1/passages/{passage_id}/related",
        response_model=RelatedResponse,
        responses=not_found,
        tags=["passages"],
    )
    def related(
        passage_id: PassageId,
        k: Annotated[int, Query(ge=1, le=MAX_K, description="number of passages")] = 10,
    ) -> dict[str, Any]:
        """The passages nearest to one passage, by dense similarity, itself excluded."""
        searcher = current.get()
        hits = searcher.related(passage_id, k=k)
        return {"id": passage_id, "hits": [h.to_dict() for h in hits], **_version(searcher)}

    @app.get("/v1/info", response_model=InfoResponse, tags=["index"])
    def info() -> dict[str, Any]:
        """Facts about the served index: version, model, counts, topics, sources."""
        searcher = current.get()
        return {
            **searcher.info().to_dict(),
            "topics": dict(searcher.facet("topic")),
            "sources": [d["source"] for d in searcher.documents()],
            "damaged": searcher.version.damaged,
        }

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}}, tags=["index"])
    def healthz() -> Any:
        """200 while an index is served; 503 with the reason while none can be."""
        try:
            searcher = current.get()
        except CounselSearchError as exc:
            return JSONResponse(
                {"status": "unavailable", "index_version": None, "detail": exc.one_line()}, 503
            )
        return {"status": "ok", "index_version": searcher.version.version}


def _package_version() -> str:
    try:
        return metadata.version("counsel-search")
    except metadata.PackageNotFoundError:
        return "0"
