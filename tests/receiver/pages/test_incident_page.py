"""The overview, the list and one incident's page: the signed-in person acts through the
API's use cases, refusals are explained on the page, and the preview is the internal update."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from receiver.services import Services
from response.facts import StatusUpdate, UpdateStatus
from tests.support.alertmanager import post_alerts, raw_fixture
from tests.support.clock import Clock
from tests.support.pages import csrf_token, give_password, password_web, sign_in
from tests.support.rota_config import rota_config


@pytest.fixture
def signed_in(make_app: Callable[..., Flask]) -> tuple[Flask, FlaskClient]:
    app = make_app(**rota_config(), web=password_web())
    give_password(app, "a")
    give_password(app, "b")
    client = app.test_client()
    assert post_alerts(client, raw_fixture("firing_single.json")).status_code == 200
    assert sign_in(client, "a") == 303
    return app, client


def _post(client: FlaskClient, path: str, **form: str) -> str:
    token = csrf_token(client, "/incidents/1")
    answer = client.post(path, data={**form, "csrf_token": token})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return html.unescape(client.get(answer.headers["Location"]).get_data(as_text=True))


def test_overview_lists_the_open_incident_and_who_is_on_call(
    signed_in: tuple[Flask, FlaskClient],
) -> None:
    _, client = signed_in
    page = client.get("/").get_data(as_text=True)
    assert "#1 " in page and "SEV" in page
    assert "none named" in page  # no IC yet
    assert "ops" in page and "primary" in page and "mailto:" in page


def test_acknowledge_name_a_role_and_post_an_update(signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    page = _post(client, "/incidents/1/ack")
    assert "acknowledged by a after" in page
    page = _post(client, "/incidents/1/roles", role="technical_lead", person="c")
    assert "c is now Technical Lead, named by a" in page
    page = _post(
        client,
        "/incidents/1/updates",
        status="identified",
        impact="checkout fails for 20% of users",
        current_action="rolling back",
        eta="30 minutes",
    )
    assert "Impact: checkout fails for 20% of users | Current action: rolling back" in page
    assert "(by a)" in page


def test_severity_change_by_someone_else_than_the_ic_is_refused_with_the_reason(
    signed_in: tuple[Flask, FlaskClient],
) -> None:
    app, client = signed_in
    _post(client, "/incidents/1/ack")  # a leads
    other = app.test_client()
    assert sign_in(other, "b") == 303
    token = csrf_token(other, "/incidents/1")
    answer = other.post(
        "/incidents/1/severity", data={"severity": "SEV1", "reason": "x", "csrf_token": token}
    )
    page = html.unescape(other.get(answer.headers["Location"]).get_data(as_text=True))
    assert "Not done: only the Incident Commander (a) can change the severity" in page
    assert "SEV1" not in re.findall(r"<h1>.*?</h1>", page, re.S)[0]


def test_preview_is_the_internal_template(signed_in: tuple[Flask, FlaskClient]) -> None:
    app, client = signed_in
    query = "status=identified&impact=slow+checkout&current_action=rollback&eta=soon"
    preview = html.unescape(client.get(f"/incidents/1/preview?{query}").get_data(as_text=True))
    services: Services = app.extensions["onwatch"]
    from receiver.incidents.models import IncidentRecord
    from receiver.response.facts import load_facts

    with services.store.read() as db:
        facts = load_facts(db, db.get(IncidentRecord, 1))
    update = StatusUpdate(
        services.clock(), "a", UpdateStatus.IDENTIFIED, "slow checkout", "rollback", "soon"
    )
    expected = services.response.templates.status_update("internal", facts, update, update.at)
    assert expected.text.strip() in preview
    assert "Impact: slow checkout" in preview


def test_incident_list_filters_and_bounds(signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    assert "#1</a>" in client.get("/incidents?status=open").get_data(as_text=True)
    assert "No incident matches" in client.get("/incidents?status=resolved").get_data(True)
    assert "No incident matches" in client.get("/incidents?q=nothing-like-it").get_data(True)
    assert "#1</a>" in client.get("/incidents?q=higherrorrate").get_data(True)  # any case
    assert "No incident matches" in client.get("/incidents?q=100%25").get_data(True)  # no wildcard
    day = "2026-11-28"  # the test clock's day: the incident opened on it
    assert "#1</a>" in client.get(f"/incidents?from={day}&until={day}").get_data(True)
    assert "No incident" in client.get("/incidents?until=2026-11-27").get_data(True)
    assert client.get("/incidents?from=not-a-date").status_code == 400
    assert client.get("/incidents?from=3026-01-01").status_code == 400


def test_tick_a_checklist_item_with_a_note(signed_in: tuple[Flask, FlaskClient]) -> None:
    _, client = signed_in
    page = _post(client, "/incidents/1/checklist", item="war_room", note="https://meet/x")
    assert "ticked by a): https://meet/x" in page


def test_escalation_page_shows_the_path_as_escalation_show(
    signed_in: tuple[Flask, FlaskClient],
) -> None:
    _, client = signed_in
    page = html.unescape(client.get("/rotations/ops/escalation").get_data(as_text=True))
    assert "Escalation paths of ops" in page
    assert "SEV1" in page and "SEV4" in page
    assert "ops primary" in page and "mailto:" in page
    assert client.get("/rotations/nosuch/escalation").status_code == 404


def test_a_long_note_does_not_overflow_the_session_cookie(
    signed_in: tuple[Flask, FlaskClient],
) -> None:
    _, client = signed_in
    note = secrets.token_hex(4500)  # 9,000 characters that do not compress
    token = csrf_token(client, "/incidents/1")
    answer = client.post(
        "/incidents/1/checklist", data={"item": "war_room", "note": note, "csrf_token": token}
    )
    cookie = answer.headers["Set-Cookie"]
    assert len(cookie) < 4096  # browsers drop a larger cookie: the person would be signed out
    page = html.unescape(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert note in page  # the timeline keeps the whole note


def test_overview_marks_overdue_updates_and_postmortem_work(
    signed_in: tuple[Flask, FlaskClient], clock: Clock
) -> None:
    app, client = signed_in
    assert "Update overdue" not in client.get("/").get_data(as_text=True)
    clock.advance(hours=2)  # no update for two hours: past any severity's update cadence
    page = html.unescape(client.get("/").get_data(as_text=True))
    assert '<tr class="overdue">' in page and "Update overdue: no status update for" in page
    _post(client, "/incidents/1/resolve", classification="actionable")
    item = {"title": "alert on queue depth", "by": "a", "owner": "b", "due": "2026-12-01"}
    assert client.post("/api/v1/incidents/1/actions", json=item).status_code == 201
    clock.advance(days=3)  # the postmortem draft is due within 48 hours of resolution
    page = html.unescape(client.get("/").get_data(as_text=True))
    assert "Overdue postmortem work" in page
    assert "#1 HighErrorRate" in page.split("Overdue postmortem work", 1)[1]
    assert "Draft postmortem" in page.split("Overdue postmortem work", 1)[1]
    assert "action item “alert on queue depth” (b)" in page


def test_preview_without_javascript_is_a_post_that_keeps_the_draft(
    signed_in: tuple[Flask, FlaskClient],
) -> None:
    _, client = signed_in
    token = csrf_token(client, "/incidents/1")
    draft = {"status": "monitoring", "impact": "few users", "current_action": "watching"}
    answer = client.post("/incidents/1/preview", data={**draft, "csrf_token": token})
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200
    assert "- checkout - Monitoring" in page and "Impact: few users" in page
    assert 'value="few users"' in page  # the form keeps what was typed
    assert "timeline" in page and "Not done" not in page
    assert client.post("/incidents/1/preview", data=draft).status_code == 400  # CSRF
