"""Group commit in the store: concurrent write transactions of a process share one commit, and
one that fails fails alone.

The test holds SQLite's writer lock (the `<database>.lock` file every writer takes) while
threads call `Store.write_rows_together`, one after the other: the first waits for the lock
alone, the others queue behind it and are then applied in one transaction.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from receiver.config.settings import DatabaseSettings
from receiver.store.database import Store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    path = tmp_path / "onwatch.db"
    store = Store(DatabaseSettings(url=f"sqlite:///{path}"))
    with store.engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (text VARCHAR NOT NULL)"))
    yield store, path
    store.dispose()


def _insert(value: str, *, fail: bool = False) -> Callable[[Connection], str]:
    def work(connection: Connection) -> str:
        connection.execute(text("INSERT INTO note (text) VALUES (:v)"), {"v": value})
        if fail:
            raise ValueError(f"refused {value}")
        return value

    return work


def _run_in_turn(store: Store, path: Path, works: list[Callable[[Connection], str]]) -> list[Any]:
    """Each work from its own thread, in this order, while the writer lock is held."""
    outcomes: list[Any] = [None] * len(works)
    sizes: list[int] = []
    store.on_group_commit(sizes.append)

    def run(index: int) -> None:
        try:
            outcomes[index] = store.write_rows_together(works[index])
        except ValueError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for thread in threads:
            thread.start()
            time.sleep(0.05)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    for thread in threads:
        thread.join(10)
    return [outcomes, sizes]


def _notes(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(text("SELECT text FROM note")).scalars())


def test_concurrent_writes_share_one_commit(sqlite_store: tuple[Store, Path]) -> None:
    store, path = sqlite_store
    outcomes, sizes = _run_in_turn(store, path, [_insert(f"n{i}") for i in range(5)])
    assert outcomes == [f"n{i}" for i in range(5)]
    assert sizes == [1, 4]  # the first alone (it waited for the lock), then the rest together
    assert _notes(store) == [f"n{i}" for i in range(5)]


def test_a_write_that_fails_in_a_batch_fails_alone(sqlite_store: tuple[Store, Path]) -> None:
    store, path = sqlite_store
    works = [_insert("n0"), _insert("n1"), _insert("bad", fail=True), _insert("n3")]
    outcomes, sizes = _run_in_turn(store, path, works)
    assert outcomes[:2] + outcomes[3:] == ["n0", "n1", "n3"]
    assert isinstance(outcomes[2], ValueError)
    assert sizes == [1, 1, 1]  # the batch rolled back; each ran again alone, "bad" failed
    assert _notes(store) == ["n0", "n1", "n3"]  # nothing of the failed one, nothing twice
