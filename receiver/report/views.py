"""The burden report over HTTP: `GET /api/v1/reports/burden?month=2026-11&format=json`.

`month` runs from `receiver.instants.REPORT_YEARS` (10) years back to the current month: a
report generates the rota up to the month's end, so `9999-12` once ran for minutes.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from receiver.instants import parse_month
from receiver.report.build import UnknownRotation, build_report
from receiver.report.render import MEDIA_TYPES, render
from receiver.report.settings import FORMATS
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import InputError, error_response
from receiver.web.request_body import query_text
from scheduler.burden import Month

bp = Blueprint("report", __name__, url_prefix="/api/v1")
bp.before_request(require_api_token)


@bp.get("/reports/burden")
def burden() -> Response | tuple[Response, int]:
    """One month's burden report (default: last month, as JSON)."""
    svc = services()
    zone, now = svc.settings.report.zone, svc.clock()
    raw = request.args.get("month")
    try:
        month = (
            parse_month(raw, zone=zone, now=now) if raw else Month.containing(now, zone).previous()
        )
    except ValueError as exc:
        raise InputError(f"month: {exc}") from None
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise InputError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        report = build_report(
            svc.settings,
            svc.store,
            month,
            rota=svc.rota,
            rotation=query_text("rotation"),
            now=now,
        )
    except UnknownRotation as exc:
        return error_response(404, str(exc))
    return Response(render(report, fmt), mimetype=None, content_type=MEDIA_TYPES[fmt])
