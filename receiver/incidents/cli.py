"""`onwatch incident list|show|ack|resolve`: incidents from a terminal on the onwatch host."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from sqlmodel import col, select

from receiver.cli_support import EXIT_OK, UsageError, checked_store
from receiver.composition import build_rota, paging_context, response_context
from receiver.config.settings import Settings
from receiver.incidents.actions import UnknownIncident, acknowledge, resolve
from receiver.incidents.models import IncidentRecord, TimelineEntry
from receiver.paging.models import OutboxMessage


def cmd_incident_list(args: argparse.Namespace, settings: Settings) -> int:
    """Newest incidents first, as a table."""
    store = checked_store(settings)
    statement = select(IncidentRecord).order_by(col(IncidentRecord.id).desc()).limit(args.limit)
    for name in ("status", "severity", "service"):
        if getattr(args, name):
            statement = statement.where(getattr(IncidentRecord, name) == getattr(args, name))
    with store.read() as session:
        rows = session.exec(statement).all()
    store.dispose()
    print(
        f"{'ID':>5}  {'STATUS':<9} {'SEV':<5} {'SERVICE':<18} {'OPENED (UTC)':<17} "
        f"{'ACK BY':<10} TITLE"
    )
    for r in rows:
        print(
            f"{r.id:>5}  {r.status:<9} {r.severity:<5} {r.service[:18]:<18} "
            f"{r.opened_at:%Y-%m-%d %H:%M}  {(r.acknowledged_by or '-')[:10]:<10} {r.title}"
        )
    return EXIT_OK


def cmd_incident_show(args: argparse.Namespace, settings: Settings) -> int:
    """One incident: its fields, its pages and its whole timeline."""
    store = checked_store(settings)
    with store.read() as session:
        incident = session.get(IncidentRecord, args.id)
        if incident is None:
            raise UsageError(f"no incident {args.id}")
        timeline = session.exec(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == args.id)
            .order_by(col(TimelineEntry.id))
        ).all()
        pages = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.incident_id == args.id)
            .order_by(col(OutboxMessage.id))
        ).all()
    store.dispose()
    print(f"incident {incident.id}: [{incident.severity}] {incident.title}")
    print(f"  status {incident.status}, service {incident.service}, channel {incident.channel}")
    print(
        f"  opened {incident.opened_at:%Y-%m-%d %H:%M:%S} UTC"
        + (
            f", acknowledged by {incident.acknowledged_by} at {incident.acknowledged_at:%H:%M:%S}"
            if incident.acknowledged_at
            else ""
        )
        + (f", resolved {incident.resolved_at:%Y-%m-%d %H:%M:%S}" if incident.resolved_at else "")
    )
    if pages:
        print("\npages:")
        for p in pages:
            who = p.recipient or p.target or "-"
            print(
                f"  {p.action:<11} {who:<12} level {p.level} loop {p.loop}  {p.status:<9} "
                f"due {p.next_attempt_at:%H:%M:%S}  {p.last_error}"
            )
    print("\ntimeline:")
    for entry in timeline:
        print(f"  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.kind:<20} {entry.message}")
    return EXIT_OK


def _act(args: argparse.Namespace, settings: Settings, verb: str) -> int:
    store = checked_store(settings)
    context = paging_context(settings, build_rota(settings))
    response = response_context(settings, context)
    now = datetime.now(UTC)
    try:
        if verb == "ack":
            result = store.write(
                lambda s: acknowledge(s, args.id, by=args.by, now=now, context=context)
            )
        else:
            result = store.write(
                lambda s: resolve(
                    s,
                    args.id,
                    by=args.by,
                    now=now,
                    context=response,
                    note=args.note,
                    classification=args.classification,
                )
            )
    except UnknownIncident:
        raise UsageError(f"no incident {args.id}") from None
    finally:
        store.dispose()
    if not result.changed:
        print(
            f"incident {args.id} was already {'acknowledged' if verb == 'ack' else 'resolved'}"
            f" (status {result.status}): nothing changed"
        )
    elif verb == "ack" and result.time_to_acknowledge is not None:
        print(
            f"incident {args.id} acknowledged by {args.by} after "
            f"{int(result.time_to_acknowledge.total_seconds())} s; escalation stopped"
        )
    else:
        print(f"incident {args.id} resolved by {args.by}")
    return EXIT_OK


def cmd_incident_ack(args: argparse.Namespace, settings: Settings) -> int:
    """Acknowledge: escalation stops; the pager is told."""
    return _act(args, settings, "ack")


def cmd_incident_resolve(args: argparse.Namespace, settings: Settings) -> int:
    """Resolve by hand; the pager is told."""
    return _act(args, settings, "resolve")
