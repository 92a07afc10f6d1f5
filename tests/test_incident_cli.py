"""`onwatch incident list|show|ack|resolve` against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from receiver.app import create_app
from receiver.cli import main
from receiver.config import load_settings
from tests.conftest import AUTH, raw_fixture
from tests.rota_config import rota_config


@pytest.fixture
def config(tmp_path: Path) -> str:
    document = {
        "database": {"url": f"sqlite:///{tmp_path / 'onwatch.db'}"},
        "webhook": {"bearer_token": AUTH["Authorization"].split()[1]},
        **rota_config(),
    }
    path = tmp_path / "onwatch.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main(["db", "upgrade", "--config", str(path)]) == 0
    client = create_app(load_settings(path)).test_client()
    response = client.post(
        "/api/v1/alertmanager",
        data=raw_fixture("firing_single.json"),
        headers=AUTH,
        content_type="application/json",
    )
    assert response.status_code == 200
    return str(path)


def test_incident_list_and_show(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incident", "list", "--config", config, "--status", "open"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split()[:4] == ["1", "open", "SEV2", "checkout"]

    assert main(["incident", "show", "1", "--config", config]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("incident 1: [SEV2] HighErrorRate")
    assert "paging_planned" in shown
    assert "trigger     primary" in shown


def test_incident_ack_then_resolve(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incident", "ack", "1", "--by", "d", "--config", config]) == 0
    assert "incident 1 acknowledged by d after" in capsys.readouterr().out
    assert main(["incident", "ack", "1", "--by", "d", "--config", config]) == 0
    assert "already acknowledged" in capsys.readouterr().out

    assert (
        main(["incident", "resolve", "1", "--by", "d", "--note", "rolled back", "--config", config])
        == 0
    )
    assert main(["incident", "show", "1", "--config", config]) == 0
    shown = capsys.readouterr().out
    assert "acknowledged by d" in shown
    assert "resolved by d: rolled back" in shown


def test_incident_unknown_id_exits_2(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incident", "ack", "42", "--by", "d", "--config", config]) == 2
    assert "no incident 42" in capsys.readouterr().err
