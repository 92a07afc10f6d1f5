"""Pagers: how onwatch reaches people (PagerDuty Events or REST API, a webhook, or nobody).

Every pager has one method, `send(PageRequest) -> Delivery`, and never raises for delivery
problems. `build_pager` is the one place a pager is chosen from the configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from receiver.delivery.outcome import Delivery
from receiver.paging.pagers.base import PageAction, Pager, PageRequest, Recipient
from receiver.paging.pagers.dry_run import DryRunPager
from receiver.paging.pagers.webhook import WebhookPager

if TYPE_CHECKING:
    from receiver.paging.settings import PagerSettings

T = TypeVar("T")

__all__ = [
    "Delivery",
    "DryRunPager",
    "PageAction",
    "PagerDutyEventsPager",
    "PagerDutyRestPager",
    "PageRequest",
    "Pager",
    "Recipient",
    "WebhookPager",
    "build_pager",
]


def __getattr__(name: str) -> Any:
    # The PagerDuty adapters load pdpyras: import them on first use, so that a dry run or a
    # webhook never pays for (or hears about) pdpyras.
    if name == "PagerDutyEventsPager":
        from receiver.paging.pagers.pagerduty_events import PagerDutyEventsPager

        return PagerDutyEventsPager
    if name == "PagerDutyRestPager":
        from receiver.paging.pagers.pagerduty_rest import PagerDutyRestPager

        return PagerDutyRestPager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_pager(settings: PagerSettings, *, timeout: float = 10) -> Pager:
    """The pager `settings.pager` names, with its credentials (validated beforehand)."""
    pagerduty = settings.pagerduty
    if settings.pager == "dry-run":
        return DryRunPager()
    if settings.pager == "webhook":
        headers = {
            name: value.get_secret_value() for name, value in settings.webhook.headers.items()
        }
        return WebhookPager(
            _required(settings.webhook.url, "webhook.url"), headers, timeout=timeout
        )
    if settings.pager == "pagerduty-events":
        from receiver.paging.pagers.pagerduty_events import PagerDutyEventsPager
        from receiver.paging.routing import RoutingKeys

        keys = RoutingKeys.from_settings(pagerduty)
        if not keys.all_keys():
            _required(pagerduty.routing_key, "pagerduty.routing_key")
        return PagerDutyEventsPager(keys, pagerduty.events_url, timeout=timeout)
    if settings.pager == "pagerduty-rest":
        from receiver.paging.pagers.pagerduty_rest import PagerDutyRestPager

        return PagerDutyRestPager(
            _required(pagerduty.api_token, "pagerduty.api_token").get_secret_value(),
            _required(pagerduty.from_email, "pagerduty.from_email"),
            _required(pagerduty.service_id, "pagerduty.service_id"),
            pagerduty.api_url,
            timeout=timeout,
        )
    raise ValueError(f"unknown pager {settings.pager!r}")


def _required(value: T | None, path: str) -> T:
    # PagerSettings validation guarantees these; a None here means unvalidated settings.
    if value is None:
        raise ValueError(f"paging.{path} is required for pager settings built without validation")
    return value
