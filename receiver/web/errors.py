"""Every error leaves onwatch as JSON `{"error": "..."}`, never a traceback; only a feature
that answers people in HTML (the pages) may render its own requests' errors as a page, by
registering a renderer under ERROR_PAGE_EXTENSION.

Two more things every route shares live here, because each is about an answer no view should
have to remember: request bodies over `server.max_body_bytes` are refused with 413 (also when
they come chunked, without a Content-Length), and an unexpected failure is logged without the
data it was about (a database error's parameters hold alert labels and annotations).
"""

from __future__ import annotations

import io
import logging
import sqlite3
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING

import psycopg
from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import StatementError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

from receiver.store.database import StoreUnavailable, describe_database_error

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

# What a 503 says, whatever the cause (the same as the webhook's): the cause, whose driver text
# names the database's host and port, is logged only.
UNAVAILABLE_MESSAGE = "store unavailable, retry later: database unavailable"
# Views that read their body themselves and answer 413 in their own way: the Alertmanager
# webhook counts it in onwatch_webhook_requests_rejected_total{reason="too_large"}.
SELF_LIMITING_ENDPOINTS = frozenset({"webhooks.alertmanager"})
READ_CHUNK = 64 * 1024


class InputError(ValueError):
    """A request carries a value the API cannot use; the message names it (400)."""


class Conflict(Exception):
    """The request is valid but would break a rule; the message says which (409)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


def error_response(status: int, message: str) -> tuple[Response, int]:
    """A JSON error answer with `status`; `message` says what was wrong."""
    return jsonify(error=message), status


# app.extensions key of a callable (status, message) -> (Response, status) | None: an HTML
# page for a request that wants one (receiver/pages), None for every other request.
ERROR_PAGE_EXTENSION = "onwatch.error_page"


def _answer(status: int, message: str) -> tuple[Response, int]:
    render = current_app.extensions.get(ERROR_PAGE_EXTENSION)
    page = render(status, message) if render is not None else None
    return page if page is not None else error_response(status, message)


def too_large_message(limit: int) -> str:
    """The 413 text: the same from every route."""
    return f"body is larger than the limit of {limit} bytes"


class BodyLimit:
    """WSGI middleware: a body without Content-Length (chunked) is read here, up to the limit.

    Werkzeug enforces `MAX_CONTENT_LENGTH` on a streamed body only by stopping at the limit,
    and `get_data()` then returns the first `limit` bytes as if they were the whole body: a
    chunked webhook over the limit was cut and parsed instead of refused. Here such a body is
    read up to one byte past the limit and handed on as an ordinary body with a
    Content-Length; one over the limit thus has a Content-Length over the limit, which the
    app refuses with 413 like any other (the rest of it is never read). Bodies with a
    Content-Length pass untouched.
    """

    def __init__(self, app: WSGIApplication, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Buffer a streamed body (at most limit + 1 bytes), then call the app."""
        if get_content_length(environ) is None and environ.get("wsgi.input_terminated"):
            body = _read_at_most(environ["wsgi.input"], self.limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
        return self.app(environ, start_response)


def _read_at_most(stream: io.RawIOBase | io.BufferedIOBase, size: int) -> bytes:
    # A WSGI input's read(n) may return fewer bytes than asked before the end.
    parts: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(min(left, READ_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def init_app(app: Flask) -> None:
    """Turn Werkzeug's HTML errors (404, 405, 413, ...) and unexpected failures into JSON,
    and refuse bodies over the limit on every route."""
    limit = int(app.config["MAX_CONTENT_LENGTH"])
    app.wsgi_app = BodyLimit(app.wsgi_app, limit)  # type: ignore[method-assign]

    @app.before_request
    def _refuse_large_body() -> None:
        # Also for views that never read their body: nothing over the limit is served.
        length = request.content_length
        too_large = length is not None and length > limit
        if too_large and request.endpoint not in SELF_LIMITING_ENDPOINTS:
            raise RequestEntityTooLarge()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        if isinstance(exc, RequestEntityTooLarge):
            message = too_large_message(limit)
        else:
            message = exc.description or exc.name
        response, status = _answer(exc.code or 500, message)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(InputError)
    def _input_error(exc: InputError) -> tuple[Response, int]:
        return _answer(400, str(exc))

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> tuple[Response, int]:
        return jsonify(error=str(exc), **exc.details), 409

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(exc: StoreUnavailable) -> tuple[Response, int]:
        # The store logged the driver's detail; the client learns no host or port.
        log.info("answering 503 to %s %s: %s", request.method, request.path, exc.detail)
        return _answer(503, UNAVAILABLE_MESSAGE)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        # The traceback goes to the log, not to the client; without the values a database
        # error carries (log.exception would print them from the exception's message).
        log.error(
            "unhandled error in %s %s\n%s", request.method, request.path, loggable_traceback(exc)
        )
        return _answer(500, "internal error: see the onwatch log")


def loggable_traceback(exc: BaseException) -> str:
    """The exception's traceback, chained causes included, as Python prints it, except that a
    database error's message is replaced by `describe_database_error` (statement, SQLSTATE,
    constraint; never the parameters or the rows PostgreSQL quotes in its DETAIL line)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    blocks = []
    for item in reversed(chain):
        frames = "".join(traceback.format_tb(item.__traceback__))
        blocks.append(f"Traceback (most recent call last):\n{frames}{_exception_line(item)}\n")
    return "\nwhich led to:\n\n".join(blocks).rstrip("\n")


def _exception_line(exc: BaseException) -> str:
    if isinstance(exc, StatementError | psycopg.Error | sqlite3.Error):
        name = f"{type(exc).__module__}.{type(exc).__qualname__}"
        return f"{name}: {describe_database_error(exc)}"
    return "".join(traceback.format_exception_only(exc)).rstrip("\n")
