"""Reading what a request carries, with a 400 that names the field and the allowed range.

Every view reads its input through here, so that one place decides what input onwatch
accepts: text it can store on every database (`storable_text`), whole numbers the database
columns hold (`query_int`, `ID`), and instants within a few years of now (`query_instant`,
`instant_field`). A bad value is an InputError (400) and the request changes nothing; it is
never a 500, which Alertmanager and PagerDuty would retry forever.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, request
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from receiver.instants import InstantRange, parse_instant
from receiver.web.errors import InputError

# The largest id a row can have on every backend: PostgreSQL's `integer` (SERIAL) primary
# keys; SQLite's hold 2**63 - 1. A larger id names a row that cannot exist.
MAX_ID = 2**31 - 1
# The URL converter for ids in paths (`<id:incident_id>`), see `IdConverter`.
ID = "id"

REPLACEMENT_CHARACTER = "\ufffd"
# NUL (PostgreSQL's text cannot hold it) and lone UTF-16 surrogates, which JSON's \ud800
# escapes can produce and which are not UTF-8 (neither database stores them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile("[0-9]{1,19}")  # ASCII only: "²".isdigit() is True, int("²") fails


def storable_text(value: str) -> str:
    """`value` with NUL and lone surrogates replaced by U+FFFD, so every database stores it.

    The one sanitiser: each boundary where wire input becomes domain values (request
    bodies, Alertmanager's and PagerDuty's webhooks) passes its text through it.
    """
    if _UNSTORABLE.search(value) is None:  # the usual case: no copy
        return value
    return _UNSTORABLE.sub(REPLACEMENT_CHARACTER, value)


def unstorable_kinds(value: str) -> set[str]:
    """What `storable_text` would replace in `value`, in words: for saying so in a timeline."""
    kinds = set()
    for match in _UNSTORABLE.finditer(value):
        kinds.add("NUL characters" if match.group() == "\x00" else "unpaired surrogates")
    return kinds


def storable(value: Any) -> Any:
    """`value` (parsed JSON) with `storable_text` applied to every string, keys included."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def _shown(raw: str, limit: int = 40) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "..."


# --------------------------------------------------------------------------------------------
# Ids in paths.


class IdConverter(BaseConverter):
    """A row id in a path: ASCII digits up to MAX_ID.

    A larger id names no row on any database, so it answers 404 like any missing row, rather
    than reaching the database (an overflow there is a 500). The 404 is raised here, not by
    failing the match: Werkzeug answers a failed conversion with 405 whenever the same path
    has a route for another method.
    """

    regex = r"[0-9]+"
    part_isolating = True

    def to_python(self, value: str) -> int:
        # Length first: int() of thousands of digits is slow, and raises beyond 4,300.
        if len(value.lstrip("0")) > len(str(MAX_ID)) or int(value) > MAX_ID:
            raise NotFound(f"no such id: {_shown(value, 20)} is beyond the largest id, {MAX_ID}")
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


def _register_id_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault(ID, IdConverter)


def with_id_converter(blueprint: Blueprint) -> Blueprint:
    """Make `<id:...>` available to `blueprint`'s routes; call it before declaring them.

    Blueprint routes are added to the app in the order they were declared, after this.
    """
    blueprint.record_once(_register_id_converter)
    return blueprint


# --------------------------------------------------------------------------------------------
# Query strings.


def query_text(name: str) -> str | None:
    """A query parameter as storable text (a NUL compared in SQL fails on PostgreSQL)."""
    raw = request.args.get(name)
    return None if raw is None else storable_text(raw)


def query_int(name: str, default: int | None, *, minimum: int, maximum: int) -> int | None:
    """A whole-number query parameter in [minimum, maximum]; else InputError naming the range."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if _DIGITS.fullmatch(raw) is None or not minimum <= int(raw) <= maximum:
        raise InputError(
            f"{name}: expected a whole number from {minimum} to {maximum}, got {_shown(raw)!r}"
        )
    return int(raw)


def query_instant(name: str, default: datetime, *, within: InstantRange) -> datetime:
    """An instant query parameter (ISO date-time with offset, or a date) within `within`."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return parse_instant(raw, within=within)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


# --------------------------------------------------------------------------------------------
# JSON bodies.


def json_object(example: str = "") -> dict[str, Any]:
    """The request's JSON object, its text made storable; or InputError (citing `example`)."""
    try:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            such_as = f" such as {example}" if example else ""
            raise InputError(f"body: expected a JSON object{such_as}")
        cleaned: dict[str, Any] = storable(body)
    except RecursionError:  # json and `storable` recurse: a 500 otherwise
        raise InputError("body: JSON nested too deeply") from None
    return cleaned


def text_field(body: dict[str, Any], key: str, default: str | None = None) -> str:
    """A string field; required and non-empty unless `default` is given.

    NUL characters are replaced (`storable_text`) rather than refused: a note pasted from a
    terminal is worth keeping, and PostgreSQL's text cannot hold them.
    """
    value = body.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise InputError(f"{key}: expected a non-empty string")
    return storable_text(value).strip()


def optional_text(body: dict[str, Any], key: str) -> str | None:
    """A string field that may be absent or null."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key}: expected a non-empty string or null")
    return text_field(body, key)


def instant_field(body: dict[str, Any], key: str, *, within: InstantRange) -> datetime:
    """A required instant within `within`: an ISO date-time with offset, or a date."""
    text = text_field(body, key)
    try:
        return parse_instant(text, within=within)
    except ValueError as exc:
        raise InputError(f"{key}: {exc}") from None


def optional_instant(body: dict[str, Any], key: str, *, within: InstantRange) -> datetime | None:
    """An instant that may be absent or null."""
    return None if body.get(key) is None else instant_field(body, key, within=within)
