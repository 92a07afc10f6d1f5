"""What every `onwatch` subcommand shares: exit codes, the usage error, the checked store.

Each feature keeps its own subcommands (`receiver/<feature>/cli.py`); `receiver/cli.py` wires
them into one parser and turns a `UsageError` into a message and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from receiver.config.settings import Settings
from receiver.store.database import Store

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2

# A subcommand's handler, and what `receiver/cli.py` wraps it in (settings loaded, errors
# turned into messages and exit codes) before a feature's `register` sets it as the default.
Command = Callable[[argparse.Namespace, Settings], int]
Wrap = Callable[[Command], Callable[[argparse.Namespace], int]]


class UsageError(Exception):
    """The command cannot run as asked; the message says why."""


def checked_store(settings: Settings) -> Store:
    """The configured store, refusing a database whose schema is not the newest.

    Commands that act on incidents never upgrade: that is `serve`'s or `onwatch db upgrade`'s.
    """
    store = Store(settings.database)
    store.check_schema()
    return store


def require_rotation(settings: Settings, name: str) -> None:
    """Raise UsageError unless `name` is a configured rotation; its message lists them."""
    names = [rotation.name for rotation in settings.rotations]
    if name not in names:
        known = ", ".join(names) or "none configured"
        raise UsageError(f"no rotation {name!r} (rotations: {known})")
