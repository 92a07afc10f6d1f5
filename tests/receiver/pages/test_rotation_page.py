"""The rota as a calendar: the right person on both sides of a DST change, overrides and
swaps stored by the API's rule (a refusal says why), and the calendar feed of the signed-in
person only."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from receiver.services import Services
from tests.support.pages import csrf_token, give_password, password_web, sign_in
from tests.support.rota_config import rota_config


@pytest.fixture
def signed_in(make_app: Callable[..., Flask]) -> tuple[Flask, FlaskClient]:
    app = make_app(**rota_config(), web=password_web())
    give_password(app, "a")
    client = app.test_client()
    assert sign_in(client, "a") == 303
    return app, client


def _primary(app: Flask, at: datetime) -> str:
    services: Services = app.extensions["onwatch"]
    shift = services.rota.on_call("ops", at)["primary"]
    assert shift is not None and shift.person is not None
    return shift.person


def _text(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return html.unescape(answer.get_data(as_text=True))


def test_calendar_across_the_spring_dst_change(signed_in: tuple[Flask, FlaskClient]) -> None:
    app, client = signed_in
    # Europe/London springs forward on 2027-03-28: handoffs stay at 09:00 on the wall clock.
    page = _text(client, "/rotations/ops?from=2027-03-22&weeks=2")
    before = _primary(app, datetime(2027, 3, 24, 12, tzinfo=UTC))
    after = _primary(app, datetime(2027, 3, 31, 12, tzinfo=UTC))
    assert before != after
    row = page.split('<th scope="row">primary</th>', 1)[1].split("</tr>", 1)[0]
    first_week, second_week = row.split("</td>")[:2]
    assert f"<strong>{before}</strong>" in first_week
    assert "2027-03-22 09:00 GMT" in first_week
    assert f"<strong>{after}</strong>" in second_week
    assert "2027-03-29 09:00 BST" in second_week
    assert 'title="2027-03-29 08:00 UTC"' in second_week


def test_override_refused_for_the_rest_gap_says_why(signed_in: tuple[Flask, FlaskClient]) -> None:
    app, client = signed_in
    week = datetime(2026, 12, 7, 9, tzinfo=UTC)  # Monday 09:00 in London (GMT)
    person = _primary(app, week - timedelta(days=1))  # on call the week before
    token = csrf_token(client, "/rotations/ops")
    answer = client.post(
        "/rotations/ops/overrides",
        data={
            "layer": "primary",
            "person": person,
            "start": "2026-12-07T09:00",
            "end": "2026-12-14T09:00",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 303
    page = _text(client, answer.headers["Location"])
    assert "Not done: override refused:" in page
    assert "rest" in page.split("Not done:", 1)[1].split("</p>", 1)[0]


def test_swap_refused_says_what_the_finder_allows(signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    # d (primary, week of Nov 23) and e (primary, week of Nov 30) trade: d would have no rest
    # before their own secondary week of Dec 7 (as in the API's test of the same swap).
    token = csrf_token(client, "/rotations/ops")
    answer = client.post(
        "/rotations/ops/swaps",
        data={
            "first_layer": "primary",
            "first": "2026-11-28T12:00",
            "second_layer": "primary",
            "second": "2026-12-01T12:00",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 303
    page = _text(client, answer.headers["Location"])
    assert "d would have 0 days of rest" in page
    # Five people on two weekly layers with a week's rest: the finder allows none of the 7.
    assert "No swap of that primary shift is allowed within 28 days either side (7 tried)." in page


def test_override_stored_shows_in_the_calendar(signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    token = csrf_token(client, "/rotations/ops")
    answer = client.post(
        "/rotations/ops/overrides",
        data={
            "layer": "secondary",
            "person": "f",
            "start": "2026-12-01T09:00",
            "end": "2026-12-01T18:00",
            "reason": "covering a dentist visit",
            "csrf_token": token,
        },
    )
    page = _text(client, answer.headers["Location"])
    assert "Stored: f covers secondary." in page
    assert '<span class="tag">override</span>' in page


def test_calendar_feed_link_is_the_viewers_own(signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    page = _text(client, "/rotations/ops")
    assert "/calendar/person/a.ics?token=" in page
    assert "/calendar/person/b.ics" not in page and "/calendar/rotation/" not in page


def test_calendar_bounds(signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    assert client.get("/rotations/ops?weeks=13").status_code == 400
    assert client.get("/rotations/ops?from=3027-01-01").status_code == 400
    assert client.get("/rotations/ops?from=yesterday").status_code == 400
    assert client.get("/rotations/nosuch").status_code == 404
