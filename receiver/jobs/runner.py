"""The one process that runs onwatch's time-driven jobs, on APScheduler.

Several receivers may run (gunicorn workers, replicas on several machines), but the jobs must
run once: the paging outbox dispatcher (which also fires escalations and the business-day
queue, since those are outbox messages due later), the notification dispatcher, the response
reminders and "no progress" escalations, the handoff briefings, the monthly report and the
daily pruning of finished outbox messages. The process holding the `scheduler` lease in the
database runs them; a second copy waits and takes over when the lease expires (see lease.py
for how soon). Jobs live in APScheduler's job store in the same database; a job due while
nobody ran it runs once when the scheduler comes back (coalesce, no misfire grace limit).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from receiver.composition import build_contexts
from receiver.config.settings import Settings
from receiver.delivery.retention import prune_finished_messages
from receiver.handoffs.briefings import brief_due_handoffs
from receiver.jobs.lease import LEASE_RENEW_EVERY, STANDBY_POLL_EVERY, Lease
from receiver.notify.dispatcher import NotificationDispatcher
from receiver.notify.notifiers import Notifier, build_notifier
from receiver.paging.dispatcher import Dispatcher
from receiver.paging.pagers import Pager, build_pager
from receiver.paging.routing import routing_warnings
from receiver.report.archive import write_monthly_report
from receiver.response.reminders import run_response_reminders
from receiver.slack.dispatcher import build_slack_dispatcher
from receiver.store.database import Store, StoreUnavailable

log = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch-outbox"
# While pages keep falling due (a storm), they are delivered round after round for up to this
# long before the notifications and Slack calls get their turn, not one round per poll.
BACKLOG_SECONDS = 5.0
REMINDERS_JOB = "response-reminders"
REMINDERS_EVERY = 30  # seconds: reminders are due on minute boundaries, 15 minutes apart
HANDOFF_JOB = "handoff-briefings"
HANDOFF_EVERY = 60  # seconds
REPORT_JOB = "burden-report"  # 00:30 on the 1st: pages still arriving at midnight are in
RETENTION_JOB = "outbox-retention"
RETENTION_EVERY = timedelta(days=1)
# The first pruning waits a while after the lease is taken: a scheduler that just came back
# delivers what is due first, and one in a crash loop does not prune at every start.
RETENTION_FIRST_AFTER = timedelta(minutes=10)

# The job store keeps jobs by the textual reference of their function, so the job is a
# module-level function; it finds the dispatcher of this process's running scheduler here.
# Keyed by the runner's lease holder, in start order, so that a runner that lost the lease
# only ever removes its own entry, never that of a runner that took over in the same process.
# (The job carries no argument naming its runner: while an old leader has not yet noticed it
# lost the lease, its scheduler may write its stale copy of the job back to the store.)
_active: dict[str, SchedulerRunner] = {}


def _leader() -> SchedulerRunner | None:
    return next(reversed(_active.values()), None)


def _as_leader(*steps: tuple[str, Callable[[SchedulerRunner], object]]) -> None:
    """Run each named step with the runner that leads in this process, if one does.

    A step that cannot reach the store is logged and left to the job's next run; the steps
    after it still run.
    """
    runner = _leader()
    if runner is None:
        return
    for name, step in steps:
        try:
            step(runner)
        except StoreUnavailable as exc:
            log.warning("%s: store unavailable, will retry: %s", name, exc)


def dispatch_outbox() -> None:
    """APScheduler job: deliver every page and then every notification that is due.

    One job for both outboxes: each job run rewrites its row in the job store, and under an
    ingest storm on SQLite every write counts.
    """
    _as_leader(
        ("dispatcher", lambda runner: runner.dispatcher.run_until_idle(BACKLOG_SECONDS)),
        ("notifications", lambda runner: runner.notifier.run_once()),
        ("slack", lambda runner: runner.slack.run_once() if runner.slack else 0),
    )


def remind_responders() -> None:
    """APScheduler job: update reminders, "no progress" escalations, postmortem reminders."""
    _as_leader(
        (
            "response reminders",
            lambda runner: run_response_reminders(runner.store, runner.response, runner.clock()),
        )
    )


def brief_handoffs() -> None:
    """APScheduler job (every minute): brief each layer whose handoff has come, once."""
    _as_leader(
        (
            "handoff briefings",
            lambda runner: brief_due_handoffs(
                settings=runner.settings,
                store=runner.store,
                rota=runner.dispatcher.context.rota,
                now=runner.clock(),
            ),
        )
    )


def write_burden_report() -> None:
    """APScheduler job (the 1st of each month): write last month's on-call burden report."""
    runner = _leader()
    if runner is None:
        return
    written = write_monthly_report(
        runner.settings, runner.store, runner.clock(), rota=runner.dispatcher.context.rota
    )
    log.info("burden report written: %s", ", ".join(str(path) for path in written))


def prune_outboxes() -> None:
    """APScheduler job (daily): delete the delivered, failed and cancelled outbox and
    notification messages older than `retention.outbox_days`, so the outboxes do not grow
    for ever; incidents, timelines and the page ledger are kept."""
    _as_leader(("retention", lambda runner: runner.prune_finished()))


class _QueuedJobStore(SQLAlchemyJobStore):
    """APScheduler's job store, writing under the store's writer lock (SQLite).

    Each job run rewrites its row; unqueued, those writes wait in SQLite's busy back-off
    behind an ingest storm for 1-2 s, and the dispatcher with them (bench/paging).
    """

    def __init__(self, store: Store) -> None:
        super().__init__(engine=store.engine)
        self._store = store

    def _locked(self, write: Callable[[], None]) -> None:
        acquired = False
        try:
            with self._store.writer_lock():
                acquired = True
                write()
        except StoreUnavailable:
            if acquired:
                raise
            # No lock within the busy timeout: a raise here would end APScheduler's loop, so
            # write anyway; SQLite's busy handler is the backstop it always was.
            write()

    def add_job(self, job: Any) -> None:
        self._locked(lambda: super(_QueuedJobStore, self).add_job(job))

    def update_job(self, job: Any) -> None:
        self._locked(lambda: super(_QueuedJobStore, self).update_job(job))

    def remove_job(self, job_id: str) -> None:
        self._locked(lambda: super(_QueuedJobStore, self).remove_job(job_id))


class _QuietPoolExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, silent about a run submitted while the scheduler stops.

    APScheduler shuts its executors down while its loop thread may be submitting one more
    run; the pool then refuses it, and APScheduler logs that as an error with a traceback
    on every clean stop. A run refused because we are stopping is not an error.
    """

    def __init__(self) -> None:
        super().__init__()
        self._stopping = False

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        try:
            super()._do_submit_job(job, run_times)
        except RuntimeError:  # "cannot schedule new futures after shutdown"
            if not self._stopping:
                raise

    def shutdown(self, wait: bool = True) -> None:
        self._stopping = True
        super().shutdown(wait)


class SchedulerRunner:
    """Waits for the lease, then runs the jobs until stopped or the lease is lost."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        pagers: dict[str, Pager] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        holder: str | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
        notifiers: dict[str, Notifier] | None = None,
        on_notification: Callable[[str, str], None] | None = None,
        replacing: str | None = None,
        on_slack: Callable[[str, str], None] | None = None,
    ) -> None:
        """`replacing` names the lease holder of a scheduler process known to be dead (the
        one `onwatch serve` just reaped), whose lease this runner may take without waiting
        for it to expire."""
        self.settings = settings
        self.store = store or Store(settings.database)
        self.clock = clock
        # Unique per runner: two runners must never both believe they hold the lease.
        default = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = Lease(self.store, holder or default)
        self._replacing = replacing
        contexts = build_contexts(settings)
        paging = contexts.paging
        for warning in routing_warnings(settings.rotations):  # also said by `config check`
            log.warning(warning)
        self.response = contexts.response
        self.dispatcher = Dispatcher(
            store=self.store,
            context=paging,
            pagers=pagers or {r.name: build_pager(r.paging) for r in settings.rotations},
            clock=clock,
            on_outcome=on_outcome,
            # A leader that lost its lease stops before its next chunk, not a tick later.
            still_leading=self._still_leading,
        )
        self.notifier = NotificationDispatcher(
            store=self.store,
            notifiers=notifiers
            or {
                target.name: build_notifier(target)
                for target in settings.notifications.targets
                if target.enabled
            },
            clock=clock,
            on_outcome=on_notification,
            still_leading=self._still_leading,
        )
        self.slack = build_slack_dispatcher(
            settings.chat.slack,
            settings.people,
            store=self.store,
            clock=clock,
            on_outcome=on_slack,
            still_leading=self._still_leading,
        )
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()

    def _still_leading(self) -> bool:
        """The dispatchers' fence: this runner's lease is still live in the database."""
        return self.lease.held(self.clock())

    @property
    def leading(self) -> bool:
        """True while this process holds the lease and runs the jobs."""
        return self.scheduler is not None

    def run(self, *, keep_running: Callable[[], bool] | None = None) -> None:
        """Block until `stop()`: hold the lease and run the jobs, or wait for the lease.

        The leader renews every `LEASE_RENEW_EVERY`; a standby asks every
        `STANDBY_POLL_EVERY`, so that it takes over soon after the lease runs out.
        `keep_running`, asked every round, ends the loop when it answers False (the
        process that started this scheduler is gone): the lease is released on the way out.
        """
        try:
            while not self._stop.is_set():
                if keep_running is not None and not keep_running():
                    break
                self.tick()
                self._stop.wait(LEASE_RENEW_EVERY if self.leading else STANDBY_POLL_EVERY)
        finally:
            self._stop_jobs()
            with contextlib.suppress(StoreUnavailable):  # if so, the lease expires by itself
                self.lease.release()

    def tick(self) -> None:
        """One lease round: start the jobs when the lease is won, stop them when lost."""
        try:
            holding = self.lease.acquire(self.clock(), replacing=self._replacing)
        except StoreUnavailable as exc:
            log.warning("scheduler: cannot reach the store to renew the lease: %s", exc)
            holding = False
        if holding and not self.leading:
            log.info("scheduler: lease taken by %s; running the jobs", self.lease.holder)
            self._start_jobs()
        elif not holding and self.leading:
            log.warning("scheduler: lease lost; stopping the jobs")
            self._stop_jobs()

    def stop(self) -> None:
        """Ask `run()` to return (from a signal handler or another thread)."""
        self._stop.set()

    def prune_finished(self) -> int:
        """Prune the finished outbox and notification messages past retention; how many."""
        days = self.settings.retention.outbox_days
        deleted = prune_finished_messages(
            self.store, now=self.clock(), older_than=timedelta(days=days)
        )
        log.info(
            "retention: deleted %d finished outbox and notification messages older than %g days",
            deleted,
            days,
        )
        return deleted

    def _start_jobs(self) -> None:
        _active.pop(self.lease.holder, None)
        _active[self.lease.holder] = self  # the newest runner, last
        scheduler = BackgroundScheduler(
            jobstores={"default": _QueuedJobStore(self.store)},
            executors={"default": _QuietPoolExecutor()},
            # A job due while no scheduler ran runs once when one comes back.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        # Replacing the stored job applies a changed poll interval; its first run is now, so
        # whatever fell due while no scheduler ran is done once, at once, rather than one
        # interval later.
        scheduler.add_job(
            "receiver.jobs.runner:dispatch_outbox",
            "interval",
            seconds=self.settings.dispatcher.poll_seconds,
            id=DISPATCH_JOB,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )
        for function, job, seconds in (
            ("remind_responders", REMINDERS_JOB, REMINDERS_EVERY),
            ("brief_handoffs", HANDOFF_JOB, HANDOFF_EVERY),  # a missed handoff: briefed at once
        ):
            scheduler.add_job(
                f"receiver.jobs.runner:{function}",
                "interval",
                seconds=seconds,
                id=job,
                replace_existing=True,
                next_run_time=datetime.now(UTC),
            )
        scheduler.add_job(
            "receiver.jobs.runner:write_burden_report",
            CronTrigger(day=1, hour=0, minute=30, timezone=self.settings.report.zone),
            id=REPORT_JOB,
            replace_existing=True,
            misfire_grace_time=None,  # a scheduler that was down still writes it, once
        )
        scheduler.add_job(
            "receiver.jobs.runner:prune_outboxes",
            "interval",
            seconds=RETENTION_EVERY.total_seconds(),
            id=RETENTION_JOB,
            replace_existing=True,
            next_run_time=datetime.now(UTC) + RETENTION_FIRST_AFTER,
        )
        scheduler.start()
        self.scheduler = scheduler

    def _stop_jobs(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        if _active.get(self.lease.holder) is self:
            del _active[self.lease.holder]
