"""The rota's pages: a rotation as a calendar with its override and swap forms, its
escalation paths, a person's shifts and load, and the monthly burden report. Overrides and
swaps are stored through receiver/rota/overrides, the API's rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlmodel import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from receiver.instants import parse_month
from receiver.pages import calendar_grid
from receiver.pages.blueprint import bp
from receiver.pages.forms import form_instant, form_text, query_day, query_value, say
from receiver.pages.signin import safe_next, viewer
from receiver.paging.escalation import paths_now, severities_asked
from receiver.report.build import build_report
from receiver.report.render import render_html_body
from receiver.rota.overrides import Cover, override_cover, store_covers, swap_covers
from receiver.rota.store import active_overrides
from receiver.rota.swaps import DEFAULT_DAYS, find_swaps
from receiver.services import services
from receiver.web.errors import Conflict, InputError
from receiver.web.request_body import query_int
from scheduler.burden import Month
from scheduler.calendar import feed_token
from scheduler.check import check
from scheduler.roster import Rotation


@bp.get("/rotations/<name>")
def rotation(name: str) -> str:
    """The schedule as a calendar (weeks across, layers down), with the override forms."""
    svc = services()
    rot = svc.rota.rotations.get(name)
    if rot is None:
        abort(404, f"There is no rotation {name!r}.")
    now = svc.clock()
    first_day = query_day("from", rot.zone, now)
    count = query_int("weeks", 4, minimum=1, maximum=calendar_grid.MAX_WEEKS)
    assert count is not None
    weeks = calendar_grid.weeks_from(rot, first_day, count)
    start, end = weeks[0].start, weeks[-1].end
    with svc.store.read() as db:
        overrides = active_overrides(db)
    shifts = svc.rota.rotation_shifts(name, start, end, overrides)
    violations = [v for v in check(svc.rota, start, end, overrides) if v.rotation == name]
    return render_template(
        "pages/rotation.html",
        rotation=rot,
        grid=calendar_grid.grid(rot, weeks, shifts, violations),
        violations=violations,
        earlier=(weeks[0].start.date() - timedelta(weeks=count)).isoformat(),
        later=weeks[-1].end.date().isoformat(),
        count=count,
        people=sorted(svc.rota.people),
        feed_url=_own_feed_url(),
        now=now,
    )


def _own_feed_url() -> str | None:
    """The signed-in person's own calendar feed (its token is theirs: shown to them only)."""
    secret = services().settings.calendar.secret
    if secret is None:
        return None
    name = viewer().name
    token = feed_token(secret.get_secret_value(), "person", name)
    return url_for("calendar.person", name=name, token=token, _external=True)


def _store_and_return(
    name: str,
    covers: Callable[[Session], list[Cover]],
    reason: str,
    instead: Callable[[list[Cover]], str] | None = None,
) -> Any:
    """Store the covers by the API's rule; back to the calendar saying what happened (and,
    for a refusal, what `instead` says would be allowed)."""
    svc = services()
    by, now = viewer().name, svc.clock()

    asked: list[Cover] = []

    def work(db: Session) -> str:
        asked[:] = covers(db)
        records, _ = store_covers(
            db,
            svc.rota,
            name,
            asked,
            force=False,
            reason=reason,
            requested_by=by,
            now=now,
            refusal_hint="",
        )
        return ", ".join(f"{r.person} covers {r.layer}" for r in records)

    try:
        stored = svc.store.write(work)
    except InputError as exc:
        say(f"Not done: {exc}", "refused")
    except Conflict as exc:
        say(f"Not done: {exc}", "refused")
        if instead is not None and asked:
            say(instead(asked), "refused")
    else:
        say(f"Stored: {stored}.", "done")
    back = request.form.get("back", "")
    here = url_for("pages.rotation", name=name)
    return redirect(back if back.startswith(here + "?") and safe_next(back) == back else here, 303)


def _rotation_or_404(name: str) -> Rotation:
    found = services().rota.rotations.get(name)
    if found is None:
        abort(404, f"There is no rotation {name!r}.")
    return found


@bp.post("/rotations/<name>/overrides")
def add_override(name: str) -> WerkzeugResponse:
    """Someone covers a layer for a while; refused, with the reasons, if it breaks a rule."""
    _rotation_or_404(name)
    rota = services().rota
    layer, person, reason = (
        form_text("layer", required=True),
        form_text("person"),
        form_text("reason"),
    )
    start, end = form_instant("start"), form_instant("end")
    cover = override_cover(rota, name, layer, person, start, end)
    return _store_and_return(name, lambda _db: [cover], reason)


@bp.post("/rotations/<name>/swaps")
def add_swap(name: str) -> WerkzeugResponse:
    """Two people exchange the shifts on call at two instants."""
    _rotation_or_404(name)
    rota = services().rota
    picks = [
        (key, form_text(f"{key}_layer", required=True), form_instant(key))
        for key in ("first", "second")
    ]
    reason = form_text("reason")
    return _store_and_return(
        name,
        lambda db: swap_covers(rota, name, picks, active_overrides(db, name)),
        reason,
        instead=lambda covers: _allowed_instead(name, covers[0]),
    )


ALLOWED_SHOWN = 5  # the flash travels in the session cookie: a few swaps, not all of them


def _allowed_instead(name: str, first: Cover) -> str:
    """What the swap finder allows for the first shift asked about, in the rotation's zone."""
    svc = services()
    zone = svc.rota.rotations[name].zone
    with svc.store.read() as db:
        overrides = active_overrides(db)
    search = find_swaps(
        svc.rota, overrides, rotation=name, layer=first.layer, at=first.start, now=svc.clock()
    )
    if not search.allowed:
        return (
            f"No swap of that {first.layer} shift is allowed within {DEFAULT_DAYS} days either "
            f"side ({search.refused} tried)."
        )
    shown = [
        f"{s.other.person} ({s.other.start.astimezone(zone):%a %d %b %H:%M})"
        for s in search.allowed[:ALLOWED_SHOWN]
    ]
    more = len(search.allowed) - len(shown)
    tail = f" and {more} more." if more else "."
    return "Allowed instead: swap with " + ", ".join(shown) + tail


@bp.get("/rotations/<name>/escalation")
def escalation(name: str) -> str:
    """Whom each severity would page now and after each timeout (`escalation show`)."""
    svc = services()
    _rotation_or_404(name)
    now = svc.clock()
    with svc.store.read() as db:
        overrides = active_overrides(db)  # the escalation rotation's, too
    paths = paths_now(svc.paging, name, severities_asked(None), now, overrides)
    return render_template(
        "pages/escalation.html",
        rotation=svc.rota.rotation(name),
        pager=svc.paging.policy(name).pager,
        paths=paths,
        people=svc.rota.people,
        now=now,
    )


# --------------------------------------------------------------------------------------------
# People and the monthly report

UPCOMING = timedelta(days=28)


@bp.get("/people/<name>")
def person(name: str) -> str:
    """A person's upcoming shifts, and this month's load and night pages (the report's)."""
    svc = services()
    someone = svc.rota.people.get(name)
    if someone is None:
        abort(404, f"There is no person {name!r}.")
    now = svc.clock()
    with svc.store.read() as db:
        overrides = active_overrides(db)
    upcoming = svc.rota.person_shifts(name, now, now + UPCOMING, overrides)
    month = Month.containing(now, svc.settings.report.zone)
    report = build_report(svc.settings, svc.store, month, rota=svc.rota, now=now)
    load = next((p for p in report.people if p.name == name), None)
    return render_template(
        "pages/person.html", person=someone, upcoming=upcoming, load=load, month=month, now=now
    )


@bp.get("/reports/burden")
def burden() -> str:
    """The monthly burden report, its charts and tables, in the page (default: last month)."""
    svc = services()
    zone, now = svc.settings.report.zone, svc.clock()
    raw = query_value("month")
    try:
        month = (
            parse_month(raw, zone=zone, now=now) if raw else Month.containing(now, zone).previous()
        )
    except ValueError as exc:
        raise InputError(f"month: {exc}") from None
    report = build_report(svc.settings, svc.store, month, rota=svc.rota, now=now)
    return render_template(
        "pages/burden.html",
        month=month,
        body=Markup(render_html_body(report)),  # render.py escapes every value
        previous=month.previous().label,
        following=month.next().label if month.next().start <= now else None,
    )
