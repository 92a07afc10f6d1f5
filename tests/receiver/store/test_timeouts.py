"""Every wait on PostgreSQL is bounded: a database that stops answering costs a request a few
seconds and a 503, never a worker thread for good.

The fault this guards against: a TCP proxy in front of PostgreSQL was SIGSTOPped (its kernel
still accepts and acknowledges, nothing ever answers), and the webhook, /readyz and the API
gave no answer within 150 s, every worker thread blocked in a query. Here the same proxy
(tests/support/servers.TcpProxy) runs in a child process that the test stops and continues;
the in-process proxy's `stop()` covers the other outage, a database that refuses and cuts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.engine import make_url

from receiver.app import create_app
from receiver.config.settings import DatabaseSettings, Settings
from receiver.store.database import ANSWER_GRACE_S, SILENCE_HOLD_S, Store, StoreUnavailable
from tests.support.alertmanager import TOKEN
from tests.support.paging import group
from tests.support.paths import REPO_ROOT
from tests.support.servers import (
    TcpProxy,
    fresh_postgres_database,
    get_json,
    post_json,
    running_onwatch,
)

pytestmark = pytest.mark.postgres

CONNECT_S = 2.0  # libpq's smallest connect timeout
STATEMENT_S = 2.0
# A request that meets a silent database: the ping of a pooled connection, or connecting,
# gives up after CONNECT_S; a query in flight after STATEMENT_S + ANSWER_GRACE_S.
ANSWER_BOUND_S = CONNECT_S + 1.5
IN_FLIGHT_BOUND_S = STATEMENT_S + ANSWER_GRACE_S + 1.5
RECOVERY_BOUND_S = SILENCE_HOLD_S + CONNECT_S + 1.5

PROXY_PROGRAM = """
import sys, time
from tests.support.servers import TcpProxy
proxy = TcpProxy((sys.argv[1], int(sys.argv[2])))
proxy.start()
print(proxy.port, flush=True)
while True:
    time.sleep(3600)
"""


@dataclass
class StoppableProxy:
    """The TCP proxy in a child process: SIGSTOP makes the database silent, not gone."""

    process: subprocess.Popen[bytes]
    port: int

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def stoppable_proxy(host: str, port: int) -> Iterator[StoppableProxy]:
    process = subprocess.Popen(
        [sys.executable, "-c", PROXY_PROGRAM, host, str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip().isdigit(), f"the proxy did not start: {line!r}"
        yield StoppableProxy(process, int(line))
    finally:
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def direct_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated database of its own: these tests cut their connections off."""
    with fresh_postgres_database(postgres_server, prefix="onwatch_timeouts") as url:
        store = Store(DatabaseSettings(url=url))
        store.upgrade()
        store.dispose()
        yield url


def _settings(url: str) -> Settings:
    return Settings.model_validate(
        {
            "database": {
                "url": url,
                "connect_timeout_s": CONNECT_S,
                "statement_timeout_s": STATEMENT_S,
            },
            "webhook": {"bearer_token": TOKEN},
        }
    )


def _via(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _app(url: str) -> tuple[Flask, Store]:
    settings = _settings(url)
    store = Store(settings.database)
    return create_app(settings, store=store, registry=CollectorRegistry()), store


def _webhook(client: FlaskClient, name: str) -> Any:
    return client.post(
        "/api/v1/alertmanager",
        json=group(name),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_json()
    body = response.get_data(as_text=True)
    assert "database unavailable" in body or "store unavailable" in body, body
    assert "127.0.0.1" not in body and "port" not in body, body


def test_connections_carry_the_configured_timeouts(direct_url: str) -> None:
    store = Store(_settings(direct_url).database)
    try:
        with store.read_rows() as connection:
            statement_timeout = connection.execute(text("SHOW statement_timeout")).scalar()
            parameters = connection.connection.driver_connection.info.get_parameters()  # type: ignore[union-attr]
    finally:
        store.dispose()

    assert statement_timeout == "2s"
    assert parameters["connect_timeout"] == "2"
    assert parameters["keepalives"] == "1"
    assert parameters["tcp_user_timeout"] == "2000"
    assert store.engine.pool.timeout() == CONNECT_S  # type: ignore[attr-defined]


def test_a_statement_over_the_timeout_is_store_unavailable(direct_url: str) -> None:
    store = Store(_settings(direct_url).database)
    try:
        with pytest.raises(StoreUnavailable) as raised:  # noqa: PT012
            started = time.monotonic()
            with store.read() as session:
                session.execute(text("SELECT pg_sleep(30)"))
        took = time.monotonic() - started

        assert STATEMENT_S <= took < STATEMENT_S + 1.5
        assert str(raised.value) == "database unavailable"
        assert "statement timeout" in raised.value.detail
        assert not raised.value.silent  # the server answered: nothing to hold back
        store.ping()  # and the store is usable at once
    finally:
        store.dispose()


def test_a_silent_database_answers_503_within_seconds_and_recovers(
    direct_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = make_url(direct_url)
    with stoppable_proxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        app, store = _app(_via(direct_url, proxy.port))
        client = app.test_client()
        try:
            assert _webhook(client, "Before").status_code == 200

            # A query in flight when the database goes silent.
            in_flight: list[Any] = []

            def query() -> None:
                started = time.monotonic()
                try:
                    with store.read() as session:
                        session.execute(text("SELECT pg_sleep(1)"))
                    in_flight.append(("answered", time.monotonic() - started))
                except StoreUnavailable as exc:
                    in_flight.append((exc, time.monotonic() - started))

            worker = threading.Thread(target=query, daemon=True)
            worker.start()
            time.sleep(0.3)
            proxy.freeze()
            worker.join(timeout=IN_FLIGHT_BOUND_S + 5)
            assert not worker.is_alive(), "a query in flight never gave up"
            [(outcome, in_flight_s)] = in_flight
            assert isinstance(outcome, StoreUnavailable), outcome
            assert outcome.silent and "did not answer" in outcome.detail
            assert in_flight_s < IN_FLIGHT_BOUND_S

            # New requests: a 503 within the connect timeout, whatever the route.
            time.sleep(SILENCE_HOLD_S)  # past the gate: this request waits for the database
            response, webhook_s = _timed(lambda: _webhook(client, "During"))
            _assert_unavailable(response)
            assert webhook_s < ANSWER_BOUND_S
            for path in ("/api/v1/incidents", "/readyz"):
                response, took = _timed(lambda path=path: client.get(path))
                _assert_unavailable(response)
                assert took < ANSWER_BOUND_S, path

            # Many at once: none queues behind another's timeout.
            time.sleep(SILENCE_HOLD_S)
            with ThreadPoolExecutor(max_workers=8) as pool:
                started = time.monotonic()
                answers = list(
                    pool.map(lambda n: app.test_client().get("/api/v1/incidents"), range(8))
                )
                burst_s = time.monotonic() - started
            for response in answers:
                _assert_unavailable(response)
            assert burst_s < ANSWER_BOUND_S

            # The database answers again: so does onwatch, within a few seconds.
            proxy.thaw()
            thawed = time.monotonic()
            while True:
                response = _webhook(client, "After")
                if response.status_code == 200:
                    break
                assert response.status_code == 503
                assert time.monotonic() - thawed < RECOVERY_BOUND_S, "no recovery"
                time.sleep(0.1)
            recovery_s = time.monotonic() - thawed
            assert response.get_json()["opened"] is True
            incidents = client.get("/api/v1/incidents").get_json()["incidents"]
            assert sorted(i["title"].split(":")[0] for i in incidents) == ["After", "Before"]
        finally:
            proxy.thaw()
            store.dispose()
    with capsys.disabled():
        print(
            f"\n[silent database] in flight gave up after {in_flight_s:.2f} s, webhook 503 after "
            f"{webhook_s:.2f} s, 8 concurrent 503s within {burst_s:.2f} s, "
            f"recovered {recovery_s:.2f} s after the database answered again"
        )


def test_a_database_that_goes_away_answers_503_at_once_and_recovers(direct_url: str) -> None:
    target = make_url(direct_url)
    with TcpProxy((target.host or "127.0.0.1", target.port or 5432)) as proxy:
        app, store = _app(_via(direct_url, proxy.port))
        client = app.test_client()
        try:
            assert _webhook(client, "Before").status_code == 200

            proxy.stop()  # refused, and the pooled connections are cut
            response, took = _timed(lambda: _webhook(client, "During"))
            _assert_unavailable(response)
            assert took < 1.0

            proxy.start()
            response = _webhook(client, "After")
            assert response.status_code == 200, response.get_json()
        finally:
            store.dispose()


def test_onwatch_serve_answers_503_while_the_database_is_silent(
    direct_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fault run itself: `onwatch serve` (gunicorn workers and the scheduler) behind the
    stopped proxy. Before, no answer came within 150 s; every worker thread hung."""
    target = make_url(direct_url)
    with stoppable_proxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        config = tmp_path / "onwatch.yaml"
        database = {
            "url": _via(direct_url, proxy.port),
            "connect_timeout_s": CONNECT_S,
            "statement_timeout_s": STATEMENT_S,
        }
        config.write_text(
            json.dumps({"database": database, "webhook": {"bearer_token": TOKEN}}),
            encoding="utf-8",
        )
        with running_onwatch(config, workers=2, threads=2) as base:
            hook = f"{base}/api/v1/alertmanager"
            assert post_json(hook, group("Before"), TOKEN)[0] == 200

            proxy.freeze()
            slowest = 0.0
            for attempt in range(6):  # enough to reach both workers' threads
                (status, body), took = _timed(
                    lambda attempt=attempt: post_json(
                        hook, group(f"During{attempt}"), TOKEN, timeout=30
                    )
                )
                assert status == 503, body
                assert "127.0.0.1" not in json.dumps(body), body
                slowest = max(slowest, took)
                (status, body), took = _timed(lambda: get_json(f"{base}/readyz", timeout=30))
                assert status == 503, body
                slowest = max(slowest, took)
            assert slowest < ANSWER_BOUND_S
            assert get_json(f"{base}/healthz", timeout=5)[0] == 200

            proxy.thaw()
            thawed = time.monotonic()
            while True:
                status, body = post_json(hook, group("After"), TOKEN, timeout=30)
                if status == 200:
                    break
                assert status == 503, body
                assert time.monotonic() - thawed < RECOVERY_BOUND_S + 2, "no recovery"
                time.sleep(0.1)
            recovery_s = time.monotonic() - thawed
            assert body["opened"] is True
    with capsys.disabled():
        print(
            f"\n[onwatch serve, silent database] slowest 503 {slowest:.2f} s, "
            f"recovered {recovery_s:.2f} s after the database answered again"
        )
