"""The pages' blueprint: every page is behind the sign-in guard (receiver/pages/signin.py)
and answers with headers that keep it out of other sites' frames and scripts."""

from __future__ import annotations

from flask import Blueprint, Response

from receiver.pages.signin import guard
from receiver.web.request_body import with_id_converter

bp = with_id_converter(
    Blueprint(
        "pages",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/pages",
    )
)
bp.before_request(guard)

# Scripts only from onwatch itself; styles inline too (the report's charts are SVG with
# their own <style>); no framing by another site (clickjacking an "acknowledge" button).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@bp.after_request
def _safety_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not response.headers.get("Cache-Control"):
        response.headers["Cache-Control"] = "no-store"  # pages hold incident details
    return response
