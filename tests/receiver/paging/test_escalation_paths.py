"""Escalation paths: the pure path, `GET /api/v1/rotations/<name>/escalation`, and the CLI.

The clock is conftest's START, Saturday 2026-11-28 06:45 UTC: ops (tests/rota_config.py)
is in the week of Nov 23, primary d, secondary b, escalation person f; the week of Nov 30
has primary e, secondary c. Here ops acknowledges SEV2 within 10 minutes and SEV3 within 30,
and repeats its chain once.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from receiver.cli import main
from receiver.cli_support import UsageError
from receiver.composition import build_rota
from receiver.config.settings import Settings
from receiver.paging import views as escalation_views
from receiver.paging.cli import cmd_escalation_show
from receiver.rota.models import OverrideRecord
from receiver.store.database import Store
from response.resolution import format_span
from scheduler.escalation_paths import PathPolicy, escalation_path
from scheduler.overrides import Override
from tests.support.alertmanager import AUTH, TOKEN
from tests.support.clock import START
from tests.support.rota_config import rota_config

MINUTES = timedelta(minutes=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def paths_config(*, escalate_to_rotation: bool = False) -> dict[str, Any]:
    """ops with its own timeouts and one repeat; optionally escalating to rotation `dba`."""
    config = rota_config()
    for person in config["people"]:
        if person["name"] == "d":
            person["pagerduty_user_id"] = "PD0D0D0"
    config["rotations"][0]["paging"] = {
        "ack_timeout": {"SEV2": "10m", "SEV3": "30m"},
        "repeat": 1,
    }
    if escalate_to_rotation:
        config["people"].append(
            {"name": "h", "email": "h@example.com", "time_zone": "America/New_York"}
        )
        config["rotations"][0]["escalation"] = {"rotation": "dba"}
        config["rotations"].append(
            {
                "name": "dba",
                "time_zone": "America/New_York",
                "members": ["g", "h"],
                "shift_length": "1w",
                "handoff": {"weekday": "monday", "time": "09:00"},
                "start": "2026-11-02",
            }
        )
    return config


def who(steps: Any) -> list[tuple[str, str, str | None]]:
    """(after, target, person) of each step, from the pure path or the API."""
    found = []
    for step in steps:
        if isinstance(step, dict):
            person = step["person"]["name"] if step["person"] else None
            found.append((step["after"], step["target"], person))
        else:
            found.append((format_span(step.after), step.target, step.person))
    return found


# --------------------------------------------------------------------------------------
# The pure path


def test_sev2_pages_one_level_at_a_time_and_repeats() -> None:
    rota = build_rota(Settings.model_validate(paths_config()))

    path = escalation_path(rota, "ops", "SEV2", PathPolicy(10 * MINUTES, repeat=1), START)

    assert who(path.steps) == [
        ("0s", "primary", "d"),
        ("10m", "secondary", "b"),
        ("20m", "escalation", "f"),
        ("30m", "primary", "d"),
        ("40m", "secondary", "b"),
        ("50m", "escalation", "f"),
    ]
    assert [s.loop for s in path.steps] == [0, 0, 0, 1, 1, 1]
    assert path.steps[2].via == "escalation person"
    assert path.queued is None


def test_sev1_pages_every_layer_at_once() -> None:
    rota = build_rota(Settings.model_validate(paths_config()))

    path = escalation_path(rota, "ops", "SEV1", PathPolicy(5 * MINUTES, all_at_once=True), START)

    assert who(path.steps) == [
        ("0s", "primary", "d"),
        ("0s", "secondary", "b"),
        ("5m", "escalation", "f"),
    ]


def test_sev1_pages_every_layer_at_once_in_the_repeat_too() -> None:
    rota = build_rota(Settings.model_validate(paths_config()))
    policy = PathPolicy(5 * MINUTES, repeat=1, all_at_once=True)

    path = escalation_path(rota, "ops", "SEV1", policy, START)

    assert who(path.steps) == [
        ("0s", "primary", "d"),
        ("0s", "secondary", "b"),
        ("5m", "escalation", "f"),
        ("10m", "primary", "d"),
        ("10m", "secondary", "b"),
        ("15m", "escalation", "f"),
    ]
    assert [s.loop for s in path.steps] == [0, 0, 0, 1, 1, 1]


def test_sev4_pages_nobody_and_waits_for_the_primarys_business_day() -> None:
    config = paths_config()
    for person in config["people"]:
        if person["name"] == "d":
            person["time_zone"] = "America/New_York"
    rota = build_rota(Settings.model_validate(config))

    path = escalation_path(rota, "ops", "SEV4", PathPolicy(None), START)

    assert path.steps == ()
    assert path.queued is not None
    # Monday Nov 30 09:00 in New York (d's zone), when e has taken over the primary.
    assert path.queued.until == utc(2026, 11, 30, 14, 0)
    assert (path.queued.zone.key, path.queued.target, path.queued.person) == (
        "America/New_York",
        "primary",
        "e",
    )


def test_each_step_reaches_whoever_is_on_call_when_it_is_sent() -> None:
    rota = build_rota(Settings.model_validate(paths_config()))
    before_handoff = utc(2026, 11, 30, 8, 55)

    path = escalation_path(rota, "ops", "SEV3", PathPolicy(30 * MINUTES), before_handoff)

    assert who(path.steps) == [
        ("0s", "primary", "d"),
        ("30m", "secondary", "c"),  # 09:25: the week of Nov 30
        ("1h", "escalation", "f"),
    ]


def test_overrides_are_honoured_in_both_rotations() -> None:
    rota = build_rota(Settings.model_validate(paths_config(escalate_to_rotation=True)))
    covers = [
        Override(1, "ops", "primary", "a", START - MINUTES, START + MINUTES, START),
        Override(2, "dba", "primary", "g", START, START + timedelta(hours=1), START),
    ]

    plain = escalation_path(rota, "ops", "SEV2", PathPolicy(10 * MINUTES), START)
    covered = escalation_path(rota, "ops", "SEV2", PathPolicy(10 * MINUTES), START, covers)

    assert who(plain.steps) == [
        ("0s", "primary", "d"),
        ("10m", "secondary", "b"),
        ("20m", "escalation", "h"),  # dba's week of Nov 23 (g, h, g, h from Nov 2)
    ]
    assert plain.steps[2].via == "escalation rotation dba primary"
    assert who(covered.steps) == [
        ("0s", "primary", "a"),
        ("10m", "secondary", "b"),
        ("20m", "escalation", "g"),
    ]


def test_before_the_rotation_starts_nobody_is_paged() -> None:
    rota = build_rota(Settings.model_validate(paths_config()))

    path = escalation_path(rota, "ops", "SEV2", PathPolicy(10 * MINUTES), utc(2026, 10, 1))

    assert [s.person for s in path.steps if s.target != "escalation"] == [None, None]


# --------------------------------------------------------------------------------------
# Over HTTP


def with_escalation(app: Flask) -> Flask:
    """The app with the escalation blueprint (until create_app registers it itself)."""
    if "escalation" not in app.blueprints:
        app.register_blueprint(escalation_views.bp)
    return app


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return with_escalation(make_app(**paths_config())).test_client()


def test_api_shows_every_severity_with_contacts_and_no_secrets(client: FlaskClient) -> None:
    response = client.get("/api/v1/rotations/ops/escalation")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["rotation"], body["at"], body["pager"]) == ("ops", START.isoformat(), "dry-run")
    assert body["escalation_target"]["person"]["name"] == "f"
    by_severity = {path["severity"]: path for path in body["severities"]}
    assert list(by_severity) == ["SEV1", "SEV2", "SEV3", "SEV4"]
    sev2 = by_severity["SEV2"]
    assert (sev2["ack_timeout"], sev2["ack_timeout_seconds"], sev2["repeat"]) == ("10m", 600, 1)
    assert who(sev2["steps"])[:3] == [
        ("0s", "primary", "d"),
        ("10m", "secondary", "b"),
        ("20m", "escalation", "f"),
    ]
    assert sev2["steps"][1]["at"] == "2026-11-28T06:55:00+00:00"
    assert sev2["steps"][0]["person"] == {
        "name": "d",
        "email": "d@example.com",
        "time_zone": "Europe/London",
        "has_pagerduty_user_id": True,
    }
    assert "PD0D0D0" not in response.get_data(as_text=True)
    assert by_severity["SEV1"]["all_layers_at_once"] is True
    sev4 = by_severity["SEV4"]
    assert (sev4["pages_now"], sev4["steps"], sev4["ack_timeout"]) == (False, [], None)
    assert sev4["queued"]["until"] == "2026-11-30T09:00:00+00:00"
    assert sev4["queued"]["person"]["name"] == "e"


def test_api_one_severity_any_case(client: FlaskClient) -> None:
    body = client.get("/api/v1/rotations/ops/escalation?severity=sev3").get_json()

    assert [path["severity"] for path in body["severities"]] == ["SEV3"]


def test_api_unknown_severity_is_400_and_unknown_rotation_404(client: FlaskClient) -> None:
    bad = client.get("/api/v1/rotations/ops/escalation?severity=SEV5")
    missing = client.get("/api/v1/rotations/nope/escalation")

    assert bad.status_code == 400
    assert bad.get_json()["error"] == (
        "severity: unknown severity 'SEV5': expected one of SEV1, SEV2, SEV3, SEV4"
    )
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "no rotation 'nope'"}


def test_api_honours_stored_overrides(client: FlaskClient, store: Store) -> None:
    store.write(
        lambda session: session.add(
            OverrideRecord(
                rotation="ops",
                layer="primary",
                person="a",
                start_at=START - timedelta(hours=1),
                end_at=START + timedelta(hours=1),
                reason="d's train is late",
                requested_by="d",
                created_at=START,
            )
        )
    )

    body = client.get("/api/v1/rotations/ops/escalation?severity=SEV2").get_json()

    assert who(body["severities"][0]["steps"])[0] == ("0s", "primary", "a")


def test_api_token_is_required_when_configured(make_app: Callable[..., Flask]) -> None:
    app = with_escalation(make_app(api={"bearer_token": TOKEN}, **paths_config()))
    client = app.test_client()

    assert client.get("/api/v1/rotations/ops/escalation").status_code == 401
    assert client.get("/api/v1/rotations/ops/escalation", headers=AUTH).status_code == 200


# --------------------------------------------------------------------------------------
# The CLI


def _settings(store: Store, config: dict[str, Any]) -> Settings:
    return Settings.model_validate({**config, "database": {"url": store.settings.url}})


def test_cli_shows_the_paths(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(config=None, rotation="ops", severity=None)

    assert cmd_escalation_show(args, _settings(store, paths_config()), now=START) == 0

    out = capsys.readouterr().out
    assert out.startswith(
        "ops: escalation paths for an incident opened Sat 2026-11-28 06:45 GMT "
        "(pager dry-run, times in Europe/London)\n"
    )
    assert (
        "SEV2: one level at a time; next level after 10m without an acknowledgement; "
        "chain repeated once\n"
        "  +0s      Sat 2026-11-28 06:45 GMT  ops primary: d <d@example.com> "
        "(Europe/London, PagerDuty user set)\n"
        "  +10m     Sat 2026-11-28 06:55 GMT  ops secondary: b <b@example.com> "
        "(Europe/London, no PagerDuty user)\n"
    ) in out
    assert "escalation person (repeat 1): f <f@example.com>" in out
    assert (
        "SEV4: pages nobody now (next business day)\n"
        "  queued until Mon 2026-11-30 09:00 GMT (09:00 on the next business day in "
        "Europe/London), then ops primary: e <e@example.com>"
    ) in out


def test_cli_refuses_unknown_severity_and_rotation(store: Store) -> None:
    settings = _settings(store, paths_config())

    with pytest.raises(UsageError, match="--severity: unknown severity 'SEV9'"):
        cmd_escalation_show(
            argparse.Namespace(config=None, rotation="ops", severity="SEV9"), settings, now=START
        )
    with pytest.raises(UsageError, match=r"no rotation 'nope' \(rotations: ops\)"):
        cmd_escalation_show(
            argparse.Namespace(config=None, rotation="nope", severity=None), settings, now=START
        )


def test_cli_subcommand_parses_and_exits_2_on_usage_errors(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "onwatch.yaml"
    path.write_text(yaml.safe_dump({**paths_config(), "database": {"url": store.settings.url}}))
    good = ["escalation", "show", "ops", "--severity", "SEV1", "--config", str(path)]
    bad = ["escalation", "show", "ops", "--severity", "x", "--config", str(path)]

    assert main(good) == 0
    assert main(bad) == 2
    captured = capsys.readouterr()
    assert "SEV1: every layer at once" in captured.out
    assert captured.err.startswith("onwatch: --severity: unknown severity 'x'")
