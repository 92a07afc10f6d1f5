"""Notifications that arrive together are written together (group commit), with every
guarantee of one transaction each.

The test holds the writers' lock (SQLite: the `<database>.lock` file every writer takes;
PostgreSQL: the advisory lock every ingest transaction takes first) while notifications are
posted from threads, one after the other; the first waits for the lock alone, the others
queue behind it and are then applied in one shared transaction:

- two notifications of one group in one batch: the second sees what the first wrote (one
  incident, its two alerts, then its resolution);
- new incidents of one batch get distinct channel names;
- each incident's hooks (its pages in the outbox) run in the shared transaction.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask

from receiver.incidents.ingest import CHANNEL_NAMING_LOCK
from receiver.store.database import Store
from tests.support.alertmanager import post_alerts
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import group, paging_config
from tests.support.servers import libpq_url
from tests.support.writer_lock import sqlite_writer_lock


@contextmanager
def _writers_held(store: Store) -> Iterator[None]:
    """Hold what every ingest write transaction waits for, for the block."""
    url = store.settings.url
    if store.settings.is_sqlite:
        with sqlite_writer_lock(Path(url.removeprefix("sqlite:///"))):
            yield
        return
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (CHANNEL_NAMING_LOCK,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (CHANNEL_NAMING_LOCK,))


def _post_in_turn(app: Flask, store: Store, bodies: list[dict[str, Any]]) -> list[Any]:
    """Post the bodies from threads, in this order, while the writers are held; the answers."""
    answers: list[Any] = [None] * len(bodies)

    def post(index: int) -> None:
        response = post_alerts(app.test_client(), bodies[index])
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    with _writers_held(store):
        for thread in threads:
            thread.start()
            time.sleep(0.15)  # arrives after the one before: the batch keeps this order
    for thread in threads:
        thread.join(30)
    return answers


def _shared_commits(app: Flask) -> float:
    registry = app.extensions["onwatch"].metrics.registry
    count = registry.get_sample_value("onwatch_store_write_batch_size_count") or 0.0
    alone = registry.get_sample_value("onwatch_store_write_batch_size_bucket", {"le": "1.0"})
    return count - (alone or 0.0)


def _receiver(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The same group (same groupKey and labels) sent to another Alertmanager receiver: a
    group of its own to onwatch, with the same channel description."""
    other = copy.deepcopy(body)
    other["receiver"] = name
    return other


def test_notifications_that_arrive_together_are_written_together(
    make_app: Callable[..., Flask], store: Store, fake: FakePagerDuty
) -> None:
    app = make_app(**paging_config(fake))
    first = group("Storm", fingerprint="a" * 16)
    second = copy.deepcopy(first)
    extra = copy.deepcopy(second["alerts"][0])
    extra["fingerprint"] = "b" * 16
    extra["labels"]["instance"] = "checkout-2:8080"
    second["alerts"].append(extra)
    resolved = copy.deepcopy(second)
    resolved["status"] = "resolved"
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-28T10:30:00Z"
    same = group("Twin")
    bodies = [first, second, resolved, _receiver(same, "r1"), _receiver(same, "r2"), same]

    answers = _post_in_turn(app, store, bodies)

    assert [status for status, _ in answers] == [200] * len(bodies), answers
    assert _shared_commits(app) >= 1
    storm = answers[0][1]["incident_id"]
    assert answers[0][1]["opened"] is True
    assert answers[1][1] == {**answers[1][1], "incident_id": storm, "opened": False}
    assert answers[2][1] == {**answers[2][1], "incident_id": storm, "resolved": True}

    client = app.test_client()
    detail = client.get(f"/api/v1/incidents/{storm}").get_json()
    assert detail["status"] == "resolved"
    assert sorted(alert["fingerprint"] for alert in detail["alerts"]) == ["a" * 16, "b" * 16]
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert kinds[0] == "incident_opened"
    assert kinds.index("paging_planned") < kinds.index("incident_resolved")
    assert [page["status"] for page in detail["pages"] if page["action"] == "trigger"]
    assert all(page["status"] == "cancelled" for page in detail["pages"] if page["level"] > 0)

    twins = [client.get(f"/api/v1/incidents/{a[1]['incident_id']}").get_json() for a in answers[3:]]
    channels = [twin["channel"] for twin in twins]
    assert len(set(channels)) == 3, channels
    assert [channel.rsplit("-", 1)[-1] for channel in channels][1:] == ["2", "3"]
    for twin in twins:
        assert twin["timeline"][0]["data"]["channel"] == twin["channel"]
        assert [page["target"] for page in twin["pages"]][0] == "primary"  # queued in the batch
