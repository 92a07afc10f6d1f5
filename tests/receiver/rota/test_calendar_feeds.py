"""The ICS feeds as calendar apps fetch them, parsed back and compared with the rota math."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import icalendar
import pytest
import recurring_ical_events
from flask import Flask
from flask.testing import FlaskClient

from receiver.config.settings import Settings
from scheduler.calendar import feed_token
from tests.support.clock import Clock
from tests.support.rota_config import CALENDAR_SECRET, rota_config


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(**rota_config())


def feed_url(kind: str, name: str, secret: str = CALENDAR_SECRET) -> str:
    return f"/calendar/{kind}/{name}.ics?token={feed_token(secret, kind, name)}"


def fetch(client: FlaskClient, kind: str, name: str) -> icalendar.Calendar:
    response = client.get(feed_url(kind, name))
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def events(calendar: icalendar.Calendar, *, cancelled: bool = False) -> dict[str, tuple]:
    found = {}
    for event in calendar.walk("VEVENT"):
        if (str(event["STATUS"]) == "CANCELLED") == cancelled:
            found[str(event["UID"])] = (
                event.decoded("DTSTART"),
                event.decoded("DTEND"),
                str(event["SUMMARY"]),
            )
    return found


def test_rotation_feed_matches_rota_math(client: FlaskClient, app: Flask) -> None:
    calendar = fetch(client, "rotation", "ops")
    rota = app.extensions["onwatch"].rota
    start, end = datetime(2026, 10, 29, tzinfo=UTC), datetime(2027, 11, 28, tzinfo=UTC)

    expanded = recurring_ical_events.of(calendar).between(start, end)
    shown = sorted(
        (
            e.decoded("DTSTART").astimezone(UTC),
            e.decoded("DTEND").astimezone(UTC),
            str(e["SUMMARY"]),
        )
        for e in expanded
    )
    expected = sorted(
        (s.start, s.end, f"On call: ops {s.layer} — {s.person}")
        for s in rota.rotation_shifts("ops", start, end)
    )

    assert shown == expected
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"
    assert str(calendar["X-WR-CALNAME"]) == "On call: ops"
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert {str(e["TRANSP"]) for e in calendar.walk("VEVENT")} == {"TRANSPARENT"}
    # Weekly Monday 09:00 London: 168 hours, or 167/169 across the clock changes.
    hours = {int((e - s).total_seconds() // 3600) for s, e, _ in shown}
    assert hours == {167, 168, 169}


def test_person_feed_has_their_shifts_in_every_layer(client: FlaskClient, app: Flask) -> None:
    calendar = fetch(client, "person", "a")

    summaries = {summary for _, _, summary in events(calendar).values()}

    assert summaries == {"On call: ops primary — a", "On call: ops secondary — a"}
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"


@pytest.mark.parametrize(
    "url",
    [
        "/calendar/rotation/ops.ics",
        "/calendar/rotation/ops.ics?token=wrong",
        feed_url("person", "ops"),  # a rotation's token for a person feed
        feed_url("rotation", "nope"),  # a valid token for a feed that does not exist
        feed_url("rotation", "ops", secret="old-secret"),  # the secret was rotated
    ],
)
def test_feed_with_wrong_token_is_indistinguishable_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}


def test_feeds_are_off_without_secret(make_app: Callable[..., Flask]) -> None:
    config = rota_config()
    config["calendar"] = {}
    client = make_app(**config).test_client()

    assert client.get(feed_url("rotation", "ops")).status_code == 404


def test_feed_etag_answers_304_when_unchanged(client: FlaskClient) -> None:
    first = client.get(feed_url("rotation", "ops"))
    etag = first.headers["ETag"]

    again = client.get(feed_url("rotation", "ops"), headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.data == b""
    assert client.get(feed_url("rotation", "ops")).data == first.data


def test_override_keeps_other_uids_and_cancels_replaced_shift(
    client: FlaskClient, clock: Clock
) -> None:
    before = events(fetch(client, "rotation", "ops"))
    etag = client.get(feed_url("rotation", "ops")).headers["ETag"]

    created = client.post(
        "/api/v1/rotations/ops/overrides",
        json={"person": "f", "start": "2026-11-28T12:00:00Z", "end": "2026-11-29T12:00:00Z"},
    )
    assert created.status_code == 201
    after_feed = fetch(client, "rotation", "ops")
    after, cancelled = events(after_feed), events(after_feed, cancelled=True)

    # The one shift the override cut is cancelled under its old UID ...
    [(replaced_uid, (start, end, summary))] = cancelled.items()
    assert (
        before[replaced_uid]
        == (start, end, summary)
        == (
            datetime(2026, 11, 23, 9, tzinfo=UTC),
            datetime(2026, 11, 30, 9, tzinfo=UTC),
            "On call: ops primary — d",
        )
    )
    # ... every other shift keeps its UID, and three pieces replace it.
    assert {uid: v for uid, v in before.items() if uid != replaced_uid}.items() <= after.items()
    new = {uid: v for uid, v in after.items() if uid not in before}
    assert sorted(new.values()) == [
        (
            datetime(2026, 11, 23, 9, tzinfo=UTC),
            datetime(2026, 11, 28, 12, tzinfo=UTC),
            "On call: ops primary — d",
        ),
        (
            datetime(2026, 11, 28, 12, tzinfo=UTC),
            datetime(2026, 11, 29, 12, tzinfo=UTC),
            "On call: ops primary — f",
        ),
        (
            datetime(2026, 11, 29, 12, tzinfo=UTC),
            datetime(2026, 11, 30, 9, tzinfo=UTC),
            "On call: ops primary — d",
        ),
    ]
    assert (
        client.get(feed_url("rotation", "ops"), headers={"If-None-Match": etag}).status_code == 200
    )

    # f's own feed shows the cover; deleting the override cancels it there.
    f_before = events(fetch(client, "person", "f"))
    assert [summary for _, _, summary in f_before.values()] == ["On call: ops primary — f"]
    override_id = created.get_json()["override"]["id"]
    clock.advance(hours=1)
    assert client.delete(f"/api/v1/rotations/ops/overrides/{override_id}").status_code == 200
    f_after = fetch(client, "person", "f")
    assert events(f_after) == {}
    assert events(f_after, cancelled=True) == f_before


def test_feed_regenerated_later_keeps_uids(client: FlaskClient, clock: Clock) -> None:
    today = events(fetch(client, "rotation", "ops"))
    clock.advance(days=3)

    later = events(fetch(client, "rotation", "ops"))

    shared = today.keys() & later.keys()
    assert len(shared) >= len(today) - 2  # only shifts that left the window's past are gone
    assert all(today[uid] == later[uid] for uid in shared)


def test_person_in_no_rotation_gets_empty_feed(client: FlaskClient) -> None:
    assert events(fetch(client, "person", "g")) == {}


def test_settings_calendar_window_defaults() -> None:
    settings = Settings.model_validate(rota_config())

    assert (settings.calendar.days_back, settings.calendar.days_ahead) == (30, 365)


def _published(client: FlaskClient) -> dict[str, tuple[str, int, datetime, datetime]]:
    calendar = fetch(client, "rotation", "ops")
    return {
        str(event["UID"]): (
            str(event["STATUS"]),
            int(event["SEQUENCE"]),
            event.decoded("DTSTART"),
            event.decoded("DTEND"),
        )
        for event in calendar.walk("VEVENT")
    }


def test_deleting_a_split_override_cancels_each_published_piece_and_sequence_grows(
    client: FlaskClient, clock: Clock
) -> None:
    # f covers three days of d's week; g then covers six hours inside f's cover, splitting
    # it in two; f's cover is deleted, then g's. Each feed a calendar fetched on the way must
    # be cancellable from the next, and no UID may come back with a lower SEQUENCE.
    history = [_published(client)]

    def changed(response) -> None:  # type: ignore[no-untyped-def]
        assert response.status_code in (200, 201), response.get_json()
        clock.advance(minutes=5)
        history.append(_published(client))

    cover = {"person": "f", "start": "2026-11-25T00:00:00Z", "end": "2026-11-28T00:00:00Z"}
    first = client.post("/api/v1/rotations/ops/overrides", json={**cover, "force": True})
    changed(first)
    inner = {"person": "g", "start": "2026-11-26T00:00:00Z", "end": "2026-11-26T06:00:00Z"}
    second = client.post("/api/v1/rotations/ops/overrides", json={**inner, "force": True})
    changed(second)
    f_pieces = {
        uid
        for uid, (status, _, start, _) in history[-1].items()
        if status == "CONFIRMED" and start in (
            datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, 6, tzinfo=UTC)
        )
    }  # fmt: skip
    assert len(f_pieces) == 2
    first_id = first.get_json()["override"]["id"]
    changed(client.delete(f"/api/v1/rotations/ops/overrides/{first_id}"))

    assert {uid: history[-1][uid][0] for uid in f_pieces} == dict.fromkeys(f_pieces, "CANCELLED")

    second_id = second.get_json()["override"]["id"]
    changed(client.delete(f"/api/v1/rotations/ops/overrides/{second_id}"))
    for before, after in zip(history, history[1:], strict=False):
        # Every event a calendar had is still in the next feed, updated or cancelled ...
        assert before.keys() <= after.keys()
        for uid in before:
            if after[uid] != before[uid]:  # ... and a change comes with a higher SEQUENCE.
                assert after[uid][1] > before[uid][1], (uid, before[uid], after[uid])
    # The schedule is back, CONFIRMED under the UIDs it started with.
    assert {uid: v[0] for uid, v in history[-1].items() if uid in history[0]} == {
        uid: "CONFIRMED" for uid in history[0]
    }


@pytest.mark.parametrize(
    ("header", "status"),
    [("*", 304), ("W/{etag}", 304), ('"other", {etag}', 304), ('"other"', 200), ("junk", 200)],
)
def test_feed_if_none_match_forms(client: FlaskClient, header: str, status: int) -> None:
    etag = client.get(feed_url("rotation", "ops")).headers["ETag"]

    answer = client.get(
        feed_url("rotation", "ops"), headers={"If-None-Match": header.format(etag=etag)}
    )

    assert answer.status_code == status
