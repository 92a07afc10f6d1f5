"""The `/onwatch` command and the buttons: what a Slack user asks, done through the same use
cases as the API (acknowledge, resolve, roles, updates, severity), as the onwatch person the
Slack user is. A refusal (an unknown user or command, a rule such as "only the IC changes the
severity") is an answer naming the problem, and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from receiver.incidents.actions import acknowledge, resolve
from receiver.incidents.lookup import UnknownIncident
from receiver.incidents.models import IncidentRecord, IncidentStatus
from receiver.response.commander import assign_role, change_severity, current_holder, parse_role
from receiver.response.updates import parse_status, post_update
from receiver.rota.store import active_overrides
from receiver.services import Services
from receiver.slack.modal import MAX_FIELD, block_of
from receiver.slack.models import SlackChannel
from receiver.slack.people import SlackPeople
from receiver.slack.text import (
    ACKNOWLEDGE_ACTION,
    RESOLVE_ACTION,
    opening_as_it_stands,
)
from receiver.web.errors import Conflict, InputError
from response.facts import Role

MAX_TEXT = 2000  # a command's text; Slack sends at most a few thousand characters
HELP = """*`/onwatch` commands* (in an incident's channel they act on that incident; elsewhere \
give its id first: `/onwatch ack 42`)
• `ack`: acknowledge (escalation stops)
• `resolve [note]`: resolve
• `role commander|tech|comms|scribe @person`: name a role holder
• `update <status> <impact> | <action> | <eta>`: post a status update (status: investigating, \
identified, monitoring, resolved); `update` alone opens a form
• `severity SEV1..SEV4 <reason>`: change the severity (the Incident Commander)
• `status`: where the incident stands
• `oncall [rotation]`: who is on call
• `help`: this"""
ROLE_WORDS = {
    "commander": Role.COMMANDER,
    "ic": Role.COMMANDER,
    "tech": Role.TECHNICAL_LEAD,
    "comms": Role.COMMUNICATIONS_LEAD,
    "scribe": Role.SCRIBE,
}
_ID = re.compile(r"#?(\d{1,9})")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
NEEDS_INCIDENT = ("ack", "resolve", "role", "update", "severity", "status")


@dataclass(frozen=True)
class Answer:
    """What to tell the user: `public` answers are shown in the channel. `form_for`: open
    the status update form for that incident instead (`/onwatch update` alone)."""

    text: str
    public: bool = False
    form_for: int | None = None


def refuse(text: str) -> Answer:
    """An ephemeral refusal naming the problem."""
    return Answer(f":no_entry: {text}")


def run_command(
    svc: Services, people: SlackPeople, *, user_id: str, channel_id: str, text: str
) -> Answer:
    """Do one `/onwatch` command for the Slack user; what to answer."""
    if len(text) > MAX_TEXT:
        return refuse(f"the command is too long ({len(text)} characters, at most {MAX_TEXT})")
    verb, _, rest = text.strip().partition(" ")
    verb = verb.lower()
    if verb in ("", "help"):
        return Answer(HELP)
    if verb == "oncall":
        return _on_call(svc, rest.strip())
    if verb not in NEEDS_INCIDENT:
        return refuse(f"unknown command {verb!r}: try `/onwatch help`")
    by = people.person_of(user_id)
    if by is None:
        return refuse(
            f"your Slack user ({user_id}) is not one of onwatch's people: add "
            "`slack_user_id` to your entry under `people:` (or use the e-mail Slack has for you)"
        )
    incident_id, rest = _incident_of(svc, channel_id, rest.strip())
    if incident_id is None:
        return refuse(
            f"`{verb}` needs an incident: run it in the incident's channel, or give its id "
            f"first (`/onwatch {verb} 42 ...`)"
        )
    try:
        return _act(svc, people, verb, incident_id, rest, by)
    except UnknownIncident:
        return refuse(f"no incident {incident_id}")
    except (InputError, Conflict) as exc:
        return refuse(str(exc))


def press_button(
    svc: Services, people: SlackPeople, *, user_id: str, action: str, value: str
) -> Answer:
    """A click on the opening message's Acknowledge or Resolve button."""
    verb = {ACKNOWLEDGE_ACTION: "ack", RESOLVE_ACTION: "resolve"}.get(action)
    match = _ID.fullmatch(value or "")
    if verb is None or match is None:
        return refuse(f"unknown button {action!r}")
    by = people.person_of(user_id)
    if by is None:
        return refuse(
            f"your Slack user ({user_id}) is not one of onwatch's people: add "
            "`slack_user_id` to your entry under `people:`"
        )
    try:
        return _act(svc, people, verb, int(match.group(1)), "", by)
    except UnknownIncident:
        return refuse(f"no incident {match.group(1)}")
    except (InputError, Conflict) as exc:
        return refuse(str(exc))


def _incident_of(svc: Services, channel_id: str, rest: str) -> tuple[int | None, str]:
    with svc.store.read() as session:
        channel = (
            session.exec(select(SlackChannel).where(SlackChannel.channel_id == channel_id)).first()
            if channel_id
            else None
        )
    if channel is not None:
        return channel.incident_id, rest
    first, _, after = rest.partition(" ")
    match = _ID.fullmatch(first)
    if match is None:
        return None, rest
    return int(match.group(1)), after.strip()


def _act(
    svc: Services, people: SlackPeople, verb: str, incident_id: int, rest: str, by: str
) -> Answer:
    now = svc.clock()
    work: Callable[[Session], Answer]
    if verb == "ack":

        def work(session: Session) -> Answer:
            result = acknowledge(session, incident_id, by=by, now=now, context=svc.paging)
            if result.changed:
                return Answer(f"incident #{incident_id} acknowledged by {by}", public=True)
            return Answer(f"incident #{incident_id} is already acknowledged or resolved")

    elif verb == "resolve":

        def work(session: Session) -> Answer:
            result = resolve(session, incident_id, by=by, now=now, context=svc.response, note=rest)
            if result.changed:
                return Answer(f"incident #{incident_id} resolved by {by}", public=True)
            return Answer(f"incident #{incident_id} is already resolved")

    elif verb == "role":
        word, _, who = rest.partition(" ")
        role = ROLE_WORDS.get(word.lower()) or parse_role(word)
        person = _person_named(people, who.strip())

        def work(session: Session) -> Answer:
            changed = assign_role(
                session,
                incident_id,
                role=role,
                person=person,
                by=by,
                now=now,
                context=svc.response,
            )
            return Answer(changed.message, public=changed.changed)

    elif verb == "update":
        if not rest.strip():
            with svc.store.read() as session:
                if session.get(IncidentRecord, incident_id) is None:
                    raise UnknownIncident(incident_id)
            return Answer("", form_for=incident_id)
        status_word, _, parts = rest.partition(" ")
        fields = [part.strip() for part in parts.split("|")]
        if len(fields) < 2:
            raise InputError("update: expected `update <status> <impact> | <action> | <eta>`")
        impact, action, eta = (fields + [""])[:3]
        return _post_update(svc, incident_id, by, status_word, impact, action, eta)

    elif verb == "severity":
        severity, _, reason = rest.partition(" ")

        def work(session: Session) -> Answer:
            changed = change_severity(
                session,
                incident_id,
                severity=severity.upper(),
                by=by,
                reason=reason,
                now=now,
                context=svc.response,
            )
            return Answer(changed.message, public=changed.changed)

    else:  # status

        def work(session: Session) -> Answer:
            incident = session.get(IncidentRecord, incident_id)
            if incident is None:
                raise UnknownIncident(incident_id)
            commander = current_holder(session, incident_id, Role.COMMANDER)
            acked = (
                f"acknowledged by {incident.acknowledged_by}"
                if incident.acknowledged_at
                else "not acknowledged"
            )
            return Answer(
                f"incident #{incident_id} {incident.severity} {incident.status}, {acked}, "
                f"IC: {commander.person if commander else 'not named'}: {incident.title}"
            )

        with svc.store.read() as session:
            return work(session)
    return svc.store.write(work)


def _post_update(
    svc: Services,
    incident_id: int,
    by: str,
    status_word: str,
    impact: str,
    action: str,
    eta: str,
) -> Answer:
    """A status update through the API's `post_update`; InputError or Conflict refuses it."""
    status = parse_status(status_word)
    now = svc.clock()

    def work(session: Session) -> Answer:
        posted = post_update(
            session,
            incident_id,
            by=by,
            status=status,
            impact=impact,
            current_action=action,
            eta=eta,
            now=now,
            context=svc.response,
        )
        what = "resolved it" if posted.resolved else "posted"
        return Answer(f"status update on incident #{incident_id} {what} by {by}", public=True)

    return svc.store.write(work)


def submit_update_form(
    svc: Services, people: SlackPeople, *, user_id: str, incident_id: int, fields: dict[str, str]
) -> dict[str, str]:
    """The submitted status update form (`receiver.slack.modal`), posted as the Slack user:
    nothing when it was posted, else each refusal under the form's block it is about."""
    too_long = {
        block: f"at most {MAX_FIELD} characters"
        for block, text in fields.items()
        if len(text) > MAX_FIELD
    }
    if too_long:
        return too_long
    by = people.person_of(user_id)
    if by is None:
        return {
            block_of(""): f"your Slack user ({user_id}) is not one of onwatch's people: add "
            "`slack_user_id` to your entry under `people:`"
        }
    try:
        _post_update(
            svc,
            incident_id,
            by,
            fields.get("status", ""),
            fields.get("impact", ""),
            fields.get("action", ""),
            fields.get("eta", ""),
        )
    except UnknownIncident:
        return {block_of(""): f"no incident {incident_id}"}
    except (InputError, Conflict) as exc:
        return {block_of(str(exc)): str(exc)}
    return {}


def opening_now(
    svc: Services, people: SlackPeople, incident_id: int, text: str
) -> list[dict[str, Any]] | None:
    """The opening message's blocks for the incident as it now stands (who acknowledged and
    resolved it, the buttons that still apply), around the message's `text`; None for no
    such incident."""
    with svc.store.read() as session:
        incident = session.get(IncidentRecord, incident_id)
    if incident is None:
        return None
    return opening_as_it_stands(
        text,
        incident_id,
        acknowledged_by=incident.acknowledged_by,
        resolved=incident.status != IncidentStatus.OPEN,
        resolved_by=incident.resolved_by,
        slack_id=people.slack_id,
    )


def _person_named(people: SlackPeople, who: str) -> str:
    match = _USER.fullmatch(who)
    if match is not None:
        name = people.person_of(match.group(1))
        if name is None:
            raise InputError(f"person: Slack user {match.group(1)} is not one of onwatch's people")
        return name
    if not who:
        raise InputError("person: name someone: `role commander @alice`")
    return who.lstrip("@")


def _on_call(svc: Services, wanted: str) -> Answer:
    rotations = [r for r in svc.rota.rotations.values() if not wanted or r.name == wanted]
    if not rotations:
        known = ", ".join(svc.rota.rotations) or "none configured"
        return refuse(f"no rotation {wanted!r} (rotations: {known})")
    now = svc.clock()
    lines = []
    with svc.store.read() as session:
        for rotation in rotations:
            overrides = active_overrides(session, rotation.name)
            for layer, shift in svc.rota.on_call(rotation.name, now, overrides).items():
                lines.append(f"{rotation.name} {layer}: {shift.person if shift else 'nobody'}")
    return Answer("\n".join(lines) or "nobody is on call")
