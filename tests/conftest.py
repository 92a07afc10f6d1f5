"""Shared fixtures: the real Alertmanager captures, SQLite and PostgreSQL stores, the app.

Store and receiver tests run against both databases. PostgreSQL comes from
ONWATCH_TEST_POSTGRES_URL (default: the local server CI starts); when it cannot be reached
the PostgreSQL cases are skipped locally, and fail under CI, where a skip would hide them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from receiver.app import create_app
from receiver.config.settings import DatabaseSettings, Settings
from receiver.store.database import Store
from tests.support.alertmanager import SERVER_TOKEN, TOKEN, post_alerts, raw_fixture
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import Paging, make_paging
from tests.support.servers import backend_config, libpq_url

POSTGRES_URL = os.environ.get(
    "ONWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL admin URL, or a skip (a failure under CI) when it is unreachable."""
    try:
        with psycopg.connect(libpq_url(POSTGRES_URL), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A fresh database for this test session, migrated once, dropped at the end."""
    name = f"onwatch_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(postgres_server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    store = Store(DatabaseSettings(url=url))
    store.upgrade()
    store.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(libpq_url(postgres_server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on a new SQLite file and on an emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'onwatch.db'}"
    url: str = request.getfixturevalue("postgres_database")
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(
            "TRUNCATE page, outbox_message, timeline_entry, alert, incident, rota_override,"
            " scheduler_lease, apscheduler_jobs, incident_role, status_update, checklist_tick,"
            " response_reminder, postmortem, action_item, notification_message, handoff_note,"
            " handoff_briefing, pagerduty_event, slack_call, slack_channel, slack_user,"
            " web_password RESTART IDENTITY CASCADE"
        )
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on the database under test."""
    store = Store(DatabaseSettings(url=database_url))
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(store: Store, clock: Clock) -> Callable[..., Flask]:
    """Build the app with extra configuration keys; the webhook takes TOKEN by default."""

    def build(**config: Any) -> Flask:
        document: dict[str, Any] = {"webhook": {"bearer_token": TOKEN}}
        document.update(config)
        document["database"] = {"url": store.settings.url}
        settings = Settings.model_validate(document)
        return create_app(settings, store=store, registry=CollectorRegistry(), clock=clock)

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def fake() -> Iterator[FakePagerDuty]:
    """A fake PagerDuty (Events API and REST) on loopback, stopped after the test."""
    with FakePagerDuty() as server:
        yield server


@pytest.fixture
def paging(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> Paging:
    """The app, a dispatcher and the fake PagerDuty wired as the scheduler wires them."""
    return make_paging(make_app, store, clock, fake)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def config_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A config file ready for `onwatch serve`, on SQLite and on a fresh PostgreSQL database."""
    with backend_config(
        request.param,
        tmp_path,
        postgres_admin_url=lambda: request.getfixturevalue("postgres_server"),
        bearer_token=SERVER_TOKEN,
    ) as config:
        yield config


@pytest.fixture
def cli_config(tmp_path: Path) -> str:
    """A migrated SQLite config file (the rota of tests/rota_config) with one open SEV2
    incident for checkout, for the command-line tests."""
    from receiver.cli import main
    from receiver.config.settings import load_settings
    from tests.support.rota_config import rota_config

    document = {
        "database": {"url": f"sqlite:///{tmp_path / 'onwatch.db'}"},
        "webhook": {"bearer_token": TOKEN},
        **rota_config(),
    }
    path = tmp_path / "onwatch.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main(["db", "upgrade", "--config", str(path)]) == 0
    client = create_app(load_settings(path)).test_client()
    assert post_alerts(client, raw_fixture("firing_single.json")).status_code == 200
    return str(path)
