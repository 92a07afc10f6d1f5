"""The pages for people: sign-in, the overview and the incident list; `init_app` wires the
rest (incident_views, rota_views) and what every page shares.

Every page works without JavaScript; `static/poll.js` only refreshes the parts marked
`data-poll` while the page is open and previews a status update as it is typed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from receiver.incidents.models import IncidentStatus
from receiver.pages import (
    display,
    error_pages,
    incident_views,
    passwords,
    queries,
    rota_views,
    signin,
)
from receiver.pages.blueprint import bp
from receiver.pages.forms import (
    form_text,
    query_choice,
    query_date_end,
    query_date_start,
    query_value,
)
from receiver.pages.signin import safe_next, sign_in_limit, signed_in_as
from receiver.services import services
from receiver.web.request_body import MAX_ID, query_int
from rules.severity import SEVERITIES

__all__ = ["incident_views", "init_app", "rota_views"]  # their routes are on `bp`


# --------------------------------------------------------------------------------------------
# Signing in and out


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | WerkzeugResponse | tuple[str, int]:
    """The sign-in form (password mode); a proxy-mode viewer is already signed in."""
    target = safe_next(request.values.get("next"))
    if services().settings.web.auth == "proxy":
        return redirect(target, code=303)
    if request.method == "GET":
        return render_template("pages/sign_in.html", next=target, problem=None)
    limit, address = sign_in_limit(), request.remote_addr or ""
    limit.refuse_when_spent(address)
    name, password = form_text("name").strip(), request.form.get("password", "")
    with services().store.read() as db:
        digest = passwords.verify(db, name, password) if name in services().rota.people else None
    if digest is None:
        limit.count_failure(address)
        problem = "Wrong name or password."
        return render_template("pages/sign_in.html", next=target, problem=problem), 401
    signed_in_as(name, digest)
    return redirect(target, code=303)


@bp.post("/sign-out")
def sign_out() -> WerkzeugResponse:
    """End the session (a POST with the CSRF token: a link cannot sign anyone out)."""
    session.clear()
    return redirect(url_for("pages.sign_in"), code=303)


# --------------------------------------------------------------------------------------------
# The overview


@bp.get("/")
def home() -> str:
    """Open incidents worst first, who is on call now, overdue postmortem work."""
    return render_template("pages/home.html", **_overview())


@bp.get("/fragments/open")
def open_fragment() -> str:
    """The overview's open incidents alone, for the poll script."""
    return render_template("pages/_open.html", **_overview(only_open=True))


def _overview(only_open: bool = False) -> dict[str, Any]:
    svc = services()
    now = svc.clock()
    targets = svc.response.targets
    with svc.store.read() as db:
        found: dict[str, Any] = {"now": now, "open": queries.open_incidents(db, targets, now)}
        if not only_open:
            found["on_call"] = queries.on_call_now(db, svc.rota, now)
            found["milestones"] = queries.overdue_milestones(db, targets, now)
            found["action_items"] = queries.overdue_action_items(db, now)
    found["people"] = svc.rota.people
    return found


# --------------------------------------------------------------------------------------------
# The incident list


@bp.get("/incidents")
def incidents() -> str:
    """All incidents, newest first, filtered; a page of 50 at a time."""
    svc = services()
    wanted = queries.IncidentFilter(
        status=query_choice("status", tuple(IncidentStatus)),
        severity=query_choice("severity", SEVERITIES),
        service=query_value("service"),
        opened_from=query_date_start("from"),
        opened_until=query_date_end("until"),
        text=query_value("q"),
        before=query_int("before", None, minimum=1, maximum=MAX_ID),
    )
    with svc.store.read() as db:
        rows, more_before = queries.incident_page(db, wanted)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if v and k in _FILTERS}
    next_url = url_for("pages.incidents", **args, before=more_before) if more_before else None
    return render_template(
        "pages/incidents.html",
        rows=rows,
        next_url=next_url,
        args=request.args,
        statuses=tuple(IncidentStatus),
        severities=SEVERITIES,
        services=sorted({s for r in svc.rota.rotations.values() for s in r.services}),
    )


_FILTERS = ("status", "severity", "service", "from", "until", "q")


def init_app(app: Flask) -> None:
    """The pages: sign-in and sessions, the time filters, the error pages, the blueprint."""
    signin.init_app(app)
    display.init_app(app)
    error_pages.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def _auth_mode() -> dict[str, Any]:
        return {"auth_mode": services().settings.web.auth}
