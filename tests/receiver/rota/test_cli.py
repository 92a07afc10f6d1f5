"""`onwatch rota check|show|export` and `onwatch calendar urls` on real configuration files."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import icalendar
import pytest
import yaml

from receiver.cli import main
from tests.support.paths import REPO_ROOT
from tests.support.rota_config import rota_config

REPO = REPO_ROOT


def write_config(tmp_path: Path, config: dict[str, Any]) -> str:
    config = {"database": {"url": f"sqlite:///{tmp_path / 'onwatch.db'}"}, **config}
    path = tmp_path / "onwatch.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_rota_check_passes_on_example(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # its default database path is relative; none exists there

    status = main(["rota", "check", "--config", "config.example.yaml"])

    assert status == 0
    assert "rota OK: no violations (2 rotations, 12 people" in capsys.readouterr().out


def test_rota_check_lists_violations_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = rota_config()
    config["rotations"][0].update(members=["a", "b"], layers=[{"name": "primary"}], min_rest="14d")
    path = write_config(tmp_path, config)

    status = main(["rota", "check", "--config", path, "--from", "2026-11-02", "--to", "2026-12-01"])

    out = capsys.readouterr().out
    assert status == 1
    assert "layer-too-small" in out
    assert "ops primary: 2 members with 1 week shifts cannot each rest 14 days" in out
    assert "rest-gap" in out
    assert (
        "a would have 7 days of rest before ops primary (starts 2026-11-16 09:00 UTC), after "
        "ops primary (ends 2026-11-09 09:00 UTC); the rotation ops requires 14 days"
    ) in out
    assert "violations (1 rotations, 7 people, 0 overrides, 2026-11-02 .. 2026-12-01)" in out


def _with_forced_override(tmp_path: Path, start: str, end: str) -> str:
    """A config file (the rota_config example, its database migrated) in which c covers ops
    from `start` to `end` by a forced override, made through the API."""
    from receiver.app import create_app
    from receiver.config.settings import load_settings

    path = write_config(tmp_path, rota_config())
    assert main(["db", "upgrade", "--config", path]) == 0
    client = create_app(load_settings(path)).test_client()
    forced = client.post(
        "/api/v1/rotations/ops/overrides",
        json={"person": "c", "start": start, "end": end, "force": True},
    )
    assert forced.status_code == 201
    return path


def test_rota_check_flags_forced_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_app
) -> None:
    path = _with_forced_override(tmp_path, "2026-11-28T12:00:00Z", "2026-11-29T12:00:00Z")

    status = main(["rota", "check", "--config", path, "--from", "2026-11-20", "--to", "2026-12-10"])

    out = capsys.readouterr().out
    assert status == 1
    assert out.count("[forced]") == 2
    assert "(forced override 1)" in out


def test_rota_show_prints_table_in_rotation_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, rota_config())

    status = main(
        [
            "rota",
            "show",
            "ops",
            "--config",
            path,
            "--from",
            "2027-03-22T12:00:00Z",
            "--to",
            "2027-03-29T12:00:00Z",
        ]
    )

    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0] == "ops: 1 week shifts, times in Europe/London"
    rows = [line.split() for line in out[3:]]
    assert rows[0][0] == "primary"
    assert rows[0][2:7] == ["Mon", "2027-03-22", "09:00", "GMT", "Mon"]
    assert rows[0][7:11] == ["2027-03-29", "09:00", "BST", "167"]


def test_rota_show_unknown_rotation_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, rota_config())

    assert main(["rota", "show", "nope", "--config", path]) == 2
    assert "no rotation 'nope' (rotations: ops)" in capsys.readouterr().err


def test_rota_export_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, rota_config())
    output = tmp_path / "shifts.csv"

    status = main(
        [
            "rota",
            "export",
            "--config",
            path,
            "--format",
            "csv",
            "--output",
            str(output),
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-16",
        ]
    )

    assert status == 0
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert [(r["layer"], r["person"], r["hours"]) for r in rows] == [
        ("primary", "a", "168"),
        ("secondary", "d", "168"),
        ("primary", "b", "168"),
        ("secondary", "e", "168"),
    ]
    assert rows[0]["start_utc"] == "2026-11-02T09:00:00+00:00"


def test_rota_export_ics_writes_every_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, rota_config())
    folder = tmp_path / "feeds"

    assert main(["rota", "export", "--config", path, "--output", str(folder)]) == 0

    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "person-a.ics",
        "person-b.ics",
        "person-c.ics",
        "person-d.ics",
        "person-e.ics",
        "person-f.ics",
        "person-g.ics",
        "rotation-ops.ics",
    ]
    calendar = icalendar.Calendar.from_ical((folder / "rotation-ops.ics").read_bytes())
    assert len(calendar.walk("VEVENT")) > 100


def test_calendar_urls_prints_every_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, rota_config())

    status = main(["calendar", "urls", "--config", path, "--base-url", "https://oncall.example/"])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert len(lines) == 8
    assert lines[0].split()[:2] == ["rotation", "ops"]
    assert lines[0].split()[2].startswith("https://oncall.example/calendar/rotation/ops.ics?token=")


def test_calendar_urls_needs_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = rota_config()
    config["calendar"] = {}
    path = write_config(tmp_path, config)

    assert main(["calendar", "urls", "--config", path, "--base-url", "https://x"]) == 2
    assert "calendar.secret is not set" in capsys.readouterr().err


@pytest.mark.parametrize("start", ["9999-12-30", "2400-01-01", "0001-01-01"])
def test_rota_show_and_check_refuse_a_far_off_start(
    start: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, rota_config())
    assert main(["rota", "show", "ops", "--config", path, "--from", start]) == 2
    assert main(["rota", "check", "--config", path, "--from", start]) == 2
    assert "out of range: expected an instant within 5 years of now" in capsys.readouterr().err


def test_rota_check_warns_of_a_rest_below_the_process_week(
    capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(REPO)

    status = main(["rota", "check", "--config", "config.example.yaml"])

    captured = capsys.readouterr()
    assert status == 0  # a warning, not a failure
    assert (
        "warning: storage-daily: min_rest 2 days is below the process's 7 days between shifts"
    ) in captured.err
    assert "platform" not in captured.err


def test_rota_check_reports_two_weeks_on_call_without_a_break(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # c covers d's primary week straight after c's own: accepted by force, flagged by check.
    path = _with_forced_override(tmp_path, "2026-11-23T09:00:00Z", "2026-11-30T09:00:00Z")

    status = main(["rota", "check", "--config", path, "--from", "2026-11-20", "--to", "2026-12-01"])

    out = capsys.readouterr().out
    assert status == 1
    assert "max-consecutive" in out
    assert "c would be on call for 14 days without a break" in out


def test_rota_max_consecutive_is_configurable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = rota_config()
    config["rotations"][0].update(max_consecutive="2w", min_rest="0d")
    path = write_config(tmp_path, config)

    assert (
        main(["rota", "check", "--config", path, "--from", "2026-11-02", "--to", "2027-01-04"]) == 0
    )
    config["rotations"][0].update(max_consecutive="3d")
    path = write_config(tmp_path, config)

    assert main(["rota", "check", "--config", path]) == 2
    assert "max_consecutive (3d) is shorter than one shift (1w)" in capsys.readouterr().err


def test_rota_swaps_lists_the_allowed_swaps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = rota_config()
    config["rotations"][0]["layers"] = [{"name": "primary"}]
    path = write_config(tmp_path, config)

    status = main(["rota", "swaps", "ops", "--config", path, "--at", "2026-11-28T12:00:00Z"])

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(
        "d's ops primary shift Mon 2026-11-23 09:00 .. Mon 2026-11-30 09:00 (Europe/London)"
    )
    assert "  b            Mon 2026-11-09 09:00 .. Mon 2026-11-16 09:00" in out
    assert "allowed," in out and "refused by the rules" in out


def test_rota_swaps_refuses_an_unknown_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, rota_config())

    status = main(["rota", "swaps", "ops", "--config", path, "--layer", "x", "--at", "2026-11-28"])

    assert status == 2
    assert "layer: ops has no layer 'x'" in capsys.readouterr().err
