"""The scheduler lease: which process runs the jobs, renewed before it expires, taken over
when its holder stops renewing it (a database row, so replicas on several machines agree).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from receiver.jobs.models import SchedulerLease
from receiver.store.database import Store, StoreUnavailable

LEASE_NAME = "scheduler"


LEASE_TTL = timedelta(seconds=15)


LEASE_RENEW_EVERY = 5.0  # seconds; well inside the TTL


class Lease:
    """A named lease in the database: one holder at a time, expiring unless renewed."""

    def __init__(self, store: Store, holder: str, ttl: timedelta = LEASE_TTL) -> None:
        self.store, self.holder, self.ttl = store, holder, ttl

    def acquire(self, now: datetime) -> bool:
        """Take or renew the lease; False while another live holder has it."""

        def work(session: Session) -> bool:
            row = session.exec(
                select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME).with_for_update()
            ).first()
            if row is None:
                session.add(
                    SchedulerLease(name=LEASE_NAME, holder=self.holder, expires_at=now + self.ttl)
                )
                return True
            if row.holder != self.holder and row.expires_at > now:
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
