"""One incident's page and the actions on it: each calls the use case the API calls
(receiver/incidents/actions, receiver/response), with the signed-in person as `by`.

A refused action (an InputError or a Conflict from the use case, such as "only the Incident
Commander (alice) can change the severity") comes back to the incident page as a message
saying why; nothing is changed. Forms post and redirect (303), so a reload never repeats an
action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlmodel import Session, col, func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from receiver.incidents.actions import UnknownIncident, acknowledge, resolve
from receiver.incidents.models import IncidentRecord, TimelineEntry
from receiver.notify.models import NotificationMessage
from receiver.pages import queries
from receiver.pages.blueprint import bp
from receiver.pages.forms import FIELD_LIMIT, form_text, say
from receiver.pages.signin import viewer
from receiver.paging.models import OutboxMessage
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
from receiver.services import services
from receiver.web.errors import Conflict, InputError
from receiver.web.request_body import ID, storable_text
from response.checklist import evaluate
from response.facts import Classification, Role, StatusUpdate, UpdateStatus
from response.milestones import milestones
from response.resolution import resolution_view
from rules.severity import SEVERITIES

TIMELINE_SHOWN = 1000  # the newest entries on the page; the API pages through the rest


UPDATE_FIELDS = ("status", "impact", "current_action", "eta")


@bp.get(f"/incidents/<{ID}:incident_id>")
def incident(incident_id: int) -> str:
    """Everything about one incident, with the forms that act on it."""
    return _incident_page(incident_id, draft=None)


@bp.post(f"/incidents/<{ID}:incident_id>/preview")
def preview_page(incident_id: int) -> str:
    """The incident page with the update form's draft previewed (without JavaScript: a POST,
    so that the form's CSRF token never travels in a URL)."""
    return _incident_page(incident_id, draft={k: form_text(k) for k in UPDATE_FIELDS})


def _incident_page(incident_id: int, draft: dict[str, str] | None) -> str:
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
        draft=draft or {},
        preview=_preview(facts, draft) if draft is not None else None,
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
    draft = {k: request.args.get(k, "")[:FIELD_LIMIT] for k in UPDATE_FIELDS}
    return render_template("pages/_preview.html", preview=_preview(facts, draft))


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


def _preview(facts: Any, draft: dict[str, str]) -> str:
    """The internal template's text for the drafted update (`status`, `impact`, ...)."""
    svc = services()
    now = svc.clock()
    try:
        status = parse_status(draft.get("status") or "investigating")
    except InputError as exc:
        return str(exc)
    impact, action, eta = (storable_text(draft.get(k, "")).strip() for k in UPDATE_FIELDS[1:])
    update = StatusUpdate(now, viewer().name, status, impact, action, eta)
    message = svc.response.templates.status_update(
        "internal", facts, update, now, mttr_target=svc.response.targets.mttr_for(facts.severity)
    )
    return message.text


def _act(incident_id: int, work: Callable[[Session, str, datetime], Any], done: str) -> Any:
    """Run `work(session, by, now)` in one transaction; back to the incident with the outcome."""
    svc = services()
    by, now = viewer().name, svc.clock()
    try:
        result = svc.store.write(lambda db: work(db, by, now))
    except UnknownIncident:
        abort(404, f"There is no incident {incident_id}.")
    except (InputError, Conflict) as exc:
        say(f"Not done: {exc}", "refused")
    else:
        message = getattr(result, "message", None) or done
        changed = getattr(result, "changed", True)
        say(message if changed else f"Nothing changed: {message}", "done")
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
    classification = form_text("classification") or None
    if classification is not None and classification not in [c.value for c in Classification]:
        raise InputError(f"classification: expected actionable or noise, got {classification!r}")
    note = form_text("note")
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
    role_text, person = form_text("role", required=True), form_text("person")
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
    status_text = form_text("status", required=True)
    impact, action, eta = form_text("impact"), form_text("current_action"), form_text("eta")

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
    wanted, reason = form_text("severity", required=True), form_text("reason")
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
    item, note = form_text("item", required=True), form_text("note")
    return _act(
        incident_id,
        lambda db, by, now: tick_item(db, incident_id, item=item, by=by, now=now, note_text=note),
        "Ticked.",
    )


@bp.post(f"/incidents/<{ID}:incident_id>/classification")
def classification(incident_id: int) -> WerkzeugResponse:
    """Mark the incident actionable or noise, with a note."""
    value, note = form_text("classification", required=True), form_text("note")
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
