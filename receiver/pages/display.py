"""How the pages show times: in the signed-in person's zone, with UTC on hover.

Registered as Jinja2 filters by `init_app`; the zone is the viewer's (`people[].time_zone`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, g
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from response.resolution import format_span


def _viewer_zone() -> dict[str, Any]:
    # Once per template: a page of 1,000 times looked the viewer up 1,000 times otherwise.
    found = g.get("viewer")
    return {"viewer_zone": found.zone if found is not None else UTC}


@pass_context
def local_time(context: Context, at: datetime | None) -> Markup:
    """`<time>` in the viewer's zone, its UTC instant in `datetime` and in the hover title."""
    if at is None:
        return Markup("&ndash;")
    utc = at.astimezone(UTC)
    local = at.astimezone(context.get("viewer_zone", UTC))
    return Markup(
        f'<time datetime="{escape(utc.isoformat())}" '
        f'title="{utc:%Y-%m-%d %H:%M} UTC">{local:%Y-%m-%d %H:%M %Z}</time>'
    )


def span(value: timedelta | None) -> str:
    """A duration in its two largest units (the API's and the timeline's wording)."""
    if value is None:
        return "–"
    return format_span(max(value, timedelta(0)))


def ago(at: datetime | None, now: datetime) -> str:
    """ "12m ago" for `at` before `now`."""
    return "never" if at is None else f"{span(now - at)} ago"


def init_app(app: Flask) -> None:
    """Make the time filters available to every template."""
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["span"] = span
    app.jinja_env.globals["ago"] = ago
    app.context_processor(_viewer_zone)
