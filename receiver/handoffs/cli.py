"""`onwatch handoff note|show`: leave a note for the next shift; see the next briefing now."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from receiver.cli_support import EXIT_OK, UsageError, Wrap, require_rotation
from receiver.composition import build_rota
from receiver.config.settings import Settings
from receiver.handoffs.briefings import add_note, note_problem, preview
from receiver.store.database import Store
from scheduler.briefing import (
    briefing_subject,
    briefing_text,
    format_instant,
    format_span,
    next_handoff,
)


def open_store(settings: Settings) -> Store:
    """The configured store, at the newest schema (an embedded SQLite file is upgraded)."""
    store = Store(settings.database)
    store.ensure_schema()
    return store


def cmd_handoff_note(
    args: argparse.Namespace, settings: Settings, *, now: datetime | None = None
) -> int:
    """Store a note that the rotation's next handoff briefing carries."""
    require_rotation(settings, args.rotation)
    problem = note_problem(args.by, args.text)
    if problem is not None:
        raise UsageError(problem.replace("by:", "--by:", 1))
    now = now or datetime.now(UTC)
    rota = build_rota(settings)
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
    require_rotation(settings, args.rotation)
    now = now or datetime.now(UTC)
    rota = build_rota(settings)
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
        print(f"== {briefing_subject(briefing)} (in {format_span(briefing.handoff_at - now)})")
        print(f"== the briefing {when} will send, as of now:\n")
        sys.stdout.write(briefing_text(briefing))
    return EXIT_OK


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: argparse.ArgumentParser,
    wrap: Wrap,
) -> None:
    """Add `onwatch handoff note|show` to the `onwatch` parser's subcommands."""
    handoff = commands.add_parser("handoff", help="shift handoffs: notes and briefings")
    handoff_commands = handoff.add_subparsers(dest="handoff_command", required=True)
    note = handoff_commands.add_parser(
        "note", parents=[common], help="leave a note for the next shift's briefing"
    )
    note.add_argument("rotation", metavar="ROTATION")
    note.add_argument("text", metavar="TEXT")
    note.add_argument("--by", required=True, metavar="NAME", help="who leaves the note")
    note.set_defaults(handler=wrap(cmd_handoff_note))
    show = handoff_commands.add_parser(
        "show", parents=[common], help="the briefing the next handoff will send, now"
    )
    show.add_argument("rotation", metavar="ROTATION")
    show.set_defaults(handler=wrap(cmd_handoff_show))
