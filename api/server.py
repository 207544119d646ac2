"""Run the API under uvicorn: `counsel-search serve`."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI

from api.routes import create_app
from index import default_index_dir
from index.publish import ENV_INDEX
from ingest import CounselSearchError

# The settings reach every worker process through the environment: with --workers, uvicorn
# starts fresh interpreters that build the app by calling app_from_env().
ENV_CORS = "COUNSEL_SEARCH_CORS_ORIGINS"
ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


def check_origins(origins: Sequence[str]) -> list[str]:
    """The --cors-origin values, each a web origin (scheme://host[:port], no path) or "*";
    CounselSearchError naming the first that is not."""
    out = []
    for origin in origins:
        origin = origin.strip().rstrip("/")
        if origin != "*" and not ORIGIN.match(origin):
            raise CounselSearchError(
                f"--cors-origin {origin!r} is not a web origin",
                "give scheme, host and port only, e.g. --cors-origin https://clinic.example",
            )
        out.append(origin)
    return out


def app_from_env() -> FastAPI:
    """The app of one server process, configured by $COUNSEL_SEARCH_INDEX and
    $COUNSEL_SEARCH_CORS_ORIGINS (space-separated) as `serve` set them."""
    origins = os.environ.get(ENV_CORS, "").split()
    return create_app(default_index_dir(), cors_origins=origins)


def log_config() -> dict:
    """uvicorn's logging configuration, with query strings dropped from the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query_string"] = {"()": "api.guard.NoQueryString"}
    config["handlers"]["access"].setdefault("filters", []).append("no_query_string")
    # The API's own lines (versions opened, errors) beside uvicorn's, in the same format.
    config["loggers"]["api"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def serve(
    index_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    cors_origins: Sequence[str] = (),
) -> None:
    """Serve the API until interrupted. Each worker is a process with its own model and open
    index (memory grows with --workers); each answers many requests at once from threads."""
    if workers < 1:
        raise CounselSearchError(f"--workers must be at least 1, not {workers}", "e.g. --workers 2")
    if not 0 <= port <= 65535:
        raise CounselSearchError(f"--port {port} is not a port number", "e.g. --port 8000")
    origins = check_origins(cors_origins)
    import uvicorn

    index_dir = Path(index_dir).expanduser() if index_dir else default_index_dir()
    os.environ[ENV_INDEX] = str(index_dir.resolve())
    os.environ[ENV_CORS] = " ".join(origins)
    uvicorn.run(
        "api.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(),
        # The server header says nothing a client needs.
        server_header=False,
    )
