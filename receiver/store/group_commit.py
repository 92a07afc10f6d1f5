"""Group commit: the write transactions that requests of one process want at the same moment
are applied in one transaction, committed once, and each request is then answered.

Why: on a storm every webhook request is a small write. One transaction each means one
BEGIN, one COMMIT and, on SQLite, one turn of the database's single write lock per request;
between processes each turn also costs the cache of the connection that comes next (SQLite
drops a connection's page cache when another connection changed the file). Waiting requests
are better served together: whoever finds no batch running leads one (leader/follower, no
extra thread), takes every request waiting at that moment, runs their work one after the
other in one transaction, commits, and wakes them with their answers; then it hands the lead
to the first request that arrived meanwhile.

What it keeps:
- A request is answered only after the transaction holding its work committed; the answer is
  the work's own return value. Nothing is answered from a transaction that rolled back.
- Each request's work is applied exactly as if alone, in arrival order: it reads what the
  works before it in the batch wrote (the same connection), as serial transactions would.
  A caller may instead apply its works of one batch together (`together`: one statement per
  table for all of them, as ingest does), keeping that meaning itself.
- All or nothing per request: if one work raises (a lost race on a unique index, a bug, an
  input it refuses), the batch is rolled back and every work of it runs again alone, in its
  own transaction with the store's usual retries, so one bad request fails alone.
- A database that is unavailable fails the whole batch at once (each request gets the
  error), rather than trying each request again against a database that is not there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
Work = Callable[[Connection], Any]
# Applies several works of one kind in one go, in the transaction; their results, in order.
Together = Callable[[Connection, list[Any]], list[Any]]

# At most this many requests in one transaction: a bound on how long the write lock is held
# and how much is redone if the batch has to be applied one by one.
MAX_BATCH = 64


@dataclass(eq=False)
class _Ticket(Generic[T]):
    """One request's work, waiting for its batch to commit (or for its turn to lead one)."""

    work: Callable[[Connection], T]
    together: Together | None
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this request leads the next batch
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Coalesces one process's concurrent write transactions into shared ones.

    `run_together(works)` runs the works (each with its `together`, see `write`) in one
    transaction and returns their results (raising if any of them raised, having rolled
    back); `run_alone(work)` runs one work in a
    transaction of its own with the store's retries. `unavailable` says which errors mean
    the database itself failed (no point in running the works again one by one).
    """

    def __init__(
        self,
        *,
        run_together: Callable[[list[tuple[Work, Together | None]]], list[Any]],
        run_alone: Callable[[Callable[[Connection], Any]], Any],
        unavailable: tuple[type[BaseException], ...],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._run_together = run_together
        self._run_alone = run_alone
        self._unavailable = unavailable
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Ticket[Any]] = []
        self._leading = False
        # Told the number of requests each committed transaction served (the metrics).
        self.on_commit: Callable[[int], None] | None = None

    def write(self, work: Callable[[Connection], T], together: Together | None = None) -> T:
        """Run `work` in a transaction that commits before this returns (shared or not).

        Works of a batch that name the same `together` are handed to it at once instead of
        being called one by one; `work` alone must do the same as `together([work])`.
        """
        ticket: _Ticket[T] = _Ticket(work, together)
        with self._lock:
            self._waiting.append(ticket)
            if not self._leading:
                self._leading = ticket.lead = True
        while not ticket.done:
            if ticket.lead:
                self._lead()
            else:
                ticket.woken.wait()
                ticket.woken.clear()
        if ticket.error is not None:
            raise ticket.error
        result: T = ticket.result
        return result

    def _lead(self) -> None:
        with self._lock:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
        try:
            self._apply(batch)
        finally:
            with self._lock:
                if self._waiting:  # arrived while this batch ran: the first of them leads
                    successor = self._waiting[0]
                    successor.lead = True
                    successor.woken.set()
                else:
                    self._leading = False
            for ticket in batch:
                ticket.done = True
                ticket.lead = False
                ticket.woken.set()

    def _apply(self, batch: list[_Ticket[Any]]) -> None:
        if len(batch) > 1:
            try:
                results = self._run_together([(ticket.work, ticket.together) for ticket in batch])
            except self._unavailable as exc:
                for ticket in batch:
                    ticket.error = exc
                return
            except Exception:  # noqa: BLE001 - one work failed: each runs alone, below
                pass
            except BaseException as exc:  # the thread is stopping: nobody is answered 200
                for ticket in batch:
                    ticket.error = exc
                raise
            else:
                for ticket, result in zip(batch, results, strict=True):
                    ticket.result = result
                self._committed(len(batch))
                return
        for ticket in batch:
            try:
                ticket.result = self._run_alone(ticket.work)
            except BaseException as exc:  # noqa: BLE001 - handed to the request's own thread
                ticket.error = exc
            else:
                self._committed(1)

    def _committed(self, requests: int) -> None:
        if self.on_commit is not None:
            self.on_commit(requests)
