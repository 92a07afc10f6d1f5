"""`onwatch user set-password NAME`: give one of the configured people a password for the
pages (`web.auth: password`). The password is read from the terminal (twice) or, when stdin
is not a terminal, from its first line; it never appears on the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from receiver.cli_support import EXIT_OK, UsageError, Wrap, checked_store
from receiver.config.settings import Settings
from receiver.pages.passwords import WeakPassword, check_strength, set_password


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            raise UsageError("the two passwords differ; nothing changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_set_password(args: argparse.Namespace, settings: Settings) -> int:
    """Store NAME's password hash; NAME's sessions signed in with the old one end."""
    names = [person.name for person in settings.people]
    if args.name not in names:
        raise UsageError(f"no person {args.name!r} (people: {', '.join(names) or 'none'})")
    password = _read_password()
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise UsageError(f"{exc}; nothing changed") from None
    store = checked_store(settings)
    try:
        now = datetime.now(UTC)
        store.write(lambda session: set_password(session, args.name, password, now=now))
    finally:
        store.dispose()
    if settings.web.auth != "password":
        print("note: web.auth is not 'password', so this password is not used yet")
    print(f"password set for {args.name}")
    return EXIT_OK


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: argparse.ArgumentParser,
    wrap: Wrap,
) -> None:
    """Add `onwatch user set-password` to the `onwatch` parser's subcommands."""
    user = commands.add_parser("user", help="people's sign-in to the web pages")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    set_pw = user_commands.add_parser(
        "set-password", parents=[common], help="set a person's password (read from stdin)"
    )
    set_pw.add_argument("name", help="one of the configured people (people:)")
    set_pw.set_defaults(handler=wrap(cmd_set_password))
