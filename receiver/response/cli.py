"""`onwatch incident update|role|tick|severity|classify|response`, `onwatch postmortem ...`
and `onwatch actions ...`: the response process from a terminal on the onwatch host."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlmodel import Session

from receiver.cli_support import EXIT_OK, UsageError, Wrap, checked_store
from receiver.composition import build_rota, paging_context, response_context
from receiver.config.settings import Settings
from receiver.incidents.lookup import UnknownIncident
from receiver.incidents.models import IncidentRecord
from receiver.instants import parse_instant
from receiver.postmortems.service import (
    UnknownActionItem,
    add_action_item,
    assign_action_item,
    close_action_item,
    list_action_items,
    postmortem_draft,
    record_milestone,
)
from receiver.response.commander import (
    assign_role,
    change_severity,
    classify,
    parse_role,
    tick_item,
)
from receiver.response.context import ResponseContext
from receiver.response.facts import load_facts
from receiver.response.updates import parse_status, post_update
from receiver.web.errors import Conflict, InputError
from response.checklist import evaluate
from response.resolution import format_span, resolution_view
from rules.severity import SEVERITIES

T = TypeVar("T")


def _context(settings: Settings) -> ResponseContext:
    return response_context(settings, paging_context(settings, build_rota(settings)))


def _write(settings: Settings, work: Callable[[Session], T]) -> T:
    store = checked_store(settings)
    try:
        return store.write(work)
    except UnknownIncident as exc:
        raise UsageError(f"no incident {exc.args[0]}") from None
    except UnknownActionItem as exc:
        raise UsageError(f"no action item {exc.args[0]}") from None
    except (InputError, Conflict) as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.dispose()


def _read(settings: Settings, work: Callable[[Session], T]) -> T:
    store = checked_store(settings)
    try:
        with store.read() as session:
            return work(session)
    finally:
        store.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _print_changed(result: Any) -> int:
    print(result.message if result.changed else f"nothing changed: {result.message}")
    return EXIT_OK


def cmd_update(args: argparse.Namespace, settings: Settings) -> int:
    """Post a status update; it goes to the severity's audiences."""
    try:
        status = parse_status(args.status)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    context, now = _context(settings), _now()
    result = _write(
        settings,
        lambda s: post_update(
            s,
            args.id,
            by=args.by,
            status=status,
            impact=args.impact,
            current_action=args.action,
            eta=args.eta,
            now=now,
            context=context,
        ),
    )
    if result.resolved:
        print(f"incident {args.id} resolved; the all-clear is queued")
    else:
        where = ", ".join(result.targets) or "no notification target (see notifications:)"
        print(f"update {result.update_id} posted to incident {args.id}; queued for {where}")
    return EXIT_OK


def cmd_role(args: argparse.Namespace, settings: Settings) -> int:
    """Name someone for a role: a configured person, or anyone with --external."""
    try:
        role = parse_role(args.role)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    context, now = _context(settings), _now()
    return _print_changed(
        _write(
            settings,
            lambda s: assign_role(
                s,
                args.id,
                role=role,
                person=args.person,
                by=args.by,
                now=now,
                context=context,
                external=args.external,
            ),
        )
    )


def cmd_tick(args: argparse.Namespace, settings: Settings) -> int:
    """Tick a checklist item by hand."""
    now = _now()
    return _print_changed(
        _write(
            settings,
            lambda s: tick_item(
                s, args.id, item=args.item, by=args.by, now=now, note_text=args.note
            ),
        )
    )


def cmd_severity(args: argparse.Namespace, settings: Settings) -> int:
    """The IC changes the severity, with a reason."""
    context, now = _context(settings), _now()
    return _print_changed(
        _write(
            settings,
            lambda s: change_severity(
                s,
                args.id,
                severity=args.severity,
                by=args.by,
                reason=args.reason,
                now=now,
                context=context,
            ),
        )
    )


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    """Mark the incident actionable or noise."""
    now = _now()
    return _print_changed(
        _write(
            settings,
            lambda s: classify(
                s,
                args.id,
                classification=args.classification,
                by=args.by,
                note_text=args.note,
                now=now,
            ),
        )
    )


def cmd_response(args: argparse.Namespace, settings: Settings) -> int:
    """Where the response stands: phase, checklist, roles, MTTR."""
    targets, now = settings.response.targets(), _now()

    def read(session: Session) -> Any:
        incident = session.get(IncidentRecord, args.id)
        if incident is None:
            raise UsageError(f"no incident {args.id}")
        return load_facts(session, incident)

    facts = _read(settings, read)
    checklist = evaluate(facts, targets, now)
    resolution = resolution_view(facts, targets, now)
    print(f"incident {facts.id}: [{facts.severity}] {facts.title} ({facts.status})")
    print(f"phase: {checklist.phase}")
    for role in facts.roles:
        print(f"  {role.role.title:<20} {role.person} (since {role.at:%H:%M} UTC, by {role.by})")
    for phase in checklist.phases:
        target = ""
        if phase.due_at is not None:
            verdict = {True: "met", False: "MISSED", None: "pending"}[phase.met]
            target = f"  target by {phase.due_at:%H:%M} UTC: {verdict}"
        print(f"\n{phase.label}{target}")
        for item in phase.items:
            mark = {"done": "[x]", "pending": "[ ]", "not_applicable": "[-]"}[item.state.value]
            who = f"  {item.at:%H:%M} {item.by} ({item.how})" if item.at else ""
            extra = f"  {item.note}" if item.note else ""
            print(f"  {mark} {item.label}{who}{extra}")
    verdict = "BREACHED" if resolution.breached else "within target"
    print(
        f"\nelapsed {format_span(resolution.elapsed)} against {facts.severity}'s MTTR target of "
        f"{format_span(resolution.mttr_target)}: {verdict}"
    )
    return EXIT_OK


def cmd_postmortem_draft(args: argparse.Namespace, settings: Settings) -> int:
    """Print (or write) the postmortem draft in Markdown."""
    targets = settings.response.targets()

    text = _read(settings, lambda session: postmortem_draft(session, args.id, targets, _now()))
    if text is None:
        raise UsageError(f"no incident {args.id}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"postmortem draft for incident {args.id} written to {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_postmortem_milestone(args: argparse.Namespace, settings: Settings) -> int:
    """Record a postmortem milestone: drafted, reviewed or exception."""
    now = _now()
    changed = _write(
        settings,
        lambda s: record_milestone(
            s, args.id, milestone=args.milestone, by=args.by, now=now, text=args.note
        ),
    )
    print(f"{args.milestone} recorded" if changed else f"{args.milestone} was recorded already")
    return EXIT_OK


def cmd_actions_list(args: argparse.Namespace, settings: Settings) -> int:
    """Action items as a table; `--overdue` for open ones past their due date."""
    now = _now()
    items = _read(
        settings,
        lambda s: list_action_items(s, now=now, overdue=args.overdue, owner=args.owner),
    )
    print(f"{'ID':>4}  {'INCIDENT':>8}  {'STATUS':<7} {'OWNER':<12} {'DUE':<10}  TITLE")
    for item in items:
        due = f"{item.due_at:%Y-%m-%d}" if item.due_at else "-"
        late = "  OVERDUE" if item.status == "open" and item.due_at and item.due_at < now else ""
        print(
            f"{item.id:>4}  {item.incident_id:>8}  {item.status:<7} {(item.owner or '-')[:12]:<12} "
            f"{due:<10}  {item.title}{late}"
        )
    if not items:
        print("no overdue action items" if args.overdue else "no action items")
    return EXIT_OK


def cmd_actions_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add an action item to an incident's postmortem."""
    now, due = _now(), _instant(args.due)
    item = _write(
        settings,
        lambda s: (
            add_action_item(
                s,
                args.incident,
                title=args.title,
                by=args.by,
                now=now,
                owner=args.owner,
                due_at=due,
            ).id
        ),
    )
    print(f"action item {item} added to incident {args.incident}")
    return EXIT_OK


def cmd_actions_assign(args: argparse.Namespace, settings: Settings) -> int:
    """Give an action item an owner and/or a due date."""
    now, due = _now(), _instant(args.due)
    _write(
        settings,
        lambda s: (
            assign_action_item(s, args.id, by=args.by, now=now, owner=args.owner, due_at=due).id
        ),
    )
    print(f"action item {args.id} assigned")
    return EXIT_OK


def cmd_actions_close(args: argparse.Namespace, settings: Settings) -> int:
    """Close an action item."""
    now = _now()
    changed = _write(
        settings, lambda s: close_action_item(s, args.id, by=args.by, now=now, text=args.note)
    )
    print(f"action item {args.id} closed" if changed else f"action item {args.id} was closed")
    return EXIT_OK


def register(
    commands: Any, incident_commands: Any, common: argparse.ArgumentParser, wrap: Wrap
) -> None:
    """Add the response subcommands to `onwatch` and `onwatch incident`."""

    def incident_parser(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = incident_commands.add_parser(name, parents=[common], help=help_text)
        parser.add_argument("id", type=int)
        return parser

    update = incident_parser("update", "post a status update")
    update.add_argument("--by", required=True)
    update.add_argument(
        "--status", required=True, help="investigating, identified, monitoring or resolved"
    )
    update.add_argument("--impact", required=True, help="who is affected, what is broken")
    update.add_argument("--action", required=True, help="what is being done now")
    update.add_argument("--eta", default="", help="when resolution or the next update is due")
    update.set_defaults(handler=wrap(cmd_update))
    role = incident_parser("role", "name someone for a role")
    role.add_argument("role", help="commander, technical_lead, communications_lead or scribe")
    role.add_argument("person", help="one of the configured people (people:)")
    role.add_argument("--by", required=True)
    role.add_argument(
        "--external",
        action="store_true",
        help="the person is not in the rota (a vendor engineer, a manager): record the name",
    )
    role.set_defaults(handler=wrap(cmd_role))
    tick = incident_parser("tick", "tick a checklist item by hand")
    tick.add_argument("item", help="e.g. war_room, customer_communication, channel_archived")
    tick.add_argument("--by", required=True)
    tick.add_argument("--note", default="", help="e.g. the bridge's link")
    tick.set_defaults(handler=wrap(cmd_tick))
    severity = incident_parser("severity", "change the severity (the IC, with a reason)")
    severity.add_argument("severity", choices=SEVERITIES)
    severity.add_argument("--by", required=True)
    severity.add_argument("--reason", required=True)
    severity.set_defaults(handler=wrap(cmd_severity))
    classify_parser = incident_parser("classify", "mark the incident actionable or noise")
    classify_parser.add_argument("classification", choices=("actionable", "noise"))
    classify_parser.add_argument("--by", required=True)
    classify_parser.add_argument("--note", default="")
    classify_parser.set_defaults(handler=wrap(cmd_classify))
    response = incident_parser("response", "phase, checklist, roles and MTTR")
    response.set_defaults(handler=wrap(cmd_response))

    postmortem = commands.add_parser("postmortem", help="postmortems")
    postmortem_commands = postmortem.add_subparsers(dest="postmortem_command", required=True)
    draft = postmortem_commands.add_parser("draft", parents=[common], help="the Markdown draft")
    draft.add_argument("id", type=int)
    draft.add_argument("--output", metavar="PATH", help="file to write (default: stdout)")
    draft.set_defaults(handler=wrap(cmd_postmortem_draft))
    milestone = postmortem_commands.add_parser(
        "milestone", parents=[common], help="record drafted, reviewed or an exception"
    )
    milestone.add_argument("id", type=int)
    milestone.add_argument("milestone", choices=("drafted", "reviewed", "exception"))
    milestone.add_argument("--by", required=True)
    milestone.add_argument("--note", default="", help="required for an exception: why")
    milestone.set_defaults(handler=wrap(cmd_postmortem_milestone))

    actions = commands.add_parser("actions", help="postmortem action items")
    action_commands = actions.add_subparsers(dest="actions_command", required=True)
    listing = action_commands.add_parser("list", parents=[common], help="open ones first")
    listing.add_argument("--overdue", action="store_true", help="open and past their due date")
    listing.add_argument("--owner")
    listing.set_defaults(handler=wrap(cmd_actions_list))
    add = action_commands.add_parser("add", parents=[common], help="add an action item")
    add.add_argument("incident", type=int)
    add.add_argument("title")
    add.add_argument("--by", required=True)
    add.add_argument("--owner")
    add.add_argument("--due", metavar="DATE", help="2026-12-15 or an ISO date-time with offset")
    add.set_defaults(handler=wrap(cmd_actions_add))
    assign = action_commands.add_parser("assign", parents=[common], help="owner and due date")
    assign.add_argument("id", type=int)
    assign.add_argument("--by", required=True)
    assign.add_argument("--owner")
    assign.add_argument("--due", metavar="DATE")
    assign.set_defaults(handler=wrap(cmd_actions_assign))
    close = action_commands.add_parser("close", parents=[common], help="close an action item")
    close.add_argument("id", type=int)
    close.add_argument("--by", required=True)
    close.add_argument("--note", default="")
    close.set_defaults(handler=wrap(cmd_actions_close))
