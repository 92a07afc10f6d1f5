"""Rows bound before the transaction are stored exactly as a plain insert stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, insert, select
from sqlmodel import Session

from receiver.incidents.models import AlertRecord
from receiver.store.database import Store
from receiver.store.prebound import PreboundInsert
from tests.support.records import incident_record

ALERTS: Table = AlertRecord.__table__  # type: ignore[attr-defined]
AT = datetime(2026, 3, 29, 1, 30, 15, 250000, tzinfo=UTC)


def _alert(fingerprint: str) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint,
        "alertname": "Down",
        "status": "firing",
        "labels": {"alertname": "Down", "note": 'ünïcode "quoted" \\ back'},
        "annotations": {},
        "generator_url": "http://prometheus/graph?g0.expr=up+%3D%3D+0&x=1",
        "severity": "SEV2",
        "service": "api",
        "rule": "r",
        "matched": ['severity="critical"'],
        # Another zone: stored as UTC, like every time.
        "starts_at": AT.astimezone(timezone(timedelta(hours=-5))),
        "ends_at": None,
        "first_seen_at": AT,
        "updated_at": AT + timedelta(seconds=1),
    }


def _incident_id(store: Store) -> int:
    def work(session: Session) -> int:
        incident = incident_record()
        session.add(incident)
        session.flush()
        assert incident.id is not None
        return incident.id

    return store.write(work)


def test_prebound_rows_read_back_as_plain_inserted_ones(store: Store) -> None:
    incident_id = _incident_id(store)
    prebound = PreboundInsert(ALERTS, late=("incident_id",))
    bound = prebound.bind(store.engine.dialect, [_alert("p1"), _alert("p2")])

    store.write_rows(lambda c: prebound.execute(c, bound, [(incident_id,), (incident_id,)]))
    store.write_rows(
        lambda c: c.execute(insert(ALERTS), [{**_alert("plain"), "incident_id": incident_id}])
    )

    with store.read_rows() as connection:
        rows = {
            row.fingerprint: row._asdict()
            for row in connection.execute(select(ALERTS).order_by(ALERTS.c.id))
        }
    plain = {k: v for k, v in rows.pop("plain").items() if k not in ("id", "fingerprint")}
    for fingerprint in ("p1", "p2"):
        stored = {k: v for k, v in rows[fingerprint].items() if k not in ("id", "fingerprint")}
        assert stored == plain
    assert plain["starts_at"] == AT and plain["labels"]["note"] == 'ünïcode "quoted" \\ back'


def test_values_shared_by_rows_are_bound_once_and_right(store: Store) -> None:
    incident_id = _incident_id(store)
    prebound = PreboundInsert(ALERTS, late=("incident_id",))
    shared_labels = {"alertname": "Down", "instance": "a"}
    rows = [
        {**_alert(f"f{n}"), "labels": shared_labels if n < 2 else {"instance": f"i{n}"}}
        for n in range(4)
    ]
    rows[3]["starts_at"] = AT + timedelta(hours=1)  # equal times bind alike, others apart
    rows[2]["matched"] = rows[1]["matched"] = ("x",)  # one object in two rows

    bound = prebound.bind(store.engine.dialect, rows)
    store.write_rows(lambda c: prebound.execute(c, bound, [(incident_id,)] * 4))

    with store.read_rows() as connection:
        stored = {row.fingerprint: row for row in connection.execute(select(ALERTS))}
    assert [stored[f"f{n}"].labels for n in range(4)] == [
        shared_labels,
        shared_labels,
        {"instance": "i2"},
        {"instance": "i3"},
    ]
    assert [stored[f"f{n}"].starts_at for n in range(4)] == [AT, AT, AT, AT + timedelta(hours=1)]
    assert [stored[f"f{n}"].matched for n in range(4)] == [
        ['severity="critical"'],
        ["x"],
        ["x"],
        ['severity="critical"'],
    ]


def test_equal_times_of_a_repeated_hour_stay_two_instants(store: Store) -> None:
    incident_id = _incident_id(store)
    prebound = PreboundInsert(ALERTS, late=("incident_id",))
    berlin = ZoneInfo("Europe/Berlin")  # 02:30 happens twice on 2025-10-26
    first, second = (datetime(2025, 10, 26, 2, 30, fold=fold, tzinfo=berlin) for fold in (0, 1))
    assert first == second and hash(first) == hash(second)  # what a value memo would see
    rows = [{**_alert("a"), "starts_at": first}, {**_alert("b"), "starts_at": second}]

    bound = prebound.bind(store.engine.dialect, rows)
    store.write_rows(lambda c: prebound.execute(c, bound, [(incident_id,)] * 2))

    with store.read_rows() as connection:
        stored = {row.fingerprint: row.starts_at for row in connection.execute(select(ALERTS))}
    assert stored == {
        "a": datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
        "b": datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
    }


def test_prebound_insert_refuses_a_late_column_the_table_lacks() -> None:
    with pytest.raises(ValueError, match=r"late columns \['incident'\] are not in alert"):
        PreboundInsert(ALERTS, late=("incident",))
