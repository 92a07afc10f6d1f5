"""No input makes onwatch answer 5xx: the fault and fuzz run, kept as a property test.

Alertmanager and PagerDuty retry a 5xx forever (and drop a notification on a 4xx), so a
request no retry can fix must be a 4xx, with a JSON `{"error": ...}` naming the problem,
and a 5xx must mean only "the store is unavailable, retry". Hypothesis starts from the real
Alertmanager captures (tests/fixtures/alertmanager/raw/) and a PagerDuty v3 event, mutates
their fields (huge, negative and overflowing numbers, odd dates, NUL and other control
characters, lone surrogates, unicode, missing and extra keys, wrong types), sends them, and
then asks the read and write API about the result with hostile paths, query strings and
bodies. Everything runs through the Flask test client on SQLite and on PostgreSQL (the
`store` fixture), with the database kept across a run's examples, so later examples meet
what earlier ones stored.

Bounded to stay well under a minute: MAX_EXAMPLES per database, no deadline (PostgreSQL
round trips vary), no example database (nothing is written beside the repository).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.support.alertmanager import AUTH, raw_fixture
from tests.support.clock import START
from tests.support.paging import WEBHOOK_SECRET, sign
from tests.support.paths import FIXTURES
from tests.support.rota_config import rota_config

MAX_EXAMPLES = 100

CAPTURES = sorted(path.name for path in (FIXTURES / "raw").glob("*.json"))

# Values the fuzz run found trouble with, and their neighbours.
NUMBERS = (
    st.sampled_from(
        [0, -1, 1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**40]
    )
    | st.integers()
)
ODD_INSTANTS = st.sampled_from(
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-30",
        "3000-01-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-28T06:41:44.189",  # no offset
        "2026-11-28T06:41:44.189+25:00",
        "2026-11-28",
        "2026-11-28T06:45:00Z",
        "+275760-09-13T00:00:00Z",
        "yesterday",
        "",
    ]
)
TRICKY_TEXT = st.sampled_from(
    [
        "\x00",
        "Disk\x00Full",
        "\ud800",  # a lone surrogate: json.dumps writes it as \ud800
        "a\udfffb",
        "\x1b[31m\x07\x7f",
        "\u202e\u2028\u0085",
        "\ufffd",
        "²",
        "٣",
        "x" * 65,
        "onwatch-9223372036854775808",
        "onwatch-2147483648-escalation-1",
        "critical",
        "checkout",
    ]
)
TEXT = TRICKY_TEXT | st.text(max_size=30)
SCALARS = NUMBERS | ODD_INSTANTS | TEXT | st.none() | st.booleans() | st.floats()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
NUMERIC_TEXT = NUMBERS.map(str) | st.sampled_from(["²", "٣", "1e3", " 1", "0x10", "9" * 5000])
MONTHS = st.sampled_from(["9999-12", "0000-01", "1970-01", "2016-10", "2026-11", "2026-12", "²"])
# What each field the fuzz run found trouble in is given, half the time, instead of anything.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "startsAt": ODD_INSTANTS,
    "endsAt": ODD_INSTANTS,
    "occurred_at": ODD_INSTANTS,
    "truncatedAlerts": NUMBERS,
    "incident_key": TRICKY_TEXT | NUMERIC_TEXT.map(lambda n: f"onwatch-{n}"),
    **dict.fromkeys(
        ["fingerprint", "groupKey", "receiver", "generatorURL", "externalURL", "alertname"],
        TRICKY_TEXT,
    ),
    **dict.fromkeys(["summary", "severity", "service", "id", "event_type"], TRICKY_TEXT),
    **dict.fromkeys(["labels", "annotations", "commonLabels", "groupLabels"], VALUES),
}
QUERY_FIELD_VALUES: dict[str, st.SearchStrategy[str]] = {
    **dict.fromkeys(["limit", "before", "after"], NUMERIC_TEXT),
    **dict.fromkeys(["at", "from", "to"], ODD_INSTANTS),
    "month": MONTHS,
}


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a mutation can touch (the root is `()`)."""
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*prefix, index))
    return found


def _mutated(data: st.DataObject, document: Any, most: int = 4) -> Any:
    """`document` with one to `most` of its fields replaced, removed, added or retyped."""
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, most), label="mutations")):
        paths = _paths(document)
        fields = sorted({p[-1] for p in paths if p and p[-1] in FIELD_VALUES})
        if fields and data.draw(st.booleans(), label="targeted"):
            # A field the fuzz run found trouble in (each field as likely as the next).
            field = data.draw(st.sampled_from(fields), label="field")
            paths = [p for p in paths if p and p[-1] == field]
        path = data.draw(st.sampled_from(paths), label="path")
        if not path:
            if data.draw(st.booleans(), label="replace the root"):
                document = data.draw(VALUES, label="root")
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = data.draw(
            st.sampled_from(["replace", "replace", "replace", "remove", "add", "repeat"]),
            label="do",
        )
        if action == "replace":
            values = FIELD_VALUES.get(last, VALUES) if isinstance(last, str) else VALUES
            parent[last] = data.draw(values, label="value")
        elif action == "remove":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(TEXT, label="key")] = data.draw(VALUES, label="value")
        elif action == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
    return document


def _pagerduty_event(incident_id: int, event_id: str) -> dict[str, Any]:
    return {
        "event": {
            "id": event_id,
            "event_type": "incident.acknowledged",
            "resource_type": "incident",
            "occurred_at": START.isoformat(),
            "agent": {"id": "PLH1HKV", "summary": "Dana Oncall", "type": "user_reference"},
            "client": None,
            "data": {
                "id": "Q1ZDJMSJ2F8OHU",
                "type": "incident",
                "incident_key": f"onwatch-{incident_id}",
                "assignees": [{"id": "PTUXL6G", "summary": "Bea Backup"}],
            },
        }
    }


def _segment(data: st.DataObject, plausible: list[str], label: str) -> str:
    """A path segment: usually a plausible one, sometimes anything, always URL-quoted."""
    segment = data.draw(st.sampled_from(plausible) | TEXT.filter(bool), label=label)
    return quote(segment, safe="", errors="surrogatepass")  # a lone surrogate: bad UTF-8


QUERY_KEYS = [
    "limit",
    "before",
    "after",
    "status",
    "severity",
    "service",
    "at",
    "from",
    "to",
    "month",
    "format",
    "rotation",
    "overdue",
    "owner",
    "token",
]
QUERY_VALUES = (
    NUMBERS.map(str)
    | ODD_INSTANTS
    | TEXT
    | st.sampled_from(["9999-12", "0000-01", "1970-01", "2016-10", "2026-11", "json", "html"])
)
GETS = [
    "/api/v1/incidents",
    "/api/v1/incidents/{id}",
    "/api/v1/incidents/{id}/alerts",
    "/api/v1/incidents/{id}/timeline",
    "/api/v1/incidents/{id}/response",
    "/api/v1/incidents/{id}/postmortem",
    "/api/v1/incidents/{id}/actions",
    "/api/v1/actions",
    "/api/v1/oncall",
    "/api/v1/rotations/{name}/shifts",
    "/api/v1/rotations/{name}/overrides",
    "/api/v1/rotations/{name}/handoff",
    "/api/v1/rotations/{name}/escalation",
    "/api/v1/reports/burden",
    "/calendar/rotation/{name}.ics",
    "/calendar/person/{name}.ics",
]
WRITES = [
    ("POST", "/api/v1/incidents/{id}/ack"),
    ("POST", "/api/v1/incidents/{id}/resolve"),
    ("POST", "/api/v1/incidents/{id}/roles"),
    ("POST", "/api/v1/incidents/{id}/updates"),
    ("POST", "/api/v1/incidents/{id}/checklist/{item}"),
    ("POST", "/api/v1/incidents/{id}/severity"),
    ("POST", "/api/v1/incidents/{id}/classification"),
    ("POST", "/api/v1/incidents/{id}/postmortem"),
    ("POST", "/api/v1/incidents/{id}/postmortem/{milestone}"),
    ("POST", "/api/v1/incidents/{id}/actions"),
    ("PATCH", "/api/v1/actions/{id}"),
    ("POST", "/api/v1/actions/{id}/close"),
    ("POST", "/api/v1/rotations/{name}/overrides"),
    ("DELETE", "/api/v1/rotations/{name}/overrides/{id}"),
    ("POST", "/api/v1/rotations/{name}/swaps"),
    ("POST", "/api/v1/rotations/{name}/handoff/notes"),
]
BODY_KEYS = st.sampled_from(
    [
        "by",
        "note",
        "text",
        "person",
        "role",
        "status",
        "impact",
        "current_action",
        "eta",
        "severity",
        "reason",
        "classification",
        "title",
        "owner",
        "due",
        "start",
        "end",
        "first",
        "second",
        "layer",
        "force",
        "external",
    ]
)
PLAUSIBLE = st.sampled_from(
    ["d", "f", "commander", "investigating", "SEV1", "noise", "primary", "2026-12-01", True]
)
BODIES = st.dictionaries(BODY_KEYS, PLAUSIBLE | VALUES, max_size=7) | VALUES


def _assert_answered(response: TestResponse, what: str) -> None:
    """2xx, 3xx, or a 4xx whose body is JSON `{"error": "..."}`: never a 5xx."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.data[:300]!r}"
    if response.status_code >= 400:
        assert response.is_json, f"{what}: {response.status_code} {response.data[:300]!r}"
        assert isinstance(response.get_json()["error"], str), what


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    config = rota_config()
    config["pagerduty_webhook"] = {"secret": WEBHOOK_SECRET}
    return make_app(**config).test_client()


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_input_gets_a_5xx(client: FlaskClient, data: st.DataObject) -> None:
    # Alertmanager's webhook, from a real capture.
    capture = json.loads(raw_fixture(data.draw(st.sampled_from(CAPTURES), label="capture")))
    payload = _mutated(data, capture)
    body = json.dumps(payload).encode()
    response = client.post(
        "/api/v1/alertmanager", data=body, headers=AUTH, content_type="application/json"
    )
    _assert_answered(response, f"webhook {body[:300]!r}")
    incident = response.get_json().get("incident_id", 1) if response.status_code == 200 else 1

    # PagerDuty's webhook, signed: only PagerDuty can send these, and it retries 5xx too.
    event_id = data.draw(st.uuids(), label="event id").hex  # a new event, not a replay
    event = _mutated(data, _pagerduty_event(incident, event_id), most=2)
    signed = json.dumps(event).encode()
    response = client.post(
        "/api/v1/pagerduty",
        data=signed,
        headers={"X-PagerDuty-Signature": sign(signed, WEBHOOK_SECRET)},
        content_type="application/json",
    )
    _assert_answered(response, f"pagerduty {signed[:300]!r}")

    # The API about it: hostile ids, names, query strings and bodies.
    ids = [str(incident), "0", "2147483647", "2147483648", "9223372036854775808", "²"]
    names = ["ops", "nope", "o\x00ps", "a", "g"]
    for _ in range(data.draw(st.integers(1, 2), label="reads")):
        template = data.draw(st.sampled_from(GETS), label="get")
        url = template.format(id=_segment(data, ids, "id"), name=_segment(data, names, "name"))
        keys = data.draw(st.lists(st.sampled_from(QUERY_KEYS), max_size=3), label="keys")
        query = {
            key: data.draw(QUERY_FIELD_VALUES.get(key, QUERY_VALUES), label=key) for key in keys
        }
        query_string = urlencode(query, quote_via=quote, errors="surrogatepass")
        answer = client.get(f"{url}?{query_string}", headers=AUTH)
        _assert_answered(answer, f"GET {url}?{query_string}")
    method, template = data.draw(st.sampled_from(WRITES), label="write")
    url = template.format(
        id=_segment(data, ids, "id"),
        name=_segment(data, names, "name"),
        item=_segment(data, ["war_room", "acknowledged", "nope"], "item"),
        milestone=_segment(data, ["drafted", "reviewed", "exception"], "milestone"),
    )
    request_body = json.dumps(data.draw(BODIES, label="body"))
    response = client.open(
        url, method=method, data=request_body, headers=AUTH, content_type="application/json"
    )
    _assert_answered(response, f"{method} {url} {request_body[:300]}")
