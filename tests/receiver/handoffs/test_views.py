"""Handoff notes and the next briefing, over HTTP and from the CLI.

The clock is conftest's START, Saturday 2026-11-28 06:45 UTC: ops is in the week of Nov 23
(primary d, secondary b); the next handoff is Monday Nov 30 09:00 (d -> e, b -> c).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from receiver.cli import main
from receiver.cli_support import UsageError
from receiver.handoffs import views as handoff_views
from receiver.handoffs.cli import cmd_handoff_note, cmd_handoff_show
from receiver.handoffs.models import HandoffBriefing, HandoffNote
from receiver.store.database import Store
from tests.support.alertmanager import AUTH, TOKEN
from tests.support.clock import START, Clock
from tests.support.handoffs import handoff_config, incident, page, settings_for, utc

NEXT = "2026-11-30T09:00:00+00:00"


def with_handoff(app: Flask) -> Flask:
    """The app with the handoff blueprint (until create_app registers it itself)."""
    if "handoff" not in app.blueprints:
        app.register_blueprint(handoff_views.bp)
    return app


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return with_handoff(make_app(**handoff_config())).test_client()


def seed(session: Session) -> None:
    """An open incident and d's two pages of this week (one at night)."""
    session.add(incident(1, "checkout", "SEV2", utc(2026, 11, 27, 23, 0), title="Queue backlog"))
    session.flush()
    rows = page(1, 1, "d", utc(2026, 11, 27, 23, 0)) + page(2, 1, "d", utc(2026, 11, 26, 14, 0))
    session.add_all(rows[0::2])
    session.flush()
    session.add_all(rows[1::2])


def post_note(client: FlaskClient, body: Any, **kw: Any) -> Any:
    return client.post("/api/v1/rotations/ops/handoff/notes", json=body, **kw)


def test_note_is_stored_for_the_next_handoff(client: FlaskClient, store: Store) -> None:
    response = post_note(client, {"by": "d", "text": "  Kafka lag alert is noisy; muted.  "})

    assert response.status_code == 201
    body = response.get_json()
    assert body["next_handoff"] == NEXT
    assert body["note"] == {
        "id": 1,
        "rotation": "ops",
        "at": START.isoformat(),
        "by": "d",
        "text": "Kafka lag alert is noisy; muted.",
        "briefed_at": None,
    }
    with store.read() as session:
        assert [n.text for n in session.exec(select(HandoffNote))] == [
            "Kafka lag alert is noisy; muted."
        ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "body: expected a JSON object"),
        ({"text": "x"}, "by: expected a non-empty string"),
        ({"by": "  ", "text": "x"}, "by: expected a non-empty string"),
        ({"by": 7, "text": "x"}, "by: expected a non-empty string"),
        ({"by": "d"}, "text: expected a non-empty string"),
        ({"by": "d", "text": ""}, "text: expected a non-empty string"),
        ({"by": "d", "text": "x" * 10_001}, "text: at most 10000 characters"),
        ({"by": "d" * 201, "text": "x"}, "by: at most 200 characters"),
    ],
)
def test_bad_note_is_400_naming_the_field_and_stores_nothing(
    client: FlaskClient, store: Store, body: Any, message: str
) -> None:
    response = post_note(client, body)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)
    with store.read() as session:
        assert session.exec(select(HandoffNote)).all() == []


def test_note_body_that_is_not_json_is_400(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/rotations/ops/handoff/notes", data="by=d", content_type="text/plain"
    )

    assert response.status_code == 400
    assert response.get_json()["error"].startswith("body:")


def test_unknown_rotation_is_404(client: FlaskClient) -> None:
    response = client.post("/api/v1/rotations/nope/handoff/notes", json={"by": "d", "text": "x"})
    assert response.status_code == 404
    assert response.get_json() == {"error": "no rotation 'nope'"}
    assert client.get("/api/v1/rotations/nope/handoff").status_code == 404


def test_api_token_is_required_when_configured(make_app: Callable[..., Flask]) -> None:
    client = with_handoff(make_app(api={"bearer_token": TOKEN}, **handoff_config())).test_client()

    assert post_note(client, {"by": "d", "text": "x"}).status_code == 401
    assert client.get("/api/v1/rotations/ops/handoff").status_code == 401
    assert post_note(client, {"by": "d", "text": "x"}, headers=AUTH).status_code == 201
    assert client.get("/api/v1/rotations/ops/handoff", headers=AUTH).status_code == 200


def test_next_briefing_shows_each_layer_now_and_writes_nothing(
    client: FlaskClient, store: Store, clock: Clock
) -> None:
    store.write(seed)
    post_note(client, {"by": "d", "text": "Backlog drains by Monday."})
    clock.advance(hours=1)

    response = client.get("/api/v1/rotations/ops/handoff")

    assert response.status_code == 200
    body = response.get_json()
    assert body["now"] == "2026-11-28T07:45:00+00:00"
    assert [
        (x["layer"], x["handoff_at"], x["outgoing"], x["incoming"]) for x in body["layers"]
    ] == [
        ("primary", NEXT, "d", "e"),
        ("secondary", NEXT, "b", "c"),
    ]
    primary = body["layers"][0]
    assert primary["subject"] == "Handoff ops primary: d -> e at Mon 2026-11-30 09:00 GMT"
    assert "- #1 [SEV2] checkout: Queue backlog" in primary["text"]
    assert (
        "- d: 2 pages, 2 interruptions, 1 night page over 5 nights (0.2 a night)"
        in (primary["text"])
    )
    briefing = primary["briefing"]
    assert briefing["late"] is False
    assert briefing["incoming"]["email"] == "e@example.com"
    assert [n["text"] for n in briefing["notes"]] == ["Backlog drains by Monday."]
    with store.read() as session:
        assert session.exec(select(HandoffBriefing)).all() == []
        assert [n.briefed_at for n in session.exec(select(HandoffNote))] == [None]


# --------------------------------------------------------------------------------------
# The CLI


def _args(**kw: Any) -> argparse.Namespace:
    return argparse.Namespace(config=None, **kw)


def test_cli_note_then_show(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for(store)
    store.write(seed)

    status = cmd_handoff_note(
        _args(rotation="ops", text="Watch the queue.", by="d"), settings, now=START
    )

    assert status == 0
    assert capsys.readouterr().out == (
        "note 1 stored: the ops handoff at Mon 2026-11-30 09:00 GMT carries it\n"
    )

    assert cmd_handoff_show(_args(rotation="ops"), settings, now=START) == 0

    out = capsys.readouterr().out
    assert out.startswith(
        "== Handoff ops primary: d -> e at Mon 2026-11-30 09:00 GMT (in 2d 02h)\n"
        "== the briefing Mon 2026-11-30 09:00 GMT will send, as of now:\n\n"
        "Handoff briefing: ops primary at Mon 2026-11-30 09:00 GMT\n"
    )
    assert "== Handoff ops secondary: b -> c" in out
    assert "- Sat 2026-11-28 06:45 GMT, d: Watch the queue." in out


def test_cli_refuses_unknown_rotation_and_empty_note(store: Store) -> None:
    settings = settings_for(store)

    with pytest.raises(UsageError, match=r"no rotation 'nope' \(rotations: ops\)"):
        cmd_handoff_show(_args(rotation="nope"), settings, now=START)
    with pytest.raises(UsageError, match="text: expected a non-empty string"):
        cmd_handoff_note(_args(rotation="ops", text=" ", by="d"), settings, now=START)
    with pytest.raises(UsageError, match="--by: expected a non-empty string"):
        cmd_handoff_note(_args(rotation="ops", text="x", by=""), settings, now=START)


def test_cli_subcommands_parse_and_exit_2_on_usage_errors(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {**handoff_config(), "database": {"url": store.settings.url}}
    path = tmp_path / "onwatch.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["handoff", "note", "ops", "hello", "--by", "d", "--config", str(path)]) == 0
    assert main(["handoff", "show", "nope", "--config", str(path)]) == 2

    captured = capsys.readouterr()
    assert "note 1 stored" in captured.out
    assert captured.err == "onwatch: no rotation 'nope' (rotations: ops)\n"


def test_note_with_nul_is_stored_replaced(client: FlaskClient, store: Store) -> None:
    # PostgreSQL's text cannot hold NUL: it once answered 500 here.
    response = client.post(
        "/api/v1/rotations/ops/handoff/notes",
        data='{"by": "d\\u0000", "text": "disk\\u0000full \\ud800"}',
        content_type="application/json",
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["note"]["text"] == "disk\ufffdfull \ufffd"
    with store.read() as session:
        [note] = session.exec(select(HandoffNote)).all()
    assert (note.by, note.text) == ("d\ufffd", "disk\ufffdfull \ufffd")
