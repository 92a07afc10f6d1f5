"""The pages blueprint: sign-in, the overview, the incident list and one incident with its
actions. Every action calls the use case the API calls, with the signed-in person as `by`.

A refused action (an InputError or a Conflict from the use case, such as "only the Incident
Commander (alice) can change the severity") comes back to the incident page as a message
saying why; nothing is changed. Forms post and redirect (303), so a reload never repeats an
action, and every page works without JavaScript; `static/poll.js` only refreshes the parts
marked `data-poll` while the page is open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from sqlmodel import Session, col, func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from receiver.incidents.actions import UnknownIncident, acknowledge, resolve
from receiver.incidents.models import IncidentRecord, IncidentStatus, TimelineEntry
from receiver.instants import instant_range, parse_instant, parse_month
from receiver.notify.models import NotificationMessage
from receiver.pages import calendar_grid, display, error_pages, passwords, queries, signin
from receiver.pages.signin import (
    guard,
    limiter,
    safe_next,
    sign_in_limit,
    signed_in_as,
    viewer,
)
from receiver.paging.escalation import paths_now, severities_asked
from receiver.paging.models import OutboxMessage
from receiver.report.build import build_report
from receiver.report.render import render_html_body
from receiver.response.commander import (
    EVENT_ONLY,
    assign_role,
    change_severity,
    classify,
    parse_role,
    tick_item,
)
from receiver.response.facts import load_action_items, load_facts
from receiver.response.updates import parse_status, post_update
from receiver.rota.overrides import Cover, override_cover, store_covers, swap_covers
from receiver.rota.store import active_overrides
from receiver.services import services
from receiver.web.errors import Conflict, InputError
from receiver.web.request_body import ID, MAX_ID, query_int, storable_text, with_id_converter
from response.checklist import evaluate
from response.facts import Classification, Role, StatusUpdate, UpdateStatus
from response.milestones import milestones
from response.resolution import resolution_view
from rules.severity import SEVERITIES
from scheduler.burden import Month
from scheduler.calendar import feed_token
from scheduler.check import check
from scheduler.roster import Rotation

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

TIMELINE_SHOWN = 1000  # the newest entries on the page; the API pages through the rest
FIELD_LIMIT = 10_000  # characters in one form field


# --------------------------------------------------------------------------------------------
# Signing in and out


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    sign_in_limit,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303,
    error_message="too many sign-in attempts from this address: wait a minute, then try again",
)
def sign_in() -> str | WerkzeugResponse | tuple[str, int]:
    """The sign-in form (password mode); a proxy-mode viewer is already signed in."""
    target = safe_next(request.values.get("next"))
    if services().settings.web.auth == "proxy":
        return redirect(target, code=303)
    if request.method == "GET":
        return render_template("pages/sign_in.html", next=target, problem=None)
    name, password = _field("name").strip(), request.form.get("password", "")
    with services().store.read() as db:
        digest = passwords.verify(db, name, password) if name in services().rota.people else None
    if digest is None:
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
        status=_choice("status", tuple(IncidentStatus)),
        severity=_choice("severity", SEVERITIES),
        service=_query("service"),
        opened_from=_date("from"),
        opened_until=_date("until"),
        text=_query("q"),
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


def _query(name: str) -> str | None:
    raw = request.args.get(name, "").strip()
    if len(raw) > 200:
        raise InputError(f"{name}: at most 200 characters")
    return storable_text(raw) or None


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = _query(name)
    if value is not None and value not in allowed:
        raise InputError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _date(name: str) -> datetime | None:
    raw = _query(name)
    if raw is None:
        return None
    now = services().clock()
    try:
        return parse_instant(raw, date_zone=viewer().zone, within=instant_range(now))
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


# --------------------------------------------------------------------------------------------
# One incident


@bp.get(f"/incidents/<{ID}:incident_id>")
def incident(incident_id: int) -> str:
    """Everything about one incident, with the forms that act on it."""
    svc = services()
    now = svc.clock()
    targets = svc.response.targets
    with svc.store.read() as db:
        row = _incident_or_404(db, incident_id)
        facts = load_facts(db, row)
        items = load_action_items(db, incident_id)
        timeline, timeline_count = _timeline(db, incident_id)
        pages = db.exec(
            select(OutboxMessage)
            .where(OutboxMessage.incident_id == incident_id)
            .order_by(col(OutboxMessage.id))
            .limit(200)
        ).all()
        sent = db.exec(
            select(NotificationMessage)
            .where(NotificationMessage.incident_id == incident_id)
            .order_by(col(NotificationMessage.id))
            .limit(200)
        ).all()
    postmortem = (
        milestones(facts.postmortem, facts.resolved_at, items, targets, now)
        if facts.postmortem is not None and facts.resolved_at is not None
        else ()
    )
    return render_template(
        "pages/incident.html",
        now=now,
        incident=row,
        facts=facts,
        commander=queries.commander(facts),
        resolution=resolution_view(facts, targets, now),
        checklist=evaluate(facts, targets, now),
        event_only=EVENT_ONLY,
        timeline=timeline,
        timeline_count=timeline_count,
        pages=pages,
        sent=sent,
        milestones=postmortem,
        action_items=items,
        roles=list(Role),
        severities=SEVERITIES,
        statuses=list(UpdateStatus),
        classifications=[c.value for c in Classification],
        people=sorted(svc.rota.people),
        preview=_preview_from_args(facts) if request.args.get("impact") else None,
    )


@bp.get(f"/incidents/<{ID}:incident_id>/timeline")
def timeline_fragment(incident_id: int) -> str:
    """The timeline alone, for the poll script."""
    with services().store.read() as db:
        _incident_or_404(db, incident_id)
        timeline, timeline_count = _timeline(db, incident_id)
    return render_template("pages/_timeline.html", timeline=timeline, timeline_count=timeline_count)


@bp.get(f"/incidents/<{ID}:incident_id>/preview")
def preview_fragment(incident_id: int) -> str:
    """The internal update the form would send, rendered by the process's own template."""
    with services().store.read() as db:
        facts = load_facts(db, _incident_or_404(db, incident_id))
    return render_template("pages/_preview.html", preview=_preview_from_args(facts))


def _incident_or_404(db: Session, incident_id: int) -> IncidentRecord:
    row = db.get(IncidentRecord, incident_id)
    if row is None:
        abort(404, f"There is no incident {incident_id}.")
    return row


def _timeline(db: Session, incident_id: int) -> tuple[list[Any], int]:
    """The newest TIMELINE_SHOWN entries (at, kind, message), oldest first, and how many
    there are in all; the columns alone, not the rows (a page reads 1,000 of them)."""
    newest = db.exec(
        select(TimelineEntry.at, TimelineEntry.kind, TimelineEntry.message)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(col(TimelineEntry.id).desc())
        .limit(TIMELINE_SHOWN)
    ).all()
    count = db.exec(
        select(func.count())
        .select_from(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
    ).one()
    return list(reversed(newest)), int(count)


def _preview_from_args(facts: Any) -> str:
    """The internal template's text for the update in the query (`status`, `impact`, ...)."""
    svc = services()
    now = svc.clock()
    args = request.args
    try:
        status = parse_status(args.get("status", "investigating"))
    except InputError as exc:
        return str(exc)
    update = StatusUpdate(
        now,
        viewer().name,
        status,
        storable_text(args.get("impact", "")[:FIELD_LIMIT]).strip(),
        storable_text(args.get("current_action", "")[:FIELD_LIMIT]).strip(),
        storable_text(args.get("eta", "")[:FIELD_LIMIT]).strip(),
    )
    message = svc.response.templates.status_update(
        "internal", facts, update, now, mttr_target=svc.response.targets.mttr_for(facts.severity)
    )
    return message.text


# --------------------------------------------------------------------------------------------
# A rotation: its calendar, overrides and swaps, its escalation paths


@bp.get("/rotations/<name>")
def rotation(name: str) -> str:
    """The schedule as a calendar (weeks across, layers down), with the override forms."""
    svc = services()
    rot = svc.rota.rotations.get(name)
    if rot is None:
        abort(404, f"There is no rotation {name!r}.")
    now = svc.clock()
    first_day = _day("from", rot.zone, now)
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


def _day(name: str, zone: ZoneInfo, now: datetime) -> date:
    raw = _query(name)
    if raw is None:
        return now.astimezone(zone).date()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name}: expected a date such as 2026-12-07, got {raw!r}") from None
    try:
        instant_range(now).check(datetime.combine(day, time(12), tzinfo=zone), raw)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    return day


def _own_feed_url() -> str | None:
    """The signed-in person's own calendar feed (its token is theirs: shown to them only)."""
    secret = services().settings.calendar.secret
    if secret is None:
        return None
    name = viewer().name
    token = feed_token(secret.get_secret_value(), "person", name)
    return url_for("calendar.person", name=name, token=token, _external=True)


def _instant_field(name: str) -> datetime:
    """A `datetime-local` form field, read on the signed-in person's clock."""
    raw = _field(name, required=True).strip()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name}: expected a date and time such as 2026-12-07T09:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=viewer().zone)
    try:
        return instant_range(services().clock()).check(parsed.astimezone(UTC), raw)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


def _store_and_return(name: str, covers: Callable[[Session], list[Cover]], reason: str) -> Any:
    """Store the covers by the API's rule; back to the calendar saying what happened."""
    svc = services()
    by, now = viewer().name, svc.clock()

    def work(db: Session) -> str:
        records, _ = store_covers(
            db,
            svc.rota,
            name,
            covers(db),
            force=False,
            reason=reason,
            requested_by=by,
            now=now,
            refusal_hint="",
        )
        return ", ".join(f"{r.person} covers {r.layer}" for r in records)

    try:
        stored = svc.store.write(work)
    except (InputError, Conflict) as exc:
        flash(f"Not done: {exc}", "refused")
    else:
        flash(f"Stored: {stored}.", "done")
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
    layer, person, reason = _field("layer", required=True), _field("person"), _field("reason")
    start, end = _instant_field("start"), _instant_field("end")
    cover = override_cover(rota, name, layer, person, start, end)
    return _store_and_return(name, lambda _db: [cover], reason)


@bp.post("/rotations/<name>/swaps")
def add_swap(name: str) -> WerkzeugResponse:
    """Two people exchange the shifts on call at two instants."""
    _rotation_or_404(name)
    rota = services().rota
    picks = [
        (key, _field(f"{key}_layer", required=True), _instant_field(key))
        for key in ("first", "second")
    ]
    reason = _field("reason")
    return _store_and_return(
        name, lambda db: swap_covers(rota, name, picks, active_overrides(db, name)), reason
    )


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
    raw = _query("month")
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


# --------------------------------------------------------------------------------------------
# Actions: each is the API's use case, by the signed-in person


def _field(name: str, *, required: bool = False) -> str:
    value = request.form.get(name, "")
    if len(value) > FIELD_LIMIT:
        raise InputError(f"{name}: at most {FIELD_LIMIT} characters")
    value = storable_text(value)
    if required and not value.strip():
        raise InputError(f"{name}: this field is required")
    return value


def _act(incident_id: int, work: Callable[[Session, str, datetime], Any], done: str) -> Any:
    """Run `work(session, by, now)` in one transaction; back to the incident with the outcome."""
    svc = services()
    by, now = viewer().name, svc.clock()
    try:
        result = svc.store.write(lambda db: work(db, by, now))
    except UnknownIncident:
        abort(404, f"There is no incident {incident_id}.")
    except (InputError, Conflict) as exc:
        flash(f"Not done: {exc}", "refused")
    else:
        message = getattr(result, "message", None) or done
        changed = getattr(result, "changed", True)
        flash(message if changed else f"Nothing changed: {message}", "done")
    return redirect(url_for("pages.incident", incident_id=incident_id), code=303)


@bp.post(f"/incidents/<{ID}:incident_id>/ack")
def ack(incident_id: int) -> WerkzeugResponse:
    """Acknowledge (escalation stops; the acknowledger leads unless an IC is named)."""
    context = services().paging
    return _act(
        incident_id,
        lambda db, by, now: acknowledge(db, incident_id, by=by, now=now, context=context),
        "Acknowledged.",
    )


@bp.post(f"/incidents/<{ID}:incident_id>/resolve")
def resolve_incident(incident_id: int) -> WerkzeugResponse:
    """Resolve by hand, optionally classified actionable or noise, with a note."""
    context = services().response
    classification = _field("classification") or None
    if classification is not None and classification not in [c.value for c in Classification]:
        raise InputError(f"classification: expected actionable or noise, got {classification!r}")
    note = _field("note")
    return _act(
        incident_id,
        lambda db, by, now: resolve(
            db,
            incident_id,
            by=by,
            now=now,
            context=context,
            note=note,
            classification=classification,
        ),
        "Resolved.",
    )


@bp.post(f"/incidents/<{ID}:incident_id>/roles")
def name_role(incident_id: int) -> WerkzeugResponse:
    """Name someone for a role (one of the configured people, or marked external)."""
    context = services().response
    role_text, person = _field("role", required=True), _field("person")
    external = request.form.get("external") == "yes"

    def work(db: Session, by: str, now: datetime) -> Any:
        role = parse_role(role_text)
        return assign_role(
            db,
            incident_id,
            role=role,
            person=person,
            by=by,
            now=now,
            context=context,
            external=external,
        )

    return _act(incident_id, work, "Role named.")


@bp.post(f"/incidents/<{ID}:incident_id>/updates")
def status_update(incident_id: int) -> WerkzeugResponse:
    """Post a status update: rendered and queued for the severity's audiences."""
    context = services().response
    status_text = _field("status", required=True)
    impact, action, eta = _field("impact"), _field("current_action"), _field("eta")

    def work(db: Session, by: str, now: datetime) -> Any:
        posted = post_update(
            db,
            incident_id,
            by=by,
            status=parse_status(status_text),
            impact=impact,
            current_action=action,
            eta=eta,
            now=now,
            context=context,
        )
        where = ", ".join(posted.targets) or "no target configured"
        return _Said(f"Update posted ({'incident resolved' if posted.resolved else where}).")

    return _act(incident_id, work, "Update posted.")


@bp.post(f"/incidents/<{ID}:incident_id>/severity")
def severity(incident_id: int) -> WerkzeugResponse:
    """The Incident Commander changes the severity, saying why."""
    context = services().response
    wanted, reason = _field("severity", required=True), _field("reason")
    return _act(
        incident_id,
        lambda db, by, now: change_severity(
            db, incident_id, severity=wanted, by=by, reason=reason, now=now, context=context
        ),
        "Severity changed.",
    )


@bp.post(f"/incidents/<{ID}:incident_id>/checklist")
def tick(incident_id: int) -> WerkzeugResponse:
    """Tick a checklist item by hand, with an optional note."""
    item, note = _field("item", required=True), _field("note")
    return _act(
        incident_id,
        lambda db, by, now: tick_item(db, incident_id, item=item, by=by, now=now, note_text=note),
        "Ticked.",
    )


@bp.post(f"/incidents/<{ID}:incident_id>/classification")
def classification(incident_id: int) -> WerkzeugResponse:
    """Mark the incident actionable or noise, with a note."""
    value, note = _field("classification", required=True), _field("note")
    return _act(
        incident_id,
        lambda db, by, now: classify(
            db, incident_id, classification=value, by=by, note_text=note, now=now
        ),
        "Marked.",
    )


class _Said:
    """An outcome that is only words (a posted update)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.changed = True


def init_app(app: Flask) -> None:
    """The pages: sign-in and sessions, the time filters, the error pages, the blueprint."""
    signin.init_app(app)
    display.init_app(app)
    error_pages.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def _auth_mode() -> dict[str, Any]:
        return {"auth_mode": services().settings.web.auth}
