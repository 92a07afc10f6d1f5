"""The composition root: the one place that builds what the use cases need from the settings.

`Settings` only describes the file; this module turns it into the rota, the paging context
and the response context. The app factory, the scheduler's jobs and the CLI all build their
collaborators here, so each is built the same way whatever the door.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from receiver.config.settings import Settings
from receiver.paging.planner import PagingContext
from receiver.response.context import ResponseContext
from response.rendering import Templates
from scheduler.rota import Rota


def build_rota(settings: Settings) -> Rota:
    """The rota of the configured people and rotations (build once, share it)."""
    return Rota(
        [rotation.to_rotation() for rotation in settings.rotations],
        {person.name: person.to_person() for person in settings.people},
    )


def paging_context(
    settings: Settings, rota: Rota, on_unrouted: Callable[[str], None] | None = None
) -> PagingContext:
    """What paging decisions need, for `rota` (built from the same settings).

    `on_unrouted` is called with the severity of each incident that pages nobody (the app
    counts it in a metric).
    """
    return PagingContext(
        rota=rota,
        policies={rotation.name: rotation.paging for rotation in settings.rotations},
        deadline=timedelta(minutes=settings.dispatcher.deadline_minutes),
        unrouted_notify=tuple(
            name
            for name in settings.routing.unrouted_notify
            if settings.notifications.target(name).enabled
        ),
        on_unrouted=on_unrouted,
    )


def response_context(settings: Settings, paging: PagingContext) -> ResponseContext:
    """What the response use cases need, around `paging` (built from the same settings)."""
    templates = settings.notifications.templates
    return ResponseContext(
        paging=paging,
        targets=settings.response.targets(),
        notifications=settings.notifications,
        templates=Templates(internal=templates.internal, executive=templates.executive),
        notify={rotation.name: tuple(rotation.notify) for rotation in settings.rotations},
        slack=settings.chat.slack,
    )


@dataclass(frozen=True)
class Contexts:
    """The rota and the two contexts built on it, for a process that needs all three."""

    rota: Rota
    paging: PagingContext
    response: ResponseContext


def build_contexts(
    settings: Settings, on_unrouted: Callable[[str], None] | None = None
) -> Contexts:
    """The rota, its paging context and the response context around it, built once."""
    rota = build_rota(settings)
    paging = paging_context(settings, rota, on_unrouted)
    return Contexts(rota=rota, paging=paging, response=response_context(settings, paging))
