"""Errors as pages in the pages' own look (404, 403, 400 with what was wrong, 429, 500),
for the pages' requests and for a browser asking for an unknown address. The API and the
webhooks keep their JSON errors; no page ever shows a traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, make_response, render_template, request
from werkzeug.http import HTTP_STATUS_CODES

from receiver.web.auth import API_PREFIX
from receiver.web.errors import ERROR_PAGE_EXTENSION

log = logging.getLogger(__name__)


def wants_page() -> bool:
    """True for the pages' own routes, and for a browser's request of an unknown address."""
    if request.blueprint == "pages":
        return True
    if request.endpoint is not None or request.path.startswith(API_PREFIX):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_page(status: int, message: str) -> tuple[Response, int] | None:
    """The error as a page, or None to leave it to the JSON answer."""
    if not wants_page():
        return None
    name = HTTP_STATUS_CODES.get(status, "Error")
    try:
        body = render_template("pages/error.html", status=status, name=name, message=message)
    except Exception:  # the page itself failed (a broken template): say it plainly instead
        log.exception("the error page for %s could not be rendered", status)
        body = f"{status} {name}: {message}"
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response, status


def init_app(app: Flask) -> None:
    """Render the pages' errors as pages."""
    app.extensions[ERROR_PAGE_EXTENSION] = error_page
