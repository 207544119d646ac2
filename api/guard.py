"""What stands between the network and the routes: a body-size limit, one JSON shape for every
error, and a log that never holds query text."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


def error_body(code: str, detail: str) -> bytes:
    """The JSON of an error response: {"error": code, "detail": one line}."""
    body = {"error": code, "detail": " ".join(detail.split())}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


async def send_error(send: Send, status: int, code: str, detail: str) -> None:
    """Answer with a JSON error (used where no response object is at hand)."""
    body = error_body(code, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: refuse bodies over `max_body_bytes` (413), and turn any exception a route
    let through into a JSON 500 with no traceback.

    Starlette's own last resort answers in plain text and re-raises, so uvicorn would log the
    exception's message, which could quote what a user sent; here only its type and frames go
    to the log.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        too_large = f"the request body is over the limit of {limit} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_error(send, 413, "body_too_large", too_large)
            return
        received = 0

        async def limited() -> Message:
            # A body sent in chunks, without a length, is counted as it arrives.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI hands an HTTPException raised while reading the body on as it is.
                    raise HTTPException(413, too_large)
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracked)
        except Exception as exc:
            log.error(
                "internal error answering %s %s: %s\n%s",
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
            )
            if not started:
                await send_error(send, 500, "internal", "internal error; see the server's log")


class NoQueryString(logging.Filter):
    """Drops the query string from the paths of uvicorn's access log lines.

    Searches carry their question in the POST body, which no log sees; this covers a client
    that puts one in a URL anyway (e.g. GET /v1/search?query=...), so that it is not written to
    the log either.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(a) for a in record.args)
        return True


def _path_only(arg: Any) -> Any:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return arg.split("?", 1)[0] + "?…"
    return arg
