"""The scheduler lease: which process runs the jobs, renewed before it expires, taken over
when its holder stops renewing it (a database row, so replicas on several machines agree).

The timings are a promise the README makes: a standby takes over within `TAKEOVER_WITHIN`
of the leader dying. The leader renewed at most `LEASE_RENEW_EVERY` before it died, the
lease runs out `LEASE_TTL` after that renewal, and a standby sees it gone within
`STANDBY_POLL_EVERY`: at worst TTL + poll, plus clock skew between machines and the moment
APScheduler needs to start. bench/faults.py measures it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from receiver.jobs.models import SchedulerLease
from receiver.store.database import Store, StoreUnavailable

LEASE_NAME = "scheduler"

# 15 s with standbys polling every 5 s measured 11.7-18.4 s to take over; 10 s and 1 s keep
# the worst case (11 s) inside the 15 s promised, with 5 renewals per TTL so that a leader
# held up by a busy SQLite writer lock for a few seconds does not lose it.
LEASE_TTL = timedelta(seconds=10)
LEASE_RENEW_EVERY = 2.0  # seconds, the leader; well inside the TTL
STANDBY_POLL_EVERY = 1.0  # seconds, a process waiting for the lease
TAKEOVER_WITHIN = timedelta(seconds=15)  # what the README promises


class Lease:
    """A named lease in the database: one holder at a time, expiring unless renewed."""

    def __init__(self, store: Store, holder: str, ttl: timedelta = LEASE_TTL) -> None:
        self.store, self.holder, self.ttl = store, holder, ttl

    def acquire(self, now: datetime, *, replacing: str | None = None) -> bool:
        """Take or renew the lease; False while another live holder has it.

        `replacing` names a holder known to be dead (`onwatch serve` reaped that scheduler
        process before starting this one): its lease is taken at once instead of after it
        expires. Only that exact name, which is unique per process, is taken early.

        A standby polls every second: it first reads the row, so that waiting costs no write
        transaction (on SQLite, no turn at the one writer lock).
        """

        def live_elsewhere(row: SchedulerLease | None) -> bool:
            return (
                row is not None
                and row.holder != self.holder
                and row.holder != replacing
                and row.expires_at > now
            )

        with self.store.read() as session:
            if live_elsewhere(session.get(SchedulerLease, LEASE_NAME)):
                return False

        def work(session: Session) -> bool:
            row = session.exec(
                select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME).with_for_update()
            ).first()
            if row is None:
                session.add(
                    SchedulerLease(name=LEASE_NAME, holder=self.holder, expires_at=now + self.ttl)
                )
                return True
            if live_elsewhere(row):
                return False
            row.holder, row.expires_at = self.holder, now + self.ttl
            session.add(row)
            return True

        return self.store.write(work)

    def held(self, now: datetime) -> bool:
        """True while this holder's lease is live in the database (the dispatcher's fence)."""
        try:
            with self.store.read() as session:
                row = session.get(SchedulerLease, LEASE_NAME)
        except StoreUnavailable:
            return False
        return row is not None and row.holder == self.holder and row.expires_at > now

    def release(self) -> None:
        """Give the lease up at once (a clean stop), so a standby need not wait for expiry."""

        def work(session: Session) -> None:
            row = session.get(SchedulerLease, LEASE_NAME)
            if row is not None and row.holder == self.holder:
                session.delete(row)

        self.store.write(work)


def lease_expires_at(store: Store) -> datetime | None:
    """When the scheduler lease runs out unless renewed (in the past: its holder stopped
    renewing it); None when nobody holds it (never taken, or released by a clean stop).
    For `/readyz`: a live scheduler keeps this in the future."""
    with store.read() as session:
        row = session.get(SchedulerLease, LEASE_NAME)
    return row.expires_at if row is not None else None
