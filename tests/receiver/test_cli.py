"""The `onwatch` command: config check, rules test, db upgrade, and serve's refusals."""

from __future__ import annotations

import json
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
