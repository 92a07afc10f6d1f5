"""One log line per thing that happened, as `event key=value ...`, and JSON log lines.

`log_event` writes `incident_opened incident_id=12 severity=SEV2 ...`: the event name, then
its fields; a value with a space, a quote or an `=` is quoted (JSON string syntax), a long one
is cut. The fields also ride on the record (`event`, `event_fields`) for `JsonFormatter`.
Never pass secrets or alert annotations as fields.

`log_after_commit` holds the line until the session's transaction commits (and drops it on
a rollback: a retried transaction logs once, what it did).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

VALUE_MAX = 200  # characters of one field's value in the line
_PENDING = "onwatch_log_events"
_PLAIN = re.compile(r"[^\s\"'=\\]+")
_FIELD = re.compile(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|\S*)")


def _value(value: Any) -> str:
    text = "-" if value is None else str(value)
    if len(text) > VALUE_MAX:
        text = text[:VALUE_MAX] + "..."
    return text if _PLAIN.fullmatch(text) else json.dumps(text)


def event_line(event: str, fields: dict[str, Any]) -> str:
    """`event key=value ...`, values quoted when they need it."""
    return " ".join([event, *(f"{key}={_value(value)}" for key, value in fields.items())])


def log_event(logger: logging.Logger, level: int, event: str, /, **fields: Any) -> None:
    """Log `event` with its fields as one key=value line (if `level` is enabled)."""
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "%s",
            event_line(event, fields),
            extra={"event": event, "event_fields": fields},
            stacklevel=2,
        )


def log_after_commit(
    session: Session, logger: logging.Logger, level: int, event: str, /, **fields: Any
) -> None:
    """`log_event` once the session's transaction commits; never if it rolls back."""
    if logger.isEnabledFor(level):
        session.info.setdefault(_PENDING, []).append((logger, level, event, fields))


@sa_event.listens_for(Session, "after_commit")
def _flush_pending(session: Session) -> None:
    for logger, level, event, fields in session.info.pop(_PENDING, ()):
        log_event(logger, level, event, **fields)


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


# --------------------------------------------------------------------------------------------
# JSON lines


def _fields_of(record: logging.LogRecord, message: str) -> dict[str, Any]:
    fields = getattr(record, "event_fields", None)
    if isinstance(fields, dict):
        return {"event": getattr(record, "event", ""), **fields}
    head, _, rest = message.partition(" ")
    if not re.fullmatch(r"[a-z]+(?:_[a-z]+)+", head):  # not an `event key=value` line
        return {}
    found: dict[str, Any] = {"event": head}
    for key, raw in _FIELD.findall(rest):
        found[key] = json.loads(raw) if raw.startswith('"') else raw
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the event's fields as keys."""

    RESERVED = frozenset({"time", "level", "logger", "message"})

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in _fields_of(record, message).items():
            name = f"field_{key}" if key in self.RESERVED else key
            plain = value is None or isinstance(value, (int, float, bool))
            line[name] = value if plain else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)
