"""Checking the credentials a caller presents: bearer tokens and HTTP basic auth.

Secrets are compared in constant time (`hmac.compare_digest`) so that response timing does
not reveal how much of a guess was right.

Who may call `/api/v1` (`require_api_token`), closed by default:

- `api.bearer_token` set: every caller presents `Authorization: Bearer <token>` (the scheme
  in any case, as RFC 7235 has it), loopback callers too;
- no token, `api.open: true`: everyone (a trusted network only);
- no token: callers on loopback only (127.0.0.0/8, ::1), as the socket's peer address says;
  anyone else gets 403 naming the two ways to open it.

The Alertmanager and PagerDuty webhooks and Slack's command and button routes are not behind
it: they check their own credentials (`webhook.*`, the PagerDuty signature, Slack's signature
with `chat.slack.signing_secret`). `init_app` applies the guard to every other `/api/v1`
route, so a new blueprint is closed without having to remember it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress

from flask import Flask, Response, request
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


API_PREFIX = "/api/v1"
# Routes under /api/v1 with credentials of their own (see the module docstring).
# Slack's two routes are signed with chat.slack.signing_secret (receiver.slack.views).
WEBHOOK_ENDPOINTS = frozenset(
    {"webhooks.alertmanager", "pagerduty.pagerduty", "slack.commands", "slack.interactions"}
)
CLOSED_MESSAGE = (
    "the API answers only callers on this machine (loopback) until a token is set: set "
    "api.bearer_token (or ONWATCH_API_TOKEN) and send 'Authorization: Bearer <token>', or set "
    "api.open: true if every host that can reach onwatch may use the API"
)
WRONG_TOKEN_MESSAGE = (
    "missing or wrong API token: send 'Authorization: Bearer <token>' with the value of "
    "api.bearer_token (ONWATCH_API_TOKEN)"
)


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and an IPv4-mapped loopback address (::ffff:127.0.0.1)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False  # no address (a unix socket) or not an IP: not known to be local
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def require_api_token() -> tuple[Response, int] | None:
    """Guard for `/api/v1`: None lets the request through, else the 401/403 answer.

    The address is the socket's peer (`request.remote_addr`): behind a reverse proxy on the
    same machine every caller is loopback, so such a set-up needs the token.
    """
    api = services().settings.api
    if api.bearer_token is not None:
        if bearer_matches(request.headers.get("Authorization"), api.bearer_token):
            return None
        response, status = error_response(401, WRONG_TOKEN_MESSAGE)
        response.headers["WWW-Authenticate"] = 'Bearer realm="onwatch"'
        return response, status
    if api.open or is_loopback(request.remote_addr):
        return None
    return error_response(403, CLOSED_MESSAGE)


def init_app(app: Flask) -> None:
    """Guard every `/api/v1` route but the webhooks, whichever blueprint it is in."""

    @app.before_request
    def _guard_api() -> tuple[Response, int] | None:
        endpoint = request.endpoint
        if endpoint is None or endpoint in WEBHOOK_ENDPOINTS:
            return None  # no such route (a 404 or 405 follows), or a webhook
        if request.path != API_PREFIX and not request.path.startswith(API_PREFIX + "/"):
            return None
        return require_api_token()
