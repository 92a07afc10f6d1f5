"""One outbox loop for both dispatchers: due messages out, their outcomes in, none lost.

An outbox is a table of messages written in the same transaction as the change they tell of
(`OutboxMessage` for pagers, `NotificationMessage` for people), so a message exists exactly
when its change does. A dispatcher delivers the due ones, and `OutboxLoop.run_once` is its
loop, the same for both:

1. read the due messages (pending, `next_attempt_at` passed, oldest first, at most `batch`)
   in one short read;
2. then per chunk (`chunk` messages, `CHUNK` unless the dispatcher says): `prepare` what to
   send (the paging dispatcher reads the chunk's incidents and who is on call; a
   notification carries all it needs);
3. ask `still_leading`, and stop if this process lost the scheduler's lease;
4. `send` the chunk with no transaction open: a receiver may take seconds, and an open
   transaction would hold its locks (on SQLite, the one writer lock) all that time;
5. `record` the chunk's outcomes in one short write transaction, which re-reads the rows
   FOR UPDATE, so a message cancelled or handled meanwhile is recorded as it now stands;
6. report each outcome through `on_outcome`, once that transaction has committed.

What this guarantees:

- Nothing is lost. A message is marked (sent, retried later, failed) only in step 5, after
  its delivery is known. A crash, or a write that fails, before then leaves it pending, and
  it is sent again: delivered at least once (a repeat carries the same dedup key), never
  dropped.
- A lost lease stops before sending. The question is asked before each chunk, so a scheduler
  that lost its lease sends nothing more alongside the new leader, which sends the rest.
- Outcomes are reported only once they are committed, so a metric never counts a delivery
  whose recording was rolled back (and is about to be repeated).

`run_until_idle` runs rounds back to back while they find messages due, so a storm is not
delivered one batch per poll interval.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Generic, Protocol, TypeVar

from sqlmodel import Session, col, select

from receiver.store.database import Store

CHUNK = 20  # messages prepared, sent and recorded together
# Where an outbox message is, in either outbox (pages or notifications): due or later,
# delivered, given up on (visibly), or no longer wanted (the incident moved on).
PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"

# For `on_outcome`: what an outcome counts under (a rotation, a notification target), and it.
Report = tuple[str, str]


class OutboxRow(Protocol):
    """An outbox table's row, as far as the due query needs it."""

    id: int | None
    status: str
    next_attempt_at: datetime


RowT = TypeVar("RowT", bound=OutboxRow)  # the outbox's row
ItemT = TypeVar("ItemT")  # a message ready to send (or the reason not to)
SentT = TypeVar("SentT")  # how sending one went


class OutboxLoop(ABC, Generic[RowT, ItemT, SentT]):
    """Delivers an outbox's due messages, a chunk at a time; subclasses say how.

    `prepare`, `send` and `record` are the dispatcher's own steps of the loop (see the module
    docstring); `lost_lease` may say that the loop stopped.
    """

    def __init__(
        self,
        *,
        rows: type[RowT],
        store: Store,
        clock: Callable[[], datetime],
        on_outcome: Callable[[str, str], None] | None,
        batch: int,
        still_leading: Callable[[], bool] | None,
        chunk: int = CHUNK,
    ) -> None:
        self.rows, self.store, self.clock = rows, store, clock
        self.on_outcome = on_outcome or (lambda key, outcome: None)
        self.batch, self.chunk = batch, chunk
        # Asked before each chunk is sent: a scheduler that lost its lease stops at once
        # instead of sending for up to a tick alongside the new leader.
        self.still_leading = still_leading

    def run_once(self) -> int:
        """Deliver every message due now (up to `batch`); the number handled.

        In chunks: the first messages go out after a few queries, not after the whole batch is
        prepared, and each chunk's outcomes are written in one short transaction. Stops before
        sending a chunk once `still_leading` says this process no longer leads.
        """
        now = self.clock()
        with self.store.read() as session:
            due = session.exec(
                select(self.rows)
                .where(self.rows.status == PENDING)
                .where(col(self.rows.next_attempt_at) <= now)
                .order_by(col(self.rows.next_attempt_at), col(self.rows.id))
                .limit(self.batch)
            ).all()
        for start in range(0, len(due), self.chunk):
            items = self.prepare(due[start : start + self.chunk], now)
            if self.still_leading is not None and not self.still_leading():
                self.lost_lease(len(due) - start)
                return start  # another scheduler leads now: it sends the rest
            deliveries = list(zip(items, self.send(items), strict=True))
            for key, outcome in self.store.write(partial(self.record, deliveries=deliveries)):
                self.on_outcome(key, outcome)
        return len(due)

    def run_until_idle(self, seconds: float) -> int:
        """`run_once`, again at once while the last round found something due (a storm goes
        on arriving), for up to about `seconds`; the number handled.

        Between job runs the loop waits its poll interval: while messages keep arriving that
        wait is pure delay for each of them. A round that stopped at a lost lease is followed
        by one that stops at the fence again, before sending, and ends the loop.
        """
        started = time.monotonic()
        handled = 0
        while True:
            done = self.run_once()
            handled += done
            if done == 0 or time.monotonic() - started >= seconds:
                return handled

    @abstractmethod
    def prepare(self, chunk: Sequence[RowT], now: datetime) -> list[ItemT]:
        """What to send for each message of `chunk`, in order; any session it reads in is
        closed by the time it returns (sending follows)."""

    @abstractmethod
    def send(self, items: Sequence[ItemT]) -> list[SentT]:
        """Send a chunk, with no transaction open; how each went, in order. Never raises for
        one message: a receiver's failure (or bug) is that message's outcome."""

    @abstractmethod
    def record(self, session: Session, deliveries: Sequence[tuple[ItemT, SentT]]) -> list[Report]:
        """Write the chunk's outcomes in `session`'s transaction, re-reading the rows FOR
        UPDATE; what to report once it commits. Runs again from scratch if the store retries
        the transaction, so what it reports must come from this run alone."""

    def lost_lease(self, left: int) -> None:
        """Called when a lost lease stopped the loop with `left` due messages unsent."""
