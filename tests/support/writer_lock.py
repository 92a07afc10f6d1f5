"""Holding onwatch's SQLite writer lock from a test, as another writer would."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def sqlite_writer_lock(database: Path) -> Iterator[None]:
    """Hold onwatch's SQLite writer lock (`<database>.lock`, flock) for the block: every
    onwatch process then waits before its next write transaction."""
    fd = os.open(database.with_name(database.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
