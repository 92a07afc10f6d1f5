"""The use case at onwatch's heart: an Alertmanager notification becomes incident changes.

Rules that hold here:
- one open incident per group (receiver + groupKey): groups never merge, never split;
- alerts are keyed by fingerprint inside their incident;
- the incident resolves when Alertmanager says the whole group is resolved (its top-level
  status, which stays right when `max_alerts` truncated the list);
- a group that fires again after its incident resolved opens a new incident;
- the incident's severity is the worst of its firing alerts and is never lowered here;
- a notification that changes nothing (a retry, a repeat, an HA peer) writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from receiver.alerts import Alert, AlertGroup, AlertStatus
from receiver.channels import brief_description, channel_name
from receiver.models import AlertRecord, IncidentRecord, TimelineEntry
from rules import Decision, RuleSet, Severity, worst

OPEN = "open"
RESOLVED = "resolved"
CHANNEL_NAMING_LOCK = 0x6F6E7761  # "onwa": PostgreSQL advisory lock for choosing channel names


@dataclass(frozen=True)
class IngestResult:
    """What one notification did, for the HTTP answer and the metrics."""

    incident_id: int
    opened: bool  # a new incident was opened
    resolved: bool  # the incident was resolved by this notification
    severity: str
    changed: bool  # False for a re-sent notification that changed nothing


def ingest_alert_group(
    group: AlertGroup, *, now: datetime, session: Session, rules: RuleSet
) -> IngestResult:
    """Apply one notification to the store inside the caller's transaction."""
    decisions = {
        alert.fingerprint: rules.decide(alert.labels, alert.annotations) for alert in group.alerts
    }
    incident = _open_incident_of(group, session)
    opened = False
    if incident is None:
        latest = _latest_incident_of(group, session)
        if group.status == AlertStatus.RESOLVED and latest is not None:
            # A late or repeated "resolved" for a group whose incident is already closed.
            incident = latest
        else:
            incident = _open_incident(group, decisions, now=now, session=session)
            opened = True

    recorder = _Recorder(session, incident, now)
    known = {
        record.fingerprint: record
        for record in session.exec(
            select(AlertRecord).where(AlertRecord.incident_id == incident.id)
        )
    }
    for alert in group.alerts:
        _apply_alert(alert, decisions[alert.fingerprint], known, recorder)

    _raise_severity(incident, group, decisions, recorder)
    if group.truncated_alerts != incident.truncated_alerts:
        recorder.record(
            "alerts_truncated",
            f"Alertmanager left {group.truncated_alerts} alerts of this group out of the "
            "notification (max_alerts)",
            truncated_alerts=group.truncated_alerts,
        )
        incident.truncated_alerts = group.truncated_alerts

    resolved = False
    if group.status == AlertStatus.RESOLVED and incident.status == OPEN:
        _resolve(incident, known.values(), recorder)
        resolved = True

    if recorder.changed or opened:
        incident.updated_at = now
        session.add(incident)
    session.flush()
    assert incident.id is not None
    return IngestResult(
        incident_id=incident.id,
        opened=opened,
        resolved=resolved,
        severity=incident.severity,
        changed=recorder.changed or opened,
    )


class _Recorder:
    """Appends timeline entries and remembers whether anything changed."""

    def __init__(self, session: Session, incident: IncidentRecord, now: datetime) -> None:
        self.session, self.incident, self.now = session, incident, now
        self.changed = False

    def record(self, kind: str, message: str, **data: Any) -> None:
        self.changed = True
        self.session.add(
            TimelineEntry(
                incident_id=self.incident.id, at=self.now, kind=kind, message=message, data=data
            )
        )


def _open_incident_of(group: AlertGroup, session: Session) -> IncidentRecord | None:
    statement = (
        select(IncidentRecord)
        .where(IncidentRecord.group_identity == group.identity, IncidentRecord.status == OPEN)
        .with_for_update()  # PostgreSQL: serialise concurrent notifications of one group
    )
    return session.exec(statement).first()


def _latest_incident_of(group: AlertGroup, session: Session) -> IncidentRecord | None:
    statement = (
        select(IncidentRecord)
        .where(IncidentRecord.group_identity == group.identity)
        .order_by(col(IncidentRecord.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


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


def _open_incident(
    group: AlertGroup, decisions: dict[str, Decision], *, now: datetime, session: Session
) -> IncidentRecord:
    if decisions:
        lead = _worst_decision(group, decisions)
        severity, service = lead.severity, lead.service
    else:  # an empty alert list: nothing to grade, keep the group visible
        severity, service = Severity.SEV3, "unrouted"
    description = brief_description(group.group_labels)
    if session.get_bind().dialect.name == "postgresql":
        # Two groups opening at once may want the same channel name: take turns choosing.
        # (SQLite writers are serialised already.) Released when the transaction ends.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANNEL_NAMING_LOCK})
    same_day = f"#inc-{now:%Y%m%d}-"
    taken = set(
        session.exec(
            select(IncidentRecord.channel).where(col(IncidentRecord.channel).startswith(same_day))
        )
    )
    incident = IncidentRecord(
        group_identity=group.identity,
        receiver=group.receiver,
        group_key=group.group_key,
        group_labels=dict(group.group_labels),
        status=OPEN,
        severity=str(severity),
        service=service,
        title=_title(group),
        channel=channel_name(now, description, taken),
        external_url=group.external_url,
        truncated_alerts=0,
        opened_at=now,
        updated_at=now,
    )
    session.add(incident)
    session.flush()  # assigns the id; a racing twin fails here on the one-open-per-group index
    _Recorder(session, incident, now).record(
        "incident_opened",
        f"{severity} incident opened for service {service}: {incident.title}",
        severity=str(severity),
        service=service,
        channel=incident.channel,
    )
    return incident


def _apply_alert(
    alert: Alert, decision: Decision, known: dict[str, AlertRecord], recorder: _Recorder
) -> None:
    record = known.get(alert.fingerprint)
    if record is None:
        record = AlertRecord(
            incident_id=recorder.incident.id,
            fingerprint=alert.fingerprint,
            alertname=alert.name,
            status=alert.status.value,
            labels=dict(alert.labels),
            annotations=dict(alert.annotations),
            generator_url=alert.generator_url,
            severity=str(decision.severity),
            service=decision.service,
            rule=decision.rule,
            matched=list(decision.matched),
            starts_at=alert.starts_at,
            ends_at=alert.ends_at,
            first_seen_at=recorder.now,
            updated_at=recorder.now,
        )
        recorder.session.add(record)
        known[alert.fingerprint] = record
        recorder.record(
            "alert_" + alert.status.value,
            f"alert {alert.name} ({alert.fingerprint}) {alert.status.value}: {decision.explain()}",
            fingerprint=alert.fingerprint,
            severity=str(decision.severity),
            rule=decision.rule,
            matched=list(decision.matched),
        )
        return
    if record.status != alert.status.value:
        verb = "resolved" if alert.status == AlertStatus.RESOLVED else "firing again"
        recorder.record(
            "alert_" + alert.status.value,
            f"alert {alert.name} ({alert.fingerprint}) {verb}",
            fingerprint=alert.fingerprint,
        )
    fresh = {
        "status": alert.status.value,
        "annotations": dict(alert.annotations),
        "generator_url": alert.generator_url,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
    }
    if any(getattr(record, key) != value for key, value in fresh.items()):
        for key, value in fresh.items():
            setattr(record, key, value)
        record.updated_at = recorder.now
        recorder.session.add(record)
        recorder.changed = True


def _raise_severity(
    incident: IncidentRecord,
    group: AlertGroup,
    decisions: dict[str, Decision],
    recorder: _Recorder,
) -> None:
    firing = [
        (decisions[alert.fingerprint], alert)
        for alert in group.alerts
        if alert.status == AlertStatus.FIRING
    ]
    if not firing:
        return
    decision, alert = min(firing, key=lambda pair: pair[0].severity)
    current = Severity.parse(incident.severity)
    if worst(current, decision.severity) == current:
        return
    recorder.record(
        "severity_raised",
        f"severity raised from {current} to {decision.severity} by alert {alert.name} "
        f"({alert.fingerprint}): {decision.explain()}",
        previous=str(current),
        severity=str(decision.severity),
        fingerprint=alert.fingerprint,
        rule=decision.rule,
    )
    incident.severity = str(decision.severity)


def _resolve(incident: IncidentRecord, alerts: Any, recorder: _Recorder) -> None:
    # Alerts Alertmanager did not list (truncated, or dropped from the group) are resolved
    # with the group: Alertmanager only says "resolved" when every alert of it is.
    for record in alerts:
        if record.status != AlertStatus.RESOLVED.value:
            record.status = AlertStatus.RESOLVED.value
            record.ends_at = record.ends_at or recorder.now
            record.updated_at = recorder.now
            recorder.session.add(record)
    incident.status = RESOLVED
    incident.resolved_at = recorder.now
    recorder.record(
        "incident_resolved", "incident resolved: Alertmanager reports the whole group resolved"
    )
