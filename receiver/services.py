"""What request handlers need (settings, store, rules, metrics, clock), built once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from receiver.config.settings import Settings
from receiver.metrics import Metrics
from receiver.paging.planner import PagingContext
from receiver.response.context import ResponseContext
from receiver.store.database import Store
from rules import RuleSet
from scheduler.rota import Rota


def utc_now() -> datetime:
    """The real clock; tests inject their own."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """The collaborators of every request handler; `create_app` is the only place that builds it."""

    settings: Settings
    store: Store
    rules: RuleSet
    metrics: Metrics
    rota: Rota
    paging: PagingContext
    response: ResponseContext
    clock: Callable[[], datetime]


def services() -> Services:
    """The current application's services (inside a request)."""
    return current_app.extensions["onwatch"]
