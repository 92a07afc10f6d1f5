"""Helpers for the pages' tests: a signed-in test client and the CSRF token of a page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from receiver.pages.passwords import set_password
from receiver.services import Services

WEB_SECRET = "pages-test-secret-0123456789"
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def password_web(**extra: object) -> dict[str, object]:
    """The `web:` section for password sign-in."""
    return {"auth": "password", "session_secret": WEB_SECRET, **extra}


def give_password(app: Flask, person: str, password: str = PASSWORD) -> None:
    """Store `person`'s password as `onwatch user set-password` does."""
    services: Services = app.extensions["onwatch"]
    now = datetime.now(UTC)
    services.store.write(lambda session: set_password(session, person, password, now=now))


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """The CSRF token the form on `path` carries."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}: {page.status_code}"
    return found.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD) -> int:
    """Sign in through the form; the status of the answer (303 when it worked)."""
    token = csrf_token(client)
    answer = client.post("/sign-in", data={"name": name, "password": password, "csrf_token": token})
    return answer.status_code
