"""The seed's four response phases and their checklists, ticked by events or by hand.

Most items tick themselves from what the incident already records (an acknowledgement, a
status update, a role assignment); the rest are ticked by hand. When both happened, the
earlier one is shown, since that is when the item was really done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from response.facts import IncidentFacts, Role, StatusUpdate, Tick, UpdateStatus
from response.resolution import format_span, span_in_words
from response.targets import ResponseTargets

ONWATCH = "onwatch"
ALERTMANAGER = "Alertmanager"
BY_HAND = "by hand"

PHASES: tuple[tuple[str, str], ...] = (
    ("detection", "Detection"),
    ("triage", "Triage"),
    ("response", "Response"),
    ("resolution", "Resolution"),
)

# The scribe is left out: the seed has "any available team member" take it when needed.
REQUIRED_ROLES = (Role.COMMANDER, Role.TECHNICAL_LEAD, Role.COMMUNICATIONS_LEAD)
# A later status also implies the earlier ones: monitoring a fix means the cause was identified.
_IDENTIFIED = frozenset({UpdateStatus.IDENTIFIED, UpdateStatus.MONITORING, UpdateStatus.RESOLVED})
_MITIGATED = frozenset({UpdateStatus.MONITORING, UpdateStatus.RESOLVED})


class ItemState(StrEnum):
    """Where one checklist item stands."""

    DONE = "done"
    PENDING = "pending"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class ItemSpec:
    """One checklist item of the seed: its key, phase and words."""

    key: str
    phase: str
    label: str
    severities: tuple[str, ...] | None = None  # None: every severity


ITEMS: tuple[ItemSpec, ...] = (
    ItemSpec("acknowledged", "detection", "Alert received and acknowledged"),
    ItemSpec("impact_assessed", "detection", "Initial assessment of impact"),
    ItemSpec("channel_named", "detection", "Incident channel created"),
    ItemSpec("commander_identified", "detection", "Incident Commander identified"),
    ItemSpec("severity_determined", "triage", "Severity determined"),
    ItemSpec("roles_assigned", "triage", "Roles assigned"),
    ItemSpec("hypothesis_formed", "triage", "Initial hypothesis formed"),
    ItemSpec("stakeholders_notified", "triage", "First stakeholder notification sent"),
    ItemSpec("war_room", "triage", "War room/bridge established", ("SEV1", "SEV2")),
    ItemSpec(
        "investigating",
        "response",
        "Systematic investigation (dashboards, logs, recent changes)",
    ),
    ItemSpec("updates_posted", "response", "Updates posted every 15-30 minutes"),
    ItemSpec(
        "mitigation_attempted",
        "response",
        "Mitigation attempted (rollback, failover, feature flag)",
    ),
    ItemSpec("customer_communication", "response", "Customer communication drafted if needed"),
    ItemSpec("escalated_if_stuck", "response", "Escalation if no progress after 30 minutes"),
    ItemSpec("service_restored", "resolution", "Service restored to normal operation"),
    ItemSpec("verified", "resolution", "Verification with monitoring and user reports"),
    ItemSpec("all_clear_sent", "resolution", "All-clear communication sent"),
    ItemSpec("channel_archived", "resolution", "Incident channel archived (not deleted)"),
    ItemSpec("postmortem_scheduled", "resolution", "Postmortem scheduled within 48 hours"),
)
_SPECS = {spec.key: spec for spec in ITEMS}


@dataclass(frozen=True)
class ItemView:
    """One item as it stands: done when, by whom and how ("by hand" or the event)."""

    key: str
    phase: str
    label: str
    state: ItemState
    at: datetime | None
    by: str | None
    how: str  # "by hand", a short phrase naming the event, or "" while pending
    note: str = ""


@dataclass(frozen=True)
class PhaseView:
    """One phase: its items, when it was completed, and its target if the seed sets one."""

    key: str
    label: str
    items: tuple[ItemView, ...]
    completed_at: datetime | None  # the last item's time, once none is pending
    target: timedelta | None
    due_at: datetime | None
    met: bool | None  # None: no target, or not decided yet


@dataclass(frozen=True)
class ChecklistView:
    """The whole checklist of one incident and the phase it is in."""

    phase: str
    phases: tuple[PhaseView, ...]


def item_spec(key: str) -> ItemSpec | None:
    """The item named `key` (for validating a hand tick), or None when there is none."""
    return _SPECS.get(key)


def evaluate(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> ChecklistView:
    """Tick the seed's checklist from the incident's events and hand ticks, as of `now`."""
    ticks = _earliest_ticks(facts.ticks)
    items = [
        _item_view(spec, facts, targets, now, ticks.get(spec.key))
        for spec in ITEMS  # keeps the seed's order inside each phase
    ]
    phases = tuple(
        _phase_view(key, label, tuple(i for i in items if i.phase == key), facts, targets, now)
        for key, label in PHASES
    )
    return ChecklistView(phase=current_phase(facts), phases=phases)


def current_phase(facts: IncidentFacts) -> str:
    """The phase the incident is in: what the people on it should be doing now."""
    if facts.resolved_at is not None:
        return "resolution"
    if facts.acknowledged_at is None:
        return "detection"
    if not facts.updates:
        return "triage"
    return "response"


@dataclass(frozen=True)
class _Outcome:
    """An item's state as the events alone decide it."""

    state: ItemState
    at: datetime | None = None
    by: str | None = None
    how: str = ""
    note: str = ""


_PENDING = _Outcome(ItemState.PENDING)


def _done(at: datetime, by: str | None, how: str, note: str = "") -> _Outcome:
    return _Outcome(ItemState.DONE, at, by, how, note)


def _not_applicable(note: str) -> _Outcome:
    return _Outcome(ItemState.NOT_APPLICABLE, note=note)


def _pending(note: str) -> _Outcome:
    return _Outcome(ItemState.PENDING, note=note)


def _item_view(
    spec: ItemSpec,
    facts: IncidentFacts,
    targets: ResponseTargets,
    now: datetime,
    tick: Tick | None,
) -> ItemView:
    if spec.severities is not None and facts.severity not in spec.severities:
        outcome = _not_applicable(f"not required for {facts.severity}")
    else:
        outcome = _EVENTS[spec.key](facts, targets, now)
    # A hand tick also overrides "not applicable": someone did it anyway, and says so.
    if tick is not None and not (
        outcome.state is ItemState.DONE and outcome.at is not None and outcome.at <= tick.at
    ):
        outcome = _done(tick.at, tick.by, BY_HAND, tick.note)
    return ItemView(
        key=spec.key,
        phase=spec.phase,
        label=_label(spec, facts, targets),
        state=outcome.state,
        at=outcome.at,
        by=outcome.by,
        how=outcome.how,
        note=outcome.note,
    )


def _phase_view(
    key: str,
    label: str,
    items: tuple[ItemView, ...],
    facts: IncidentFacts,
    targets: ResponseTargets,
    now: datetime,
) -> PhaseView:
    completed_at = None
    if all(item.state is not ItemState.PENDING for item in items):
        completed_at = max((i.at for i in items if i.at is not None), default=None)
    target = {"detection": targets.detection, "triage": targets.triage}.get(key)
    due_at = facts.opened_at + target if target is not None else None
    met = None
    if due_at is not None:
        if completed_at is not None:
            met = completed_at <= due_at
        elif now > due_at:
            met = False
    return PhaseView(key, label, items, completed_at, target, due_at, met)


def _label(spec: ItemSpec, facts: IncidentFacts, targets: ResponseTargets) -> str:
    """The seed's words with this configuration's numbers."""
    if spec.key == "updates_posted":
        cadence = targets.update_cadence(facts.severity)
        return f"Updates posted every {span_in_words(cadence)}" if cadence else spec.label
    if spec.key == "escalated_if_stuck":
        after = span_in_words(targets.escalate_without_progress)
        return f"Escalation if no progress after {after}"
    if spec.key == "postmortem_scheduled":
        return f"Postmortem scheduled within {span_in_words(targets.postmortem_draft)}"
    return spec.label


def _earliest_ticks(ticks: tuple[Tick, ...]) -> dict[str, Tick]:
    earliest: dict[str, Tick] = {}
    for tick in ticks:
        if tick.item not in earliest or tick.at < earliest[tick.item].at:
            earliest[tick.item] = tick
    return earliest


def _first_update(
    facts: IncidentFacts, statuses: frozenset[UpdateStatus] | None = None
) -> StatusUpdate | None:
    """The earliest update (with one of `statuses`, when given)."""
    matching = (u for u in facts.updates if statuses is None or u.status in statuses)
    return min(matching, key=lambda u: u.at, default=None)


def mitigated_at(facts: IncidentFacts) -> datetime | None:
    """When a mitigation was first in place: a monitoring/resolved update, "mitigation
    attempted" ticked by hand, or the resolution."""
    update = _first_update(facts, _MITIGATED)
    ticked = [t.at for t in facts.ticks if t.item == "mitigation_attempted"]
    instants = [update.at if update else None, facts.resolved_at, *ticked]
    return min((i for i in instants if i is not None), default=None)


def _from_update(update: StatusUpdate | None, how: str) -> _Outcome:
    return _done(update.at, update.by, how) if update is not None else _PENDING


# Detection


def _acknowledged(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    if facts.acknowledged_at is None:
        return _PENDING
    return _done(facts.acknowledged_at, facts.acknowledged_by, "acknowledged")


def _impact_assessed(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    with_impact = min(
        (u for u in facts.updates if u.impact.strip()), key=lambda u: u.at, default=None
    )
    return _from_update(with_impact, "status update with impact")


# Without a chat channel the two channel items stay open until ticked by hand, saying why.
NO_CHAT_CHANNEL = (
    "no Slack channel: Slack is off (chat.slack.bot_token) or this severity is not in "
    "chat.slack.channel_for; tick by hand once a channel exists"
)


def _channel_named(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    chat = facts.chat_channel
    if chat is None:
        return _pending(NO_CHAT_CHANNEL)
    if chat.created_at is None:
        if chat.problem:
            return _pending(f"Slack did not create #{chat.name}: {chat.problem}")
        return _pending(f"waiting for Slack to create #{chat.name}")
    return _done(chat.created_at, "Slack", f"channel #{chat.name} created in Slack")


def _channel_archived(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    chat = facts.chat_channel
    if chat is None:
        return _pending(NO_CHAT_CHANNEL)
    if chat.archived_at is None:
        return _PENDING
    return _done(chat.archived_at, "Slack", f"channel #{chat.name} archived in Slack")


def _commander_identified(
    facts: IncidentFacts, targets: ResponseTargets, now: datetime
) -> _Outcome:
    commander = facts.first_holder(Role.COMMANDER)
    if commander is None:
        return _PENDING
    return _done(commander.at, commander.by, f"{commander.person} named {Role.COMMANDER.title}")


# Triage


def _severity_determined(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    return _done(facts.opened_at, ONWATCH, "rules engine")


def _roles_assigned(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    held = [facts.first_holder(role) for role in REQUIRED_ROLES]
    missing = [role.title for role, holder in zip(REQUIRED_ROLES, held, strict=True) if not holder]
    if missing:
        return _pending(f"missing: {', '.join(missing)}")
    last = max((h for h in held if h is not None), key=lambda h: h.at)
    return _done(last.at, last.by, f"{last.role.title} assigned")


def _hypothesis_formed(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    update = _first_update(facts, _IDENTIFIED)
    return _from_update(update, f"status update: {update.status}" if update else "")


def _first_status_update(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    return _from_update(_first_update(facts), "first status update")


def _stakeholders_notified(
    facts: IncidentFacts, targets: ResponseTargets, now: datetime
) -> _Outcome:
    if facts.first_notified_at is not None:
        return _done(
            facts.first_notified_at, ONWATCH, "first status update queued for its audiences"
        )
    if facts.updates:
        return _pending("updates posted, but no notification target reached anyone")
    return _PENDING


def _by_hand_only(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    return _PENDING


# Response


def _updates_posted(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    cadence = targets.update_cadence(facts.severity)
    if cadence is None:
        return _not_applicable(f"no update cadence for {facts.severity}")
    updates = sorted(facts.updates, key=lambda u: u.at)
    instants = [facts.opened_at, *(u.at for u in updates)]
    end = facts.resolved_at or now
    gaps = [later - earlier for earlier, later in zip(instants, instants[1:], strict=False)]
    gaps.append(end - instants[-1])
    if facts.resolved_at is None and gaps[-1] > cadence:
        return _pending(f"update overdue since {instants[-1] + cadence:%H:%M}")
    over = sum(gap > cadence for gap in gaps)
    if over:
        return _pending(f"gaps over {span_in_words(cadence)}: {over}")
    if len(updates) >= 2:
        return _done(updates[1].at, updates[1].by, "second status update within cadence")
    if facts.resolved_at is None:
        return _pending(f"next update due by {instants[-1] + cadence:%H:%M}")
    # Resolved before a second update was owed: the one posted kept the cadence.
    if updates:
        return _done(updates[0].at, updates[0].by, "status update within cadence")
    return _pending("no status update posted")


def _mitigation_attempted(
    facts: IncidentFacts, targets: ResponseTargets, now: datetime
) -> _Outcome:
    update = _first_update(facts, _MITIGATED)
    return _from_update(update, f"status update: {update.status}" if update else "")


def _escalated_if_stuck(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    if facts.escalations:
        return _done(min(facts.escalations), ONWATCH, "no progress: escalated")
    if facts.severity not in targets.escalate_severities:
        return _not_applicable(f"no escalation for lack of progress at {facts.severity}")
    within = targets.escalate_without_progress
    deadline = facts.opened_at + within
    mitigated = mitigated_at(facts)
    if mitigated is not None and mitigated <= deadline:
        return _not_applicable(f"mitigated within {span_in_words(within)}")
    if mitigated is not None:
        return _pending(
            f"mitigated after {format_span(mitigated - facts.opened_at)} without escalation"
        )
    if now >= deadline:
        return _pending(f"escalation due since {deadline:%H:%M}")
    return _PENDING


# Resolution


def _service_restored(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    if facts.resolved_at is None:
        return _PENDING
    return _done(facts.resolved_at, facts.resolved_by or ALERTMANAGER, "incident resolved")


def _verified(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    if facts.resolved_at is None or not facts.resolved_by_monitoring:
        return _PENDING
    return _done(facts.resolved_at, ALERTMANAGER, "monitoring reports the alerts resolved")


def _all_clear_sent(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> _Outcome:
    if facts.all_clear_at is None:
        return _PENDING
    return _done(facts.all_clear_at, ONWATCH, "all-clear sent")


def _postmortem_scheduled(
    facts: IncidentFacts, targets: ResponseTargets, now: datetime
) -> _Outcome:
    if facts.postmortem is not None:
        return _done(facts.postmortem.scheduled_at, ONWATCH, "postmortem scheduled")
    if facts.severity not in targets.postmortem_severities:
        return _not_applicable(f"no postmortem required for {facts.severity}")
    return _PENDING


_EVENTS: dict[str, Callable[[IncidentFacts, ResponseTargets, datetime], _Outcome]] = {
    "acknowledged": _acknowledged,
    "impact_assessed": _impact_assessed,
    "channel_named": _channel_named,
    "commander_identified": _commander_identified,
    "severity_determined": _severity_determined,
    "roles_assigned": _roles_assigned,
    "hypothesis_formed": _hypothesis_formed,
    "stakeholders_notified": _stakeholders_notified,
    "war_room": _by_hand_only,
    "investigating": _first_status_update,
    "updates_posted": _updates_posted,
    "mitigation_attempted": _mitigation_attempted,
    "customer_communication": _by_hand_only,
    "escalated_if_stuck": _escalated_if_stuck,
    "service_restored": _service_restored,
    "verified": _verified,
    "all_clear_sent": _all_clear_sent,
    "channel_archived": _channel_archived,
    "postmortem_scheduled": _postmortem_scheduled,
}
