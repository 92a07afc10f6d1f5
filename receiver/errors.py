"""Every error leaves onwatch as JSON `{"error": "..."}`: never an HTML page, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


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

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")  # the traceback goes to the log, not to the client
        return error_response(500, "internal error: see the onwatch log")
