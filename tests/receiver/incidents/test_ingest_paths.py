"""The fast paths of ingestion keep every guarantee of the slow ones.

- A notification that changes nothing is answered from a read snapshot, without the write
  lock, so re-sends still get 200 while another writer holds SQLite's lock.
- SQLite writers queue on a thread lock and a `<database>.lock` file lock; a writer that
  cannot get it within the busy timeout answers 503 and changes nothing.
- Channel names are chosen by indexed lookups of candidate names, however many are taken.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from receiver.app import create_app
from receiver.config.settings import Settings
from receiver.incidents.channels import channel_candidates, channel_name
from receiver.store.database import Store, StoreUnavailable
from tests.support.alertmanager import TOKEN, fixture_json, post_alerts, raw_fixture
from tests.support.clock import START, Clock


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[tuple[Flask, Store, Path]]:
    """An app on a SQLite file with a short busy timeout, so lock waits end quickly."""
    path = tmp_path / "onwatch.db"
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{path}", "sqlite_busy_timeout_s": 0.2},
            "webhook": {"bearer_token": TOKEN},
        }
    )
    store = Store(settings.database)
    store.upgrade()
    yield (
        create_app(settings, store=store, registry=CollectorRegistry(), clock=Clock()),
        store,
        path,
    )
    store.dispose()


def test_ingest_resend_is_answered_while_another_writer_holds_the_lock(
    sqlite_app: tuple[Flask, Store, Path],
) -> None:
    app, _store, path = sqlite_app
    client = app.test_client()
    first = post_alerts(client, raw_fixture("group_5.json")).get_json()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer that does not use onwatch's lock
    try:
        again = post_alerts(client, raw_fixture("group_5.json"))
        changing = post_alerts(client, raw_fixture("group_5_partial_resolved.json"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert again.status_code == 200
    assert again.get_json() == {**first, "opened": False, "changed": False}
    assert changing.status_code == 503  # this one must write: it waits, then gives up


def test_ingest_waits_for_the_writer_lock_of_another_process(
    sqlite_app: tuple[Flask, Store, Path],
) -> None:
    app, _store, path = sqlite_app
    client = app.test_client()
    lock_file = path.with_name(path.name + ".lock")
    with lock_file.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what another gunicorn worker does while it writes
        blocked = post_alerts(client, raw_fixture("firing_single.json"))
        fcntl.flock(held, fcntl.LOCK_UN)

    assert blocked.status_code == 503
    assert "database is locked" in blocked.get_json()["error"]
    assert client.get("/api/v1/incidents").get_json()["incidents"] == []
    assert post_alerts(client, raw_fixture("firing_single.json")).status_code == 200


def test_store_writer_lock_lets_a_waiting_writer_in_when_released(
    sqlite_app: tuple[Flask, Store, Path],
) -> None:
    _app, store, path = sqlite_app
    lock_file = path.with_name(path.name + ".lock")
    with lock_file.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        release = threading.Timer(0.05, fcntl.flock, (held, fcntl.LOCK_UN))
        release.start()
        answer = store.write_rows(lambda connection: "written")  # waits ~50 ms, not 200
        release.join()

    assert answer == "written"


def test_store_writer_lock_times_out_as_unavailable(sqlite_app: tuple[Flask, Store, Path]) -> None:
    _app, store, path = sqlite_app
    with path.with_name(path.name + ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(StoreUnavailable, match="database is locked"):
            store.write(lambda session: None)


def test_store_memory_database_needs_no_lock_file(tmp_path: Path) -> None:
    store = Store(Settings.model_validate({"database": {"url": "sqlite://"}}).database)

    assert store.write_rows(lambda connection: 42) == 42
    assert list(tmp_path.iterdir()) == []


def _same_description_group(number: int) -> dict[str, Any]:
    payload = fixture_json("firing_single.json")
    payload["groupKey"] = f'{{}}/{{team="t{number}"}}:{{alertname="HighErrorRate"}}'
    payload["alerts"][0]["fingerprint"] = f"{number:016x}"
    return payload


def test_ingest_channel_names_past_the_first_batch_of_candidates(client: FlaskClient) -> None:
    for number in range(20):  # more groups than one query's candidates
        assert post_alerts(client, _same_description_group(number)).status_code == 200

    listed = client.get("/api/v1/incidents", query_string={"limit": "100"}).get_json()
    channels = sorted(incident["channel"] for incident in listed["incidents"])
    expected = list(
        zip(range(20), channel_candidates(START, "higherrorrate-checkout"), strict=False)
    )
    assert channels == sorted(name for _, name in expected)
    detail = client.get("/api/v1/incidents/20").get_json()
    assert detail["timeline"][0]["data"]["channel"] == detail["channel"]


def test_channel_name_picks_the_first_free_candidate() -> None:
    taken = {"#inc-20261128-x", "#inc-20261128-x-2"}

    assert channel_name(START, "x", taken) == "#inc-20261128-x-3"
    assert (
        channel_name(START, "y" * 100).endswith("y") and len(channel_name(START, "y" * 100)) == 80
    )


def test_ingest_repeat_with_changed_annotation_is_written(
    client: FlaskClient, clock: Clock
) -> None:
    post_alerts(client, raw_fixture("firing_single.json"))
    clock.advance(minutes=1)
    changed = fixture_json("firing_single.json")
    changed["alerts"][0]["annotations"]["description"] = "now 17.9%"

    answer = post_alerts(client, changed).get_json()

    assert (answer["changed"], answer["opened"]) == (True, False)
    detail = client.get("/api/v1/incidents/1").get_json()
    assert detail["alerts"][0]["annotations"]["description"] == "now 17.9%"
    assert detail["updated_at"] == clock.now.isoformat()
    assert [entry["kind"] for entry in detail["timeline"]] == [
        "incident_opened",
        "alert_firing",
        "not_paged",
    ]
