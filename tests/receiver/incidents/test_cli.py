"""`onwatch incident list|show|ack|resolve` against a real SQLite database."""

from __future__ import annotations

import pytest

from receiver.cli import main


def test_incident_list_and_show(cli_config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incident", "list", "--config", cli_config, "--status", "open"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split()[:4] == ["1", "open", "SEV2", "checkout"]

    assert main(["incident", "show", "1", "--config", cli_config]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("incident 1: [SEV2] HighErrorRate")
    assert "paging_planned" in shown
    assert "trigger     primary" in shown


def test_incident_ack_then_resolve(cli_config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incident", "ack", "1", "--by", "d", "--config", cli_config]) == 0
    assert "incident 1 acknowledged by d after" in capsys.readouterr().out
    assert main(["incident", "ack", "1", "--by", "d", "--config", cli_config]) == 0
    assert "already acknowledged" in capsys.readouterr().out

    assert (
        main(
            [
                "incident",
                "resolve",
                "1",
                "--by",
                "d",
                "--note",
                "rolled back",
                "--config",
                cli_config,
            ]
        )
        == 0
    )
    assert main(["incident", "show", "1", "--config", cli_config]) == 0
    shown = capsys.readouterr().out
    assert "acknowledged by d" in shown
    assert "resolved by d: rolled back" in shown


def test_incident_unknown_id_exits_2(cli_config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incident", "ack", "42", "--by", "d", "--config", cli_config]) == 2
    assert "no incident 42" in capsys.readouterr().err
