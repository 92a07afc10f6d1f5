"""The outbox dispatcher: delivers due messages to pagers, retries, and never drops one.

Runs in exactly one process (the scheduler, elected by a database lease), in the outbox loop
of `receiver.delivery.outbox`: due messages are handled in chunks, prepared (the incident,
its alerts, who is on call), sent with no transaction open (a pager may take seconds; a
chunk's incidents are sent side by side, each incident's messages in order), and their
outcomes written in one short transaction: sent (with a page in the ledger), retried later
with exponential back-off (or the pager's Retry-After), or failed once its deadline has
passed, which the incident's timeline, the API and a metric all show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import Session, col, select

from receiver.delivery.outbox import CANCELLED, FAILED, PENDING, SENT, OutboxLoop, Report
from receiver.delivery.retries import next_attempt
from receiver.incidents.models import AlertRecord, IncidentRecord, IncidentStatus, TimelineEntry
from receiver.logevents import log_after_commit
from receiver.metrics import Metrics
from receiver.paging.models import OutboxMessage, PageRecord
from receiver.paging.pagers import Delivery, PageAction, Pager, PageRequest, Recipient
from receiver.paging.planner import (
    ACKNOWLEDGE,
    ESCALATE,
    NOTICE,
    PAGES,
    RESOLVE,
    TRIGGER,
    PagingContext,
    dedup_key,
    follow_up,
)
from receiver.paging.routing import ROUTED_PAGER, RoutingKeys, who_decides
from receiver.rota.store import active_overrides
from receiver.slack.outbox import tell, with_channels
from receiver.slack.text import escape
from receiver.slack.text import person as person_placeholder
from receiver.store.database import Store
from scheduler.escalation import ESCALATION_TARGET
from scheduler.night_pages import NIGHT_PAGE_LIMIT, is_night_page, night_load
from scheduler.overrides import Override
from scheduler.roster import Person
from scheduler.shifts import Shift

log = logging.getLogger(__name__)

SUMMARY_LIMIT = 1024
SENDERS = 8  # a chunk's incidents sent at once (each incident's messages in order)
# Messages prepared, sent and recorded together: a chunk's read and its write transaction are
# shared by its pages, and each sender has about five of them to send (bench/paging).
PAGE_CHUNK = 40
NIGHT_LOAD_EXCEEDED = "night_load_exceeded"  # reported through on_outcome, for the metric
_ACTIONS = {
    TRIGGER: PageAction.TRIGGER,
    ESCALATE: PageAction.TRIGGER,
    NOTICE: PageAction.TRIGGER,
    ACKNOWLEDGE: PageAction.ACKNOWLEDGE,
    RESOLVE: PageAction.RESOLVE,
}


@dataclass(frozen=True)
class _Rows:
    """A chunk's rows, loaded in a few queries and held here while the chunk is handled.

    (A session's identity map holds unchanged objects only weakly: rows loaded and not kept
    are gone at once, and `session.get` would query, and autoflush, once per message.)
    """

    incidents: dict[int, IncidentRecord]
    alerts: dict[int, list[AlertRecord]] = field(default_factory=dict)  # lead alert first
    references: dict[int, str] = field(default_factory=dict)  # the latest trigger's

    @classmethod
    def to_send(cls, session: Session, chunk: Sequence[OutboxMessage]) -> _Rows:
        """What preparing the chunk's requests reads: incidents, alerts, pager references."""
        ids = sorted({m.incident_id for m in chunk})
        alerts: dict[int, list[AlertRecord]] = {}
        for alert in session.exec(
            select(AlertRecord)
            .where(col(AlertRecord.incident_id).in_(ids))
            .order_by(col(AlertRecord.incident_id), col(AlertRecord.severity), col(AlertRecord.id))
        ):
            alerts.setdefault(alert.incident_id, []).append(alert)
        references = session.exec(
            select(OutboxMessage.incident_id, OutboxMessage.reference)
            .where(col(OutboxMessage.incident_id).in_(ids))
            .where(OutboxMessage.action == TRIGGER)
            .where(OutboxMessage.reference != "")
            .order_by(col(OutboxMessage.id))  # the latest wins below
        ).all()
        return cls(_incidents(session, ids), alerts=alerts, references=dict(references))


OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
PAGE: Table = PageRecord.__table__  # type: ignore[attr-defined]
TIMELINE: Table = TimelineEntry.__table__  # type: ignore[attr-defined]
# The outbox fields an outcome changes. Statements are built once (cached compiled forms).
_OUTCOME_FIELDS = (
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "sent_at",
    "reference",
    "recipient",
)
_CURRENT = (
    select(OUTBOX.c.id, *(OUTBOX.c[name] for name in _OUTCOME_FIELDS))
    .where(OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .with_for_update()  # PostgreSQL: an acknowledgement's cancelling waits for the outcome
)
_UPDATE_OUTCOME = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("message_id"))
    .values({name: bindparam(name) for name in _OUTCOME_FIELDS})
)
_INSERT_PAGE = insert(PAGE)
_INSERT_TIMELINE = insert(TIMELINE)


class _Outcomes:
    """A chunk's outcomes as rows, written with one statement per table (not ORM objects,
    whose construction and unit of work cost more than the sending they record)."""

    def __init__(self, current: dict[int, dict[str, Any]], channels: set[int]) -> None:
        self._current = current  # message id -> its outcome fields, read in this transaction
        self.channels = channels  # the chunk's incidents that have a Slack channel
        self._changed: set[int] = set()
        self.pages: list[dict[str, Any]] = []
        self.timeline: list[dict[str, Any]] = []
        self.crossed: list[str] = []  # rotations whose on-call crossed the night-page limit

    def state(self, message_id: int) -> dict[str, Any]:
        """The message's outcome fields, to change in place (written by `write`)."""
        self._changed.add(message_id)
        return self._current[message_id]

    def write(self, session: Session) -> None:
        """Write what was recorded so far (before anything reads it back, and at the end)."""
        if self._changed:
            rows = [
                {"message_id": message_id, **self._current[message_id]}
                for message_id in sorted(self._changed)
            ]
            session.execute(_UPDATE_OUTCOME, rows)
        if self.pages:
            session.execute(_INSERT_PAGE, self.pages)
        if self.timeline:
            session.execute(_INSERT_TIMELINE, self.timeline)
        self._changed, self.pages, self.timeline = set(), [], []


def _incidents(session: Session, ids: list[int]) -> dict[int, IncidentRecord]:
    rows = session.exec(select(IncidentRecord).where(col(IncidentRecord.id).in_(ids)))
    return {incident.id or 0: incident for incident in rows}


def _reference(session: Session, rows: _Rows, message: OutboxMessage) -> str | None:
    """The pager's own id of the incident `message` is about (REST needs it), if known."""
    if message.action == NOTICE:
        return None  # a notice is an incident of its own, never a change to this one's
    key = message.details.get("dedup_key")
    if key and message.action in (ACKNOWLEDGE, RESOLVE):
        # Following up an escalation that opened an incident of its own: that incident's id.
        found = session.exec(
            select(OutboxMessage.details, OutboxMessage.reference)
            .where(OutboxMessage.incident_id == message.incident_id)
            .where(OutboxMessage.action == ESCALATE)
            .where(OutboxMessage.reference != "")
            .order_by(col(OutboxMessage.id).desc())
        ).all()
        return next(
            (reference for details, reference in found if details.get("dedup_key") == key), None
        )
    # A trigger, an escalation (reassigning the incident the first trigger opened), or a
    # follow-up of the incident itself.
    return rows.references.get(message.incident_id)


@dataclass(frozen=True)
class _Prepared:
    """A message with everything needed to send it, or the reason not to."""

    message: OutboxMessage
    request: PageRequest | None
    skip: str = ""  # why the message is cancelled instead (acknowledged, resolved, nobody)
    fail: str = ""  # why it cannot be sent at all


class Dispatcher(OutboxLoop[OutboxMessage, _Prepared, Delivery | None]):
    """Delivers due outbox messages through each rotation's pager."""

    def __init__(
        self,
        *,
        store: Store,
        context: PagingContext,
        pagers: Mapping[str, Pager],
        clock: Callable[[], datetime],
        on_outcome: Callable[[str, str], None] | None = None,
        batch: int = 200,
        still_leading: Callable[[], bool] | None = None,
        senders: int = SENDERS,
        chunk: int = PAGE_CHUNK,
    ) -> None:
        super().__init__(
            rows=OutboxMessage,
            store=store,
            clock=clock,
            on_outcome=on_outcome,
            batch=batch,
            still_leading=still_leading,
            chunk=chunk,
        )
        self.context, self.pagers = context, pagers
        # The Events API rotations' routing keys: a page's timeline says who chose its person.
        self._routing = {
            name: RoutingKeys.from_settings(policy.pagerduty)
            for name, policy in context.policies.items()
            if policy.pager == ROUTED_PAGER
        }
        # A pager answers in milliseconds (a local fake) to a few hundred (PagerDuty over the
        # internet): one at a time, a storm of pages would queue behind each answer.
        self.senders = senders
        self._pool: ThreadPoolExecutor | None = None
        self._overrides: dict[str, list[Override]] = {}  # per chunk, by rotation
        # Who is on call per layer, per chunk and rotation: a chunk is prepared at one `now`.
        self._on_call: dict[str, dict[str, Shift | None]] = {}

    def prepare(self, chunk: Sequence[OutboxMessage], now: datetime) -> list[_Prepared]:
        """Each message's request, from what the chunk's incidents are now, in one read."""
        self._overrides.clear()  # read afresh per chunk: an override may just have changed
        self._on_call.clear()
        with self.store.read() as session:
            rows = _Rows.to_send(session, chunk)
            return [self._prepare_safely(session, rows, message, now) for message in chunk]

    def _prepare_safely(
        self, session: Session, rows: _Rows, message: OutboxMessage, now: datetime
    ) -> _Prepared:
        # One message that cannot be prepared (its rotation or person left the configuration,
        # a bug) must fail visibly, not stop every message behind it in the queue.
        try:
            return self._prepare(session, rows, message, now)
        except Exception as exc:
            log.exception("outbox message %s cannot be prepared", message.id)
            return _Prepared(message, None, fail=f"cannot be prepared: {exc!r}"[:300])

    def _prepare(
        self, session: Session, rows: _Rows, message: OutboxMessage, now: datetime
    ) -> _Prepared:
        incident = rows.incidents[message.incident_id]
        if message.action in PAGES and incident.status != IncidentStatus.OPEN:
            return _Prepared(message, None, skip="the incident is resolved")
        # An escalation pages although someone acknowledged: that is what it is for.
        if message.action == TRIGGER and incident.acknowledged_at is not None:
            return _Prepared(message, None, skip="the incident was acknowledged")
        recipient: Recipient | None = None
        if message.action in (*PAGES, NOTICE):
            found = self._recipient(session, message, now)
            if isinstance(found, str):
                return _Prepared(message, None, fail=found)
            recipient = found
        elif message.details.get("person") in self.context.rota.people:
            # A follow-up goes where the page it follows went (a routing key per person).
            recipient = _as_recipient(self.context.rota.people[message.details["person"]])
        alerts = rows.alerts.get(message.incident_id, [])
        reference = _reference(session, rows, message)
        return _Prepared(message, self._request(incident, alerts, message, recipient, reference))

    def _recipient(
        self, session: Session, message: OutboxMessage, now: datetime
    ) -> Recipient | str:
        rota = self.context.rota
        rotation = rota.rotation(message.rotation)
        name: str | None
        if message.target == ESCALATION_TARGET:
            target = rotation.escalation
            if target.person:
                name = target.person
            else:
                assert target.rotation is not None
                other = rota.rotation(target.rotation)
                shift = self._on_call_now(session, other.name, now)[other.layers[0].name]
                name = shift.person if shift else None
        else:
            shift = self._on_call_now(session, rotation.name, now).get(message.target)
            name = shift.person if shift else None
        if name is None:
            return f"nobody is on call for {message.rotation} {message.target}"
        return _as_recipient(rota.people[name])

    def _on_call_now(
        self, session: Session, rotation: str, now: datetime
    ) -> dict[str, Shift | None]:
        """Who is on call in each layer of `rotation` at the chunk's `now` (once a chunk)."""
        if rotation not in self._on_call:
            overrides = self._active_overrides(session, rotation)
            self._on_call[rotation] = self.context.rota.on_call(rotation, now, overrides)
        return self._on_call[rotation]

    def _active_overrides(self, session: Session, rotation: str) -> list[Override]:
        if rotation not in self._overrides:
            self._overrides[rotation] = active_overrides(session, rotation)
        return self._overrides[rotation]

    def _request(
        self,
        incident: IncidentRecord,
        alerts: list[AlertRecord],
        message: OutboxMessage,
        recipient: Recipient | None,
        reference: str | None,
    ) -> PageRequest:
        lead = alerts[0] if alerts else None
        links: list[tuple[str, str]] = []
        if lead is not None and lead.annotations.get("runbook_url"):
            links.append((lead.annotations["runbook_url"], "Runbook"))
        if lead is not None and lead.generator_url:
            links.append((lead.generator_url, "Source (Prometheus)"))
        details: dict[str, Any] = {
            "onwatch_incident": incident.id,
            "channel": incident.channel,
            "service": incident.service,
            "alerts_firing": sum(1 for a in alerts if a.status == "firing"),
            **message.details,
        }
        if lead is not None:
            details["rule"] = lead.rule
            details["matched"] = lead.matched
        summary = f"[{incident.severity}] {incident.title}"
        return PageRequest(
            action=_ACTIONS[message.action],
            dedup_key=message.details.get("dedup_key") or dedup_key(incident.id or 0),
            summary=summary[:SUMMARY_LIMIT],
            severity=incident.severity,
            source=incident.service,
            recipient=recipient,
            level=message.level,
            target=message.target,
            details=details,
            links=tuple(links),
            reference=reference,
        )

    def lost_lease(self, left: int) -> None:
        log.warning("dispatcher: no longer leading; %d due messages left", left)

    def send(self, prepared: Sequence[_Prepared]) -> list[Delivery | None]:
        """Send a chunk: its incidents side by side, each incident's messages in order (a
        trigger before the acknowledgement that follows it)."""
        lanes: dict[int, list[int]] = {}
        for index, item in enumerate(prepared):
            lanes.setdefault(item.message.incident_id, []).append(index)
        sent: list[Delivery | None] = [None] * len(prepared)

        def send(indexes: Iterable[int]) -> None:
            for index in indexes:
                sent[index] = self._send(prepared[index])

        if self.senders <= 1 or len(lanes) <= 1:
            send(range(len(prepared)))
            return sent
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.senders, thread_name_prefix="onwatch-send")
        for finished in [self._pool.submit(send, lane) for lane in lanes.values()]:
            finished.result()
        return sent

    def _send(self, item: _Prepared) -> Delivery | None:
        message = item.message
        pager = self.pagers.get(message.rotation)
        if item.request is None or pager is None:
            return None
        try:
            return pager.send(item.request)
        except Exception as exc:  # a pager's bug: fail this message, not the whole round
            log.exception("pager %s raised for outbox message %s", pager.kind, message.id)
            return Delivery(ok=False, detail=f"the pager raised {exc!r}"[:300])

    def record(
        self, session: Session, deliveries: Sequence[tuple[_Prepared, Delivery | None]]
    ) -> list[Report]:
        """Each message's outcome by its rotation, then each night-load limit crossed."""
        ids = [item.message.id for item, _ in deliveries]
        current = session.execute(_CURRENT, {"ids": ids})
        outcomes = _Outcomes(
            {row.id: {f: row._mapping[f] for f in _OUTCOME_FIELDS} for row in current},
            with_channels(session, (item.message.incident_id for item, _ in deliveries)),
        )
        recorded = [
            (item.message.rotation, self._record(session, outcomes, item, delivery, self.clock()))
            for item, delivery in deliveries
        ]
        outcomes.write(session)
        return recorded + [(rotation, NIGHT_LOAD_EXCEEDED) for rotation in outcomes.crossed]

    def _record(
        self,
        session: Session,
        outcomes: _Outcomes,
        item: _Prepared,
        delivery: Delivery | None,
        now: datetime,
    ) -> str:
        message = item.message  # as it was when due: what changes is read afresh in `state`
        assert message.id is not None
        state = outcomes.state(message.id)
        if state["status"] != PENDING:  # cancelled by an acknowledgement meanwhile
            if state["status"] == CANCELLED and delivery is not None:
                # ... but it had already been tried: the pager must hear how the incident went
                # on (the acknowledgement or resolution that cancelled it found nothing tried,
                # so it told the pager nothing). If it went out, the person was paged, too.
                state["attempts"] += 1
                outcome = CANCELLED
                if delivery.ok:
                    outcome = self._sent(session, outcomes, message, item.request, delivery, now)
                else:
                    state["last_error"] = f"{state['last_error']}; in flight: {delivery.detail}"
                outcomes.write(session)  # the follow-up reads what was tried
                self._late_follow_up(session, message.incident_id, now)
                return outcome
            return str(state["status"])
        if item.skip:
            state.update(status=CANCELLED, last_error=item.skip)
            return CANCELLED
        state["attempts"] += 1
        if delivery is not None and delivery.ok:
            return self._sent(session, outcomes, message, item.request, delivery, now)
        if item.request is not None and item.request.recipient is not None:
            # Whom it tried: a page that may have arrived is followed up where it went.
            state["recipient"] = item.request.recipient.name
        error = item.fail or (delivery.detail if delivery else "no pager for this rotation")
        retryable = delivery is not None and delivery.retryable
        state["last_error"] = error
        attempts = state["attempts"]
        later = (
            next_attempt(now, attempts, delivery.retry_after, message.deadline_at)
            if (retryable and delivery is not None)
            else None
        )
        if later is not None:
            state["next_attempt_at"] = later
            log_after_commit(
                session,
                log,
                logging.WARNING,
                "page_retry",
                incident_id=message.incident_id,
                message_id=message.id,
                rotation=message.rotation,
                action=message.action,
                attempt=attempts,
                next_in_s=max(0, round((later - now).total_seconds())),
                reason=error,
            )
            return "retry"
        state["status"] = FAILED
        who = f" to {message.target}" if message.target else ""
        outcomes.timeline.append(
            {
                "incident_id": message.incident_id,
                "at": now,
                "kind": "page_failed",
                "message": f"{message.action}{who} via "
                f"{self.context.policy(message.rotation).pager} "
                f"FAILED after {attempts} attempts: {error}",
                "data": {"message_id": message.id, "error": error},
            }
        )
        log_after_commit(
            session,
            log,
            logging.ERROR,
            "page_failed",
            incident_id=message.incident_id,
            message_id=message.id,
            rotation=message.rotation,
            action=message.action,
            target=message.target or None,
            attempts=attempts,
            reason=error,
        )
        return FAILED

    def _sent(
        self,
        session: Session,
        outcomes: _Outcomes,
        message: OutboxMessage,
        request: PageRequest | None,
        delivery: Delivery,
        now: datetime,
    ) -> str:
        assert message.id is not None
        state = outcomes.state(message.id)
        recipient = request.recipient if request else None
        state.update(
            status=SENT,
            sent_at=now,
            last_error="",
            reference=delivery.reference or state["reference"],
            recipient=recipient.name if recipient else "",
        )
        pager = self.context.policy(message.rotation).pager
        log_after_commit(
            session,
            log,
            logging.INFO,
            "page_sent",
            incident_id=message.incident_id,
            message_id=message.id,
            rotation=message.rotation,
            person=recipient.name if recipient else None,
            action=message.action,
            level=message.level,
            pager=pager,
        )
        if message.action not in PAGES or recipient is None:
            outcomes.timeline.append(
                {
                    "incident_id": message.incident_id,
                    "at": now,
                    "kind": f"pager_{message.action}",
                    "message": f"{message.action} sent via {pager}"
                    + (f" for {recipient.name}'s page" if recipient else ""),
                    "data": {},
                }
            )
            return SENT
        person = self.context.rota.people[recipient.name]
        night = is_night_page(person, now)
        outcomes.pages.append(
            {
                "incident_id": message.incident_id,
                "message_id": message.id,
                "rotation": message.rotation,
                "person": person.name,
                "severity": message.severity,
                "at": now,
                "night": night,
            }
        )
        escalation = message.action == ESCALATE
        how = (
            f"({message.target}) via {pager} (escalation level {message.level})"
            if escalation
            else f"({message.target}, level {message.level}) via {pager}"
        )
        keys = self._routing.get(message.rotation)
        route = keys.route(person.name, message.target) if keys else None
        outcomes.timeline.append(
            {
                "incident_id": message.incident_id,
                "at": now,
                "kind": "paged",
                "message": f"paged {person.name} {how}"
                + (" at night" if night else "")
                + who_decides(route),
                "data": {
                    "person": person.name,
                    "target": message.target,
                    "level": message.level,
                    "night": night,
                    **({"escalation": True} if escalation else {}),
                    **({"routing": route.via} if route else {}),
                },
            }
        )
        if message.incident_id in outcomes.channels:
            tell(  # invited into the incident's channel as they are paged
                session,
                message.incident_id,
                f":pager: paged {person_placeholder(person.name)} {escape(how)}",
                key=f"page-{message.id}",
                now=now,
                invite=(person.name,),
            )
        if night:
            outcomes.write(session)  # the night load counts the pages recorded so far
            self._check_night_load(session, outcomes, message, person.name, now)
        return SENT

    def _late_follow_up(self, session: Session, incident_id: int, now: datetime) -> None:
        incident = session.get(IncidentRecord, incident_id)
        assert incident is not None
        if incident.status != IncidentStatus.OPEN:
            action = RESOLVE
        elif incident.acknowledged_at is not None:
            action = ACKNOWLEDGE
        else:
            return
        follow_up(session, incident, action, context=self.context, now=now)  # tells once a key

    def _check_night_load(
        self,
        session: Session,
        outcomes: _Outcomes,
        message: OutboxMessage,
        name: str,
        now: datetime,
    ) -> None:
        rota = self.context.rota
        overrides = self._active_overrides(session, message.rotation)  # the chunk's, as when sent
        shift = rota.on_call(message.rotation, now, overrides).get(message.target)
        start = shift.start if shift and shift.person == name else now - timedelta(days=1)
        # Earlier pages only: this page's row is written already.
        pages = session.exec(
            select(PageRecord.at)
            .where(PageRecord.person == name)
            .where(PageRecord.message_id != message.id)
            .where(col(PageRecord.at) >= start)
        ).all()
        load = night_load(rota.people[name], [*pages, now], start, now)
        before = night_load(rota.people[name], list(pages), start, now)
        if load.over_limit and not before.over_limit:
            outcomes.crossed.append(message.rotation)
            outcomes.timeline.append(
                {
                    "incident_id": message.incident_id,
                    "at": now,
                    "kind": NIGHT_LOAD_EXCEEDED,
                    "message": f"{name} has had {load.night_pages} night pages over "
                    f"{load.nights} nights of this shift (more than {NIGHT_PAGE_LIMIT:g} a "
                    "night): fix the alerts or staff up",
                    "data": {
                        "person": name,
                        "night_pages": load.night_pages,
                        "nights": load.nights,
                    },
                }
            )
            rotation = rota.rotation(message.rotation)
            if rotation.escalation.person or rotation.escalation.rotation:
                session.add(
                    OutboxMessage(
                        incident_id=message.incident_id,
                        rotation=message.rotation,
                        action=NOTICE,
                        target=ESCALATION_TARGET,
                        severity="SEV4",
                        status=PENDING,
                        next_attempt_at=now,
                        deadline_at=now + self.context.deadline,
                        created_at=now,
                        recipient="",
                        reference="",
                        last_error="",
                        details={
                            "dedup_key": f"onwatch-night-load-{name}-{now:%Y%m%d}",
                            "notice": f"{name} is over {NIGHT_PAGE_LIMIT:g} night pages a night",
                        },
                    )
                )


def _as_recipient(person: Person) -> Recipient:
    return Recipient(person.name, person.email, person.pagerduty_user_id)


def count_dispatch(metrics: Metrics, rotation: str, outcome: str) -> None:
    """The dispatcher's `on_outcome` hook: each outcome into its metric."""
    if outcome == NIGHT_LOAD_EXCEEDED:
        metrics.night_load_exceeded.labels(rotation=rotation).inc()
    else:
        metrics.pages.labels(rotation=rotation, outcome=outcome).inc()
