"""A new incident's channel, queued from ingest's transaction: the opening message is built
from the notification in hand (its alerts, the rules' explanations, runbook and graph links),
so that opening a channel costs ingest one read of the incident's row and a few inserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, Table, select

from receiver.incidents.alerts import AlertGroup
from receiver.incidents.models import IncidentRecord
from receiver.slack.outbox import incident_opened, tell
from receiver.slack.settings import SlackSettings
from receiver.slack.text import AlertLine, escape, opening_text
from rules import Decision

INCIDENTS: Table = IncidentRecord.__table__  # type: ignore[attr-defined]
MAX_ALERTS_LISTED = 10  # a group of 500 alerts is named by its first ten and a count


def after_ingest(
    connection: Connection,
    group: AlertGroup,
    decisions: Mapping[str, Decision],
    incident_id: int,
    *,
    opened: bool,
    resolved: bool,
    raised: Sequence[str],
    severity: str,
    now: datetime,
    slack: SlackSettings,
) -> None:
    """What an Alertmanager notification tells Slack: a new incident's channel, or a worse
    alert raising the severity (`raised`: the timeline's words for it) in its channel. Its
    resolution comes through the all-clear (`receiver.slack.outbox.announced`)."""
    if resolved:
        return
    if opened:
        open_channel(
            connection, group, decisions, incident_id, severity=severity, now=now, slack=slack
        )
    elif raised:
        tell(
            connection,
            incident_id,
            f":warning: {escape(raised[-1])}",
            key=f"raised-{severity}-{now.isoformat()}",
            now=now,
            topic=True,
        )


def incident_link(slack: SlackSettings, incident_id: int) -> str:
    """The incident in onwatch's API, when `chat.slack.link_base` says where onwatch is."""
    if not slack.link_base:
        return ""
    return f"{slack.link_base.rstrip('/')}/api/v1/incidents/{incident_id}"


def open_channel(
    connection: Connection,
    group: AlertGroup,
    decisions: Mapping[str, Decision],
    incident_id: int,
    *,
    severity: str,
    now: datetime,
    slack: SlackSettings,
) -> bool:
    """Queue the channel of the incident `group` just opened, if its severity gets one."""
    if not slack.wants_channel(severity):
        return False
    row = connection.execute(
        select(INCIDENTS.c.channel, INCIDENTS.c.title, INCIDENTS.c.service).where(
            INCIDENTS.c.id == incident_id
        )
    ).one()
    alerts = [
        AlertLine(
            name=alert.name,
            status=alert.status.value,
            summary=alert.annotations.get("summary", ""),
            explanation=decisions[alert.fingerprint].explain(),
            runbook_url=alert.annotations.get("runbook_url", ""),
            graph_url=alert.generator_url,
        )
        for alert in group.alerts[:MAX_ALERTS_LISTED]
    ]
    text = opening_text(
        incident_id=incident_id,
        severity=severity,
        title=row.title,
        service=row.service,
        alerts=alerts,
        link=incident_link(slack, incident_id),
    )
    if len(group.alerts) > MAX_ALERTS_LISTED:
        text += f"\n…and {len(group.alerts) - MAX_ALERTS_LISTED} more alerts"
    return incident_opened(
        connection,
        incident_id,
        severity=severity,
        channel=row.channel,
        opening=text,
        now=now,
        slack=slack,
    )
