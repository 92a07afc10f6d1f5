"""`onwatch handoff note|show`: leave a note for the next shift; see the next briefing now."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from receiver.config import Settings, load_settings, resolve_config_path
from receiver.handoff import add_note, note_problem, preview
from receiver.store import Store
from scheduler.briefing import (
    briefing_subject,
    briefing_text,
    format_duration,
    format_instant,
    next_handoff,
)

EXIT_OK, EXIT_UNUSABLE = 0, 2
Command = Callable[[argparse.Namespace, Settings], int]


class HandoffUsageError(Exception):
    """The handoff command cannot run as asked; the message says why."""


def open_store(settings: Settings) -> Store:
    """The configured store, at the newest schema (an embedded SQLite file is upgraded)."""
    store = Store(settings.database)
    if settings.database.is_sqlite:
        store.upgrade()  # embedded database: keep it current, as `serve` does
    else:
        store.check_schema()
    return store


def _rotation(settings: Settings, name: str) -> None:
    names = [rotation.name for rotation in settings.rotations]
    if name not in names:
        known = ", ".join(names) or "none configured"
        raise HandoffUsageError(f"no rotation {name!r} (rotations: {known})")


def cmd_handoff_note(
    args: argparse.Namespace, settings: Settings, *, now: datetime | None = None
) -> int:
    """Store a note that the rotation's next handoff briefing carries."""
    _rotation(settings, args.rotation)
    problem = note_problem(args.by, args.text)
    if problem is not None:
        raise HandoffUsageError(problem.replace("by:", "--by:", 1))
    now = now or datetime.now(UTC)
    rota = settings.rota()
    store = open_store(settings)
    try:
        note_id = store.write(
            lambda session: (
                add_note(session, rotation=args.rotation, by=args.by, text=args.text, now=now).id
            )
        )
    finally:
        store.dispose()
    rotation = rota.rotation(args.rotation)
    print(
        f"note {note_id} stored: the {args.rotation} handoff at "
        f"{format_instant(next_handoff(rotation, now), rotation.zone)} carries it"
    )
    return EXIT_OK


def cmd_handoff_show(
    args: argparse.Namespace, settings: Settings, *, now: datetime | None = None
) -> int:
    """Print the briefing each layer's next handoff would send, as of now."""
    _rotation(settings, args.rotation)
    now = now or datetime.now(UTC)
    rota = settings.rota()
    store = open_store(settings)
    try:
        with store.read() as session:
            briefings = preview(
                session, settings=settings, rota=rota, rotation=args.rotation, now=now
            )
    finally:
        store.dispose()
    for number, briefing in enumerate(briefings):
        if number:
            print()
        when = format_instant(briefing.handoff_at, briefing.zone)
        print(f"== {briefing_subject(briefing)} (in {format_duration(briefing.handoff_at - now)})")
        print(f"== the briefing {when} will send, as of now:\n")
        sys.stdout.write(briefing_text(briefing))
    return EXIT_OK


def run(command: Command, args: argparse.Namespace) -> int:
    """Load the configuration and run `command`; a usage problem exits 2 with its message."""
    settings = load_settings(resolve_config_path(args.config))
    try:
        return command(args, settings)
    except HandoffUsageError as exc:
        print(f"onwatch: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `onwatch handoff note|show` to the `onwatch` parser's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", help="configuration file (default: $ONWATCH_CONFIG)"
    )
    handoff = commands.add_parser("handoff", help="shift handoffs: notes and briefings")
    handoff_commands = handoff.add_subparsers(dest="handoff_command", required=True)
    note = handoff_commands.add_parser(
        "note", parents=[common], help="leave a note for the next shift's briefing"
    )
    note.add_argument("rotation", metavar="ROTATION")
    note.add_argument("text", metavar="TEXT")
    note.add_argument("--by", required=True, metavar="NAME", help="who leaves the note")
    note.set_defaults(handler=lambda args: run(cmd_handoff_note, args))
    show = handoff_commands.add_parser(
        "show", parents=[common], help="the briefing the next handoff will send, now"
    )
    show.add_argument("rotation", metavar="ROTATION")
    show.set_defaults(handler=lambda args: run(cmd_handoff_show, args))
