"""Who is looking at the pages: sign-in, the session cookie, CSRF and the guard of every page.

Closed by default. With `web.auth` unset every page answers 403 saying how to turn the
pages on. `proxy`: an OAuth2/OIDC proxy in front has signed the person in and names them by
e-mail in `web.proxy.header`; the header is believed only from `web.proxy.trusted_addresses`
(anyone else could send it). `password`: people sign in with their name and the password set
by `onwatch user set-password NAME`; failed attempts are limited per address (`SignInLimit`).

The session is Flask's signed cookie: HttpOnly, SameSite=Lax, Secure unless the browser
reached onwatch on a loopback address (a laptop without TLS). Every form carries a CSRF token
(Flask-WTF), checked on every POST to the pages only: the API keeps its own guard
(receiver/web/auth.py, a bearer token or loopback) and never accepts the cookie, and the pages
never accept the API's token, so neither door opens the other.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask, Request, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as WerkzeugResponse

from receiver.pages import passwords
from receiver.services import services

csrf = CSRFProtect()

SIGNED_OUT_ENDPOINTS = frozenset({"pages.sign_in", "pages.static"})
OFF_MESSAGE = (
    "The web pages are off. Set web.auth to 'proxy' (behind an OAuth2/OIDC proxy) or "
    "'password' (with onwatch user set-password NAME), and web.session_secret."
)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: one of the configured people."""

    name: str
    email: str
    zone: ZoneInfo


class PageSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure unless the browser is on a loopback address."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure everywhere but http://127.0.0.1 and http://localhost (no TLS there)."""
        return not browser_on_loopback(request)


def browser_on_loopback(req: Request) -> bool:
    """True when the address the browser used (the Host header) is a loopback one."""
    host = req.host.rsplit(":", 1)[0].strip("[]") if req.host else ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def viewer() -> Viewer:
    """The signed-in person of this request (the guard has run)."""
    found: Viewer = g.viewer
    return found


def _person(name: str) -> Viewer | None:
    person = services().rota.people.get(name)
    return Viewer(person.name, person.email, person.zone) if person else None


def _by_email(email: str) -> Viewer | None:
    wanted = email.strip().lower()
    for person in services().rota.people.values():
        if person.email.lower() == wanted:
            return Viewer(person.name, person.email, person.zone)
    return None


def guard() -> WerkzeugResponse | None:
    """Before every page: the signed-in person in `g.viewer`, else a sign-in or a 403."""
    web = services().settings.web
    if request.endpoint == "pages.static":
        return None
    if web.auth is None:
        abort(403, OFF_MESSAGE)
    if request.method == "POST":
        csrf.protect()  # a 400 naming the problem when the token is missing or wrong
    if web.auth == "proxy":
        g.viewer = _proxy_viewer()
        return None
    if request.endpoint in SIGNED_OUT_ENDPOINTS:
        return None
    signed_in = _session_viewer()
    if signed_in is None:
        session.clear()
        return redirect(url_for("pages.sign_in", next=_here()), code=303)
    g.viewer = signed_in
    return None


def _proxy_viewer() -> Viewer:
    proxy = services().settings.web.proxy
    if not proxy.trusts(request.remote_addr):
        abort(403, "Sign-in comes from the proxy in front of onwatch; this request did not.")
    email = request.headers.get(proxy.header, "").strip()
    if not email:
        abort(403, f"The proxy sent no {proxy.header} header: nobody is signed in.")
    found = _by_email(email)
    if found is None:
        abort(403, f"{email} is not one of the configured people (people:).")
    return found


def _session_viewer() -> Viewer | None:
    name, digest = session.get("person"), session.get("password")
    if not isinstance(name, str) or not isinstance(digest, str):
        return None
    with services().store.read() as db:
        if passwords.current_digest(db, name) != digest:
            return None  # the password was changed (or removed) since this sign-in
    return _person(name)


def _here() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else "/"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.home")
    return target


@dataclass(frozen=True)
class SignInLimit:
    """Failed sign-ins allowed per address and minute (`web.sign_in_attempts_per_minute`),
    counted in `web.sign_in_limit_storage` by the `limits` library (Flask-Limiter's core).

    Checked by the sign-in view itself rather than by an extension hook on every request:
    the webhook, the busiest route, has nothing to do with it.
    """

    counter: FixedWindowRateLimiter
    allowed: RateLimitItem

    def refuse_when_spent(self, address: str) -> None:
        """A 429 once `address` failed as often as the minute allows (even with the right
        password, until the minute is over)."""
        if not self.counter.test(self.allowed, "sign-in", address):
            raise TooManyRequests(
                "too many sign-in attempts from this address: wait a minute, then try again"
            )

    def count_failure(self, address: str) -> None:
        """Count one failed attempt from `address`."""
        self.counter.hit(self.allowed, "sign-in", address)


def sign_in_limit() -> SignInLimit:
    """This app's `SignInLimit`."""
    limit: SignInLimit = current_app.extensions["onwatch.sign_in_limit"]
    return limit


def signed_in_as(person: str, digest: str) -> None:
    """Start a new session for `person` (a fresh cookie: no fixation of an old one)."""
    session.clear()
    session.permanent = True
    session["person"], session["password"] = person, digest


def init_app(app: Flask) -> None:
    """Sessions, CSRF and the sign-in rate limit, for the pages only."""
    web = app.extensions["onwatch"].settings.web
    if web.session_secret is not None:
        app.secret_key = web.session_secret.get_secret_value()
    app.session_interface = PageSessions()
    app.config.update(
        SESSION_COOKIE_NAME="onwatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=web.session_hours),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by `guard` for the pages; the API has none
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: a page left open still works
    )
    csrf.init_app(app)
    app.extensions["onwatch.sign_in_limit"] = SignInLimit(
        FixedWindowRateLimiter(storage_from_string(web.sign_in_limit_storage)),
        parse(f"{web.sign_in_attempts_per_minute}/minute"),
    )
