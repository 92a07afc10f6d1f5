"""The use case at onwatch's heart: an Alertmanager notification becomes incident changes.

Rules that hold here:
- one open incident per group (receiver + groupKey): groups never merge, never split;
- alerts are keyed by fingerprint inside their incident;
- the incident resolves when Alertmanager says the whole group is resolved (its top-level
  status, which stays right when `max_alerts` truncated the list);
- a group that fires again after its incident resolved opens a new incident, with one
  exception: after a person resolved the incident by hand, Alertmanager keeps re-sending the
  alerts that still fire (every `repeat_interval`). Those re-sends (the same fingerprints with
  the same `startsAt`) are recorded on the resolved incident (once: `alerts_still_firing`) and
  page nobody. Only a new firing (a new fingerprint, or a known one with a new `startsAt`)
  opens a new incident, whose timeline links to the one resolved by hand (`follows_incident`,
  data `follows_incident_id`). Alertmanager's later "resolved" lands on the resolved incident
  and opens nothing;
- a group first seen already resolved (onwatch did not hear of it while it fired) is
  recorded as an incident opened at its alerts' earliest `startsAt` and resolved at their
  latest `endsAt` (clamped to now), graded by the rules like any other, said in the timeline
  (`incident_resolved` with `first_seen_resolved`), and neither paged nor followed by what a
  resolution brings (no MTTR verdict, no all-clear, no postmortem);
- the incident's severity is the worst of its firing alerts and is never lowered here;
- a notification that changes nothing (a retry, a repeat, an HA peer) writes nothing;
- what the wire boundary had to change to store the notification (`notes`: NUL characters
  replaced with U+FFFD, a truncatedAlerts beyond the column) is said in the timeline, with
  the change that stored it, so a re-send still writes nothing.

How, in three steps, so that the hot path stays cheap: load the group's state (its incident
and that incident's alerts), plan the changes in memory (`_plan`, no database), then write
them with a few Core statements (`_write`: bulk inserts, no ORM unit of work). The plan is
first made on a read snapshot, without the write lock: a re-send that changes nothing (most
of what Alertmanager sends) is answered from it. Anything else loads the state again inside
the write transaction, under the lock, and the snapshot's plan is written only if that state
is identical (else it plans again), so no write ever rests on a stale read.

The write transaction is shared: requests of this process that write at the same moment are
applied one after the other in one transaction and committed once (group commit,
`Store.write_rows_together`), and each is answered only after that commit. Each request's
work (`under_lock` below) still runs per incident, with its own hooks: the paging planner
(`_queue_pages`: pages, and the notifications of an incident nobody covers), what follows a
resolution (`after_resolution`: the MTTR verdict, the postmortem, the all-clear), all in the
shared transaction. A feature that queues its own outbox rows when an incident opens adds its
call beside `_queue_pages`, with the same session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from receiver.incidents.alerts import Alert, AlertGroup, AlertStatus
from receiver.incidents.channels import brief_description, channel_candidates
from receiver.incidents.models import AlertRecord, IncidentRecord, IncidentStatus, TimelineEntry
from receiver.incidents.resolution import after_resolution
from receiver.logevents import log_event
from receiver.paging.models import OutboxMessage
from receiver.paging.planner import (
    RESOLVE,
    PagingContext,
    cancel_escalation,
    follow_up,
    not_paged,
    plan_pages,
    warn_unrouted,
)
from receiver.response.context import ResponseContext
from receiver.response.facts import SEVERITY_RAISED
from receiver.slack.opening import after_ingest
from receiver.store.database import Store
from receiver.store.prebound import PreboundInsert
from rules import Decision, RuleSet, Severity, worst
from rules.defaults import label_problems

log = logging.getLogger(__name__)

OPEN, RESOLVED = IncidentStatus.OPEN.value, IncidentStatus.RESOLVED.value  # bound by Core
CHANNEL_NAMING_LOCK = 0x6F6E7761  # "onwa": PostgreSQL advisory lock for choosing channel names
CHANNEL_CANDIDATES_PER_QUERY = 8  # names tried per query; the first is almost always free

INCIDENTS: Table = IncidentRecord.__table__  # type: ignore[attr-defined]
ALERTS: Table = AlertRecord.__table__  # type: ignore[attr-defined]
TIMELINE: Table = TimelineEntry.__table__  # type: ignore[attr-defined]
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]

# Statements are built once: SQLAlchemy then reuses their cache keys and compiled forms.
# The alert fields a notification may change, compared to decide whether anything changed:
_FRESH_FIELDS = ("status", "annotations", "generator_url", "starts_at", "ends_at")
# The incident fields a notification may change:
_INCIDENT_FIELDS = (
    "status",
    "severity",
    "truncated_alerts",
    "resolved_at",
    "updated_at",
    "severity_set_by",
)
# Read with them, never written by ingest: who resolved the incident by hand.
_INCIDENT_READ = (*_INCIDENT_FIELDS, "resolved_by")
_IDENTITIES: BindParameter[list[str]] = bindparam("identities", expanding=True)
# Each group's open incident and its latest one (they differ when none is open: a late
# "resolved", a re-send after a resolution by hand, a new firing). FOR UPDATE (PostgreSQL)
# serialises concurrent notifications of one group with the other writers of its incident;
# SQLite's writers are serialised already and its compiler leaves the clause out.
_INCIDENTS_OF_GROUPS = (
    select(INCIDENTS.c.id, INCIDENTS.c.group_identity, *(INCIDENTS.c[f] for f in _INCIDENT_READ))
    .where(
        or_(
            INCIDENTS.c.id.in_(
                select(func.max(INCIDENTS.c.id))
                .where(INCIDENTS.c.group_identity.in_(_IDENTITIES))
                .group_by(INCIDENTS.c.group_identity)
            ),
            and_(INCIDENTS.c.group_identity.in_(_IDENTITIES), INCIDENTS.c.status == OPEN),
        )
    )
    .with_for_update()
)
_ALERTS_OF_INCIDENTS = select(
    ALERTS.c.id, ALERTS.c.incident_id, ALERTS.c.fingerprint, *(ALERTS.c[f] for f in _FRESH_FIELDS)
).where(ALERTS.c.incident_id.in_(bindparam("ids", expanding=True)))
_TAKEN_CHANNELS = select(INCIDENTS.c.channel).where(
    INCIDENTS.c.channel.in_(bindparam("names", expanding=True))
)


def _current_or_latest_incident_state() -> Select[Any]:
    """The group's open incident (else its latest) with its alerts, in one read.

    One statement, so one consistent state without a transaction around it.
    """
    current = (
        select(INCIDENTS.c.id)
        .where(INCIDENTS.c.group_identity == bindparam("identity"))
        .order_by((INCIDENTS.c.status == OPEN).desc(), INCIDENTS.c.id.desc())
    )
    return (
        select(
            INCIDENTS.c.id,
            *(INCIDENTS.c[f] for f in _INCIDENT_READ),
            ALERTS.c.id.label("alert_id"),
            *(ALERTS.c[f].label(f"alert_{f}") for f in ("fingerprint", *_FRESH_FIELDS)),
        )
        .select_from(INCIDENTS.outerjoin(ALERTS, ALERTS.c.incident_id == INCIDENTS.c.id))
        .where(INCIDENTS.c.id == current.limit(1).scalar_subquery())
    )


_CURRENT_OR_LATEST_INCIDENT_STATE = _current_or_latest_incident_state()
# One multi-row INSERT for a batch's new incidents, their ids in the rows' order.
_INSERT_INCIDENTS = insert(INCIDENTS).returning(INCIDENTS.c.id, sort_by_parameter_order=True)
_UPDATE_INCIDENT = (
    update(INCIDENTS)
    .where(INCIDENTS.c.id == bindparam("incident_id"))
    .values({name: bindparam(name) for name in _INCIDENT_FIELDS})
)
# Its rows are bound before the write lock (`_Request.bound_alerts`), their incident's id in it.
_INSERT_ALERTS = PreboundInsert(ALERTS, late=("incident_id",))
_UPDATE_ALERT = (
    update(ALERTS)
    .where(ALERTS.c.id == bindparam("alert_id"))
    .values({name: bindparam(name) for name in (*_FRESH_FIELDS, "updated_at")})
)
_INSERT_TIMELINE = insert(TIMELINE)
_LOCK_CHANNEL_NAMING = text("SELECT pg_advisory_xact_lock(:key)")
_PAGED = select(OUTBOX.c.id).where(OUTBOX.c.incident_id == bindparam("incident_id")).limit(1)


@dataclass(frozen=True)
class IngestResult:
    """What one notification did, for the HTTP answer and the metrics."""

    incident_id: int
    opened: bool  # a new incident was opened
    resolved: bool  # the incident was resolved by this notification
    severity: str
    changed: bool  # False for a re-sent notification that changed nothing


def ingest_alert_group(
    group: AlertGroup,
    *,
    now: datetime,
    store: Store,
    rules: RuleSet,
    paging: PagingContext | None = None,
    response: ResponseContext | None = None,
) -> IngestResult:
    """Apply one notification to the store: all of it, once, or nothing (StoreUnavailable).

    With `paging`, the pages it calls for are queued; with `response`, a resolution is
    followed by the all-clear, the MTTR verdict and the postmortem, in the same transaction.
    """
    decisions = {
        alert.fingerprint: rules.decide(alert.labels, alert.annotations) for alert in group.alerts
    }
    with store.read_rows() as connection:
        # A plain read, no write lock: enough to recognise a notification that changes nothing.
        seen = _read_state(group, connection)
    planned = _plan(group, decisions, seen, now)
    if seen.incident is not None and not planned.changed:
        return planned.result(seen.incident["id"])

    request = _Request(group, decisions, seen, planned, now, paging, response)
    # Bound here, outside the write lock: for a big group most of the insert's work.
    request.bound_alerts = _bind_new_alerts(store.engine.dialect, planned)
    # Shared with the requests writing at the same moment (group commit): one transaction and
    # one commit for all of them, one statement per table; answered once it committed.
    result = store.write_rows_together(request, together=_apply_all)
    # Committed: say what changed.
    if request.unrouted is not None and paging is not None:
        warn_unrouted(paging, result.incident_id, *request.unrouted)
    if request.written is not None and log.isEnabledFor(logging.INFO):
        _log_changes(group, request.written, result)
    return result


def _log_changes(group: AlertGroup, plan: _Plan, result: IngestResult) -> None:
    incident_id = result.incident_id
    if plan.opened:
        log_event(
            log,
            logging.INFO,
            "incident_opened",
            incident_id=incident_id,
            severity=result.severity,
            service=plan.incident["service"],
            group=group.group_key,
            alerts=len(group.alerts),
        )
    for kind, _message, data in plan.timeline:
        if kind == SEVERITY_RAISED:
            log_event(
                log,
                logging.INFO,
                "incident_raised",
                incident_id=incident_id,
                previous=data["previous"],
                severity=data["severity"],
                rule=data.get("rule"),
                by="alertmanager",
            )
        elif kind == "incident_resolved":
            log_event(
                log,
                logging.INFO,
                "incident_resolved",
                incident_id=incident_id,
                severity=result.severity,
                by="alertmanager",
                **({"first_seen_resolved": True} if data.get("first_seen_resolved") else {}),
            )


# --------------------------------------------------------------------------------------------
# Load: the group's incident (the open one; else the latest) and that incident's alerts, as
# plain dicts.


@dataclass
class _State:
    incident: dict[str, Any] | None  # id and the _INCIDENT_READ fields
    alerts: dict[str, dict[str, Any]]  # by fingerprint: id and the _FRESH_FIELDS


def _read_state(group: AlertGroup, connection: Connection) -> _State:
    """The state outside the write lock, in one statement (one consistent read)."""
    # The latest incident when none is open: a late "resolved", or a re-send of alerts still
    # firing after a person resolved the incident by hand.
    rows = connection.execute(_CURRENT_OR_LATEST_INCIDENT_STATE, {"identity": group.identity}).all()
    if not rows:
        return _State(incident=None, alerts={})
    incident = {name: getattr(rows[0], name) for name in ("id", *_INCIDENT_READ)}
    alerts = {
        row.alert_fingerprint: {
            "id": row.alert_id,
            "fingerprint": row.alert_fingerprint,
            **{name: getattr(row, f"alert_{name}") for name in _FRESH_FIELDS},
        }
        for row in rows
        if row.alert_id is not None
    }
    return _State(incident=incident, alerts=alerts)


# --------------------------------------------------------------------------------------------
# Plan: what the notification changes, computed in memory.


@dataclass
class _Plan:
    """The incident and alert rows after the notification, and the timeline entries to add."""

    incident: dict[str, Any]  # column values; no "id" when the incident is new
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by fingerprint
    new_alerts: list[str] = field(default_factory=list)  # fingerprints, in payload order
    changed_alerts: list[str] = field(default_factory=list)  # fingerprints of existing rows
    timeline: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    opened: bool = False
    resolved: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything at all is to be written."""
        return self.opened or bool(self.timeline or self.changed_alerts)

    def record(self, kind: str, message: str, **data: Any) -> None:
        """Add a timeline entry."""
        self.timeline.append((kind, message, data))

    def change_incident(self, **values: Any) -> None:
        """Change columns of the incident."""
        self.incident.update(values)

    def change_alert(self, fingerprint: str, **values: Any) -> None:
        """Change columns of an alert row (an UPDATE unless the row is new)."""
        self.alerts[fingerprint].update(values)
        if fingerprint not in self.new_alerts and fingerprint not in self.changed_alerts:
            self.changed_alerts.append(fingerprint)

    def result(self, incident_id: int) -> IngestResult:
        """The answer for the HTTP caller."""
        return IngestResult(
            incident_id=incident_id,
            opened=self.opened,
            resolved=self.resolved,
            severity=self.incident["severity"],
            changed=self.changed,
        )


def _plan(group: AlertGroup, decisions: dict[str, Decision], state: _State, now: datetime) -> _Plan:
    previous: _State | None = None  # a resolved incident of the group, for a firing notification
    still_firing = False  # a re-send of alerts still firing after a resolution by hand
    if (
        state.incident is not None
        and state.incident["status"] != OPEN
        and group.status == AlertStatus.FIRING
    ):
        still_firing = _resent_after_hand_resolution(group, state)
        if not still_firing:
            previous, state = state, _State(incident=None, alerts={})
    if state.incident is None:
        plan = _Plan(incident=_new_incident(group, decisions, now), opened=True)
        plan.record(
            "incident_opened",
            f"{plan.incident['severity']} incident opened for service "
            f"{plan.incident['service']}: {plan.incident['title']}",
            severity=plan.incident["severity"],
            service=plan.incident["service"],
            # The channel is chosen when the incident is written; `_write` fills it in.
            channel=None,
        )
        if previous is not None:
            _link_to_hand_resolved(plan, group, previous)
    else:
        plan = _Plan(
            incident=dict(state.incident), alerts={k: dict(v) for k, v in state.alerts.items()}
        )

    entries = _AlertEntries()
    refired = [
        alert
        for alert in group.alerts
        if _plan_alert(plan, entries, alert, decisions[alert.fingerprint], now, quiet=still_firing)
    ]
    entries.record(plan)
    if still_firing:
        # The incident stays resolved: its severity stays as it was, and nobody is paged.
        if refired:
            _record_still_firing(plan, refired)
    else:
        _plan_severity(plan, group, decisions)
    if group.truncated_alerts != plan.incident["truncated_alerts"]:
        plan.record(
            "alerts_truncated",
            f"Alertmanager left {group.truncated_alerts} alerts of this group out of the "
            "notification (max_alerts)",
            truncated_alerts=group.truncated_alerts,
        )
        plan.change_incident(truncated_alerts=group.truncated_alerts)
    if group.status == AlertStatus.RESOLVED and plan.incident["status"] == OPEN:
        if plan.opened:
            _plan_first_seen_resolved(plan, group, now)
        else:
            _plan_resolution(plan, now)
    if plan.changed:  # with a change only: an identical re-send still writes nothing
        for note in group.notes:
            plan.record("text_replaced", f"this notification's {note}", note=note)
    if plan.changed and not plan.opened:
        plan.change_incident(updated_at=now)
    return plan


def _resent_after_hand_resolution(group: AlertGroup, state: _State) -> bool:
    """Whether a firing notification for a resolved incident only re-sends alerts that were
    firing when a person resolved it (same fingerprints, same `startsAt`)."""
    assert state.incident is not None
    if state.incident["resolved_by"] is None:  # Alertmanager resolved it: any firing is new
        return False
    for alert in group.alerts:
        if alert.status != AlertStatus.FIRING:
            continue
        row = state.alerts.get(alert.fingerprint)
        if row is None or row["starts_at"] != alert.starts_at:
            return False
    return True


def _record_still_firing(plan: _Plan, alerts: list[Alert]) -> None:
    names = ", ".join(f"{alert.name} ({alert.fingerprint})" for alert in alerts)
    resolved_at: datetime = plan.incident["resolved_at"]
    plan.record(
        "alerts_still_firing",
        f"Alertmanager still reports {len(alerts)} alert(s) firing: {names}; the incident stays "
        f"resolved as {plan.incident['resolved_by']} resolved it by hand at "
        f"{resolved_at:%Y-%m-%d %H:%M} UTC, and nobody is paged (a new firing opens a new "
        "incident)",
        fingerprints=[alert.fingerprint for alert in alerts],
        resolved_by=plan.incident["resolved_by"],
    )


def _link_to_hand_resolved(plan: _Plan, group: AlertGroup, previous: _State) -> None:
    """Link a new incident to the group's previous one when a person resolved that one by
    hand while Alertmanager still reported its alerts firing."""
    incident = previous.incident
    assert incident is not None
    if incident["resolved_by"] is None:
        return
    still_firing = any(
        row["status"] == AlertStatus.FIRING.value for row in previous.alerts.values()
    )
    if not still_firing and not any(
        alert.status == AlertStatus.FIRING and alert.fingerprint in previous.alerts
        for alert in group.alerts
    ):
        return
    resolved_at: datetime = incident["resolved_at"]
    plan.record(
        "follows_incident",
        f"follows incident #{incident['id']}, resolved by hand by {incident['resolved_by']} at "
        f"{resolved_at:%Y-%m-%d %H:%M} UTC while its alerts still fired",
        follows_incident_id=incident["id"],
        resolved_by=incident["resolved_by"],
        resolved_at=resolved_at.isoformat(),
    )


def _worst_decision(group: AlertGroup, decisions: dict[str, Decision]) -> Decision:
    firing = [decisions[a.fingerprint] for a in group.alerts if a.status == AlertStatus.FIRING]
    candidates = firing or list(decisions.values())
    return min(candidates, key=lambda decision: decision.severity)


def _title(group: AlertGroup) -> str:
    name = group.common_labels.get("alertname") or group.group_labels.get("alertname", "")
    summary = group.common_annotations.get("summary", "")
    if name and summary:
        return f"{name}: {summary}"
    return name or summary or group.group_key


def _new_incident(
    group: AlertGroup, decisions: dict[str, Decision], now: datetime
) -> dict[str, Any]:
    if decisions:
        lead = _worst_decision(group, decisions)
        severity, service = lead.severity, lead.service
    else:  # an empty alert list: nothing to grade, keep the group visible
        severity, service = Severity.SEV3, "unrouted"
    return {
        "group_identity": group.identity,
        "receiver": group.receiver,
        "group_key": group.group_key,
        "group_labels": dict(group.group_labels),
        "status": OPEN,
        "severity": str(severity),
        "service": service,
        "title": _title(group),
        "external_url": group.external_url,
        "truncated_alerts": 0,
        "opened_at": now,
        "updated_at": now,
        "resolved_at": None,
    }


def _plan_alert(
    plan: _Plan,
    entries: _AlertEntries,
    alert: Alert,
    decision: Decision,
    now: datetime,
    *,
    quiet: bool = False,
) -> bool:
    """Plan one alert's row, and its timeline entries in `entries`; whether a known alert
    fires again. `quiet`: the caller records that itself."""
    fresh = {
        "status": alert.status.value,
        "annotations": dict(alert.annotations),
        "generator_url": alert.generator_url,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
    }
    row = plan.alerts.get(alert.fingerprint)
    if row is None:
        plan.alerts[alert.fingerprint] = {
            "fingerprint": alert.fingerprint,
            "alertname": alert.name,
            "labels": dict(alert.labels),
            "severity": str(decision.severity),
            "service": decision.service,
            "rule": decision.rule,
            "matched": decision.matched,  # one tuple per rule: bound once for all its alerts
            "first_seen_at": now,
            "updated_at": now,
            **fresh,
        }
        plan.new_alerts.append(alert.fingerprint)
        entries.new.setdefault(alert.status.value, []).append((alert, decision))
        entries.note_replaced_text(alert)
        for problem in label_problems(alert.labels):
            entries.notes.append(
                (
                    "label_not_understood",
                    f"alert {alert.name} ({alert.fingerprint}): {problem}",
                    {"fingerprint": alert.fingerprint},
                )
            )
        return False
    refired = False
    if row["status"] != alert.status.value:
        refired = alert.status == AlertStatus.FIRING
        if not (refired and quiet):
            verb = "firing again" if refired else "resolved"
            entries.changed.setdefault((alert.status.value, verb), []).append(alert)
    if any(row[key] != value for key, value in fresh.items()):
        plan.change_alert(alert.fingerprint, **fresh, updated_at=now)
        entries.note_replaced_text(alert)
    return refired


# A folded entry names this many of its alerts in its message (its data lists them all).
ALERTS_NAMED_PER_ENTRY = 5


@dataclass
class _AlertEntries:
    """The timeline entries of one notification's alerts, gathered while its alerts are
    planned and then recorded together.

    Alerts that did the same thing in one notification (appeared firing, resolved, fired
    again) share one entry, whose data lists every fingerprint: a storm that opens a group
    of a thousand alerts writes one entry, not a thousand, and the timeline still says which
    alerts came and how each was graded (the grades, with each one's alerts). One alert
    alone keeps the entry it always had.
    """

    new: dict[str, list[tuple[Alert, Decision]]] = field(default_factory=dict)  # by status
    changed: dict[tuple[str, str], list[Alert]] = field(default_factory=dict)  # (status, verb)
    notes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def note_replaced_text(self, alert: Alert) -> None:
        """Say what the wire boundary changed to store the alert being written."""
        for note in alert.notes:
            self.notes.append(
                (
                    "text_replaced",
                    f"alert {alert.name} ({alert.fingerprint}): {note}",
                    {"fingerprint": alert.fingerprint, "note": note},
                )
            )

    def record(self, plan: _Plan) -> None:
        """Add the entries to `plan`: new alerts, then changed ones, then the notes."""
        for status, graded in self.new.items():
            if len(graded) == 1:
                alert, decision = graded[0]
                plan.record(
                    "alert_" + status,
                    f"alert {alert.name} ({alert.fingerprint}) {status}: {decision.explain()}",
                    fingerprint=alert.fingerprint,
                    severity=str(decision.severity),
                    rule=decision.rule,
                    matched=list(decision.matched),
                )
            else:
                _record_new_alerts(plan, status, graded)
        for (status, verb), alerts in self.changed.items():
            if len(alerts) == 1:
                alert = alerts[0]
                plan.record(
                    "alert_" + status,
                    f"alert {alert.name} ({alert.fingerprint}) {verb}",
                    fingerprint=alert.fingerprint,
                )
            else:
                plan.record(
                    "alert_" + status,
                    f"{len(alerts)} alerts {verb}: {_named(alerts)}",
                    fingerprints=[alert.fingerprint for alert in alerts],
                )
        for kind, message, data in self.notes:
            plan.record(kind, message, **data)


def _record_new_alerts(plan: _Plan, status: str, graded: list[tuple[Alert, Decision]]) -> None:
    """One entry for several alerts new to the incident: each grade with its alerts."""
    by_decision: dict[Decision, list[Alert]] = {}
    for alert, decision in graded:
        by_decision.setdefault(decision, []).append(alert)
    parts = [
        f"{len(alerts)} graded {decision.explain()}: {_named(alerts)}."
        for decision, alerts in by_decision.items()
    ]
    plan.record(
        "alert_" + status,
        f"{len(graded)} alerts {status}. " + " ".join(parts),
        fingerprints=[alert.fingerprint for alert, _decision in graded],
        grades=[
            {
                "severity": str(decision.severity),
                "rule": decision.rule,
                "matched": list(decision.matched),
                "service": decision.service,
                "fingerprints": [alert.fingerprint for alert in alerts],
            }
            for decision, alerts in by_decision.items()
        ],
    )


def _named(alerts: list[Alert]) -> str:
    """The first few alerts by name and fingerprint, and how many more there are."""
    named = ", ".join(f"{a.name} ({a.fingerprint})" for a in alerts[:ALERTS_NAMED_PER_ENTRY])
    more = len(alerts) - ALERTS_NAMED_PER_ENTRY
    return f"{named} and {more} more" if more > 0 else named


def _plan_severity(plan: _Plan, group: AlertGroup, decisions: dict[str, Decision]) -> None:
    firing = [
        (decisions[alert.fingerprint], alert)
        for alert in group.alerts
        if alert.status == AlertStatus.FIRING
    ]
    if not firing:
        return
    decision, alert = min(firing, key=lambda pair: pair[0].severity)
    current = Severity.parse(plan.incident["severity"])
    if worst(current, decision.severity) == current:
        return
    chosen_by = plan.incident.get("severity_set_by")
    if chosen_by:
        # A person chose the severity: alerts no longer raise it. A new alert says once
        # what it suggests, so the IC can reconsider.
        if alert.fingerprint in plan.new_alerts:
            plan.record(
                "severity_not_raised",
                f"alert {alert.name} suggests {decision.severity}; the severity stays "
                f"{current} as set by {chosen_by}",
                suggested=str(decision.severity),
                fingerprint=alert.fingerprint,
                rule=decision.rule,
            )
        return
    plan.record(
        SEVERITY_RAISED,
        f"severity raised from {current} to {decision.severity} by alert {alert.name} "
        f"({alert.fingerprint}): {decision.explain()}",
        previous=str(current),
        severity=str(decision.severity),
        fingerprint=alert.fingerprint,
        rule=decision.rule,
    )
    plan.change_incident(severity=str(decision.severity))


def _plan_resolution(plan: _Plan, now: datetime) -> None:
    # Alerts Alertmanager did not list (truncated, or dropped from the group) are resolved
    # with the group: Alertmanager only says "resolved" when every alert of it is.
    for fingerprint, row in plan.alerts.items():
        if row["status"] != AlertStatus.RESOLVED.value:
            plan.change_alert(
                fingerprint,
                status=AlertStatus.RESOLVED.value,
                ends_at=row["ends_at"] or now,
                updated_at=now,
            )
    plan.change_incident(status=RESOLVED, resolved_at=now)
    plan.resolved = True
    plan.record(
        "incident_resolved", "incident resolved: Alertmanager reports the whole group resolved"
    )


def _plan_first_seen_resolved(plan: _Plan, group: AlertGroup, now: datetime) -> None:
    """A group whose first notification says resolved: it fired while onwatch did not hear
    of it. Recorded at the alerts' own times, not as a resolution at `now` (no 0 s resolve),
    and nothing follows it (no page, no MTTR verdict, no all-clear, no postmortem)."""
    for fingerprint, row in plan.alerts.items():  # listed firing in a resolved group: odd
        if row["status"] != AlertStatus.RESOLVED.value:
            plan.alerts[fingerprint].update(status=AlertStatus.RESOLVED.value, ends_at=now)
    starts = [alert.starts_at for alert in group.alerts]
    ends = [alert.ends_at or now for alert in group.alerts]
    opened_at = min([*starts, now])
    resolved_at = min(max([*ends, opened_at]), now)
    plan.change_incident(
        status=RESOLVED, opened_at=opened_at, resolved_at=resolved_at, updated_at=now
    )
    plan.resolved = True
    plan.record(
        "incident_resolved",
        f"first seen already resolved: Alertmanager reports the group resolved in its first "
        f"notification; its alerts fired from {opened_at:%Y-%m-%d %H:%M:%S} to "
        f"{resolved_at:%Y-%m-%d %H:%M:%S} UTC, the times recorded; nobody is paged",
        first_seen_resolved=True,
        fired_from=opened_at.isoformat(),
        fired_until=resolved_at.isoformat(),
    )


# --------------------------------------------------------------------------------------------
# Write: the requests of one group commit together, one statement per table.


@dataclass(eq=False)
class _Request:
    """One notification waiting to be written, with what was read and planned before the lock.

    What a run of `_apply_all` sets here is set afresh by every run (a batch that fails runs
    again, each request alone), so after the commit it is the committed run's.
    """

    group: AlertGroup
    decisions: dict[str, Decision]
    seen: _State  # read before the lock
    planned: _Plan  # made on `seen`
    now: datetime
    paging: PagingContext | None
    response: ResponseContext | None
    written: _Plan | None = None  # the plan the committed run wrote
    bound_alerts: list[list[Any]] = field(default_factory=list)  # `planned`'s new alert rows
    unrouted: tuple[str, str] | None = None  # (service, severity): nobody paged, nobody told

    def __call__(self, connection: Connection) -> IngestResult:
        """This request alone in a transaction (the store's retries, or a failed batch)."""
        return _apply_all(connection, [self])[0]


def _apply_all(connection: Connection, requests: list[_Request]) -> list[IngestResult]:
    """Apply `requests` in order, in the caller's transaction.

    A group's notifications must see each other's writes, so the requests are applied in
    rounds in which each group appears at most once (its first waiting notification): a
    round is written with one statement per table.
    """
    if connection.dialect.name == "postgresql":
        # Every ingest transaction takes the naming lock first (a batch holds it to the end):
        # the row locks of two batches are never taken in crossed order, so two processes'
        # batches queue instead of deadlocking. (SQLite's writers are serialised already.)
        connection.execute(_LOCK_CHANNEL_NAMING, {"key": CHANNEL_NAMING_LOCK})
    results: dict[int, IngestResult] = {}
    waiting = list(enumerate(requests))
    while waiting:
        this_round: list[tuple[int, _Request]] = []
        later: list[tuple[int, _Request]] = []
        groups: set[str] = set()
        for index, request in waiting:
            identity = request.group.identity
            (later if identity in groups else this_round).append((index, request))
            groups.add(identity)
        for (index, _request), result in zip(
            this_round, _apply_round(connection, [r for _, r in this_round]), strict=True
        ):
            results[index] = result
        waiting = later
    return [results[index] for index in range(len(requests))]


def _apply_round(connection: Connection, requests: list[_Request]) -> list[IngestResult]:
    """Apply notifications of distinct groups: load, plan, write, then each incident's hooks."""
    states = _load_states(connection, [request.group.identity for request in requests])
    plans: list[_Plan] = []
    for request in requests:
        state = states.get(request.group.identity, _State(incident=None, alerts={}))
        # Usually nobody wrote the group in between, and the plan made outside the lock
        # stands; otherwise plan again on what is there now.
        plan = (
            request.planned
            if state == request.seen
            else _plan(request.group, request.decisions, state, request.now)
        )
        request.written, request.unrouted = plan, None
        plans.append(plan)
    incident_ids, channels = _write_incidents(connection, requests, plans)
    results = [
        plan.result(incident_id) for plan, incident_id in zip(plans, incident_ids, strict=True)
    ]

    # Rows of every incident of the round, each table in one statement. A plan is left as it
    # is (a retried transaction may use it again): rows are built anew.
    new_alerts: list[list[Any]] = []
    new_alert_incidents: list[tuple[int]] = []
    changed_alerts: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]] = []
    for index, (request, plan, incident_id) in enumerate(
        zip(requests, plans, incident_ids, strict=True)
    ):
        bound = (
            request.bound_alerts
            if plan is request.planned
            else _bind_new_alerts(connection.dialect, plan)
        )
        new_alerts += bound
        new_alert_incidents += [(incident_id,)] * len(bound)
        changed_alerts += [
            {
                "alert_id": plan.alerts[fp]["id"],
                **{name: plan.alerts[fp][name] for name in (*_FRESH_FIELDS, "updated_at")},
            }
            for fp in plan.changed_alerts
        ]
        timeline += [
            {
                "incident_id": incident_id,
                "at": request.now,
                "kind": kind,
                "message": message,
                "data": data,
            }
            for kind, message, data in plan.timeline
        ]
        if plan.opened:
            timeline[-len(plan.timeline)]["data"] = {
                **plan.timeline[0][2],
                "channel": channels[index],
            }
            note = _nobody_to_tell(request, plan)
            if note is not None:
                timeline.append({"incident_id": incident_id, "at": request.now, **note})
    _INSERT_ALERTS.execute(connection, new_alerts, new_alert_incidents)
    if changed_alerts:
        connection.execute(_UPDATE_ALERT, changed_alerts)
    if timeline:
        connection.execute(_INSERT_TIMELINE, timeline)

    # The hooks, per incident, in the same transaction: the ORM only where it is needed, one
    # session for the round and one load of each incident for both the pages and what
    # follows a resolution.
    hooked = []
    for request, plan, result in zip(requests, plans, results, strict=True):
        pages = request.paging if _pages_due(connection, request, plan, result) else None
        follow = request.response if result.resolved and not plan.opened else None
        if pages is not None or follow is not None:
            hooked.append((request.now, result, pages, follow))
    if hooked:
        with Session(bind=connection) as session:
            for now, result, pages, follow in hooked:
                incident = session.get(IncidentRecord, result.incident_id)
                assert incident is not None
                _incident_hooks(session, incident, result, now=now, paging=pages, response=follow)
            session.flush()
    for request, plan, result in zip(requests, plans, results, strict=True):
        context = request.response
        if context is not None and context.slack.enabled:  # a new channel, a raised severity
            after_ingest(
                connection,
                request.group,
                request.decisions,
                result.incident_id,
                opened=plan.opened,
                resolved=result.resolved,
                raised=[message for kind, message, _ in plan.timeline if kind == SEVERITY_RAISED],
                severity=result.severity,
                now=request.now,
                slack=context.slack,
            )
    return results


def _bind_new_alerts(dialect: Dialect, plan: _Plan) -> list[list[Any]]:
    """The plan's new alert rows as the driver takes them, without their incident's id."""
    return _INSERT_ALERTS.bind(dialect, [plan.alerts[fp] for fp in plan.new_alerts])


def _incident_hooks(
    session: Session,
    incident: IncidentRecord,
    result: IngestResult,
    *,
    now: datetime,
    paging: PagingContext | None,
    response: ResponseContext | None,
) -> None:
    """What else one incident's change writes, in the ingest transaction: with `paging`, its
    pages (or their end); with `response`, what follows its resolution (the MTTR verdict, the
    postmortem, the all-clear). A feature that queues its own outbox rows when an incident
    opens or resolves adds its call here, with this session."""
    if paging is not None:
        _queue_pages(session, incident, resolved=result.resolved, paging=paging, now=now)
    if response is not None:
        after_resolution(session, incident, now=now, context=response)


def _load_states(connection: Connection, identities: list[str]) -> dict[str, _State]:
    """Each group's open incident (else its latest) with its alerts, in two statements;
    locked on PostgreSQL."""
    if not identities:
        return {}
    rows = connection.execute(_INCIDENTS_OF_GROUPS, {"identities": identities}).all()
    chosen: dict[str, dict[str, Any]] = {}
    for row in rows:  # by id: the open one wins, else the latest
        incident = row._asdict()
        identity = incident.pop("group_identity")
        current = chosen.get(identity)
        if current is None or (
            current["status"] != OPEN
            and (incident["status"] == OPEN or incident["id"] > current["id"])
        ):
            chosen[identity] = incident
    states = {
        identity: _State(incident=incident, alerts={}) for identity, incident in chosen.items()
    }
    if states:
        by_id = {state.incident["id"]: state for state in states.values() if state.incident}
        for alert in connection.execute(_ALERTS_OF_INCIDENTS, {"ids": list(by_id)}):
            values = alert._asdict()
            by_id[values.pop("incident_id")].alerts[alert.fingerprint] = values
    return states


def _write_incidents(
    connection: Connection, requests: list[_Request], plans: list[_Plan]
) -> tuple[list[int], dict[int, str]]:
    """Insert the new incidents (their channels chosen) and update the changed ones, one
    statement each; every plan's incident id, in order, and the new ones' channels by index."""
    opened = [index for index, plan in enumerate(plans) if plan.opened]
    ids: list[int] = [0 if plan.opened else plan.incident["id"] for plan in plans]
    named: dict[int, str] = {}
    if opened:
        channels = _free_channels(
            connection,
            [(requests[i].now, brief_description(requests[i].group.group_labels)) for i in opened],
        )
        rows = [
            {**plans[i].incident, "channel": channel}
            for i, channel in zip(opened, channels, strict=True)
        ]
        # A racing twin fails here on the one-open-per-group index; the store retries it.
        inserted = connection.execute(_INSERT_INCIDENTS, rows).scalars().all()
        for index, incident_id, channel in zip(opened, inserted, channels, strict=True):
            ids[index], named[index] = int(incident_id), channel
    changed = [
        {"incident_id": plan.incident["id"], **{f: plan.incident[f] for f in _INCIDENT_FIELDS}}
        for plan in plans
        if plan.changed and not plan.opened
    ]
    if changed:
        connection.execute(_UPDATE_INCIDENT, changed)
    return ids, named


def _nobody_to_tell(request: _Request, plan: _Plan) -> dict[str, Any] | None:
    """For a new incident no rotation covers and nobody is to be told of: the timeline entry
    that says so (the warning is logged after the commit). None otherwise: `_pages_due` then
    says whether the paging planner has something to do."""
    paging = request.paging
    service: str = plan.incident["service"]
    if paging is None or plan.resolved or paging.unrouted_notify:
        return None
    if paging.rota.rotation_for_service(service) is not None:
        return None
    request.unrouted = (service, plan.incident["severity"])
    kind, message = not_paged(service)
    return {"kind": kind, "message": message, "data": {}}


def _pages_due(
    connection: Connection, request: _Request, plan: _Plan, result: IngestResult
) -> bool:
    """Whether this change calls for pages to be queued or stopped (`_queue_pages`)."""
    paging = request.paging
    if paging is None:
        return False
    raised = any(kind == SEVERITY_RAISED for kind, _message, _data in plan.timeline)
    if not (plan.opened or raised or result.resolved):
        return False
    if plan.opened:
        service: str = plan.incident["service"]  # only new incidents carry it in the plan
        if paging.rota.rotation_for_service(service) is None:
            # Opened already resolved: there was never anything to page. Nobody to tell: said
            # by `_nobody_to_tell`. Else `plan_pages` tells `routing.unrouted_notify`.
            return not result.resolved and bool(paging.unrouted_notify)
    # A resolution of an incident never paged (nobody covers it) has no escalation to stop
    # and nobody to tell.
    return (
        not result.resolved
        or connection.execute(_PAGED, {"incident_id": result.incident_id}).first() is not None
    )


def _queue_pages(
    session: Session,
    incident: IncidentRecord,
    *,
    resolved: bool,
    paging: PagingContext,
    now: datetime,
) -> None:
    """Queue the pages this change calls for (or stop them), in the change's transaction."""
    if resolved:
        cancel_escalation(session, incident, now=now, why="Alertmanager resolved the group")
        follow_up(session, incident, RESOLVE, context=paging, now=now)
    elif incident.acknowledged_at is None:  # someone already has it: no new pages
        plan_pages(session, incident, context=paging, now=now)


def _free_channels(connection: Connection, wanted: list[tuple[datetime, str]]) -> list[str]:
    """For each (opening time, description), the first channel name of its day that is free
    in the store and not chosen for an earlier one of `wanted`; a query per
    CHANNEL_CANDIDATES_PER_QUERY names each, for all of them at once.

    Two groups opening at once may want the same name: the caller holds the naming lock
    (PostgreSQL; SQLite's writers are serialised already).
    """
    candidates = [channel_candidates(now, description) for now, description in wanted]
    chosen: list[str | None] = [None] * len(wanted)
    while None in chosen:
        tries = {
            index: list(islice(candidates[index], CHANNEL_CANDIDATES_PER_QUERY))
            for index, name in enumerate(chosen)
            if name is None
        }
        names = [name for names in tries.values() for name in names]
        taken = set(connection.execute(_TAKEN_CHANNELS, {"names": names}).scalars())
        taken.update(name for name in chosen if name is not None)
        for index, names in tries.items():
            free = [name for name in names if name not in taken]
            if free:
                chosen[index] = free[0]
                taken.add(free[0])
    return [name for name in chosen if name is not None]
