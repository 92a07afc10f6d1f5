"""ICS feeds of the rota for calendar apps: `/calendar/rotation/NAME.ics?token=...`.

Calendar apps cannot send headers, so each feed carries its own token in the URL, derived
from the configured secret. A wrong token and an unknown feed get the same 404, so the
answers do not reveal which rotations and people exist. Feeds carry an ETag: apps polling
every few minutes get a 304 when nothing changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, request

from receiver.rota.store import active_overrides, deleted_overrides
from receiver.services import services
from receiver.web.errors import error_response
from scheduler.calendar import RenderedEvents, feed_etag, token_matches
from scheduler.feeds import feed_window, person_feed, rotation_feed
from scheduler.overrides import Override

bp = Blueprint("calendar", __name__, url_prefix="/calendar")
ICS_TYPE = "text/calendar; charset=utf-8"
CACHED_FEEDS = 256


class FeedCache:
    """Rendered feeds by everything they depend on, so polling apps cost one lookup.

    A feed is a pure function of the rota (fixed for the process), its window (changes
    daily) and the overrides; the events within are remembered once rendered
    (`scheduler.calendar.RenderedEvents`), as icalendar costs ~0.5 ms per event.
    """

    def __init__(self, size: int = CACHED_FEEDS) -> None:
        self._size = size
        # Each event's bytes, shared by every feed: a feed re-rendered when the window
        # slides or an override changes renders only the events that changed.
        self.rendered = RenderedEvents()
        self._feeds: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The cached feed for `key`, rendering (outside the lock) when missing."""
        with self._lock:
            if key in self._feeds:
                self._feeds.move_to_end(key)
                return self._feeds[key]
        body = render()
        with self._lock:
            self._feeds[key] = body
            while len(self._feeds) > self._size:
                self._feeds.popitem(last=False)
        return body


def _cache() -> FeedCache:
    return current_app.extensions.setdefault("onwatch.feed_cache", FeedCache())


def _authorised(kind: str, name: str, known: bool) -> bool:
    secret = services().settings.calendar.secret
    token = request.args.get("token", "")
    # Compare even for unknown feeds, so timing does not tell them apart either.
    matches = secret is not None and token_matches(secret.get_secret_value(), kind, name, token)
    return known and matches


def _answer(body: bytes) -> Response:
    etag = feed_etag(body)
    # Werkzeug parses the header: a list of (weak or strong) tags, or `*` for any feed.
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(body, content_type=ICS_TYPE)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@dataclass(frozen=True)
class _FeedInputs:
    """What a feed is made of besides the rota: its window and the stored overrides."""

    window: tuple[datetime, datetime]
    overrides: list[Override]
    deleted: list[Override]  # deleted overrides over the window: their events are cancelled
    refresh: timedelta

    @property
    def key(self) -> Hashable:
        """Everything besides the rota that the rendered bytes depend on."""
        return (self.window, tuple(self.overrides), tuple(self.deleted), self.refresh)


def _inputs() -> _FeedInputs:
    svc = services()
    calendar = svc.settings.calendar
    window = feed_window(svc.clock(), *calendar.window)
    with svc.store.read() as session:
        overrides = active_overrides(session)
        deleted = deleted_overrides(session, *window)
    return _FeedInputs(
        window,
        overrides,
        deleted,
        timedelta(minutes=calendar.refresh_minutes),
    )


@bp.get("/rotation/<name>.ics")
def rotation(name: str) -> Response | tuple[Response, int]:
    """One rotation's shifts, every layer."""
    rota = services().rota
    if not _authorised("rotation", name, name in rota.rotations):
        return error_response(404, "not found")
    feed = _inputs()
    cache = _cache()
    return _answer(
        cache.get(
            ("rotation", name, feed.key),
            lambda: rotation_feed(
                rota, name, feed.window, feed.overrides, feed.deleted, feed.refresh, cache.rendered
            ),
        )
    )


@bp.get("/person/<name>.ics")
def person(name: str) -> Response | tuple[Response, int]:
    """One person's shifts across every rotation."""
    rota = services().rota
    if not _authorised("person", name, name in rota.people):
        return error_response(404, "not found")
    feed = _inputs()
    cache = _cache()
    return _answer(
        cache.get(
            ("person", name, feed.key),
            lambda: person_feed(
                rota, name, feed.window, feed.overrides, feed.deleted, feed.refresh, cache.rendered
            ),
        )
    )
