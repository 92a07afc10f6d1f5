"""The `onwatch` command: config check, rules test, db upgrade, and serve's refusals."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from receiver.cli import main
from receiver.config.settings import DatabaseSettings
from receiver.store.database import Store
from tests.support.paths import FIXTURES, REPO_ROOT

REPO = REPO_ROOT
BAD_CONFIG = "rules:\n  - name: broken\n    severity: SEV2\n    match: ['foo=~\"(\"']\n"


def test_config_check_accepts_example(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("ONWATCH_WEBHOOK_TOKEN", "very-secret-value")

    status = main(["config", "check", "--config", str(REPO / "config.example.yaml")])

    out, err = capsys.readouterr()
    assert status == 0
    assert "configuration OK" in out
    assert "webhook credentials: bearer token" in out
    assert "2 own + 12 built-in" in out
    assert "very-secret-value" not in out + err


def test_config_check_warns_without_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.delenv("ONWATCH_WEBHOOK_TOKEN", raising=False)

    status = main(["config", "check", "--config", str(REPO / "config.example.yaml")])

    assert status == 0
    assert "NO credentials" in capsys.readouterr().err


def test_config_check_lists_errors_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG)

    status = main(["config", "check", "--config", str(path)])

    assert status == 2
    assert 'rules[0].match[0]: invalid regex "(": missing )' in capsys.readouterr().err


def test_config_path_comes_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG)
    monkeypatch.setenv("ONWATCH_CONFIG", str(path))

    assert main(["config", "check"]) == 2
    monkeypatch.delenv("ONWATCH_CONFIG")
    assert main(["config", "check"]) == 2
    assert "pass --config PATH or set $ONWATCH_CONFIG" in capsys.readouterr().err


def test_serve_refuses_invalid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG)

    status = main(["serve", "--config", str(path), "--port", "1"])

    assert status == 2
    assert "rules[0].match[0]: invalid regex" in capsys.readouterr().err


def test_serve_refuses_postgres_schema_out_of_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres_server: str
) -> None:
    import uuid

    import psycopg

    from tests.support.servers import libpq_url

    name = f"onwatch_empty_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(postgres_server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        path = tmp_path / "pg.yaml"
        path.write_text(f"database:\n  url: {postgres_server.rsplit('/', 1)[0]}/{name}\n")

        status = main(["serve", "--config", str(path), "--port", "1"])

        assert status == 2
        assert "run `onwatch db upgrade --config PATH`" in capsys.readouterr().err
        assert main(["db", "upgrade", "--config", str(path)]) == 0
    finally:
        with psycopg.connect(libpq_url(postgres_server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_db_upgrade_creates_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    path = tmp_path / "c.yaml"
    path.write_text(f"database:\n  url: {url}\n")

    assert main(["db", "upgrade", "--config", str(path)]) == 0

    assert "database schema is up to date" in capsys.readouterr().out
    Store(DatabaseSettings(url=url)).check_schema()


def test_rules_test_explains_each_alert(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.delenv("ONWATCH_CONFIG", raising=False)

    status = main(["rules", "test", str(FIXTURES / "group_5.json")])

    out = capsys.readouterr().out
    assert status == 0
    assert "the built-in rules" in out
    assert out.count("severity: SEV3") == 5
    assert "rule:     severity-warning" in out
    assert 'routed to service "api"' in out


def test_rules_test_uses_rules_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - name: checkout-first\n    match: ['service=\"checkout\"']\n"
        "    severity: SEV1\n    service: payments\ndefault_rules: false\n"
    )
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps({"labels": {"alertname": "X", "service": "checkout"}}))

    status = main(["rules", "test", str(alert), "--rules", str(rules)])

    out = capsys.readouterr().out
    assert status == 0
    assert "severity: SEV1" in out
    assert "service:  payments" in out
    assert 'matched:  service="checkout"' in out


def test_rules_test_uses_config_rules(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.delenv("ONWATCH_WEBHOOK_TOKEN", raising=False)

    status = main(
        [
            "rules",
            "test",
            str(FIXTURES / "firing_single.json"),
            "--config",
            str(REPO / "config.example.yaml"),
        ]
    )

    out = capsys.readouterr().out
    assert status == 0
    assert "rule:     payments-checkout-down" in out
    assert "severity: SEV1" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ('{"alerts": [{"nolabels": 1}]}', "alert [0]: expected")],
)
def test_rules_test_reports_bad_alert_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(content)

    assert main(["rules", "test", str(alert)]) == 2
    assert message in capsys.readouterr().err


def test_cli_import_leaves_prometheus_client_unloaded() -> None:
    # prometheus_client picks multiprocess mode when first imported; `onwatch serve` sets
    # PROMETHEUS_MULTIPROC_DIR first, so nothing the CLI imports up front may import it.
    import subprocess
    import sys

    code = "import sys, receiver.cli; print('prometheus_client' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"


def test_config_check_warns_when_default_service_pages_nobody(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "no-catch-all.yaml"
    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("catch_all: true", "catch_all: false"), encoding="utf-8")

    assert main(["config", "check", "--config", str(path)]) == 0  # a warning, not a failure
    err = capsys.readouterr().err
    assert "routing.default_service 'unrouted' is covered by no rotation" in err

    assert main(["config", "check", "--config", str(REPO / "config.example.yaml")]) == 0
    assert "default_service" not in capsys.readouterr().err  # the example has a catch-all


# --------------------------------------------------------------------------------------------
# Logging: --log-format, the JSON formatter, APScheduler's chatter


def test_serve_and_scheduler_take_log_format() -> None:
    from receiver.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["serve"]).log_format == "text"
    assert parser.parse_args(["serve", "--log-format", "json"]).log_format == "json"
    assert parser.parse_args(["scheduler", "--log-format", "json"]).log_format == "json"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--log-format", "xml"])


def test_configure_logging_quiets_apscheduler_chatter() -> None:
    import logging

    from receiver.cli import configure_logging

    configure_logging("text")
    for name in ("apscheduler", "apscheduler.scheduler", "apscheduler.executors.default"):
        log = logging.getLogger(name)
        assert not log.isEnabledFor(logging.INFO)  # "Adding job tentatively", "Running job"
        assert log.isEnabledFor(logging.WARNING)


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("receiver.x", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_json_formatter_puts_event_fields_as_keys() -> None:
    from receiver.logevents import JsonFormatter, event_line

    fields = {"incident_id": 12, "rotation": "platform", "reason": 'said "no" = bad', "x": None}
    line = event_line("page_retry", fields)
    assert line == 'page_retry incident_id=12 rotation=platform reason="said \\"no\\" = bad" x=-'
    out = json.loads(
        JsonFormatter().format(_record("%s", line, event="page_retry", event_fields=fields))
    )
    assert out["level"] == "WARNING" and out["logger"] == "receiver.x"
    assert out["message"] == line and out["time"].endswith("+00:00")
    assert out["event"] == "page_retry" and out["incident_id"] == 12
    assert out["reason"] == 'said "no" = bad' and out["x"] is None


def test_json_formatter_parses_plain_key_value_lines_and_leaves_prose() -> None:
    from receiver.logevents import JsonFormatter

    formatter = JsonFormatter()
    parsed = json.loads(
        formatter.format(_record("incident_unrouted incident_id=%s a=%s", 3, '"b c"'))
    )
    assert parsed["event"] == "incident_unrouted"
    assert parsed["incident_id"] == "3" and parsed["a"] == "b c"
    prose = json.loads(formatter.format(_record("Booting worker with pid: %s", 42)))
    assert prose["message"] == "Booting worker with pid: 42" and "event" not in prose
    clash = json.loads(formatter.format(_record("x", event="e", event_fields={"level": 2})))
    assert clash["level"] == "WARNING" and clash["field_level"] == 2


def test_json_formatter_keeps_the_traceback() -> None:
    from receiver.logevents import JsonFormatter

    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("r", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    out = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in out["exception"]


def test_event_values_are_cut_to_a_bounded_length() -> None:
    from receiver.logevents import VALUE_MAX, event_line

    line = event_line("page_failed", {"reason": "y" * 5000})
    assert len(line) < VALUE_MAX + 40 and line.endswith("y...")
