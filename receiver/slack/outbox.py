"""Queueing Slack calls: written in the transaction of the change they tell of, made later
by the Slack dispatcher (`receiver.slack.dispatcher`), in order per incident.

The hooks here are what the rest of onwatch calls, one line each where a change happens:
an incident opened (`incident_opened`, from ingest), something to say in its channel
(`tell`: acknowledgements, roles, severity, updates, pages, escalations), and a resolution
(`incident_resolved`: the all-clear, then the archive after `chat.slack.archive_after`).
An incident has a channel only when Slack was on for its severity when it opened (a
`SlackChannel` row); for any other incident the hooks write nothing, after one indexed read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, insert, select
from sqlmodel import Session

from receiver.delivery.outbox import PENDING
from receiver.response.facts import ALL_CLEAR, STATUS_UPDATE
from receiver.slack.models import SlackCall, SlackChannel
from receiver.slack.settings import SlackSettings
from receiver.slack.text import escape, slack_name
from response.rendering import RenderedMessage, TemplateError, TemplateName, Templates

# Slack calls are retried this long (a Slack outage rarely lasts longer) before they are
# failed visibly; a refusal that cannot heal (missing_scope, not_authed) fails at once.
DEADLINE = timedelta(hours=24)
CREATE, TOPIC, INVITE, POST, ANNOUNCE, ARCHIVE, REDRAW = (
    "create",
    "topic",
    "invite",
    "post",
    "announce",
    "archive",
    "redraw",  # chat.update of the opening message: who acknowledged/resolved, buttons left
)
OPENING = "opening"  # the opening message's key; its call keeps the message's `ts` once sent
CALLS: Table = SlackCall.__table__  # type: ignore[attr-defined]
CHANNELS: Table = SlackChannel.__table__  # type: ignore[attr-defined]

Executor = Session | Connection


def has_channel(db: Executor, incident_id: int) -> bool:
    """Whether the incident has (or is getting) a Slack channel to talk in: not when Slack
    refused to create it for good (its timeline says so once), nor once it is archived."""
    found = db.execute(
        select(CHANNELS.c.incident_id)
        .where(CHANNELS.c.incident_id == incident_id)
        .where(CHANNELS.c.problem == "")
        .where(CHANNELS.c.archived_at.is_(None))
    ).first()
    return found is not None


def with_channels(db: Executor, incident_ids: Iterable[int]) -> set[int]:
    """Which of `incident_ids` have a channel to talk in (as `has_channel`), in one query:
    the pager dispatcher tells each page's channel, a chunk of pages at a time."""
    return set(
        db.execute(
            select(CHANNELS.c.incident_id)
            .where(CHANNELS.c.incident_id.in_(sorted(set(incident_ids))))
            .where(CHANNELS.c.problem == "")
            .where(CHANNELS.c.archived_at.is_(None))
        ).scalars()
    )


def queue(
    db: Executor,
    incident_id: int,
    action: str,
    *,
    key: str,
    now: datetime,
    due: datetime | None = None,
    **payload: Any,
) -> bool:
    """Queue one Slack call; False when `key` was queued already (a retried transaction)."""
    dedup_key = f"{incident_id}-{key}"
    seen = db.execute(select(CALLS.c.id).where(CALLS.c.dedup_key == dedup_key)).first()
    if seen is not None:
        return False
    when = due or now
    db.execute(
        insert(CALLS).values(
            incident_id=incident_id,
            action=action,
            dedup_key=dedup_key,
            payload=payload,
            status=PENDING,
            attempts=0,
            next_attempt_at=when,
            deadline_at=when + DEADLINE,
            created_at=now,
            sent_at=None,
            last_error="",
        )
    )
    return True


def incident_opened(
    db: Executor,
    incident_id: int,
    *,
    severity: str,
    channel: str,
    opening: str,
    now: datetime,
    slack: SlackSettings,
) -> bool:
    """Queue the channel of a new incident, when Slack is on for its severity: create it,
    set its topic and purpose, post `opening` (with the buttons), announce it. Whether it
    was queued."""
    if not slack.wants_channel(severity) or has_channel(db, incident_id):
        return False
    db.execute(
        insert(CHANNELS).values(
            incident_id=incident_id,
            name=slack_name(channel),
            channel_id="",
            created_at=None,
            archived_at=None,
            problem="",
        )
    )
    queue(db, incident_id, CREATE, key="create", now=now, private=slack.private)
    queue(db, incident_id, TOPIC, key="topic-open", now=now)
    queue(db, incident_id, POST, key=OPENING, now=now, text=opening, buttons=True)
    if slack.announce_channel:
        queue(db, incident_id, ANNOUNCE, key="announce", now=now, to=slack.announce_channel)
    return True


def tell(
    db: Executor,
    incident_id: int,
    text: str,
    *,
    key: str,
    now: datetime,
    invite: tuple[str, ...] = (),
    topic: bool = False,
    redraw: bool = False,
) -> bool:
    """Say `text` (escaped, people as `text.person` placeholders) in the incident's channel,
    inviting `invite` first, setting the topic after when `topic`, and redrawing the opening
    message (who acknowledged or resolved, the buttons that still apply) when `redraw`;
    nothing without a channel. Whether anything was queued."""
    if not has_channel(db, incident_id):
        return False
    if invite:
        queue(db, incident_id, INVITE, key=f"{key}-invite", now=now, people=list(invite))
    queue(db, incident_id, POST, key=key, now=now, text=text)
    if topic:
        queue(db, incident_id, TOPIC, key=f"{key}-topic", now=now)
    if redraw:
        queue(db, incident_id, REDRAW, key=f"{key}-redraw", now=now)
    return True


def incident_resolved(
    db: Executor, incident_id: int, *, all_clear: str, now: datetime, slack: SlackSettings
) -> bool:
    """Post the all-clear, keep the topic current, and archive the channel
    `slack.archive_delay` after now. Whether anything was queued."""
    if not tell(db, incident_id, all_clear, key="all-clear", now=now, topic=True, redraw=True):
        return False
    queue(db, incident_id, ARCHIVE, key="archive", now=now, due=now + slack.archive_delay)
    return True


def announced(
    db: Executor,
    incident_id: int,
    *,
    topic: str,
    render: Callable[[Templates, TemplateName], RenderedMessage],
    templates: Templates,
    dedup_key: str,
    now: datetime,
    slack: SlackSettings,
) -> bool:
    """A status update or the all-clear, as the team's audiences read it (the internal
    template), posted in the incident's channel; the all-clear also archives the channel
    later. Other announcements (reminders) stay out of the channel. Whether anything was
    queued."""
    if not slack.enabled or topic not in (STATUS_UPDATE, ALL_CLEAR):
        return False  # without Slack, nothing to look up (and nobody to send it)
    if not has_channel(db, incident_id):
        return False
    try:
        message = render(templates, "internal")
    except TemplateError:  # the audiences get the built-in one then, and so does the channel
        message = render(Templates(), "internal")
    text = escape(message.text)
    if topic == ALL_CLEAR:
        return incident_resolved(db, incident_id, all_clear=text, now=now, slack=slack)
    return tell(db, incident_id, text, key=dedup_key, now=now, topic=True)
