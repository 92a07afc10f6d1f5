"""The rota over HTTP: who is on call, shifts, and overrides refused, forced and removed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.clock import Clock
from tests.support.rota_config import rota_config


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(**rota_config()).test_client()


def on_call(client: FlaskClient, at: str | None = None) -> dict[str, str | None]:
    response = client.get("/api/v1/oncall", query_string={"at": at} if at else {})
    assert response.status_code == 200
    [ops] = response.get_json()["rotations"]
    return {
        layer["layer"]: layer["person"]["name"] if layer["person"] else None
        for layer in ops["layers"]
    }


def override(client: FlaskClient, **body: Any) -> Any:
    return client.post("/api/v1/rotations/ops/overrides", json=body)


def test_oncall_now_and_at_instant(client: FlaskClient) -> None:
    # The clock says Saturday 2026-11-28: the week of Nov 23.
    assert on_call(client) == {"primary": "d", "secondary": "b"}
    assert on_call(client, "2026-11-10T00:00:00Z") == {"primary": "b", "secondary": "e"}
    assert on_call(client, "2026-11-01T00:00:00Z") == {"primary": None, "secondary": None}


def test_oncall_shows_contacts_and_escalation(client: FlaskClient) -> None:
    [ops] = client.get("/api/v1/oncall").get_json()["rotations"]

    assert ops["services"] == ["checkout"]
    assert ops["layers"][0]["person"] == {
        "name": "d",
        "email": "d@example.com",
        "time_zone": "Europe/London",
        "pagerduty_user_id": "",
    }
    assert ops["layers"][0]["shift"]["start"] == "2026-11-23T09:00:00+00:00"
    assert ops["escalation"]["person"]["name"] == "f"


def test_shifts_between_instants(client: FlaskClient) -> None:
    response = client.get(
        "/api/v1/rotations/ops/shifts", query_string={"from": "2026-11-02", "to": "2026-11-16"}
    )

    assert response.status_code == 200
    shifts = response.get_json()["shifts"]
    assert [(s["layer"], s["person"]["name"]) for s in shifts] == [
        ("primary", "a"),
        ("secondary", "d"),
        ("primary", "b"),
        ("secondary", "e"),
    ]


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/v1/oncall?at=tomorrow", 400, 'at: "tomorrow" is not a date'),
        ("/api/v1/oncall?at=2026-11-10T00:00:00", 400, 'at: "2026-11-10T00:00:00" has no time'),
        ("/api/v1/rotations/nope/shifts", 404, "no rotation 'nope'"),
        ("/api/v1/rotations/ops/shifts?from=2026-11-10&to=2026-11-01", 400, "to: must be after"),
        ("/api/v1/rotations/ops/shifts?from=2026-01-01&to=2028-01-01", 400, "to: must be after"),
    ],
)
def test_rota_queries_reject_bad_input(
    client: FlaskClient, url: str, status: int, message: str
) -> None:
    response = client.get(url)

    assert response.status_code == status
    assert response.get_json()["error"].startswith(message)


def test_override_covers_partial_shift(client: FlaskClient) -> None:
    response = override(
        client,
        person="f",
        start="2026-11-28T12:00:00Z",
        end="2026-11-29T12:00:00Z",
        reason="d at a wedding",
        requested_by="d",
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["violations"] == []
    assert body["override"]["forced"] is False
    assert on_call(client, "2026-11-28T11:59:00Z")["primary"] == "d"
    assert on_call(client, "2026-11-28T12:00:00Z")["primary"] == "f"
    assert on_call(client, "2026-11-29T12:00:00Z")["primary"] == "d"
    listed = client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"]
    assert [(o["person"], o["reason"]) for o in listed] == [("f", "d at a wedding")]


def test_override_breaking_rest_gap_is_refused_unless_forced(client: FlaskClient) -> None:
    # c was on call (primary) until Monday Nov 23 09:00: five days of rest, not seven; and
    # c starts the secondary on Monday Nov 30 09:00, less than a day after.
    window = {"person": "c", "start": "2026-11-28T12:00:00Z", "end": "2026-11-29T12:00:00Z"}

    refused = override(client, **window)

    assert refused.status_code == 409
    error = refused.get_json()
    assert error["error"].startswith(
        "override refused: c would have 5.1 days of rest before ops primary (starts 2026-11-28 "
        "12:00 UTC), after ops primary (ends 2026-11-23 09:00 UTC); the rotation ops requires "
        "7 days"
    )
    assert '"force": true' in error["error"]
    assert [v["rule"] for v in error["violations"]] == ["rest-gap", "rest-gap"]
    assert "ops secondary (starts 2026-11-30 09:00 UTC)" in error["violations"][1]["message"]
    assert on_call(client, "2026-11-28T13:00:00Z")["primary"] == "d"  # nothing stored
    assert client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"] == []

    forced = override(client, force=True, **window)

    assert forced.status_code == 201
    assert forced.get_json()["override"]["forced"] is True
    assert forced.get_json()["violations"][0]["forced"] is True
    assert on_call(client, "2026-11-28T13:00:00Z")["primary"] == "c"


def test_override_on_two_layers_at_once_is_refused(client: FlaskClient) -> None:
    response = override(
        client,
        layer="secondary",
        person="d",
        start="2026-11-28T12:00:00Z",
        end="2026-11-28T18:00:00Z",
    )

    assert response.status_code == 409
    assert "two-layers-at-once" in [v["rule"] for v in response.get_json()["violations"]]


def test_override_removed_restores_schedule(client: FlaskClient, clock: Clock) -> None:
    created = override(client, person="f", start="2026-11-28T12:00:00Z", end="2026-11-29T12:00:00Z")
    override_id = created.get_json()["override"]["id"]
    clock.advance(minutes=30)

    removed = client.delete(f"/api/v1/rotations/ops/overrides/{override_id}")

    assert removed.status_code == 200
    assert removed.get_json()["override"]["deleted_at"] == clock.now.isoformat()
    assert on_call(client, "2026-11-28T13:00:00Z")["primary"] == "d"
    again = client.delete(f"/api/v1/rotations/ops/overrides/{override_id}")
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"person": "f", "start": "2026-11-28T12:00:00Z", "end": "2026-11-28T10:00:00Z"},
            400,
            "end: must be after start",
        ),
        (
            {"person": "f", "start": "2026-11-28T12:00:00", "end": "2026-11-29T12:00:00Z"},
            400,
            'start: "2026-11-28T12:00:00" has no time zone offset',
        ),
        (
            {"person": "zed", "start": "2026-11-28T12:00:00Z", "end": "2026-11-29T12:00:00Z"},
            400,
            "person: nobody called 'zed'",
        ),
        (
            {
                "layer": "tertiary",
                "person": "f",
                "start": "2026-11-28T12:00:00Z",
                "end": "2026-11-29T12:00:00Z",
            },
            400,
            "layer: ops has no layer 'tertiary'",
        ),
        ({"person": "f", "start": "2026-11-28T12:00:00Z"}, 400, "end: expected a non-empty"),
        (
            {
                "person": "f",
                "start": "2026-11-28T12:00:00Z",
                "end": "2026-11-29T12:00:00Z",
                "force": "yes",
            },
            400,
            "force: expected true or false",
        ),
    ],
)
def test_override_rejects_bad_input(
    client: FlaskClient, body: dict[str, Any], status: int, message: str
) -> None:
    response = override(client, **body)

    assert response.status_code == status
    assert response.get_json()["error"].startswith(message)
    assert client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"] == []


def test_override_rejects_non_json_and_unknown_rotation(client: FlaskClient) -> None:
    assert client.post("/api/v1/rotations/ops/overrides", data="x").status_code == 400
    unknown = client.post("/api/v1/rotations/nope/overrides", json={"person": "f"})
    assert unknown.status_code == 404


def test_rota_api_needs_token_when_configured(make_app: Callable[..., Flask]) -> None:
    client = make_app(api={"bearer_token": "reader"}, **rota_config()).test_client()

    assert client.get("/api/v1/oncall").status_code == 401
    assert override(client, person="f").status_code == 401
    ok = client.get("/api/v1/oncall", headers={"Authorization": "Bearer reader"})
    assert ok.status_code == 200


def test_incident_shows_who_is_on_call_for_its_service(client: FlaskClient) -> None:
    from tests.support.alertmanager import post_alerts, raw_fixture

    post_alerts(client, raw_fixture("firing_single.json"))  # service checkout -> rotation ops
    post_alerts(client, raw_fixture("group_5.json"))  # service api: no rotation covers it

    checkout = client.get("/api/v1/incidents/1").get_json()["on_call"]
    assert checkout["name"] == "ops"
    assert [layer["person"]["name"] for layer in checkout["layers"]] == ["d", "b"]
    assert client.get("/api/v1/incidents/2").get_json()["on_call"] is None


def test_swap_exchanges_two_shifts(client: FlaskClient) -> None:
    # d (primary) and b (secondary) of the week of Nov 23 trade layers.
    response = client.post(
        "/api/v1/rotations/ops/swaps",
        json={
            "first": "2026-11-28T12:00:00Z",
            "second": "2026-11-28T12:00:00Z",
            "second_layer": "secondary",
            "reason": "d is travelling",
        },
    )

    assert response.status_code == 201, response.get_json()
    covers = [(o["layer"], o["person"]) for o in response.get_json()["overrides"]]
    assert covers == [("primary", "b"), ("secondary", "d")]
    assert on_call(client, "2026-11-24T00:00:00Z") == {"primary": "b", "secondary": "d"}
    assert on_call(client, "2026-12-01T00:00:00Z") == {"primary": "e", "secondary": "c"}


def test_swap_breaking_rest_is_refused_in_days_and_says_what_is_allowed(
    client: FlaskClient,
) -> None:
    # d (primary, week of Nov 23) and e (primary, week of Nov 30) trade: d would then be on
    # call Nov 30 - Dec 7 and straight after in their own secondary week of Dec 7.
    response = client.post(
        "/api/v1/rotations/ops/swaps",
        json={"first": "2026-11-28T12:00:00Z", "second": "2026-12-01T12:00:00Z"},
    )

    assert response.status_code == 409
    error = response.get_json()
    assert (
        "d would have 0 days of rest before ops secondary (starts 2026-12-07 09:00 UTC), after "
        "ops primary (ends 2026-12-07 09:00 UTC); the rotation ops requires 7 days"
    ) in error["error"]
    assert "-" not in error["error"].split("would have ")[1].split(" ")[0]
    assert client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"] == []
    # The refusal lists the swaps the rules allow for d's shift, and each is accepted.
    allowed = error["allowed_swaps"]
    assert allowed["shift"]["person"]["name"] == "d"
    # Five people on two weekly layers with a week's rest: no swap of d's week keeps the rules.
    assert (allowed["allowed"], allowed["refused"]) == ([], 7)


def test_swap_that_keeps_someone_on_call_two_weeks_straight_is_refused(
    client: FlaskClient,
) -> None:
    # c covers d's primary week of Nov 23 straight after c's own primary week of Nov 16, and
    # d covers c's secondary week of Nov 30, straight before d's own secondary week of Dec 7.
    response = client.post(
        "/api/v1/rotations/ops/swaps",
        json={
            "first": "2026-11-28T12:00:00Z",
            "second": "2026-12-01T12:00:00Z",
            "second_layer": "secondary",
        },
    )

    assert response.status_code == 409, response.get_json()
    error = response.get_json()
    assert [v["rule"] for v in error["violations"]] == ["max-consecutive", "max-consecutive"]
    assert (
        "c would be on call for 14 days without a break (2026-11-16 09:00 .. 2026-11-30 09:00 "
        "UTC); the rotation ops allows at most 7 days"
    ) in error["error"]


def test_swap_finder_lists_exactly_the_swaps_the_rules_accept(
    make_app: Callable[..., Flask],
) -> None:
    config = rota_config()
    config["rotations"][0]["layers"] = [{"name": "primary"}]  # one layer: room to swap
    client = make_app(**config).test_client()
    response = client.get(
        "/api/v1/rotations/ops/swaps", query_string={"at": "2026-11-28T12:00:00Z", "days": "35"}
    )

    assert response.status_code == 200, response.get_json()
    found = response.get_json()
    assert (found["shift"]["person"]["name"], found["shift"]["layer"]) == ("d", "primary")
    allowed = {s["shift"]["start"] for s in found["allowed"]}
    assert allowed and found["refused"] > 0
    shifts = client.get(
        "/api/v1/rotations/ops/shifts",
        query_string={"from": found["from"], "to": found["to"]},
    ).get_json()["shifts"]
    others = [
        s
        for s in shifts
        if s["layer"] == "primary" and s["person"]["name"] != "d" and s["start"] >= found["from"]
    ]
    assert len(others) == len(allowed) + found["refused"]
    for other in others:
        # Try each for real (then undo it): accepted exactly when the finder listed it.
        middle = other["start"][:10] + "T12:00:00Z"
        tried = client.post(
            "/api/v1/rotations/ops/swaps", json={"first": "2026-11-28T12:00:00Z", "second": middle}
        )
        assert tried.status_code == (201 if other["start"] in allowed else 409), other
        for made in tried.get_json().get("overrides", []):
            client.delete(f"/api/v1/rotations/ops/overrides/{made['id']}")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"at": "2026-11-28T12:00:00Z", "layer": "tertiary"}, "layer: ops has no layer"),
        ({"at": "2026-11-28T12:00:00Z", "days": "93"}, "days: expected 1 to 92, got 93"),
        ({"at": "2026-11-28T12:00:00Z", "days": "-1"}, "days: expected a whole number"),
        ({"at": "2026-11-01T00:00:00Z"}, "at: nobody is on call for ops primary"),
        ({"at": "3000-01-01T00:00:00Z"}, "is out of range"),
    ],
)
def test_swap_finder_refuses_bad_questions(
    client: FlaskClient, query: dict[str, str], message: str
) -> None:
    response = client.get("/api/v1/rotations/ops/swaps", query_string=query)

    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_swap_of_one_persons_shifts_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/rotations/ops/swaps",
        json={"first": "2026-11-28T12:00:00Z", "second": "2026-11-29T12:00:00Z"},
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "second: both shifts are d's: nothing to swap"


# Instants far from now: the rota generates every shift up to the latest instant it is asked
# about, so `at=3000-01-01` once took 31 s and 310 MB, and 9999-12-30 overflowed (a 500).
RANGE = "expected an instant within 5 years of now, from 2021-11-28"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "/api/v1/oncall?at=3000-01-01T00:00:00Z",
            f'at: "3000-01-01T00:00:00Z" is out of range: {RANGE}',
        ),
        ("/api/v1/oncall?at=2020-01-01", f'at: "2020-01-01" is out of range: {RANGE}'),
        (
            "/api/v1/oncall?at=9999-12-31T23:59:59-01:00",
            'at: "9999-12-31T23:59:59-01:00" is out of range',
        ),
        ("/api/v1/rotations/ops/shifts?from=9999-12-30", 'from: "9999-12-30" is out of range'),
        (
            "/api/v1/rotations/ops/shifts?from=2031-11-01&to=2031-12-30",
            'to: "2031-12-30" is out of range',
        ),
        ("/api/v1/rotations/ops/shifts?to=9999-12-31", 'to: "9999-12-31" is out of range'),
    ],
)
def test_rota_queries_far_from_now_are_400_naming_the_range(
    client: FlaskClient, url: str, message: str
) -> None:
    response = client.get(url)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)


def test_rota_queries_within_the_range_are_answered(client: FlaskClient) -> None:
    assert on_call(client, "2031-11-27T00:00:00Z")["primary"] is not None
    response = client.get("/api/v1/rotations/ops/shifts?from=2031-10-01&to=2031-11-27")
    assert response.status_code == 200 and response.get_json()["shifts"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"start": "9999-12-30", "end": "9999-12-31"}, 'start: "9999-12-30" is out of range'),
        ({"start": "2026-12-01", "end": "3000-01-01"}, 'end: "3000-01-01" is out of range'),
        ({"start": "0001-01-01T00:00:00+01:00", "end": "2026-12-01"}, "start: "),
    ],
)
def test_override_far_from_now_is_400_and_stores_nothing(
    client: FlaskClient, body: dict[str, Any], message: str
) -> None:
    response = override(client, person="f", **body)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)
    assert client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"] == []


def test_swap_far_from_now_is_400(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/rotations/ops/swaps", json={"first": "9999-12-30", "second": "2026-11-28"}
    )

    assert response.status_code == 400
    assert response.get_json()["error"].startswith('first: "9999-12-30" is out of range')


def test_override_text_with_nul_is_stored_replaced(client: FlaskClient) -> None:
    response = override(
        client,
        person="f",
        start="2026-12-02T09:00:00Z",
        end="2026-12-02T12:00:00Z",
        reason="dentist\u0000",
        requested_by="a\u0000",
        force=True,
    )

    assert response.status_code == 201, response.get_json()
    [stored] = client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"]
    assert (stored["reason"], stored["requested_by"]) == ("dentist\ufffd", "a\ufffd")


@pytest.mark.parametrize("override_id", ["2147483648", "9223372036854775808"])
def test_deleting_an_override_id_no_row_can_have_is_a_404(
    client: FlaskClient, override_id: str
) -> None:
    response = client.delete(f"/api/v1/rotations/ops/overrides/{override_id}")

    assert response.status_code == 404
    assert response.is_json


def test_partial_cover_inside_an_override_made_shift_is_accepted(
    make_app: Callable[..., Flask],
) -> None:
    # a covers d's whole week by override; b then covers one hour of it. Covering part of
    # a's shift is not a's rest: nothing is broken (it was refused as "a rests 1.0 hours").
    config = rota_config()
    config["rotations"][0].update(layers=[{"name": "primary"}], min_rest="3d")
    client = make_app(**config).test_client()
    whole = override(client, person="a", start="2026-11-23T09:00:00Z", end="2026-11-30T09:00:00Z")
    assert whole.status_code == 201, whole.get_json()

    hour = override(client, person="b", start="2026-11-25T12:00:00Z", end="2026-11-25T13:00:00Z")

    assert hour.status_code == 201, hour.get_json()
    assert hour.get_json()["violations"] == []
    assert on_call(client, "2026-11-25T12:30:00Z")["primary"] == "b"
    assert on_call(client, "2026-11-25T13:30:00Z")["primary"] == "a"


def test_shifts_show_an_override_whole_wherever_the_window_starts(client: FlaskClient) -> None:
    made = override(
        client, person="f", start="2026-11-24T12:00:00Z", end="2026-12-02T12:00:00Z", force=True
    )
    assert made.status_code == 201, made.get_json()

    for start in ("2026-11-20", "2026-11-26", "2026-12-01"):
        shifts = client.get(
            "/api/v1/rotations/ops/shifts", query_string={"from": start, "to": "2026-12-10"}
        ).get_json()["shifts"]
        [covered] = [s for s in shifts if s["override_id"] is not None]
        assert (covered["start"], covered["end"]) == (
            "2026-11-24T12:00:00+00:00",
            "2026-12-02T12:00:00+00:00",
        ), start


def test_override_before_the_rotation_starts_is_refused(client: FlaskClient) -> None:
    # ops hands off first on Monday 2026-11-02 09:00 London: earlier cover would be dropped.
    response = override(
        client, person="f", start="2026-11-01T12:00:00Z", end="2026-11-03T12:00:00Z"
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == (
        "start: ops begins at its first handoff, 2026-11-02T09:00:00+00:00; an override cannot "
        "start before it"
    )
    assert client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"] == []


def test_override_bounds_are_stored_in_whole_seconds(client: FlaskClient) -> None:
    response = override(
        client, person="f", start="2026-11-28T12:00:00.750Z", end="2026-11-28T18:00:00.250Z"
    )

    assert response.status_code == 201, response.get_json()
    stored = client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"][0]
    assert (stored["start"], stored["end"]) == (
        "2026-11-28T12:00:00+00:00",
        "2026-11-28T18:00:00+00:00",
    )
    assert on_call(client, "2026-11-28T12:00:00Z")["primary"] == "f"
