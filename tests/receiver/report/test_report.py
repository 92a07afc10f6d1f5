"""The burden report end to end: rows in the store, the four formats, the API, CLI and job."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from flask import Flask
from sqlalchemy import Connection, insert
from sqlmodel import col, select

from receiver.cli import main
from receiver.composition import build_rota
from receiver.config.settings import Settings
from receiver.incidents.models import AlertRecord, IncidentRecord
from receiver.notify.models import NotificationMessage
from receiver.paging.models import OutboxMessage, PageRecord
from receiver.report.archive import write_monthly_report
from receiver.report.build import build_report
from receiver.report.render import render, report_data
from receiver.rota.models import OverrideRecord
from receiver.store.database import Store
from scheduler.burden import Month
from tests.support.alertmanager import AUTH, TOKEN
from tests.support.rota_config import rota_config

LONDON = ZoneInfo("Europe/London")
NOV = datetime(2026, 11, 1, tzinfo=UTC)


def _incident(number: int, opened: datetime, severity: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": number,
        "group_identity": f"g{number}",
        "receiver": "onwatch",
        "group_key": f"k{number}",
        "group_labels": {},
        "status": "resolved" if kw.get("resolved_at") else "open",
        "severity": severity,
        "service": "checkout",
        "title": f"incident {number}",
        "channel": f"inc-{number}",
        "external_url": "",
        "truncated_alerts": 0,
        "opened_at": opened,
        "updated_at": opened,
        "resolved_at": kw.get("resolved_at"),
        "acknowledged_at": kw.get("acknowledged_at"),
        "acknowledged_by": None,
        "classification": MARKS.get(number),
    }


def _alert(number: int, incident: int, name: str, rule: str, at: datetime) -> dict[str, Any]:
    return {
        "id": number,
        "incident_id": incident,
        "fingerprint": f"f{number}",
        "alertname": name,
        "status": "firing",
        "labels": {"alertname": name},
        "annotations": {},
        "generator_url": "",
        "severity": "SEV2",
        "service": "checkout",
        "rule": rule,
        "matched": [],
        "starts_at": at,
        "ends_at": None,
        "first_seen_at": at,
        "updated_at": at,
    }


def _message(number: int, incident: int, at: datetime) -> dict[str, Any]:
    return {
        "id": number,
        "incident_id": incident,
        "rotation": "ops",
        "action": "trigger",
        "target": "primary",
        "level": 0,
        "loop": 0,
        "severity": "SEV2",
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": at,
        "deadline_at": at,
        "created_at": at,
        "sent_at": at,
        "recipient": "",
        "reference": "",
        "last_error": "",
        "details": {},
    }


# Pages of November 2026 (ops primary a b c d e, secondary d e a b c, weeks from Nov 2).
# (incident, person, UTC time); a's burst at 23:00 counts as 1 interruption of 3 pages.
PAGES = [
    (1, "a", datetime(2026, 11, 3, 23, 0, 0, tzinfo=UTC)),
    (1, "a", datetime(2026, 11, 3, 23, 0, 40, tzinfo=UTC)),
    (1, "a", datetime(2026, 11, 3, 23, 0, 59, tzinfo=UTC)),
    (2, "a", datetime(2026, 11, 4, 2, 0, tzinfo=UTC)),
    (2, "d", datetime(2026, 11, 4, 2, 5, tzinfo=UTC)),
    (3, "a", datetime(2026, 11, 4, 10, 0, tzinfo=UTC)),  # business hours
    (4, "b", datetime(2026, 11, 14, 12, 0, tzinfo=UTC)),  # Saturday: after hours
    (5, "b", datetime(2026, 10, 31, 12, 0, tzinfo=UTC)),  # October: not counted
]
# How whoever resolved each incident classified it (4 and 5: nobody said).
MARKS = {1: "noise", 2: "actionable", 3: "noise"}
# (alert id, incident, alert name, rule)
ALERTS = [
    (1, 1, "DiskFull", "disk-rule"),
    (2, 1, "DiskFull", "disk-rule"),  # a second fingerprint
    (3, 2, "Down", "outage-rule"),
    (4, 2, "DiskFull", "disk-rule"),
    (5, 3, "Slow", "latency-rule"),
    (6, 4, "Slow", "latency-rule"),
    (7, 5, "Down", "outage-rule"),
]


def seed_month(store: Store) -> None:
    """Five incidents, their alerts and the pages above, straight into the tables."""
    incidents = [
        _incident(
            1,
            PAGES[0][2],
            "SEV2",
            acknowledged_at=PAGES[0][2] + timedelta(minutes=2),
            resolved_at=PAGES[0][2] + timedelta(hours=3),
        ),  # fmt: skip
        _incident(
            2,
            PAGES[3][2],
            "SEV1",
            acknowledged_at=PAGES[3][2] + timedelta(minutes=9),
            resolved_at=PAGES[3][2] + timedelta(hours=5),
        ),  # fmt: skip
        _incident(3, PAGES[5][2], "SEV3"),
        _incident(4, PAGES[6][2], "SEV2", acknowledged_at=PAGES[6][2] + timedelta(minutes=1)),
        _incident(5, PAGES[7][2], "SEV2"),
    ]
    opened = {number: incident["opened_at"] for number, incident in enumerate(incidents, 1)}
    alerts = [_alert(n, i, name, rule, opened[i]) for n, i, name, rule in ALERTS]

    def work(connection: Connection) -> None:
        connection.execute(insert(IncidentRecord.__table__), incidents)  # type: ignore[attr-defined]
        connection.execute(insert(AlertRecord.__table__), alerts)  # type: ignore[attr-defined]
        connection.execute(
            insert(OutboxMessage.__table__),  # type: ignore[attr-defined]
            [_message(n, i, at) for n, (i, _, at) in enumerate(PAGES, 1)],
        )
        connection.execute(
            insert(PageRecord.__table__),  # type: ignore[attr-defined]
            [
                {
                    "incident_id": i,
                    "message_id": n,
                    "rotation": "ops",
                    "person": person,
                    "severity": "SEV2",
                    "at": at,
                    "night": False,
                }  # fmt: skip
                for n, (i, person, at) in enumerate(PAGES, 1)
            ],
        )
        # c covers b's Sunday (an override): c's shift count and hours include it.
        connection.execute(
            insert(OverrideRecord.__table__),  # type: ignore[attr-defined]
            [
                {
                    "rotation": "ops",
                    "layer": "primary",
                    "person": "c",
                    "start_at": datetime(2026, 11, 15, tzinfo=UTC),
                    "end_at": datetime(2026, 11, 16, tzinfo=UTC),
                    "forced": True,
                    "reason": "swap",
                    "requested_by": "b",
                    "created_at": NOV,
                    "deleted_at": None,
                }  # fmt: skip
            ],
        )

    store.write_rows(work)


def settings_for(store: Store, **report: Any) -> Settings:
    document = rota_config()
    document["database"] = {"url": store.settings.url}
    document["report"] = {"time_zone": "Europe/London", **report}
    return Settings.model_validate(document)


@pytest.fixture
def seeded(store: Store) -> Store:
    seed_month(store)
    return store


def _person(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in data["people"] if p["name"] == name)


NOISE_KEYS = (
    "incidents",
    "noise_incidents",
    "actionable_incidents",
    "unclassified_incidents",
    "noise_pct",
)


def noise_of(alertname: str) -> dict[str, Any]:
    """Counted from the fixture: the November incidents that paged, among those with the alert."""
    fired = {i for _, i, name, _ in ALERTS if name == alertname}
    paged = {i for i, _, at in PAGES if at >= NOV}
    mine = fired & paged
    noise = sum(1 for i in mine if MARKS.get(i) == "noise")
    actionable = sum(1 for i in mine if MARKS.get(i) == "actionable")
    return {
        "incidents": len(mine),
        "noise_incidents": noise,
        "actionable_incidents": actionable,
        "unclassified_incidents": len(mine) - noise - actionable,
        "noise_pct": round(100 * noise / (noise + actionable), 1) if noise + actionable else None,
    }


def test_report_figures_from_the_store(seeded: Store) -> None:
    data = report_data(
        build_report(
            settings_for(seeded),
            seeded,
            Month.parse("2026-11", LONDON),
            rota=build_rota(settings_for(seeded)),
        )
    )
    a, b, c, d = (_person(data, n) for n in "abcd")
    assert (a["pages"], a["interruptions"], a["night_pages"]) == (5, 3, 4)
    assert a["nights_over_limit"] == 1  # three pages on the night of Nov 3
    assert a["out_of_hours_pages"] == 4
    # a was paged for incidents 1, 2, 3: acknowledged 2 min, 9 min after, and never.
    assert (a["paged_incidents"], a["acked_within_target"]) == (3, 1)
    assert a["ack_within_target_pct"] == pytest.approx(33.3)
    # d, paged 5 min after a for incident 2, saw it acknowledged 4 min later: on time for d.
    assert (d["pages"], d["night_pages"], d["acked_within_target"]) == (1, 1, 1)
    assert (b["pages"], b["out_of_hours_pages"], b["night_pages"]) == (1, 1, 0)
    assert (a["shifts"], a["on_call_hours"]) == (2, 2 * 7 * 24)  # primary Nov 2, secondary 16
    assert c["shifts"] == 3  # primary Nov 16-23, secondary Nov 30, and b's Sunday
    assert any(f["rule"] == "min_rest" for f in c["flags"])  # Sunday, then on call Monday
    ops = data["rotations"][0]
    assert ops["incidents_by_severity"] == {"SEV1": 1, "SEV2": 2, "SEV3": 1, "SEV4": 0}
    assert ops["pages"] == 7
    assert [(x["alertname"], x["rule"], x["pages"]) for x in ops["noisiest_by_pages"]] == [
        ("DiskFull", "disk-rule", 5),  # incident 1's 3 pages and incident 2's 2
        ("Down", "outage-rule", 2),
        ("Slow", "latency-rule", 2),
    ]
    for alert in (*ops["noisiest_by_pages"], *ops["noisiest_by_night_pages"]):
        assert {k: alert[k] for k in NOISE_KEYS} == noise_of(alert["alertname"])
    # DiskFull: incident 1 noise, 2 actionable; Slow: 3 noise, 4 unclassified.
    slow = next(x for x in ops["noisiest_by_pages"] if x["alertname"] == "Slow")
    assert (slow["noise_pct"], slow["unclassified_incidents"]) == (100.0, 1)
    assert [x["alertname"] for x in ops["mostly_noise"]] == ["Slow", "DiskFull"]
    # The rotation: incidents 1-4 opened in November.
    assert (ops["noise_incidents"], ops["actionable_incidents"]) == (2, 1)
    assert (ops["unclassified_incidents"], ops["noise_pct"]) == (1, pytest.approx(66.7))
    assert ops["rest_breaches"] == sum(
        1 for p in data["people"] for f in p["flags"] if f["rule"] == "min_rest"
    )
    sev2 = next(r for r in ops["response"] if r["severity"] == "SEV2")
    assert (sev2["ack_median_s"], sev2["ack_within_target_pct"]) == (90.0, 100.0)
    assert ops["change"]["pages"] == 6  # October had one page
    assert "marked noise" in data["definitions"]["noise_pct"]


def test_report_csv_and_json_carry_the_same_numbers(seeded: Store) -> None:
    report = build_report(
        settings_for(seeded),
        seeded,
        Month.parse("2026-11", LONDON),
        rota=build_rota(settings_for(seeded)),
    )
    data = json.loads(render(report, "json"))
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))

    def value(section: str, metric: str, person: str = "", rotation: str = "", key: str = ""):  # type: ignore[no-untyped-def]
        found = [
            r["value"]
            for r in rows
            if (r["section"], r["metric"], r["person"], r["rotation"], r["key"])
            == (section, metric, person, rotation, key)
        ]
        assert len(found) == 1, (section, metric, person, key)
        return found[0]

    for person in data["people"]:
        for metric, expected in person.items():
            if metric in ("name", "flags", "night_pages_by_night"):
                continue
            assert value("person", metric, person["name"]) == (
                "" if expected is None else str(expected)
            )
        for night, count in person["night_pages_by_night"].items():
            assert value("person_night", "night_pages", person["name"], key=night) == str(count)
    for rotation in data["rotations"]:
        name = rotation["name"]
        assert value("rotation", "pages", rotation=name) == str(rotation["pages"])
        for response in rotation["response"]:
            for metric in ("ack_median_s", "ack_p90_s", "resolve_median_s", "resolve_p90_s"):
                expected = response[metric]
                got = value("rotation_response", metric, rotation=name, key=response["severity"])
                assert got == ("" if expected is None else str(expected))
        for section in ("noisiest_by_pages", "noisiest_by_night_pages"):
            for alert in rotation[section]:
                for metric in ("pages", "night_pages", *NOISE_KEYS):
                    got = value(section, metric, rotation=name, key=alert["alertname"])
                    assert got == ("" if alert[metric] is None else str(alert[metric]))
        for metric in ("noise_incidents", "unclassified_incidents", "noise_pct", "rest_breaches"):
            assert value("rotation", metric, rotation=name) == str(rotation[metric])
        for alert in rotation["mostly_noise"]:
            got = value("rotation_mostly_noise", "noise_pct", rotation=name, key=alert["alertname"])
            assert got == str(alert["noise_pct"])
        for metric, expected in rotation["change"].items():
            assert value("rotation_change", metric, rotation=name) == str(expected)
    hours = [int(value("hour", "pages", key=str(h))) for h in range(24)]
    assert hours == data["totals"]["pages_by_hour"]


def test_report_html_has_its_charts_and_figures(seeded: Store) -> None:
    report = build_report(
        settings_for(seeded),
        seeded,
        Month.parse("2026-11", LONDON),
        rota=build_rota(settings_for(seeded)),
    )
    page = render(report, "html")
    for chart in ("pages_per_night", "pages_by_hour", "severity_mix"):
        assert f'id="chart-{chart}"><svg' in page
    assert page.count("<svg") == 3
    for fetched in ("<script", "<link", "src=", 'href="http', "@import"):
        assert fetched not in page  # nothing to fetch: it opens offline
    assert "Night pages per night, per person" in page and "Severity mix" in page
    # alert, rule, pages, night pages, incidents, marked noise, not classified
    assert "<td>DiskFull</td><td>disk-rule</td><td>5</td><td>5</td><td>2</td>" in page
    assert "<td>50 % (1 of 2)</td><td>0</td>" in page
    assert "<td>Slow</td><td>latency-rule</td><td>2</td><td>0</td><td>2</td>" in page
    assert "<td>100 % (1 of 1)</td><td>1</td>" in page
    assert "fix the alerts or staff up" not in page  # a's 4 night pages over 8 nights: fine
    assert (
        "ops: mostly noise: Slow (100 % of 1 classified incidents marked noise, 1 unclassified), "
        "DiskFull (50 % of 2 classified incidents marked noise)."
    ) in page
    markdown = render(report, "md")
    assert "| a | Europe/London | 2 |" in markdown
    assert "| incidents marked noise (of those classified) | 66.7 % (2 of 3) |" in markdown
    assert "| Down | outage-rule | 2 | 2 | 1 | 0 % (0 of 1) | 0 |" in markdown


def test_report_of_a_quiet_month_renders_without_warnings(seeded: Store) -> None:
    no_rotations = Settings.model_validate(
        {"database": {"url": seeded.settings.url}, "report": {"time_zone": "Europe/London"}}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for settings in (settings_for(seeded), no_rotations):
            report = build_report(
                settings, seeded, Month.parse("2027-01", LONDON), rota=build_rota(settings)
            )
            page = render(report, "html")
            assert page.count("<svg") == 3 and "no night pages this month" in page
            for fmt in ("md", "csv", "json"):
                assert render(report, fmt)


def test_report_api_formats_auth_and_errors(seeded: Store, make_app: Callable[..., Flask]) -> None:
    config = rota_config()
    config["api"] = {"bearer_token": TOKEN}
    config["report"] = {"time_zone": "Europe/London"}
    client = make_app(**config).test_client()
    url = "/api/v1/reports/burden?month=2026-11"
    assert client.get(url).status_code == 401
    answer = client.get(url, headers=AUTH)
    assert answer.status_code == 200 and answer.json["month"] == "2026-11"
    assert _person(answer.json, "a")["pages"] == 5
    for fmt, media in (("md", "text/markdown"), ("html", "text/html"), ("csv", "text/csv")):
        got = client.get(f"{url}&format={fmt}", headers=AUTH)
        assert got.status_code == 200 and got.content_type.startswith(media)
    one = client.get(f"{url}&rotation=ops", headers=AUTH)
    assert one.json["rotation"] == "ops"
    assert client.get(f"{url}&rotation=nope", headers=AUTH).status_code == 404
    assert client.get("/api/v1/reports/burden?month=2026-13", headers=AUTH).status_code == 400
    assert client.get(f"{url}&format=pdf", headers=AUTH).status_code == 400


def test_report_cli_writes_the_month(
    seeded: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "onwatch.yaml"
    document = rota_config()
    document["database"] = {"url": seeded.settings.url}
    config.write_text(yaml.safe_dump(document))
    out = tmp_path / "nov.json"
    argv = ["report", "burden", "--config", str(config), "--month", "2026-11"]
    assert main([*argv, "--format", "json", "--output", str(out)]) == 0
    assert _person(json.loads(out.read_text()), "a")["pages"] == 5
    assert capsys.readouterr().out.startswith("wrote ")
    assert main([*argv, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("hour,")
    assert main([*argv, "--rotation", "nope"]) == 2
    assert "no rotation 'nope'" in capsys.readouterr().err
    assert main(["report", "burden", "--config", str(config), "--month", "11-2026"]) == 2


def test_monthly_job_writes_last_months_files(seeded: Store, tmp_path: Path) -> None:
    settings = settings_for(seeded, folder=str(tmp_path / "reports"), formats=["json", "md"])
    written = write_monthly_report(
        settings, seeded, datetime(2026, 12, 1, 0, 30, tzinfo=UTC), rota=build_rota(settings)
    )
    assert [p.name for p in written] == ["burden-2026-11.json", "burden-2026-11.md"]
    assert _person(json.loads(written[0].read_text()), "a")["pages"] == 5
    # Run again (a catch-up): the same files, overwritten, nothing else.
    write_monthly_report(
        settings, seeded, datetime(2026, 12, 1, 1, 0, tzinfo=UTC), rota=build_rota(settings)
    )
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "burden-2026-11.json",
        "burden-2026-11.md",
    ]


def announcing(store: Store, folder: Path) -> Settings:
    """Two rotations: ops announces to two targets (and one without a URL), quiet to none."""
    document = rota_config()
    document["database"] = {"url": store.settings.url}
    document["report"] = {
        "time_zone": "Europe/London",
        "folder": str(folder),
        "formats": ["md", "html"],
    }
    document["notifications"] = {
        "targets": [
            {"name": "ops-chat", "kind": "slack", "url": "https://hooks.example.com/ops"},
            {"name": "ops-hook", "kind": "webhook", "url": "https://example.com/ops"},
            {"name": "ops-mail", "kind": "webhook", "url": ""},  # unset: sends nothing
        ]
    }
    document["rotations"][0]["notify"] = ["ops-chat", "ops-hook", "ops-mail"]
    document["rotations"].append(
        {
            "name": "quiet",
            "time_zone": "America/New_York",
            "services": ["search"],
            "shift_length": "1w",
            "handoff": {"weekday": "monday", "time": "09:00"},
            "start": "2026-11-02",
            "members": ["f", "g"],
            "layers": [{"name": "primary"}],
        }
    )
    return Settings.model_validate(document)


def announcements(store: Store) -> list[NotificationMessage]:
    with store.read() as session:
        statement = select(NotificationMessage).order_by(col(NotificationMessage.id))
        return list(session.exec(statement))


def test_monthly_job_announces_to_each_rotations_targets(seeded: Store, tmp_path: Path) -> None:
    settings = announcing(seeded, tmp_path / "reports")
    now = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    written = write_monthly_report(settings, seeded, now, rota=build_rota(settings))
    files = [str(path.resolve()) for path in written]
    data = report_data(
        build_report(settings, seeded, Month.parse("2026-11", LONDON), rota=build_rota(settings))
    )
    ops = data["rotations"][0]
    queued = announcements(seeded)
    # ops's two targets with a URL; not the one without, and nothing for quiet (no notify).
    assert [m.target for m in queued] == ["ops-chat", "ops-hook"]
    for message in queued:
        assert (message.topic, message.audience, message.incident_id) == ("burden_report", "", None)
        assert message.dedup_key == "burden-report-2026-11-ops"
        assert message.subject == "On-call burden report November 2026: ops"
        assert (message.status, message.attempts) == ("pending", 0)
        assert message.next_attempt_at == now
        # Retried for a day, not the hour a page gets: nobody reads it at 00:30 on the 1st.
        assert message.deadline_at == now + timedelta(days=1)
        assert message.payload == queued[0].payload and message.text == queued[0].text
    payload = queued[0].payload
    assert payload["files"] == files
    assert (payload["month"], payload["rotation"]) == ("2026-11", "ops")
    assert (
        (payload["pages"], payload["night_pages"]) == (ops["pages"], ops["night_pages"]) == (7, 5)
    )
    assert payload["people_over_night_limit"] == ops["people_over_night_limit"] == []
    assert payload["rest_breaches"] == ops["rest_breaches"] == 1  # c: Sunday, then Monday
    top = ops["noisiest_by_pages"][0]
    assert payload["top_alert"] == {k: v for k, v in top.items() if k in payload["top_alert"]}
    assert (top["alertname"], top["noise_pct"]) == ("DiskFull", 50.0)
    assert payload["mostly_noise"] == ["Slow", "DiskFull"]
    assert payload["recommendation"] is None
    text = queued[0].text
    assert ops["out_of_hours_pages"] == 6  # a's 4, b's Saturday, d's 02:05
    assert "Pages: 7, 5 at night, 6 out of business hours." in text
    assert "Over 2 night pages a night on call: nobody." in text
    assert "Rest between shifts shorter than ops asks for: 1." in text
    assert (
        "Noisiest alert: DiskFull, 5 pages (rule disk-rule); "
        "50 % of 2 classified incidents marked noise." in text
    )
    assert text.endswith("Report: " + ", ".join(files))


def test_monthly_job_announces_a_month_once(seeded: Store, tmp_path: Path) -> None:
    settings = announcing(seeded, tmp_path / "reports")
    write_monthly_report(
        settings, seeded, datetime(2026, 12, 1, 0, 30, tzinfo=UTC), rota=build_rota(settings)
    )
    first = [(m.id, m.target, m.dedup_key) for m in announcements(seeded)]
    # A catch-up run of the same month, later: the files again, no second announcement.
    write_monthly_report(
        settings, seeded, datetime(2026, 12, 1, 6, 0, tzinfo=UTC), rota=build_rota(settings)
    )
    assert [(m.id, m.target, m.dedup_key) for m in announcements(seeded)] == first
    # The next month is announced on its own.
    write_monthly_report(
        settings, seeded, datetime(2027, 1, 1, 0, 30, tzinfo=UTC), rota=build_rota(settings)
    )
    keys = [m.dedup_key for m in announcements(seeded)]
    assert keys == [*(k for _, _, k in first), *["burden-report-2026-12-ops"] * 2]
    december = announcements(seeded)[-1]
    assert december.subject == "On-call burden report December 2026: ops"
    assert "Pages: 0, 0 at night" in december.text
    assert "Noisiest alert: none recorded." in december.text


def test_report_settings_reject_unknown_keys_and_zones() -> None:
    from receiver.config.settings import ConfigError

    with pytest.raises((ConfigError, ValueError), match="folderr"):
        Settings.model_validate({"report": {"folderr": "x"}})
    with pytest.raises((ConfigError, ValueError), match="time zone"):
        Settings.model_validate({"report": {"time_zone": "Mars/Base"}})
    hours = Settings.model_validate({"report": {"business_hours": {"days": ["monday"]}}})
    assert hours.report.policy(hours.response.mttr).business_hours.days == frozenset({0})


def test_report_measures_time_to_resolve_against_response_mttr(seeded: Store) -> None:
    # One definition of the MTTR targets: the one each incident's resolution is judged by.
    settings = settings_for(seeded).model_copy(
        update={
            "response": Settings.model_validate({"response": {"mttr": {"SEV2": "1s"}}}).response
        }
    )
    data = report_data(
        build_report(settings, seeded, Month.parse("2026-11", LONDON), rota=build_rota(settings))
    )
    assert data["definitions"]["resolve_target_s"] == {
        "SEV1": 4 * 3600.0,
        "SEV2": 1.0,
        "SEV3": 72 * 3600.0,
        "SEV4": 7 * 24 * 3600.0,
    }
    sev2 = next(r for r in data["rotations"][0]["response"] if r["severity"] == "SEV2")
    assert sev2["resolved"] > 0
    assert (sev2["resolve_target_s"], sev2["resolve_within_target_pct"]) == (1.0, 0.0)


def test_report_settings_name_the_new_home_of_resolve_targets() -> None:
    from receiver.config.settings import ConfigError

    with pytest.raises((ConfigError, ValueError), match=r"moved to response\.mttr"):
        Settings.model_validate({"report": {"resolve_target_hours": {"SEV1": 4}}})


@pytest.mark.parametrize(
    ("month", "status"),
    [
        ("9999-12", 400),  # once 75 s and 580 MB: the rota generated up to year 9999
        ("2026-12", 400),  # the clock says 2026-11-28: next month has nothing yet
        ("2016-10", 400),
        ("2016-11", 200),  # ten years back
        ("2026-11", 200),  # the current month, so far
    ],
)
def test_report_api_months_run_from_ten_years_back_to_now(
    make_app: Callable[..., Flask], month: str, status: int
) -> None:
    client = make_app(**rota_config()).test_client()

    response = client.get(f"/api/v1/reports/burden?month={month}")

    assert response.status_code == status, response.get_json()
    if status == 400:
        assert response.get_json()["error"] == (
            f'month: "{month}" is out of range: expected a month from 2016-11 to 2026-11 '
            "(the current month)"
        )


def test_report_api_rotation_with_nul_is_a_404(make_app: Callable[..., Flask]) -> None:
    client = make_app(**rota_config()).test_client()

    response = client.get("/api/v1/reports/burden?month=2026-11&rotation=o%00ps")

    assert response.status_code == 404
    assert "no rotation" in response.get_json()["error"]


def test_report_cli_refuses_a_month_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "onwatch.yaml"
    document = rota_config()
    document["database"] = {"url": f"sqlite:///{tmp_path / 'onwatch.db'}"}
    config.write_text(yaml.safe_dump(document))

    code = main(["report", "burden", "--config", str(config), "--month", "9999-12"])

    assert code == 2
    error = capsys.readouterr().err
    assert '--month: "9999-12" is out of range: expected a month from ' in error
    assert "(the current month)" in error


def test_report_api_counts_the_current_months_nights_so_far(
    seeded: Store, make_app: Callable[..., Flask], clock: Any
) -> None:
    """The clock says 2026-11-28: November's nights on call end there, not on the 30th."""
    config = rota_config()
    config["api"] = {"bearer_token": TOKEN}
    config["report"] = {"time_zone": "Europe/London"}
    client = make_app(**config).test_client()
    so_far = client.get("/api/v1/reports/burden?month=2026-11", headers=AUTH).json
    settings = settings_for(seeded)
    month, rota = Month.parse("2026-11", LONDON), build_rota(settings)
    whole = report_data(build_report(settings, seeded, month, rota=rota))
    at_clock = report_data(build_report(settings, seeded, month, rota=rota, now=clock()))
    assert so_far["rotations"] == at_clock["rotations"]
    ops_so_far, ops_whole = so_far["rotations"][0], whole["rotations"][0]
    assert ops_so_far["night_pages"] == ops_whole["night_pages"] == 5
    assert 0 < ops_so_far["nights_on_call"] < ops_whole["nights_on_call"]
    assert ops_so_far["night_pages_per_night"] > ops_whole["night_pages_per_night"]


def test_report_opens_with_the_verdict_and_ends_with_the_definitions(seeded: Store) -> None:
    settings = settings_for(seeded, night_page_limit=0.25)
    report = build_report(
        settings, seeded, Month.parse("2026-11", LONDON), rota=build_rota(settings)
    )
    markdown = render(report, "md")
    verdict = markdown.index("## Verdict")
    over = markdown.index("More than 0.25 night pages a night on call: a (0.29 a night")
    noisiest = markdown.index("ops: noisiest alerts by night pages: DiskFull (5), Down (2).")
    action = markdown.index("**ops: fix the alerts or staff up")
    tables = markdown.index("## People")
    definitions = markdown.index("## Definitions")
    assert verdict < over < noisiest < action < tables < definitions
    assert markdown.index("Interruptions: pages within 60 s") > definitions
    page = render(report, "html")
    assert page.index("<h2>Verdict</h2>") < page.index("More than 0.25 night pages a night")
    assert page.index("fix the alerts or staff up") < page.index("<svg")
    assert page.index("<h2>People</h2>") < page.index("<h2>Definitions</h2>")
    assert page.index("<h2>Definitions</h2>") < page.index("Interruptions: pages within 60 s")
    found = json.loads(render(report, "json"))["verdict"]
    assert [p["name"] for p in found["over_night_limit"]] == ["a"]
    assert found["over_night_limit"][0]["rotations"] == ["ops"]
    assert [a["alertname"] for a in found["noisiest_alerts"][0]["alerts"]] == ["DiskFull", "Down"]
    assert [a["rotation"] for a in found["actions"]] == ["ops"]
    # The CSV keeps its rows: no verdict section.
    assert {row["section"] for row in csv.DictReader(io.StringIO(render(report, "csv")))} >= {
        "person",
        "rotation",
    }
    assert "verdict" not in render(report, "csv")


def test_report_says_one_line_for_a_table_with_no_rows(seeded: Store) -> None:
    settings = settings_for(seeded)
    report = build_report(
        settings, seeded, Month.parse("2027-01", LONDON), rota=build_rota(settings)
    )
    markdown = render(report, "md")
    assert "## Rotation ops: noisiest alerts by night pages\n\nNo night pages this month.\n" in (
        markdown
    )
    assert "## Rotation ops: noisiest alerts by pages\n\nNo pages this month.\n" in markdown
    assert "## Rotation ops: response by severity\n\nNo incidents opened this month.\n" in markdown
    assert "| alert | rule |" not in markdown and "| severity |" not in markdown
    page = render(report, "html")
    assert "<p>No night pages this month.</p>" in page
    assert "<th>alert</th>" not in page and "<th>severity</th>" not in page
    assert "<table>\n<tr><th>person</th>" in page  # a table with rows is still drawn
    nobody = Settings.model_validate(
        {"database": {"url": seeded.settings.url}, "report": {"time_zone": "Europe/London"}}
    )
    empty = build_report(nobody, seeded, Month.parse("2027-01", LONDON), rota=build_rota(nobody))
    assert "## People\n\nNobody was on call or paged this month.\n" in render(empty, "md")


def test_report_charts_count_on_integer_axes(seeded: Store) -> None:
    import re

    from receiver.report.charts import charts

    settings = settings_for(seeded)
    report = build_report(
        settings, seeded, Month.parse("2026-11", LONDON), rota=build_rota(settings)
    )
    drawn = charts(report)
    for name, svg in drawn.items():
        labels = [text.strip() for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
        numbers = [label for label in labels if re.fullmatch(r"[−-]?[\d.]+", label)]
        assert numbers, name
        assert all(re.fullmatch(r"[−-]?\d+", n) for n in numbers), (name, numbers)
