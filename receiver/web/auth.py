"""Checking the credentials a caller presents: bearer tokens and HTTP basic auth.

Secrets are compared in constant time (`hmac.compare_digest`) so that response timing does
not reveal how much of a guess was right.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import Response, request
from pydantic import SecretStr

from receiver.config.settings import BasicAuth
from receiver.services import services
from receiver.web.errors import error_response


def _same(given: str, expected: SecretStr) -> bool:
    return hmac.compare_digest(given.encode(), expected.get_secret_value().encode())


def bearer_matches(authorization: str | None, token: SecretStr) -> bool:
    """True when the Authorization header carries exactly `Bearer <token>`."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and _same(given.strip(), token)


def basic_matches(authorization: str | None, expected: BasicAuth) -> bool:
    """True when the Authorization header carries the expected basic-auth user and password."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, separator, password = decoded.partition(":")
    user_ok = hmac.compare_digest(username.encode(), expected.username.encode())
    password_ok = _same(password, expected.password)
    return bool(separator) and user_ok and password_ok


def webhook_authorized(
    authorization: str | None, *, bearer: SecretStr | None, basic: BasicAuth | None
) -> bool:
    """Whether a webhook request may pass: any configured credential that matches, or none set."""
    if bearer is None and basic is None:
        return True  # an open webhook; `onwatch serve` warns loudly about it at start
    return (bearer is not None and bearer_matches(authorization, bearer)) or (
        basic is not None and basic_matches(authorization, basic)
    )


def require_api_token() -> tuple[Response, int] | None:
    """Blueprint guard for `/api/v1`: the configured API bearer token, when one is set."""
    token = services().settings.api.bearer_token
    if token is None or bearer_matches(request.headers.get("Authorization"), token):
        return None
    response, status = error_response(401, "missing or wrong API token")
    response.headers["WWW-Authenticate"] = 'Bearer realm="onwatch"'
    return response, status
