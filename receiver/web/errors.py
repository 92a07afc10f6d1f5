"""Every error leaves onwatch as JSON `{"error": "..."}`: never an HTML page, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from receiver.store.database import StoreUnavailable

log = logging.getLogger(__name__)


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


def init_app(app: Flask) -> None:
    """Turn Werkzeug's HTML errors (404, 405, 413, ...) and unexpected failures into JSON."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        response, status = error_response(exc.code or 500, (exc.description or exc.name))
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(InputError)
    def _input_error(exc: InputError) -> tuple[Response, int]:
        return error_response(400, str(exc))

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> tuple[Response, int]:
        return jsonify(error=str(exc), **exc.details), 409

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(exc: StoreUnavailable) -> tuple[Response, int]:
        return error_response(503, f"store unavailable, retry later: {exc}")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")  # the traceback goes to the log, not to the client
        return error_response(500, "internal error: see the onwatch log")
