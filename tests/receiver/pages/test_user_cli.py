"""`onwatch user set-password NAME`: the hash is stored (never the password), weak passwords
and unknown people are refused and change nothing."""

from __future__ import annotations

import io

import pytest

from receiver.cli import main
from receiver.config.settings import load_settings
from receiver.pages.models import PasswordRecord
from receiver.pages.passwords import verify
from receiver.store.database import Store


def _run(monkeypatch: pytest.MonkeyPatch, config: str, *args: str, stdin: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["user", "set-password", *args, "--config", config])


def _record(config: str, person: str) -> PasswordRecord | None:
    store = Store(load_settings(config).database)
    try:
        with store.read() as session:
            return session.get(PasswordRecord, person)
    finally:
        store.dispose()


def test_set_password_stores_a_hash(
    monkeypatch: pytest.MonkeyPatch, cli_config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, cli_config, "a", stdin="a long enough password\n") == 0
    assert "password set for a" in capsys.readouterr().out
    record = _record(cli_config, "a")
    assert record is not None and "a long enough password" not in record.password_hash
    store = Store(load_settings(cli_config).database)
    with store.read() as session:
        assert verify(session, "a", "a long enough password") is not None
        assert verify(session, "a", "another password!!") is None
    store.dispose()


def test_refusals_change_nothing(
    monkeypatch: pytest.MonkeyPatch, cli_config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, cli_config, "a", stdin="short\n") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert _run(monkeypatch, cli_config, "mallory", stdin="a long enough password\n") == 2
    assert "no person 'mallory'" in capsys.readouterr().err
    assert _record(cli_config, "a") is None and _record(cli_config, "mallory") is None
