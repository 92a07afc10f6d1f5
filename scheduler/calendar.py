"""On-call shifts as ICS feeds, rendered deterministically so calendar apps can poll cheaply."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vDuration, vText

__all__ = [
    "PRODID",
    "CalendarEvent",
    "RenderedEvents",
    "feed_etag",
    "feed_token",
    "render_feed",
    "shift_uid",
    "token_matches",
]

PRODID = "-//onwatch//on-call rota//EN"

# Changing either of these changes every UID, and calendar apps then see every shift
# deleted and re-added (losing any alarms people set on them), so treat them as frozen.
_UID_DOMAIN = "onwatch"
_UID_HEX_CHARS = 32

_TOKEN_CHARS = 32
_ETAG_HEX_CHARS = 32


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT of a feed, validated up front so a bad shift fails where it is built."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    stamp: datetime
    description: str = ""
    cancelled: bool = False
    sequence: int = 0

    def __post_init__(self) -> None:
        """Reject values that would render a feed clients misread or silently drop."""
        if not self.uid:
            raise ValueError("CalendarEvent.uid must not be empty")
        for attr in ("start", "end", "stamp"):
            value = getattr(self, attr)
            # A naive datetime would become a floating time, shown at a different
            # instant in every viewer's zone.
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"CalendarEvent.{attr} must be timezone-aware, got {value!r}")
        if _utc(self.end) <= _utc(self.start):
            raise ValueError(f"CalendarEvent {self.uid!r} must end after it starts")
        if self.sequence < 0:
            raise ValueError("CalendarEvent.sequence must not be negative")


def shift_uid(*parts: str) -> str:
    """Stable UID from a shift's identity, so a regenerated feed updates events in place."""
    if not parts:
        raise ValueError("shift_uid needs at least one part")
    # Length-prefixing each part makes the encoding injective: no choice of part contents
    # can make ("a|b", "c") and ("a", "b|c") hash the same input.
    encoded = b"".join(
        f"{len(raw)}:".encode("ascii") + raw for raw in (part.encode("utf-8") for part in parts)
    )
    return f"{hashlib.sha256(encoded).hexdigest()[:_UID_HEX_CHARS]}@{_UID_DOMAIN}"


def feed_token(secret: str, kind: str, name: str) -> str:
    """Unguessable per-feed URL token; rotating the secret revokes every feed URL at once."""
    if not secret:
        raise ValueError("feed_token needs a non-empty secret")
    if "\0" in kind or "\0" in name:
        # NUL is the field separator; allowing it would let two feeds share a token.
        raise ValueError("feed kind and name must not contain NUL")
    digest = hmac.new(secret.encode("utf-8"), f"{kind}\0{name}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:_TOKEN_CHARS]


def token_matches(secret: str, kind: str, name: str, token: str) -> bool:
    """Check a presented token in constant time, so response timing leaks nothing about it."""
    if "\0" in kind or "\0" in name:
        # These come from request URLs: answer "no" rather than turn them into a 500.
        return False
    expected = feed_token(secret, kind, name)
    # Comparing bytes, because compare_digest raises on non-ASCII str and tokens are
    # attacker-supplied.
    return hmac.compare_digest(expected.encode("ascii"), token.encode("utf-8"))


class RenderedEvents:
    """Each event's VEVENT bytes as icalendar renders them, remembered by the event's value.

    icalendar costs about half a millisecond per VEVENT (its line folding and parameter
    handling), so a year of 12-hour shifts took over a second to render. A feed changes
    little from one render to the next (the window slides a day, an override comes or
    goes), so its events are rendered once and the feed is put together from the bytes:
    icalendar still writes every line, and the result is byte-identical. Bounded: the
    least recently used events are forgotten beyond `size`.
    """

    def __init__(self, size: int = 50_000) -> None:  # ~20 MB of VEVENTs at most
        self._size = size
        self._bytes: OrderedDict[CalendarEvent, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, event: CalendarEvent) -> bytes:
        """The VEVENT of `event`, rendered now or remembered."""
        with self._lock:
            found = self._bytes.get(event)
            if found is not None:
                self._bytes.move_to_end(event)
                return found
        rendered: bytes = _vevent(event).to_ical()
        with self._lock:
            self._bytes[event] = rendered
            while len(self._bytes) > self._size:
                self._bytes.popitem(last=False)
        return rendered


def _render_alone(event: CalendarEvent) -> bytes:
    rendered: bytes = _vevent(event).to_ical()
    return rendered


_END = b"END:VCALENDAR\r\n"


def render_feed(
    *,
    name: str,
    zone_name: str,
    events: Sequence[CalendarEvent],
    refresh: timedelta = timedelta(hours=1),
    description: str = "",
    rendered: Callable[[CalendarEvent], bytes] = _render_alone,
) -> bytes:
    """The ICS bytes of one feed, byte-identical for identical inputs so ETags stay valid.

    `rendered` gives an event's VEVENT bytes: pass a `RenderedEvents` kept between renders
    to render each event once.
    """
    if refresh <= timedelta(0):
        raise ValueError("refresh must be a positive duration")
    uids = [event.uid for event in events]
    if len(set(uids)) != len(uids):
        # Clients keep one VEVENT per UID and which one wins differs between apps.
        raise ValueError("render_feed got events with duplicate UIDs")

    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    # icalendar >= 7.2 treats X-WR-* as UNKNOWN and writes str values verbatim (a newline
    # in a name then aborts rendering); X- properties are TEXT by default per RFC 5545,
    # so escape them explicitly.
    calendar.add("X-WR-CALNAME", vText(name))
    calendar.add("X-WR-TIMEZONE", vText(zone_name))
    if description:
        calendar.add("X-WR-CALDESC", vText(description))
    # RFC 7986 makes VALUE=DURATION mandatory on REFRESH-INTERVAL; icalendar omits it.
    calendar.add("REFRESH-INTERVAL", vDuration(refresh), parameters={"VALUE": "DURATION"})
    # Outlook reads this older hint rather than REFRESH-INTERVAL.
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))

    head: bytes = calendar.to_ical()  # icalendar leaves to_ical() unannotated (Any)
    assert head.endswith(_END)
    # A calendar's bytes are its own lines, then each component's, then its END line.
    parts = [head[: -len(_END)], *(rendered(e) for e in sorted(events, key=_sort_key)), _END]
    return b"".join(parts)


def feed_etag(body: bytes) -> str:
    """Strong ETag of a rendered feed, so polling clients get a 304 when nothing changed."""
    return f'"{hashlib.sha256(body).hexdigest()[:_ETAG_HEX_CHARS]}"'


def _vevent(event: CalendarEvent) -> Event:
    """Build one VEVENT with every time in UTC, so no VTIMEZONE is needed."""
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", _utc(event.stamp))
    vevent.add("DTSTART", _utc(event.start))
    vevent.add("DTEND", _utc(event.end))
    vevent.add("SUMMARY", event.summary)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    # A week on call must not block the person's calendar as busy for the whole week.
    vevent.add("TRANSP", "TRANSPARENT")
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("STATUS", "CANCELLED" if event.cancelled else "CONFIRMED")
    return vevent


def _utc(value: datetime) -> datetime:
    """UTC at whole seconds, the only form every client reads the same way."""
    # Local times would need a VTIMEZONE, and ical.js reads only the first value of the
    # multi-valued RDATEs icalendar writes there (London an hour off all winter); ICS has
    # no sub-second precision, so truncate here rather than leave it to the library.
    return value.astimezone(UTC).replace(microsecond=0)


def _sort_key(event: CalendarEvent) -> tuple[datetime, str]:
    """Order by instant, not wall-clock, so events given in mixed zones sort consistently."""
    return (_utc(event.start), event.uid)
