"""Reading the JSON body of an API request, with a 400 that names the field for bad input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request

from receiver.instants import parse_instant
from receiver.web.errors import InputError


def json_object() -> dict[str, Any]:
    """The request's JSON object, or InputError."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InputError("body: expected a JSON object")
    return body


def text_field(body: dict[str, Any], key: str, default: str | None = None) -> str:
    """A string field; required and non-empty unless `default` is given."""
    value = body.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise InputError(f"{key}: expected a non-empty string")
    if "\x00" in value:  # PostgreSQL's text cannot hold it
        raise InputError(f"{key}: must not contain NUL characters")
    return value.strip()


def optional_text(body: dict[str, Any], key: str) -> str | None:
    """A string field that may be absent or null."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key}: expected a non-empty string or null")
    return text_field(body, key)


def instant_field(body: dict[str, Any], key: str) -> datetime:
    """A required instant: an ISO date-time with offset, or a date (midnight UTC)."""
    text = text_field(body, key)
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise InputError(f"{key}: {exc}") from None


def optional_instant(body: dict[str, Any], key: str) -> datetime | None:
    """An instant that may be absent or null."""
    return None if body.get(key) is None else instant_field(body, key)
