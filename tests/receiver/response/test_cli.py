"""`onwatch incident update|role|tick|severity|classify|response`, `onwatch postmortem` and
`onwatch actions`, against a real SQLite database with one open SEV2 incident (checkout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver.cli import main


def run(*args: str, config_path: str) -> int:
    return main([*args, "--config", config_path])


def test_roles_update_and_checklist_from_the_terminal(
    cli_config: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("incident", "role", "1", "commander", "a", "--by", "a", config_path=cli_config) == 0
    assert capsys.readouterr().out.strip() == "a is now Incident Commander, named by a"
    assert run("incident", "role", "1", "commander", "a", "--by", "a", config_path=cli_config) == 0
    assert capsys.readouterr().out.startswith("nothing changed: a is already")

    assert (
        run(
            "incident",
            "update",
            "1",
            "--by",
            "a",
            "--status",
            "identified",
            "--impact",
            "Checkout errors for 5% of users",
            "--action",
            "Rolling back",
            config_path=cli_config,
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("update 1 posted to incident 1; queued for no notification target")

    assert (
        run(
            "incident",
            "tick",
            "1",
            "war_room",
            "--by",
            "a",
            "--note",
            "https://meet/x",
            config_path=cli_config,
        )
        == 0
    )
    assert run("incident", "response", "1", config_path=cli_config) == 0
    shown = capsys.readouterr().out
    assert "phase: triage" not in shown  # an update was posted: the response phase
    assert "phase: detection" in shown  # ... but nobody acknowledged yet
    assert "[x] War room/bridge established" in shown
    assert "[ ] Alert received and acknowledged" in shown
    assert "Incident Commander   a" in shown


def test_severity_and_classification_from_the_terminal(
    cli_config: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("incident", "role", "1", "ic", "a", "--by", "a", config_path=cli_config) == 0
    assert (
        run(
            "incident",
            "severity",
            "1",
            "SEV1",
            "--by",
            "b",
            "--reason",
            "x",
            config_path=cli_config,
        )
        == 2
    )
    assert "only the Incident Commander (a)" in capsys.readouterr().err
    assert (
        run(
            "incident",
            "severity",
            "1",
            "SEV1",
            "--by",
            "a",
            "--reason",
            "revenue",
            config_path=cli_config,
        )
        == 0
    )
    assert "severity changed from SEV2 to SEV1 by a" in capsys.readouterr().out
    assert run("incident", "classify", "1", "noise", "--by", "a", config_path=cli_config) == 0
    assert capsys.readouterr().out.strip() == "marked noise by a"


def test_postmortem_draft_and_action_items(
    cli_config: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        run(
            "incident",
            "resolve",
            "1",
            "--by",
            "d",
            "--classification",
            "actionable",
            config_path=cli_config,
        )
        == 0
    )
    draft = tmp_path / "pm.md"
    assert run("postmortem", "draft", "1", "--output", str(draft), config_path=cli_config) == 0
    text = draft.read_text()
    assert "## 1. Summary" in text and "## 7. Action items" in text

    assert (
        run(
            "actions",
            "add",
            "1",
            "Alert on card gateway TLS errors",
            "--by",
            "d",
            "--owner",
            "b",
            "--due",
            "2026-01-01",
            config_path=cli_config,
        )
        == 0
    )
    assert (
        run(
            "actions", "add", "1", "Write the rollback runbook", "--by", "d", config_path=cli_config
        )
        == 0
    )
    capsys.readouterr()
    assert run("actions", "list", "--overdue", config_path=cli_config) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2  # the header and the one item due in the past
    assert "Alert on card gateway TLS errors  OVERDUE" in listing[1]
    assert run("actions", "close", "1", "--by", "b", config_path=cli_config) == 0
    assert run("actions", "list", "--overdue", config_path=cli_config) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no overdue action items"

    assert (
        run("postmortem", "milestone", "1", "exception", "--by", "d", config_path=cli_config) == 2
    )
    assert "an exception must say why" in capsys.readouterr().err


def test_resolution_without_targets_says_so_in_the_timeline(
    cli_config: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("incident", "resolve", "1", "--by", "d", config_path=cli_config) == 0
    assert run("incident", "show", "1", config_path=cli_config) == 0
    shown = capsys.readouterr().out
    assert "all_clear            all-clear: no target to send to" in shown
    assert "postmortem scheduled by onwatch: Draft postmortem written within 48 hours" in shown


@pytest.mark.parametrize(
    ("person", "error"),
    [
        (
            "nosuchperson",
            "person: 'nosuchperson' is not one of the configured people (people:); to name "
            'someone outside the rota, say so: --external on the command line, "external": '
            "true in the API",
        ),
        ("", "person: expected a non-empty name"),
        ("   ", "person: expected a non-empty name"),
    ],
)
def test_a_role_holder_must_be_a_configured_person(
    cli_config: str, capsys: pytest.CaptureFixture[str], person: str, error: str
) -> None:
    assert run("incident", "role", "1", "ic", person, "--by", "a", config_path=cli_config) == 2
    captured = capsys.readouterr()
    assert error in captured.err
    assert "is now" not in captured.out
    assert run("incident", "response", "1", config_path=cli_config) == 0
    assert "  Incident Commander   " not in capsys.readouterr().out  # nobody was named


def test_someone_outside_the_rota_is_named_with_external(
    cli_config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("incident", "role", "1", "technical_lead", " Vic (vendor) ", "--by", "a")
    assert run(*args, "--external", config_path=cli_config) == 0
    assert capsys.readouterr().out.strip() == (
        "Vic (vendor) is now Technical Lead, named by a (outside the rota)"
    )
    # A configured person needs no flag, and the flag changes nothing for one.
    assert run("incident", "role", "1", "scribe", "f", "--by", "a", config_path=cli_config) == 0
    assert capsys.readouterr().out.strip() == "f is now Scribe, named by a"
    assert (
        run("incident", "role", "1", "ic", "g", "--by", "a", "--external", config_path=cli_config)
        == 0
    )
    assert capsys.readouterr().out.strip() == "g is now Incident Commander, named by a"
    assert run("incident", "response", "1", config_path=cli_config) == 0
    assert "Technical Lead       Vic (vendor)" in capsys.readouterr().out
