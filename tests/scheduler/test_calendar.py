"""ICS feed rendering and feed tokens, checked by parsing the output the way calendar apps do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from scheduler.calendar import (
    PRODID,
    CalendarEvent,
    RenderedEvents,
    feed_etag,
    feed_token,
    render_feed,
    shift_uid,
    token_matches,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
ZONES = [UTC, LONDON, NEW_YORK, SYDNEY, ZoneInfo("Asia/Kolkata"), ZoneInfo("Pacific/Chatham")]

STAMP = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
EVERYTHING = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2050, 1, 1, tzinfo=UTC))
MINUTE = timedelta(minutes=1)


def _event(
    uid: str = "u1@onwatch",
    start: datetime = datetime(2026, 12, 7, 9, tzinfo=LONDON),
    end: datetime = datetime(2026, 12, 14, 9, tzinfo=LONDON),
    **kwargs: object,
) -> CalendarEvent:
    """A valid event whose fields a test overrides only where it matters."""
    fields: dict = {"summary": "On call: platform-weekly primary — alice", "stamp": STAMP}
    fields.update(kwargs)
    return CalendarEvent(uid=uid, start=start, end=end, **fields)


def _at(zone: ZoneInfo, local: str, fold: int = 0) -> datetime:
    """A wall-clock time in a zone, as a rota definition states it."""
    return datetime.fromisoformat(local).replace(tzinfo=zone, fold=fold)


def _render(events: list[CalendarEvent], **kwargs: object) -> bytes:
    """Render with the defaults most tests share."""
    args: dict = {"name": "platform-weekly", "zone_name": "Europe/London"}
    args.update(kwargs)
    return render_feed(events=events, **args)


def _vevents(body: bytes) -> dict[str, Calendar]:
    """Parse a feed back and index its VEVENTs by UID."""
    return {str(ev["UID"]): ev for ev in Calendar.from_ical(body).walk("VEVENT")}


def _unescape_text(value: str) -> str:
    """RFC 5545 TEXT unescaping, as a TEXT-aware client reads X-WR-* values."""
    # icalendar >= 7.2 hands X-* properties back verbatim (UNKNOWN), so tests unescape.
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def _utc(value: datetime) -> datetime:
    """Compare instants in one zone, since PEP 495 makes gap/fold times unequal across zones."""
    return value.astimezone(UTC)


def _identity(event: CalendarEvent) -> tuple[str, datetime, datetime, str, bool]:
    """What a subscriber sees of an input event."""
    return (event.uid, _utc(event.start), _utc(event.end), event.summary, event.cancelled)


def _assert_expansion_matches(
    expanded: list[Calendar], events: list[CalendarEvent], zone_name: str
) -> None:
    """Expanded events are the input events, at the same instants."""
    assert sorted(str(ev["UID"]) for ev in expanded) == sorted(e.uid for e in events)
    by_uid = {str(ev["UID"]): _parsed_identity(ev) for ev in expanded}
    for event in events:
        uid, start, end, summary, cancelled = by_uid[event.uid]
        assert (start, summary, cancelled) == (_utc(event.start), event.summary, event.cancelled)
        # A reader bug, not ours: see test_render_feed_expansion_of_shift_ending_in_repeated_hour.
        if not _utc(event.end).astimezone(ZoneInfo(zone_name)).fold:
            assert end == _utc(event.end)


def _parsed_identity(vevent: Calendar) -> tuple[str, datetime, datetime, str, bool]:
    """What a subscriber sees of a parsed VEVENT."""
    return (
        str(vevent["UID"]),
        _utc(vevent.start),
        _utc(vevent.end),
        str(vevent["SUMMARY"]),
        str(vevent["STATUS"]) == "CANCELLED",
    )


# --- render_feed: calendar level -------------------------------------------------------------


def test_render_feed_calendar_properties() -> None:
    body = _render([_event()], name="Platform weekly", description="Primary and secondary")
    cal = Calendar.from_ical(body)

    assert str(cal["PRODID"]) == PRODID == "-//onwatch//on-call rota//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert _unescape_text(str(cal["X-WR-CALNAME"])) == "Platform weekly"
    assert _unescape_text(str(cal["X-WR-TIMEZONE"])) == "Europe/London"
    assert _unescape_text(str(cal["X-WR-CALDESC"])) == "Primary and secondary"
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert str(cal["X-PUBLISHED-TTL"]) == "PT1H"
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body


def test_render_feed_without_description_has_no_caldesc() -> None:
    cal = Calendar.from_ical(_render([_event()]))

    assert "X-WR-CALDESC" not in cal


def test_render_feed_refresh_sets_both_intervals() -> None:
    body = _render([_event()], refresh=timedelta(minutes=90))

    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H30M\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT1H30M\r\n" in body


@pytest.mark.parametrize("refresh", [timedelta(0), timedelta(minutes=-5)])
def test_render_feed_rejects_non_positive_refresh(refresh: timedelta) -> None:
    with pytest.raises(ValueError, match="refresh"):
        _render([_event()], refresh=refresh)


def test_render_feed_empty_is_a_valid_calendar() -> None:
    cal = Calendar.from_ical(_render([]))

    assert cal.walk("VEVENT") == []
    assert str(cal["PRODID"]) == PRODID


def test_render_feed_calendar_text_escaped_and_round_trips() -> None:
    name = "Ops, EU; night\\day\nrota"
    cal = Calendar.from_ical(_render([], name=name, description=name))

    assert _unescape_text(str(cal["X-WR-CALNAME"])) == name
    assert _unescape_text(str(cal["X-WR-CALDESC"])) == name


# --- render_feed: event level ----------------------------------------------------------------


def test_render_feed_event_properties() -> None:
    event = _event(description="Escalation: page secondary after 15 min", sequence=3)
    body = _render([event])
    (vevent,) = Calendar.from_ical(body).walk("VEVENT")

    assert str(vevent["UID"]) == "u1@onwatch"
    assert vevent["DTSTAMP"].dt == STAMP
    assert vevent.start == datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert vevent.end == datetime(2026, 12, 14, 9, tzinfo=UTC)
    assert str(vevent["SUMMARY"]) == "On call: platform-weekly primary — alice"
    assert str(vevent["DESCRIPTION"]) == "Escalation: page secondary after 15 min"
    assert str(vevent["TRANSP"]) == "TRANSPARENT"
    assert int(vevent["SEQUENCE"]) == 3
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert b"\r\nDTSTART:20261207T090000Z\r\n" in body
    assert b"\r\nDTEND:20261214T090000Z\r\n" in body
    assert b"\r\nDTSTAMP:20261101T120000Z\r\n" in body


def test_render_feed_event_sequence_zero_is_written() -> None:
    body = _render([_event()])

    assert b"\r\nSEQUENCE:0\r\n" in body


def test_render_feed_event_without_description_has_none() -> None:
    (vevent,) = Calendar.from_ical(_render([_event()])).walk("VEVENT")

    assert "DESCRIPTION" not in vevent


def test_render_feed_cancelled_event_has_cancelled_status() -> None:
    events = [_event("kept@onwatch"), _event("dropped@onwatch", cancelled=True, sequence=1)]
    vevents = _vevents(_render(events))

    assert str(vevents["kept@onwatch"]["STATUS"]) == "CONFIRMED"
    assert str(vevents["dropped@onwatch"]["STATUS"]) == "CANCELLED"
    assert int(vevents["dropped@onwatch"]["SEQUENCE"]) == 1
    assert str(vevents["dropped@onwatch"]["TRANSP"]) == "TRANSPARENT"


def test_render_feed_times_are_utc_without_vtimezone() -> None:
    events = [
        _event("ldn@onwatch", _at(LONDON, "2026-07-06T09:00"), _at(LONDON, "2026-07-13T09:00")),
        _event("nyc@onwatch", _at(NEW_YORK, "2026-07-06T09:00"), _at(NEW_YORK, "2026-07-07T09:00")),
        _event("syd@onwatch", _at(SYDNEY, "2026-07-06T09:00"), _at(SYDNEY, "2026-07-07T09:00")),
        _event("stamp@onwatch", stamp=_at(SYDNEY, "2026-07-01T09:00")),
    ]
    body = _render(events)
    cal = Calendar.from_ical(body)

    assert cal.walk("VTIMEZONE") == []
    assert b"VTIMEZONE" not in body
    assert b"TZID" not in body
    for vevent in cal.walk("VEVENT"):
        for prop in ("DTSTART", "DTEND", "DTSTAMP"):
            assert vevent[prop].dt.utcoffset() == timedelta(0)
            assert "TZID" not in vevent[prop].params
    lines = body.split(b"\r\n")
    assert b"DTSTART:20260706T080000Z" in lines  # London BST
    assert b"DTSTART:20260706T130000Z" in lines  # New York EDT
    assert b"DTSTART:20260705T230000Z" in lines  # Sydney AEST
    assert b"DTSTAMP:20260630T230000Z" in lines


def test_render_feed_drops_sub_second_precision() -> None:
    event = _event(start=datetime(2026, 12, 7, 9, 0, 0, 999_999, tzinfo=UTC))

    assert b"\r\nDTSTART:20261207T090000Z\r\n" in _render([event])


def test_render_feed_non_ascii_round_trips_and_folds_at_75_octets() -> None:
    names = ["José Müller-Øster", "ストレージ" * 12, "Zoë Ångström (Łódź) " * 5]
    events = [
        _event(f"u{i}@onwatch", summary=f"On call: ストレージ primary — {name}", description=name)
        for i, name in enumerate(names)
    ]
    feed_name = "ストレージ on-call — José Müller-Øster " * 3
    body = _render(events, name=feed_name)

    body.decode("utf-8")  # folding must not split a multi-byte character
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    assert any(line.startswith(b" ") for line in body.split(b"\r\n"))  # really folded
    cal = Calendar.from_ical(body)
    assert _unescape_text(str(cal["X-WR-CALNAME"])) == feed_name
    vevents = _vevents(body)
    for i, name in enumerate(names):
        assert str(vevents[f"u{i}@onwatch"]["SUMMARY"]) == f"On call: ストレージ primary — {name}"
        assert str(vevents[f"u{i}@onwatch"]["DESCRIPTION"]) == name


def test_render_feed_event_text_with_ics_delimiters_round_trips() -> None:
    text = 'alice, bob; carol\\dave: "eve"\nsecond line'
    (vevent,) = Calendar.from_ical(_render([_event(summary=text, description=text)])).walk("VEVENT")

    assert str(vevent["SUMMARY"]) == text
    assert str(vevent["DESCRIPTION"]) == text


def test_render_feed_rejects_duplicate_uids() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        _render([_event("same@onwatch"), _event("same@onwatch", summary="other")])


# --- render_feed: expansion by a real client library, across DST ------------------------------


# (uid, start, end, the DTSTART and DTEND a client must see)
DST_CASES = [
    # London springs forward 2026-03-29 01:00Z: GMT start, BST end, a 23-hour day.
    ("ldn-spring", _at(LONDON, "2026-03-28T09:00"), _at(LONDON, "2026-03-29T09:00"),
     "20260328T090000Z", "20260329T080000Z"),
    # London falls back 2026-10-25: 01:30 happens twice, and fold picks which instant.
    ("ldn-fold", _at(LONDON, "2026-10-25T01:30"), _at(LONDON, "2026-10-25T01:30", fold=1),
     "20261025T003000Z", "20261025T013000Z"),
    ("ldn-autumn", _at(LONDON, "2026-10-24T09:00"), _at(LONDON, "2026-10-31T09:00"),
     "20261024T080000Z", "20261031T090000Z"),
    # New York springs forward 2026-03-08 and falls back 2026-11-01.
    ("nyc-spring", _at(NEW_YORK, "2026-03-07T09:00"), _at(NEW_YORK, "2026-03-08T09:00"),
     "20260307T140000Z", "20260308T130000Z"),
    ("nyc-autumn", _at(NEW_YORK, "2026-10-31T17:00"), _at(NEW_YORK, "2026-11-01T17:00"),
     "20261031T210000Z", "20261101T220000Z"),
    # Sydney (southern hemisphere) leaves DST 2026-04-05 and enters it 2026-10-04.
    ("syd-autumn", _at(SYDNEY, "2026-04-04T09:00"), _at(SYDNEY, "2026-04-05T09:00"),
     "20260403T220000Z", "20260404T230000Z"),
    ("syd-spring", _at(SYDNEY, "2026-10-03T09:00"), _at(SYDNEY, "2026-10-04T09:00"),
     "20261002T230000Z", "20261003T220000Z"),
]  # fmt: skip


@pytest.mark.parametrize("zone_name", ["Europe/London", "America/New_York", "Australia/Sydney"])
def test_render_feed_dst_instants_are_exact(zone_name: str) -> None:
    events = [_event(f"{uid}@onwatch", start, end) for uid, start, end, _, _ in DST_CASES]
    body = _render(events, zone_name=zone_name)

    lines = body.split(b"\r\n")
    for _, _, _, dtstart, dtend in DST_CASES:
        assert f"DTSTART:{dtstart}".encode() in lines
        assert f"DTEND:{dtend}".encode() in lines
    parsed = Calendar.from_ical(body).walk("VEVENT")
    assert sorted(map(_parsed_identity, parsed)) == sorted(map(_identity, events))


@pytest.mark.parametrize("zone_name", ["Europe/London", "America/New_York", "Australia/Sydney"])
def test_render_feed_dst_instants_survive_expansion(zone_name: str) -> None:
    events = [
        _event(f"{uid}@onwatch", start, end, summary=f"On call: {uid}")
        for uid, start, end, _, _ in DST_CASES
    ]
    body = _render(events, zone_name=zone_name)
    query = recurring_ical_events.of(Calendar.from_ical(body))

    # recurring-ical-events applies X-WR-TIMEZONE (as Google does), so times come back in
    # zone_name: the instants, not the wall-clock values, must match.
    _assert_expansion_matches(query.between(*EVERYTHING), events, zone_name)
    for event in events:
        start = _utc(event.start)
        assert event.uid not in {str(ev["UID"]) for ev in query.between(start - MINUTE, start)}
        assert event.uid in {str(ev["UID"]) for ev in query.between(start, start + MINUTE)}


@pytest.mark.xfail(
    strict=True,
    reason="recurring-ical-events 3.8 converts UTC times to X-WR-TIMEZONE and rebuilds DTEND "
    "as start + wall-clock duration, losing the fold: a shift ending in the repeated hour "
    "comes back an hour short. The feed itself is exact (see the test above).",
)
def test_render_feed_expansion_of_shift_ending_in_repeated_hour() -> None:
    uid, start, end, _, _ = DST_CASES[1]
    body = _render([_event(uid, start, end)], zone_name="Europe/London")

    (expanded,) = recurring_ical_events.of(Calendar.from_ical(body)).between(*EVERYTHING)
    assert _utc(expanded.end) == _utc(end)


# --- determinism and ETags --------------------------------------------------------------------


def _rota() -> list[CalendarEvent]:
    """A few weeks of shifts, one cancelled by an override."""
    base = datetime(2026, 10, 19, 9, tzinfo=LONDON)
    people = ["alice", "bob", "José Müller-Øster", "ストレージ"]
    return [
        _event(
            f"w{i}@onwatch",
            base + timedelta(weeks=i),
            base + timedelta(weeks=i + 1),
            summary=f"On call: platform-weekly primary — {person}",
            cancelled=i == 2,
            sequence=1 if i == 2 else 0,
        )
        for i, person in enumerate(people)
    ]


def test_render_feed_is_byte_identical_for_same_inputs() -> None:
    first = _render(_rota(), description="Primary")
    second = _render(_rota(), description="Primary")

    assert first == second
    assert feed_etag(first) == feed_etag(second)


def test_render_feed_ignores_input_order() -> None:
    events = _rota()

    assert _render(events) == _render(list(reversed(events)))
    assert _render(events) == _render(events[2:] + events[:2])


def test_render_feed_ignores_input_zone_of_the_same_instant() -> None:
    events = _rota()
    in_sydney = [
        replace(e, start=e.start.astimezone(SYDNEY), end=e.end.astimezone(NEW_YORK)) for e in events
    ]

    assert _render(events) == _render(in_sydney)


def test_render_feed_orders_events_by_instant_then_uid() -> None:
    early_ny = _event("b@onwatch", datetime(2026, 12, 7, 8, tzinfo=NEW_YORK))  # 13:00Z
    late_ldn = _event("a@onwatch", datetime(2026, 12, 7, 14, tzinfo=LONDON))  # 14:00Z
    tie = _event("c@onwatch", datetime(2026, 12, 7, 13, tzinfo=UTC))
    cal = Calendar.from_ical(_render([late_ldn, tie, early_ny]))

    assert [str(ev["UID"]) for ev in cal.walk("VEVENT")] == ["b@onwatch", "c@onwatch", "a@onwatch"]


@pytest.mark.parametrize(
    "change",
    [
        {"summary": "On call: platform-weekly primary — bob"},
        {"cancelled": True},
        {"sequence": 1},
        {"end": datetime(2026, 12, 14, 10, tzinfo=LONDON)},
        {"description": "swapped"},
        {"stamp": STAMP + timedelta(seconds=1)},
    ],
)
def test_feed_etag_changes_when_an_event_changes(change: dict) -> None:
    before = _render([_event(), _event("other@onwatch")])
    after = _render([_event(**change), _event("other@onwatch")])

    assert after != before
    assert feed_etag(after) != feed_etag(before)


def test_feed_etag_changes_when_the_feed_changes() -> None:
    base = _render(_rota())

    assert feed_etag(_render(_rota(), name="other")) != feed_etag(base)
    assert feed_etag(_render(_rota(), refresh=timedelta(hours=2))) != feed_etag(base)
    assert feed_etag(_render(_rota()[:-1])) != feed_etag(base)


def test_feed_etag_is_a_quoted_strong_sha256_prefix() -> None:
    body = _render(_rota())
    etag = feed_etag(body)

    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert etag.strip('"') == hashlib.sha256(body).hexdigest()[:32]
    assert not etag.startswith("W/")


# --- CalendarEvent validation -----------------------------------------------------------------


@pytest.mark.parametrize("field", ["start", "end", "stamp"])
def test_calendar_event_rejects_naive_datetimes(field: str) -> None:
    naive = {"start": datetime(2026, 12, 7, 9), "end": datetime(2026, 12, 14, 9)}
    with pytest.raises(ValueError, match=field):
        _event(**{field: naive.get(field, datetime(2026, 11, 1))})


@pytest.mark.parametrize(
    "end",
    [datetime(2026, 12, 7, 9, tzinfo=LONDON), datetime(2026, 12, 7, 8, tzinfo=LONDON)],
)
def test_calendar_event_rejects_end_not_after_start(end: datetime) -> None:
    with pytest.raises(ValueError, match="end after"):
        _event(end=end)


def test_calendar_event_compares_end_and_start_as_instants() -> None:
    # Wall-clock order is the opposite of instant order in both cases.
    _event(start=_at(LONDON, "2026-12-07T09:30"), end=_at(NEW_YORK, "2026-12-07T05:00"))
    with pytest.raises(ValueError, match="end after"):
        _event(start=_at(NEW_YORK, "2026-12-07T04:00"), end=_at(LONDON, "2026-12-07T08:30"))


def test_calendar_event_rejects_empty_uid_and_negative_sequence() -> None:
    with pytest.raises(ValueError, match="uid"):
        _event("")
    with pytest.raises(ValueError, match="sequence"):
        _event(sequence=-1)


# --- shift_uid --------------------------------------------------------------------------------


def test_shift_uid_is_stable_across_releases() -> None:
    # Pinned: a changed UID makes every subscriber's app delete and re-add every shift.
    uid = shift_uid(
        "platform-weekly", "primary", "0", "alice",
        "2026-12-07T09:00:00+00:00", "2026-12-14T09:00:00+00:00",
    )  # fmt: skip

    assert uid == "6c13232b941d0b413546fce851086edc@onwatch"


def test_shift_uid_format() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}@onwatch", shift_uid("ストレージ", "José", ""))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("a|b", "c"), ("a", "b|c")),
        (("ab", "c"), ("a", "bc")),
        (("a", ""), ("a",)),
        (("", "a"), ("a",)),
        (("1:a",), ("a",)),
        (("a\0b", "c"), ("a", "b\0c")),
        (("1:a1:b",), ("a", "b")),
    ],
)
def test_shift_uid_separator_in_parts_cannot_collide(
    left: tuple[str, ...], right: tuple[str, ...]
) -> None:
    assert shift_uid(*left) != shift_uid(*right)


def test_shift_uid_rejects_no_parts() -> None:
    with pytest.raises(ValueError):
        shift_uid()


# Separator-like characters are over-represented so collisions by concatenation get tried.
_tricky_text = st.text(alphabet=st.sampled_from("ab|:0129\0\\,;")) | st.text(max_size=20)
_part_tuples = st.lists(_tricky_text, min_size=1, max_size=5).map(tuple)


@given(left=_part_tuples, right=_part_tuples)
def test_shift_uid_distinct_parts_give_distinct_uids(
    left: tuple[str, ...], right: tuple[str, ...]
) -> None:
    assume(left != right)

    assert shift_uid(*left) != shift_uid(*right)


@given(parts=_part_tuples)
def test_shift_uid_is_a_pure_function(parts: tuple[str, ...]) -> None:
    assert shift_uid(*parts) == shift_uid(*list(parts))


# --- feed_token / token_matches ---------------------------------------------------------------


def test_feed_token_is_hmac_sha256_in_urlsafe_base64() -> None:
    digest = hmac.new(b"s3cret", b"rotation\0platform-weekly", hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]

    assert feed_token("s3cret", "rotation", "platform-weekly") == expected


@given(secret=st.text(min_size=1), kind=st.text(), name=st.text())
def test_feed_token_is_url_safe_and_32_chars(secret: str, kind: str, name: str) -> None:
    assume("\0" not in kind + name)

    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", feed_token(secret, kind, name))


def test_feed_token_differs_per_kind_name_and_secret() -> None:
    tokens = {
        feed_token("s3cret", "rotation", "platform-weekly"),
        feed_token("s3cret", "person", "platform-weekly"),
        feed_token("s3cret", "rotation", "platform-daily"),
        feed_token("rotated", "rotation", "platform-weekly"),
        feed_token("s3cret", "rotationp", "latform-weekly"),
    }

    assert len(tokens) == 5


def test_feed_token_rejects_empty_secret_and_nul() -> None:
    with pytest.raises(ValueError, match="secret"):
        feed_token("", "rotation", "platform-weekly")
    with pytest.raises(ValueError, match="NUL"):
        feed_token("s3cret", "rotation\0x", "platform-weekly")


def test_token_matches_accepts_the_right_token() -> None:
    token = feed_token("s3cret", "rotation", "platform-weekly")

    assert token_matches("s3cret", "rotation", "platform-weekly", token)


@pytest.mark.parametrize(
    ("secret", "kind", "name", "token"),
    [
        ("rotated", "rotation", "platform-weekly", None),
        ("s3cret", "person", "platform-weekly", None),
        ("s3cret", "rotation", "platform-daily", None),
        ("s3cret", "rotation", "platform-weekly", ""),
        ("s3cret", "rotation", "platform-weekly", "x" * 32),
        ("s3cret", "rotation", "platform-weekly", "ストレージ"),  # compare_digest raises on str
        ("s3cret", "rotation", "platform-weekly\0", None),  # NUL from a URL: no, not a 500
    ],
)
def test_token_matches_rejects_wrong_tokens(
    secret: str, kind: str, name: str, token: str | None
) -> None:
    presented = feed_token("s3cret", "rotation", "platform-weekly") if token is None else token

    assert not token_matches(secret, kind, name, presented)


def test_token_matches_rejects_a_truncated_or_extended_token() -> None:
    token = feed_token("s3cret", "rotation", "platform-weekly")

    assert not token_matches("s3cret", "rotation", "platform-weekly", token[:-1])
    assert not token_matches("s3cret", "rotation", "platform-weekly", token + "A")


# --- property: render -> parse (and expand) gives back what went in ---------------------------

_instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
# Visible text as people type it: no control characters except newline and tab, plus the
# characters ICS has to escape.
# icalendar 7 takes a literal backslash-N in a text as the escaped newline it means in a
# feed (it writes a\Nb as a\nb), so such a name or note would read back as two lines:
# a limit of the library, left out of the round trip.
_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), include_characters='\n\t,;:\\"'),
    max_size=60,
).filter(lambda text: "\\N" not in text)


@st.composite
def _events(draw: st.DrawFn, uid: str) -> CalendarEvent:
    """An event given in arbitrary zones, with start and end possibly in different ones."""
    start = draw(_instants)
    length = timedelta(seconds=draw(st.integers(min_value=1, max_value=35 * 86400)))
    return CalendarEvent(
        uid=uid,
        summary=draw(_text),
        start=start.astimezone(draw(st.sampled_from(ZONES))),
        end=(start + length).astimezone(draw(st.sampled_from(ZONES))),
        stamp=draw(_instants).astimezone(draw(st.sampled_from(ZONES))),
        description=draw(_text),
        cancelled=draw(st.booleans()),
        sequence=draw(st.integers(min_value=0, max_value=1000)),
    )


_event_lists = st.lists(
    st.text(alphabet="abcdef0123456789-@.", min_size=1, max_size=20), unique=True, max_size=8
).flatmap(lambda uids: st.tuples(*(_events(uid) for uid in uids)).map(list))


@settings(deadline=None)
@given(events=_event_lists, zone=st.sampled_from(["Europe/London", "Australia/Sydney", "UTC"]))
def test_render_feed_round_trips_generated_events(events: list[CalendarEvent], zone: str) -> None:
    body = _render(events, zone_name=zone)
    parsed = Calendar.from_ical(body).walk("VEVENT")

    assert {_parsed_identity(ev) for ev in parsed} == {_identity(ev) for ev in events}
    assert len(parsed) == len(events)
    expanded = recurring_ical_events.of(Calendar.from_ical(body)).between(*EVERYTHING)
    _assert_expansion_matches(expanded, events, zone)
    by_uid = {str(ev["UID"]): ev for ev in parsed}
    for event in events:
        vevent = by_uid[event.uid]
        assert str(vevent.get("DESCRIPTION", "")) == event.description
        assert int(vevent["SEQUENCE"]) == event.sequence
        assert _utc(vevent["DTSTAMP"].dt) == _utc(event.stamp)
    assert body == _render(list(reversed(events)), zone_name=zone)


@given(name=_text.filter(bool), description=_text)
def test_render_feed_round_trips_generated_feed_text(name: str, description: str) -> None:
    cal = Calendar.from_ical(_render([], name=name, description=description))

    assert _unescape_text(str(cal["X-WR-CALNAME"])) == name
    assert _unescape_text(str(cal.get("X-WR-CALDESC", ""))) == description


def test_render_feed_from_remembered_events_is_what_icalendar_renders_whole() -> None:
    events = [
        _event(f"u{n}@onwatch", description=f"line one\nline two, with; delimiters {n} " * 3)
        for n in range(5)
    ] + [_event("gone@onwatch", cancelled=True, sequence=3)]
    remembered = RenderedEvents(size=4)

    first = _render(events, description="a feed", rendered=remembered)
    again = _render(events, description="a feed", rendered=remembered)

    # The whole calendar as icalendar renders it, events added as components.
    whole = Calendar.from_ical(_render([], description="a feed"))
    for event in sorted(events, key=lambda e: (_utc(e.start), e.uid)):
        whole.add_component(Calendar.from_ical(_render([event])).walk("VEVENT")[0])
    assert first == again == _render(events, description="a feed") == whole.to_ical()
