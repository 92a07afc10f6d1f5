"""The Slack dispatcher: makes the due Slack calls, in order per incident, retries, never
drops one, and records what Slack confirmed.

It runs the outboxes' loop (`receiver.delivery.outbox`). Per incident the calls go in the
order they were queued: a call waits while an earlier one of its incident waits (a channel
must exist before anything is posted in it). A call Slack refuses for a while (429 with its
Retry-After, a 5xx, an unreachable Slack) is tried again with the outboxes' back-off until
its deadline; one Slack refuses for good (missing_scope, not_authed, channel_not_found) fails
at once, and says so in the incident's timeline and in the metrics, like a call given up at
its deadline. When the channel is created, the incident records its final name and id (and
the checklist ticks "Incident channel created"); when it is archived, likewise.

A creation whose answer was lost (a timeout or a 5xx after Slack made the channel) is retried
like any other, and then meets `name_taken` for its own channel. So a retried creation that
meets `name_taken` looks for the channel (`conversations.list`, paged, at most `MAX_PAGES`
pages) and adopts it when onwatch's own bot user made it (`auth.test`; the channel's
`creator`) no earlier than the incident opened, and no other incident has it; otherwise it
takes the next suffix as a first creation does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, col, select

from receiver.delivery.outbox import FAILED, PENDING, SENT, OutboxLoop, Report
from receiver.delivery.outcome import Delivery, shorten
from receiver.delivery.retries import next_attempt
from receiver.incidents.models import IncidentRecord, IncidentStatus, TimelineEntry
from receiver.logevents import log_after_commit
from receiver.response.models import RoleRecord, StatusUpdateRecord
from receiver.rota.settings import PersonSettings
from receiver.slack.client import SlackRefused, build_client, call
from receiver.slack.models import SlackCall, SlackChannel
from receiver.slack.opening import incident_link
from receiver.slack.outbox import (
    ANNOUNCE,
    ARCHIVE,
    CREATE,
    INVITE,
    OPENING,
    POST,
    REDRAW,
    TOPIC,
)
from receiver.slack.people import SlackPeople
from receiver.slack.settings import SlackSettings
from receiver.slack.text import (
    escape,
    mentions,
    opening_as_it_stands,
    opening_blocks,
    slack_name,
    stage,
    topic,
)
from receiver.store.database import Store
from response.facts import Role

log = logging.getLogger(__name__)

RETRY, WAITING = "retry", "waiting"  # outcomes reported besides SENT and FAILED
MAX_SUFFIX = 20  # name_taken: "-2" up to "-20", then the creation fails visibly
CREATED, ARCHIVED, FAILED_KIND = "slack_channel_created", "slack_channel_archived", "slack_failed"
# Looking for a channel whose creation's answer was lost: pages of conversations.list, and
# how far Slack's clock (the channel's `created`) may be behind onwatch's.
PAGE, MAX_PAGES, CLOCK_SKEW = 200, 50, timedelta(minutes=1)
# Slack errors that mean the call's work is done already.
ALREADY = {INVITE: {"already_in_channel"}, ARCHIVE: {"already_archived"}}


@dataclass(frozen=True)
class _Due:
    """A call as read before sending, with what sending it needs."""

    id: int
    incident_id: int
    action: str
    attempts: int
    payload: dict[str, Any]
    channel: SlackChannel | None  # the incident's channel as it stood
    incident: IncidentRecord | None  # for the topic and the announcement
    commander: str | None
    update_status: str = ""  # the latest status update's (identified, ...), for the topic
    opening: dict[str, Any] | None = None  # REDRAW: the opening message's call (text, ts)
    waits: str = ""  # why it is not sent now ("" to send)


@dataclass(frozen=True)
class _Sent:
    """How one call went."""

    delivery: Delivery
    waited: bool = False  # not sent: an earlier call of its incident waits
    channel_id: str = ""  # CREATE: the id and final name Slack confirmed
    name: str = ""
    # Failed because the channel's creation failed, which the timeline says already.
    no_channel: bool = False
    adopted: bool = False  # CREATE: the channel of an earlier attempt whose answer was lost
    ts: str = ""  # POST: the message's id in its channel, kept for the opening message


class SlackDispatcher(OutboxLoop[SlackCall, _Due, _Sent]):
    """Makes the due Slack calls through one WebClient."""

    def __init__(
        self,
        *,
        store: Store,
        settings: SlackSettings,
        client: WebClient,
        people: SlackPeople,
        clock: Callable[[], datetime],
        on_outcome: Callable[[str, str], None] | None = None,
        batch: int = 100,
        still_leading: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(
            rows=SlackCall,
            store=store,
            clock=clock,
            on_outcome=on_outcome,
            batch=batch,
            still_leading=still_leading,
        )
        self.settings, self.client, self.people = settings, client, people
        self._bot_user = ""  # auth.test's user_id, asked once

    def prepare(self, chunk: Sequence[SlackCall], now: datetime) -> list[_Due]:
        """Each call with its incident's channel; a call waits while an earlier pending call
        of its incident is not in this chunk before it."""
        incident_ids = sorted({row.incident_id for row in chunk})
        with self.store.read() as session:
            channels = {
                c.incident_id: c
                for c in session.exec(
                    select(SlackChannel).where(col(SlackChannel.incident_id).in_(incident_ids))
                )
            }
            pending = session.exec(
                select(SlackCall.id, SlackCall.incident_id)
                .where(SlackCall.status == PENDING)
                .where(SlackCall.action != ARCHIVE)  # due a day later: never in the way
                .where(col(SlackCall.incident_id).in_(incident_ids))
                .where(col(SlackCall.id) < max(row.id or 0 for row in chunk))
            ).all()
            needs_incident = {
                r.incident_id for r in chunk if r.action in (TOPIC, ANNOUNCE, CREATE, REDRAW)
            }
            redrawn = [f"{r.incident_id}-{OPENING}" for r in chunk if r.action == REDRAW]
            openings = {
                c.incident_id: dict(c.payload or {})
                for c in session.exec(
                    select(SlackCall).where(col(SlackCall.dedup_key).in_(redrawn))
                )
            }
            incidents = {
                i.id: i
                for i in session.exec(
                    select(IncidentRecord).where(col(IncidentRecord.id).in_(needs_incident))
                )
            }
            commanders = {
                r.incident_id: r.person
                for r in session.exec(
                    select(RoleRecord)
                    .where(col(RoleRecord.incident_id).in_(needs_incident))
                    .where(RoleRecord.role == Role.COMMANDER.value)
                )
            }
            updates = {
                u.incident_id: u.status
                for u in session.exec(
                    select(StatusUpdateRecord)
                    .where(col(StatusUpdateRecord.incident_id).in_(needs_incident))
                    .order_by(col(StatusUpdateRecord.at), col(StatusUpdateRecord.id))
                )
            }  # the latest last
        in_chunk = {row.id for row in chunk}
        earlier: dict[int, set[int]] = {}
        for call_id, incident_id in pending:
            earlier.setdefault(incident_id, set()).add(call_id or 0)
        items = []
        for row in chunk:
            assert row.id is not None
            outside = {i for i in earlier.get(row.incident_id, set()) if i < row.id} - in_chunk
            channel = channels.get(row.incident_id)
            waits = "an earlier Slack call of this incident waits" if outside else ""
            items.append(
                _Due(
                    id=row.id,
                    incident_id=row.incident_id,
                    action=row.action,
                    attempts=row.attempts,
                    payload=dict(row.payload or {}),
                    channel=channel,
                    incident=incidents.get(row.incident_id),
                    commander=commanders.get(row.incident_id),
                    update_status=updates.get(row.incident_id, ""),
                    opening=openings.get(row.incident_id),
                    waits=waits,
                )
            )
        return items

    def send(self, items: Sequence[_Due]) -> list[_Sent]:
        """In order; once a call of an incident waits or is to be retried, the later calls of
        that incident in the chunk wait too."""
        held: set[int] = set()
        created: dict[int, str] = {}  # channels created in this chunk
        results: list[_Sent] = []
        for item in items:
            channel_id = created.get(item.incident_id) or (
                item.channel.channel_id if item.channel else ""
            )
            if item.incident_id in held or item.waits:
                held.add(item.incident_id)
                results.append(_Sent(Delivery(ok=False, detail=item.waits), waited=True))
                continue
            if item.action != CREATE and not channel_id:
                problem = item.channel.problem if item.channel else "the incident has no channel"
                if problem:  # the creation failed for good: nowhere to say it
                    failed = Delivery(ok=False, detail=f"no channel: {problem}")
                    results.append(_Sent(failed, no_channel=True))
                else:
                    held.add(item.incident_id)
                    results.append(_Sent(Delivery(ok=False, detail="no channel yet"), waited=True))
                continue
            result = self._send(item, channel_id)
            if result.channel_id:
                created[item.incident_id] = result.channel_id
            if not result.delivery.ok and result.delivery.retryable:
                held.add(item.incident_id)
            results.append(result)
        return results

    def _send(self, item: _Due, channel_id: str) -> _Sent:
        try:
            if item.action == CREATE:
                return self._create(item)
            ts = self._call(item, channel_id)
        except SlackRefused as exc:
            if exc.error in ALREADY.get(item.action, set()):
                return _Sent(Delivery(ok=True, detail=exc.error))
            return _Sent(exc.delivery)
        except Exception as exc:  # a bug here: fail this call, not the round
            log.exception("Slack call %s (%s) raised", item.id, item.action)
            return _Sent(Delivery(ok=False, detail=shorten(f"the Slack dispatcher raised {exc!r}")))
        return _Sent(Delivery(ok=True), ts=ts)

    def _create(self, item: _Due) -> _Sent:
        assert item.channel is not None
        wanted = item.channel.name
        # Only a retried creation can meet its own channel (an earlier answer lost).
        own: dict[str, str] | None = None if item.attempts else {}
        for suffix in range(1, MAX_SUFFIX + 1):
            name = slack_name(wanted, suffix)
            try:
                response = call(
                    self.client.conversations_create,
                    name=name,
                    is_private=bool(item.payload.get("private")),
                )
            except SlackRefused as exc:
                if exc.error != "name_taken":
                    raise
                if own is None:
                    own = self._own_channels(item, wanted)
                if name in own:
                    return _Sent(Delivery(ok=True), channel_id=own[name], name=name, adopted=True)
                continue
            channel = response["channel"]
            return _Sent(
                Delivery(ok=True), channel_id=str(channel["id"]), name=str(channel["name"])
            )
        return _Sent(
            Delivery(
                ok=False,
                detail=f"Slack says every name from {wanted} to "
                f"{slack_name(wanted, MAX_SUFFIX)} is taken",
            )
        )

    def _own_channels(self, item: _Due, wanted: str) -> dict[str, str]:
        """The channels, by name, among `wanted` and its suffixed names, that onwatch's bot
        made for this incident: made by the bot, not before the incident opened (less
        `CLOCK_SKEW`), and no other incident's. Empty when Slack will not say (a missing
        `channels:read`/`groups:read` scope): a suffix is taken then, as before."""
        assert item.incident is not None
        names = {slack_name(wanted, suffix) for suffix in range(1, MAX_SUFFIX + 1)}
        earliest = (item.incident.opened_at - CLOCK_SKEW).timestamp()
        found: dict[str, str] = {}
        try:
            if not self._bot_user:
                self._bot_user = str(call(self.client.auth_test)["user_id"])
            cursor = ""
            for _ in range(MAX_PAGES):
                page = call(
                    self.client.conversations_list,
                    exclude_archived=True,
                    types="private_channel" if item.payload.get("private") else "public_channel",
                    limit=PAGE,
                    **({"cursor": cursor} if cursor else {}),
                )
                for channel in page.get("channels") or []:
                    if (
                        channel.get("name") in names
                        and channel.get("creator") == self._bot_user
                        and float(channel.get("created") or 0) >= earliest
                    ):
                        found[str(channel["name"])] = str(channel["id"])
                cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
                if not cursor:
                    break
        except SlackRefused as exc:
            if exc.delivery.retryable:
                raise  # Slack is busy or down: the creation is tried again later
            log.warning("cannot look for a lost Slack channel, taking a suffix: %s", exc)
            return {}
        if not found:
            return {}
        with self.store.read() as session:
            others = set(
                session.exec(
                    select(SlackChannel.channel_id)
                    .where(col(SlackChannel.channel_id).in_(list(found.values())))
                    .where(SlackChannel.incident_id != item.incident_id)
                )
            )
        return {name: cid for name, cid in found.items() if cid not in others}

    def _call(self, item: _Due, channel_id: str) -> str:
        """Make one call in the channel; a posted message's `ts` (else "")."""
        payload = item.payload
        if item.action == TOPIC:
            incident = item.incident
            assert incident is not None and incident.id is not None
            text = topic(
                severity=incident.severity,
                status=stage(
                    status=incident.status,
                    acknowledged=incident.acknowledged_at is not None,
                    update_status=item.update_status,
                ),
                commander=item.commander,
                incident_id=incident.id,
                link=incident_link(self.settings, incident.id),
            )
            call(self.client.conversations_setTopic, channel=channel_id, topic=text)
            purpose = f"{incident.title} ({text})"[:250]
            call(self.client.conversations_setPurpose, channel=channel_id, purpose=purpose)
        elif item.action == INVITE:
            users = [u for u in map(self.people.slack_id, payload.get("people", [])) if u]
            if users:
                call(self.client.conversations_invite, channel=channel_id, users=",".join(users))
        elif item.action == POST:
            text = mentions(str(payload.get("text", "")), self.people.slack_id)
            blocks = opening_blocks(text, item.incident_id) if payload.get("buttons") else None
            posted = call(
                self.client.chat_postMessage, channel=channel_id, text=text, blocks=blocks
            )
            return str(posted.get("ts") or "")
        elif item.action == ANNOUNCE:
            incident = item.incident
            assert incident is not None
            text = (
                f":rotating_light: {escape(incident.severity)} incident #{incident.id}: "
                f"{escape(incident.title)} in <#{channel_id}>"
            )
            call(self.client.chat_postMessage, channel=str(payload.get("to")), text=text)
        elif item.action == ARCHIVE:
            call(self.client.conversations_archive, channel=channel_id)
        elif item.action == REDRAW:
            opening, incident = item.opening or {}, item.incident
            assert incident is not None
            if opening.get("ts"):  # else never posted, or its call pruned: nothing to redraw
                text = mentions(str(opening.get("text", "")), self.people.slack_id)
                blocks = opening_as_it_stands(
                    text,
                    item.incident_id,
                    acknowledged_by=incident.acknowledged_by,
                    resolved=incident.status != IncidentStatus.OPEN,
                    resolved_by=incident.resolved_by,
                    slack_id=self.people.slack_id,
                )
                call(
                    self.client.chat_update,
                    channel=channel_id,
                    ts=str(opening["ts"]),
                    text=text,
                    blocks=blocks,
                )
        else:
            raise ValueError(f"unknown Slack action {item.action!r}")
        return ""

    def record(self, session: Session, deliveries: Sequence[tuple[_Due, _Sent]]) -> list[Report]:
        """Each outcome, re-reading the calls FOR UPDATE; the channel's confirmations."""
        now = self.clock()
        rows = {
            row.id: row
            for row in session.exec(
                select(SlackCall)
                .where(col(SlackCall.id).in_([item.id for item, _ in deliveries]))
                .with_for_update()
            )
        }
        reports: list[Report] = []
        for item, sent in deliveries:
            row = rows.get(item.id)
            if row is None or row.status != PENDING or row.attempts != item.attempts:
                continue  # handled meanwhile
            outcome = self._record(session, row, item, sent, now)
            reports.append((item.action, outcome))
        return reports

    def _record(
        self, session: Session, row: SlackCall, item: _Due, sent: _Sent, now: datetime
    ) -> str:
        if sent.waited:
            # Not an attempt: try again when the call it waits for is next tried.
            blocker = session.exec(
                select(SlackCall.next_attempt_at)
                .where(SlackCall.incident_id == row.incident_id)
                .where(SlackCall.status == PENDING)
                .where(SlackCall.action != ARCHIVE)
                .where(col(SlackCall.id) < row.id)
                .order_by(col(SlackCall.id))
            ).first()
            row.next_attempt_at = max(now, blocker or now)
            session.add(row)
            return WAITING
        row.attempts += 1
        delivery = sent.delivery
        if delivery.ok:
            row.status, row.sent_at, row.last_error = SENT, now, ""
            session.add(row)
            self._confirmed(session, row, sent, now)
            return SENT
        row.last_error = delivery.detail
        if delivery.retryable:
            later = next_attempt(now, row.attempts, delivery.retry_after, row.deadline_at)
            if later is not None:
                row.next_attempt_at = later
                session.add(row)
                log_after_commit(
                    session,
                    log,
                    logging.WARNING,
                    "slack_retry",
                    incident_id=row.incident_id,
                    call_id=row.id,
                    action=row.action,
                    attempt=row.attempts,
                    next_in_s=max(0, round((later - now).total_seconds())),
                    reason=delivery.detail,
                )
                return RETRY
        self._fail(session, row, delivery, now, quiet=sent.no_channel)
        return FAILED

    def _confirmed(self, session: Session, row: SlackCall, sent: _Sent, now: datetime) -> None:
        if sent.ts and row.action == POST and (row.payload or {}).get("buttons"):
            row.payload = {**row.payload, "ts": sent.ts}  # a new dict: the JSON is written
            session.add(row)
        channel = session.get(SlackChannel, row.incident_id)
        if channel is None:
            return
        if row.action == CREATE:
            wanted = channel.name
            channel.channel_id, channel.name, channel.created_at = sent.channel_id, sent.name, now
            channel.problem = ""
            renamed = f" (Slack had {wanted} taken)" if sent.name != wanted else ""
            if sent.adopted:
                renamed += (
                    "; Slack's answer to an earlier attempt was lost, the channel it made is used"
                )
            message = f"Slack channel #{sent.name} created ({sent.channel_id}){renamed}"
            self._timeline(
                session, row, now, CREATED, message, name=sent.name, channel_id=sent.channel_id
            )
        elif row.action == ARCHIVE:
            channel.archived_at = now
            message = f"Slack channel #{channel.name} archived (not deleted)"
            self._timeline(session, row, now, ARCHIVED, message, channel_id=channel.channel_id)
        else:
            return
        session.add(channel)

    def _fail(
        self, session: Session, row: SlackCall, delivery: Delivery, now: datetime, *, quiet: bool
    ) -> None:
        reason = "gave up at its deadline" if delivery.retryable else "refused for good"
        row.status = FAILED
        session.add(row)
        if row.action == CREATE:
            channel = session.get(SlackChannel, row.incident_id)
            if channel is not None:
                channel.problem = delivery.detail
                session.add(channel)
        if quiet:  # the creation's failure is in the timeline: one entry, not one per call
            return
        summary = (
            f"Slack {row.action} FAILED after {row.attempts} "
            f"attempt{'s' if row.attempts != 1 else ''} ({reason}): {delivery.detail}"
        )
        self._timeline(
            session,
            row,
            now,
            FAILED_KIND,
            summary,
            action=row.action,
            attempts=row.attempts,
            error=delivery.detail,
        )
        log_after_commit(
            session,
            log,
            logging.ERROR,
            FAILED_KIND,
            incident_id=row.incident_id,
            call_id=row.id,
            action=row.action,
            attempts=row.attempts,
            why=reason,
            reason=delivery.detail,
        )

    @staticmethod
    def _timeline(
        session: Session, row: SlackCall, now: datetime, kind: str, message: str, **data: Any
    ) -> None:
        session.add(
            TimelineEntry(
                incident_id=row.incident_id,
                at=now,
                kind=kind,
                message=message,
                data={"call_id": row.id, **data},
            )
        )


def build_slack_dispatcher(
    settings: SlackSettings,
    people: Sequence[PersonSettings],
    *,
    store: Store,
    clock: Callable[[], datetime],
    on_outcome: Callable[[str, str], None] | None = None,
    still_leading: Callable[[], bool] | None = None,
    client: WebClient | None = None,
) -> SlackDispatcher | None:
    """The Slack dispatcher for the settings, or None when Slack is off."""
    if not settings.enabled:
        return None
    web = client or build_client(settings)
    return SlackDispatcher(
        store=store,
        settings=settings,
        client=web,
        people=SlackPeople(people, store=store, client=web, clock=clock),
        clock=clock,
        on_outcome=on_outcome,
        still_leading=still_leading,
    )
