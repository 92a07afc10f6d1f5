"""Every Prometheus metric onwatch exports, declared in one place on an injectable registry.

Under gunicorn each worker is its own process, so counters and histograms use
prometheus-client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by `onwatch serve`)
and are summed over workers at scrape time. The number of open incidents is not counted in
memory at all: it is read from the store when Prometheus scrapes, which is right however many
processes write.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from rules.severity import SEVERITIES

MULTIPROC_ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The receiver's own metrics, registered on `registry` (a fresh one in each test)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.alerts_received = Counter(
            "onwatch_alerts_received_total",
            "Alerts received from Alertmanager, by the alert's status.",
            ["status"],
            registry=registry,
        )
        self.incidents_opened = Counter(
            "onwatch_incidents_opened_total",
            "Incidents opened, by their severity when opened.",
            ["severity"],
            registry=registry,
        )
        self.incidents_unrouted = Counter(
            "onwatch_incidents_unrouted_total",
            "Incidents that paged nobody: no rotation covers their service and there is no "
            "catch-all rotation (by severity; anything above 0 is a routing gap to fix).",
            ["severity"],
            registry=registry,
        )
        self.webhook_latency = Histogram(
            "onwatch_webhook_request_duration_seconds",
            "Time to handle an Alertmanager webhook request, from body read to answer.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )
        self.write_batch_size = Histogram(
            "onwatch_store_write_batch_size",
            "Webhook requests whose writes one transaction committed (group commit), per commit.",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=registry,
        )
        self.pages = Counter(
            "onwatch_pager_messages_total",
            "Outbox messages handled by the dispatcher, by rotation and outcome "
            "(sent, retry, failed, cancelled).",
            ["rotation", "outcome"],
            registry=registry,
        )
        self.night_load_exceeded = Counter(
            "onwatch_night_load_exceeded_total",
            "Times an on-call person of the rotation went over 2 night pages a night on "
            "average over their shift (the seed: fix the alerts or staff up).",
            ["rotation"],
            registry=registry,
        )
        self.notifications = Counter(
            "onwatch_notification_messages_total",
            "Notification messages (updates, reminders, all-clears, briefings, reports) "
            "handled, by target and outcome (sent, retry, failed).",
            ["target", "outcome"],
            registry=registry,
        )
        self.slack_calls = Counter(
            "onwatch_slack_calls_total",
            "Slack Web API calls the Slack dispatcher handled, by action (create, topic, "
            "invite, post, announce, archive) and outcome (sent, retry, waiting, failed).",
            ["action", "outcome"],
            registry=registry,
        )
        self.requests_rejected = Counter(
            "onwatch_webhook_requests_rejected_total",
            "Webhook requests answered with an error, by reason.",
            ["reason"],
            registry=registry,
        )


class StoreGaugesCollector(Collector):
    """`onwatch_incidents_open{severity}`, `onwatch_outbox_messages{status}` and
    `onwatch_outbox_oldest_overdue_seconds`, read from the store at scrape time.

    `count_outbox` gives the counts by status; the overdue age comes with them as their
    `oldest_overdue_s` attribute (`receiver.gauges.OutboxCounts`), 0 when absent.
    """

    def __init__(
        self,
        count_open: Callable[[], dict[str, int]],
        count_outbox: Callable[[], Mapping[str, int]] = dict,
    ) -> None:
        self._count_open = count_open
        self._count_outbox = count_outbox

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "onwatch_store_up", "1 when the store answered the scrape's query, else 0."
        )
        try:
            counts = self._count_open()
            outbox = self._count_outbox()
        except Exception:  # a scrape must still answer when the database is down
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        family = GaugeMetricFamily(
            "onwatch_incidents_open", "Incidents currently open, by severity.", labels=["severity"]
        )
        for severity in SEVERITIES:
            family.add_metric([severity], counts.get(severity, 0))
        yield family
        messages = GaugeMetricFamily(
            "onwatch_outbox_messages",
            "Messages to pagers by status: pending (incl. escalations not due yet), sent, "
            "failed (gave up after the deadline: look at the incident), cancelled.",
            labels=["status"],
        )
        for status in ("pending", "sent", "failed", "cancelled"):
            messages.add_metric([status], outbox.get(status, 0))
        yield messages
        overdue = GaugeMetricFamily(
            "onwatch_outbox_oldest_overdue_seconds",
            "How long the oldest pending page or notification has been due, in seconds (0 "
            "when none is). Escalations not due yet and messages waiting to be retried do not "
            "count: a value that keeps growing means no scheduler is delivering (see /readyz).",
        )
        overdue.add_metric([], float(getattr(outbox, "oldest_overdue_s", 0.0)))
        yield overdue


def exposition(metrics: Metrics, store_gauges: Collector) -> tuple[bytes, str]:
    """The text Prometheus scrapes from `/metrics`, and its content type.

    `store_gauges` is registered on `metrics.registry` by the app; in multiprocess mode the
    per-process registry is replaced by one that sums every worker's files.
    """
    if not os.environ.get(MULTIPROC_ENV_VAR):
        return generate_latest(metrics.registry), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(store_gauges)
    return generate_latest(registry), CONTENT_TYPE_LATEST
