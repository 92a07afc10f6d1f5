"""Signing in to the pages: closed by default, password and proxy modes, the session cookie,
CSRF on every form, rate-limited attempts, and the API's own guard left as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.support.alertmanager import post_alerts, raw_fixture
from tests.support.pages import PASSWORD, csrf_token, give_password, password_web, sign_in
from tests.support.rota_config import rota_config


def _app(make_app: Callable[..., Flask], **web: object) -> Flask:
    return make_app(**rota_config(), web=web or password_web())


def test_pages_closed_without_auth_mode(make_app: Callable[..., Flask]) -> None:
    client = make_app(**rota_config()).test_client()
    for path in ("/", "/incidents", "/sign-in"):
        answer = client.get(path)
        assert answer.status_code == 403
        assert "text/html" in answer.content_type
        assert "web.auth" in answer.get_data(as_text=True)


def test_every_page_needs_sign_in(make_app: Callable[..., Flask]) -> None:
    client = _app(make_app).test_client()
    for path in ("/", "/incidents", "/incidents/1", "/incidents/1/timeline"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["Location"].startswith("/sign-in?next=")


def test_wrong_password_refused_right_one_signs_in(make_app: Callable[..., Flask]) -> None:
    app = _app(make_app)
    give_password(app, "a")
    client = app.test_client()
    assert sign_in(client, "a", "wrong password!!") == 401
    assert sign_in(client, "nobody", PASSWORD) == 401
    assert client.get("/").status_code == 303
    assert sign_in(client, "a") == 303
    page = client.get("/")
    assert page.status_code == 200
    assert "Signed in as <strong>a</strong>" in page.get_data(as_text=True)


def test_session_cookie_flags(make_app: Callable[..., Flask]) -> None:
    app = _app(make_app)
    give_password(app, "a")
    local = app.test_client()
    token = csrf_token(local)
    answer = local.post("/sign-in", data={"name": "a", "password": PASSWORD, "csrf_token": token})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    remote = app.test_client()
    headers = {"Host": "onwatch.example.com"}
    page = remote.get("/sign-in", headers=headers)
    assert "Secure" in page.headers["Set-Cookie"]


def test_post_without_csrf_token_is_refused(make_app: Callable[..., Flask]) -> None:
    app = _app(make_app)
    give_password(app, "a")
    client = app.test_client()
    assert post_alerts(client, raw_fixture("firing_single.json")).status_code == 200
    assert sign_in(client, "a") == 303
    answer = client.post("/incidents/1/ack", data={})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    assert "not yet" in client.get("/incidents/1").get_data(as_text=True)


def test_sign_in_attempts_are_rate_limited(make_app: Callable[..., Flask]) -> None:
    app = _app(make_app, **password_web(sign_in_attempts_per_minute=3))
    give_password(app, "a")
    client = app.test_client()
    assert [sign_in(client, "a", "wrong password!!") for _ in range(3)] == [401] * 3
    assert sign_in(client, "a") == 429  # even the right password, until the minute is over


def test_changing_the_password_ends_sessions(make_app: Callable[..., Flask]) -> None:
    app = _app(make_app)
    give_password(app, "a")
    client = app.test_client()
    assert sign_in(client, "a") == 303
    give_password(app, "a", "another long password")
    assert client.get("/").status_code == 303


def test_sign_in_goes_back_only_to_this_site(make_app: Callable[..., Flask]) -> None:
    app = _app(make_app)
    give_password(app, "a")
    for target, expected in (("/incidents", "/incidents"), ("//evil.example", "/")):
        client = app.test_client()
        token = csrf_token(client)
        answer = client.post(
            "/sign-in",
            data={"name": "a", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert answer.headers["Location"] == expected


def test_proxy_header_believed_only_from_the_proxy(make_app: Callable[..., Flask]) -> None:
    web = {
        "auth": "proxy",
        "session_secret": "proxy-test-secret-0123456789",
        "proxy": {"trusted_addresses": ["127.0.0.1"]},
    }
    client = _app(make_app, **web).test_client()
    header = {"X-Forwarded-Email": "B@example.com"}
    page = client.get("/", headers=header)
    assert page.status_code == 200
    assert "Signed in as <strong>b</strong>" in page.get_data(as_text=True)
    elsewhere = client.get("/", headers=header, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 403
    assert client.get("/").status_code == 403  # no header: nobody
    stranger = client.get("/", headers={"X-Forwarded-Email": "eve@example.com"})
    assert stranger.status_code == 403
    assert "not one of the configured people" in stranger.get_data(as_text=True)


def test_neither_door_opens_the_other(make_app: Callable[..., Flask]) -> None:
    app = make_app(**rota_config(), web=password_web(), api={"bearer_token": "api-token"})
    give_password(app, "a")
    client = app.test_client()
    assert sign_in(client, "a") == 303
    assert client.get("/api/v1/incidents").status_code == 401  # the cookie is no API token
    other = app.test_client()
    bearer = {"Authorization": "Bearer api-token"}
    assert other.get("/api/v1/incidents", headers=bearer).status_code == 200
    assert other.get("/", headers=bearer).status_code == 303  # the token is no session
    api_post = other.post("/api/v1/incidents/1/ack", json={"by": "a"}, headers=bearer)
    assert api_post.status_code == 404  # the API needs no CSRF token: no such incident


def test_error_pages_are_pages_for_browsers_json_for_the_api(
    make_app: Callable[..., Flask],
) -> None:
    app = _app(make_app)
    give_password(app, "a")
    client = app.test_client()
    assert sign_in(client, "a") == 303
    missing = client.get("/incidents/999")
    assert missing.status_code == 404 and "There is no incident 999" in missing.get_data(True)
    assert "text/html" in missing.content_type
    bad = client.get("/incidents?severity=SEV9")
    assert bad.status_code == 400 and "severity: expected one of" in bad.get_data(True)
    browser = client.get("/nowhere", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.status_code == 404 and "text/html" in browser.content_type
    assert client.get("/nowhere").get_json() is not None  # an API client still gets JSON
    assert client.get("/api/v1/nowhere", headers={"Accept": "text/html"}).is_json


def test_pages_refuse_to_be_framed_and_run_only_their_own_scripts(
    make_app: Callable[..., Flask],
) -> None:
    client = _app(make_app).test_client()
    answer = client.get("/sign-in")
    assert answer.headers["X-Frame-Options"] == "DENY"
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "Content-Security-Policy" not in client.get("/healthz").headers  # the API's own


def test_web_settings_refuse_what_would_leave_the_pages_open_or_broken() -> None:
    from pydantic import ValidationError

    from receiver.pages.settings import WebSettings

    for bad, words in (
        ({"auth": "password"}, "session_secret"),
        ({"auth": "password", "session_secret": "short"}, "at least 16"),
        ({"auth": "proxy", "session_secret": "x" * 20}, "trusted_addresses"),
        ({"proxy": {"trusted_addresses": ["not-an-address"]}}, "not an IP address"),
        ({"sign_in_limit_storage": "sqlite:///x"}, "memory://"),
    ):
        with pytest.raises(ValidationError, match=words):
            WebSettings.model_validate(bad)
    assert WebSettings().auth is None  # closed by default
