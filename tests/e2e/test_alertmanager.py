"""End to end: a real Alertmanager 0.25 notifies a real onwatch server (gunicorn, 2 workers)
on loopback, on SQLite and on PostgreSQL.

Alerts go in where Prometheus puts them (`POST /api/v2/alerts` on Alertmanager) and come out
of onwatch's incident API; nothing in between is faked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.alertmanager import SERVER_TOKEN
from tests.support.servers import (
    get_text,
    incident_detail,
    list_incidents,
    post_to_alertmanager,
    running_alertmanager,
    running_onwatch,
    wait_for,
)

pytestmark = pytest.mark.e2e

TOKEN = SERVER_TOKEN
GENERATOR = "http://prometheus.example.com:9090/graph?g0.expr=up"
# Group A: three instances of one service (one group, one incident). Group B: another group.
GROUP_A = {"alertname": "E2EInstanceDown", "service": "api"}
GROUP_B = {"alertname": "E2EHighLatency", "service": "search"}
INSTANCES = ("api-1:9100", "api-2:9100", "api-3:9100")
POLL_TIMEOUT_S = 30.0


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _group_a_alerts(**extra: str) -> list[dict[str, Any]]:
    # No startsAt: Alertmanager stamps "now", so the batch lands in one notification.
    return [
        {
            "labels": {**GROUP_A, "instance": instance, "severity": "critical", "env": "prod"},
            "annotations": {"summary": "Instance is down", "description": f"{instance} is down"},
            "generatorURL": GENERATOR,
            **extra,
        }
        for instance in INSTANCES
    ]


def _group_b_alerts(**extra: str) -> list[dict[str, Any]]:
    return [
        {
            "labels": {**GROUP_B, "severity": "warning", "env": "prod"},
            "annotations": {"summary": "p99 latency above 2s"},
            "generatorURL": GENERATOR,
            **extra,
        }
    ]


def _resolving(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same alerts again with endsAt in the past: how a source says "resolved"."""
    ended = _rfc3339(datetime.now(UTC) - timedelta(seconds=1))
    return [{**alert, "endsAt": ended} for alert in alerts]


def _by_group(incidents: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for incident in incidents:
        grouped.setdefault(incident["group_labels"].get("alertname", ""), []).append(incident)
    return grouped


def _open_with_alerts(base: str, expected: dict[str, int]) -> dict[str, dict[str, Any]] | None:
    """The open incidents by alertname once each expected group has its N firing alerts."""
    found: dict[str, dict[str, Any]] = {}
    for incident in list_incidents(base, status="open"):
        detail = incident_detail(base, incident["id"])
        found[incident["group_labels"].get("alertname", "")] = detail
    for name, count in expected.items():
        detail = found.get(name)
        if detail is None or len(detail["alerts"]) != count:
            return None
        if any(alert["status"] != "firing" for alert in detail["alerts"]):
            return None
    return found


def _channel(opened_at: str, description: str, suffix: str = "") -> str:
    day = datetime.fromisoformat(opened_at).astimezone(UTC)
    return f"#inc-{day:%Y%m%d}-{description}{suffix}"


def test_alertmanager_groups_open_resolve_and_reopen_incidents(
    config_path: Path, tmp_path: Path
) -> None:
    log_path = tmp_path / "onwatch-e2e.log"
    with (
        running_onwatch(config_path, workers=2, threads=4, log_path=log_path) as onwatch,
        running_alertmanager(
            f"{onwatch}/api/v1/alertmanager", bearer=TOKEN, group_by="alertname,service"
        ) as am,
    ):
        # 1. Three alerts of group A and one of group B: two incidents, never merged.
        post_to_alertmanager(am, _group_a_alerts() + _group_b_alerts())
        opened = wait_for(
            lambda: _open_with_alerts(onwatch, {GROUP_A["alertname"]: 3, GROUP_B["alertname"]: 1}),
            timeout=POLL_TIMEOUT_S,
            what="two open incidents with 3 and 1 firing alerts",
        )
        a, b = opened[GROUP_A["alertname"]], opened[GROUP_B["alertname"]]
        assert len(list_incidents(onwatch)) == 2, "a group was split or an extra incident opened"
        assert a["id"] != b["id"]

        assert a["status"] == "open" and a["resolved_at"] is None
        assert a["receiver"] == "webhook"
        assert a["group_labels"] == GROUP_A
        assert a["group_key"] == '{}:{alertname="E2EInstanceDown", service="api"}'
        assert a["severity"] == "SEV2"  # severity="critical" -> SEV2 (built-in rule)
        assert a["service"] == "api"
        assert a["title"] == "E2EInstanceDown: Instance is down"
        assert a["channel"] == _channel(a["opened_at"], "e2einstancedown-api")
        assert sorted(alert["labels"]["instance"] for alert in a["alerts"]) == list(INSTANCES)
        assert len({alert["fingerprint"] for alert in a["alerts"]}) == 3
        for alert in a["alerts"]:
            assert alert["severity"] == "SEV2" and alert["service"] == "api"
            assert alert["rule"] == "severity-critical"
            assert alert["ends_at"] is None
            assert alert["generator_url"] == GENERATOR
        assert [entry["kind"] for entry in a["timeline"]].count("incident_opened") == 1

        assert b["group_labels"] == GROUP_B
        assert b["severity"] == "SEV3"  # severity="warning" -> SEV3
        assert b["service"] == "search"
        assert b["channel"] == _channel(b["opened_at"], "e2ehighlatency-search")
        assert [alert["labels"]["alertname"] for alert in b["alerts"]] == ["E2EHighLatency"]

        # 2. The sources resolve everything: both incidents resolve, nothing else opens.
        post_to_alertmanager(am, _resolving(_group_a_alerts() + _group_b_alerts()))

        def both_resolved() -> dict[int, dict[str, Any]] | None:
            resolved = {i["id"]: i for i in list_incidents(onwatch, status="resolved")}
            if not {a["id"], b["id"]} <= set(resolved):
                return None
            return {key: incident_detail(onwatch, key) for key in (a["id"], b["id"])}

        resolved = wait_for(both_resolved, timeout=POLL_TIMEOUT_S, what="both incidents resolved")
        assert list_incidents(onwatch, status="open") == []
        assert len(list_incidents(onwatch)) == 2
        for incident in resolved.values():
            assert incident["resolved_at"] is not None
            assert all(alert["status"] == "resolved" for alert in incident["alerts"])
            assert all(alert["ends_at"] is not None for alert in incident["alerts"])
            kinds = [entry["kind"] for entry in incident["timeline"]]
            assert kinds.count("incident_resolved") == 1, kinds
        assert len(resolved[a["id"]]["alerts"]) == 3

        # 3. Group A fires again: a NEW incident; the resolved one stays resolved.
        post_to_alertmanager(am, _group_a_alerts())
        again = wait_for(
            lambda: _open_with_alerts(onwatch, {GROUP_A["alertname"]: 3}),
            timeout=POLL_TIMEOUT_S,
            what="group A open again with 3 firing alerts",
        )[GROUP_A["alertname"]]
        assert again["id"] not in (a["id"], b["id"])
        assert again["group_key"] == a["group_key"]
        assert {x["fingerprint"] for x in again["alerts"]} == {
            x["fingerprint"] for x in a["alerts"]
        }
        # Same description on the same day: the channel name gets a "-2".
        same_day = again["opened_at"][:10] == a["opened_at"][:10]
        assert again["channel"] == _channel(
            again["opened_at"], "e2einstancedown-api", "-2" if same_day else ""
        )
        old_a = incident_detail(onwatch, a["id"])
        assert old_a["status"] == "resolved"
        assert old_a["resolved_at"] == resolved[a["id"]]["resolved_at"]
        assert incident_detail(onwatch, b["id"])["status"] == "resolved"
        assert len(list_incidents(onwatch)) == 3
        assert [i["id"] for i in list_incidents(onwatch, status="open")] == [again["id"]]

        # Alertmanager always presented the right token; the token never reached the log.
        status, metrics = get_text(f"{onwatch}/metrics")
        assert status == 200
        assert 'reason="unauthorized"' not in metrics
        assert 'reason="store_unavailable"' not in metrics
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert TOKEN not in log
    assert "NO credentials" not in log
