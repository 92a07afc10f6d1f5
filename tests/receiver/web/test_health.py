"""`/healthz` says the process answers; `/readyz` says onwatch can take alerts and page.

A dead scheduler used to leave both at 200 while every page waited for ever: readiness now
also asks whether a scheduler holds the lease, and whether anything due is left undelivered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from receiver.jobs.lease import LEASE_TTL, Lease
from receiver.notify.models import NotificationMessage
from receiver.store.database import Store, StoreUnavailable
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import Paging, group, make_paging, paging_config

DB_ADDRESS = 'connection to server at "10.20.30.40", port 6543 failed: Connection refused'


def _readyz(app: Flask) -> tuple[int, Any]:
    response = app.test_client().get("/readyz")
    assert response.content_type == "application/json"
    return response.status_code, response.get_json()


def _paging(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty, **server: Any
) -> Paging:
    config = paging_config(fake)
    if server:
        config["server"] = server
    return make_paging(make_app, store, clock, fake, config)


def _scheduler_alive(store: Store, clock: Clock) -> None:
    assert Lease(store, "scheduler-under-test").acquire(clock.now)


def test_healthz_answers_without_touching_the_database(
    app: Flask, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*_: object, **__: object) -> None:
        raise StoreUnavailable(DB_ADDRESS)

    for name in ("ping", "read", "read_rows", "write", "write_rows"):
        monkeypatch.setattr(store, name, unavailable)
    monkeypatch.setattr(store.engine, "connect", unavailable)

    response = app.test_client().get("/healthz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_is_ready_with_a_live_scheduler_and_nothing_overdue(
    app: Flask, store: Store, clock: Clock
) -> None:
    _scheduler_alive(store, clock)

    assert _readyz(app) == (200, {"status": "ready"})


def test_readyz_fails_while_no_scheduler_holds_the_lease(
    app: Flask, store: Store, clock: Clock
) -> None:
    status, body = _readyz(app)

    assert status == 503
    assert set(body) == {"error"}
    assert body["error"].startswith("scheduler: no scheduler holds the lease"), body


def test_readyz_allows_a_takeover_but_not_a_lease_left_to_rot(
    app: Flask, store: Store, clock: Clock
) -> None:
    _scheduler_alive(store, clock)
    clock.advance(seconds=LEASE_TTL.total_seconds() + 5)  # expired: a standby is taking over

    assert _readyz(app)[0] == 200

    clock.advance(seconds=LEASE_TTL.total_seconds())  # nobody renewed it for two TTLs
    status, body = _readyz(app)

    assert status == 503
    assert body["error"].startswith("scheduler: no scheduler has renewed the lease for 25 s")


def test_readyz_fails_when_a_page_is_overdue(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = _paging(make_app, store, clock, fake, ready_overdue_after_s=60)
    paging.post(group("Overdue"))  # SEV2: the primary is paged now, the secondary in 5 min
    clock.advance(seconds=60)
    _scheduler_alive(store, clock)  # a scheduler holds the lease, but delivers nothing

    assert _readyz(paging.app)[0] == 200  # due for 60 s: not more than the limit yet

    clock.advance(seconds=1)
    _scheduler_alive(store, clock)
    status, body = _readyz(paging.app)

    assert status == 503
    assert body["error"] == (
        "outbox: a pending message has been due for 61 s, more than "
        "server.ready_overdue_after_s (60 s): the scheduler is not delivering"
    )

    paging.run()  # delivered: the escalation still pending is due later and does not count
    assert _readyz(paging.app) == (200, {"status": "ready"})


def test_readyz_ignores_a_page_waiting_for_its_retry(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = _paging(make_app, store, clock, fake, ready_overdue_after_s=60)
    paging.post(group("PagerDown"))
    fake.fail_next(1, 500)
    paging.run()  # PagerDuty failed: the next attempt is in a few seconds, not overdue
    clock.advance(seconds=1)
    _scheduler_alive(store, clock)

    assert _readyz(paging.app)[0] == 200
    assert [m.status for m in paging.messages(1)][0] == "pending"


def test_readyz_fails_when_a_notification_is_overdue(
    app: Flask, store: Store, clock: Clock
) -> None:
    def add(session: Any) -> None:
        session.add(
            NotificationMessage(
                topic="status_update",
                audience="team",
                target="chat",
                dedup_key="n-1",
                subject="s",
                text="t",
                status="pending",
                next_attempt_at=clock.now - timedelta(seconds=121),
                deadline_at=clock.now + timedelta(hours=1),
                created_at=clock.now - timedelta(seconds=121),
                last_error="",
            )
        )

    store.write(add)
    _scheduler_alive(store, clock)
    status, body = _readyz(app)

    assert status == 503
    assert body["error"].startswith("outbox: a pending message has been due for 121 s")


def test_readyz_names_every_failing_check(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = _paging(make_app, store, clock, fake)
    paging.post(group("Forgotten"))
    clock.advance(minutes=10)
    status, body = _readyz(paging.app)

    assert status == 503
    checks = [problem.split(":", 1)[0] for problem in body["error"].split("; ")]
    assert checks == ["scheduler", "outbox"]


def test_readyz_says_store_unavailable_without_the_database_address(
    app: Flask, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> None:
        raise StoreUnavailable(DB_ADDRESS)

    monkeypatch.setattr(store, "ping", unavailable)
    status, body = _readyz(app)

    assert status == 503
    assert body == {"error": "store unavailable: the database does not answer"}
    assert "10.20.30.40" not in str(body) and "6543" not in str(body)
