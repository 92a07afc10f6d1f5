"""due_actions: update reminders, no-progress escalations and postmortem chasers, once each."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from response.facts import IncidentFacts, UpdateStatus
from response.reminders import DueAction, DueKind, due_actions
from response.targets import ResponseTargets
from tests.support.response_builders import (
    TARGETS,
    action_item,
    at,
    facts,
    postmortem,
    resolved,
    update,
)

RESOLVED = at(60)


def of_kind(actions: list[DueAction], kind: DueKind) -> list[DueAction]:
    return [action for action in actions if action.kind is kind]


def update_reminders(incident: IncidentFacts, now: datetime) -> list[DueAction]:
    return of_kind(due_actions(incident, TARGETS, now), DueKind.UPDATE_REMINDER)


def no_progress(incident: IncidentFacts, now: datetime) -> list[DueAction]:
    return of_kind(due_actions(incident, TARGETS, now), DueKind.NO_PROGRESS)


# Update reminders


def test_update_reminder_not_due_before_the_cadence() -> None:
    assert due_actions(facts(), TARGETS, at(14) + timedelta(seconds=59)) == []


def test_update_reminder_due_a_cadence_after_opening() -> None:
    assert update_reminders(facts(), at(15)) == [
        DueAction(
            DueKind.UPDATE_REMINDER,
            at(15),
            1,
            "no status update for 15 minutes (SEV1 expects one every 15 minutes)",
        )
    ]


def test_update_reminder_counts_from_the_latest_update() -> None:
    incident = facts(updates=(update(5), update(20)))
    assert update_reminders(incident, at(34)) == []
    assert update_reminders(incident, at(36)) == [
        DueAction(
            DueKind.UPDATE_REMINDER,
            at(35),
            1,
            "no status update for 16 minutes (SEV1 expects one every 15 minutes)",
        )
    ]


def test_update_reminder_due_at_is_the_same_within_an_interval() -> None:
    incident = facts(updates=(update(20),))
    nows = (at(35), at(40), at(49) + timedelta(seconds=59))
    due = {(a.due_at, a.level) for now in nows for a in update_reminders(incident, now)}
    assert due == {(at(35), 1)}
    assert [(a.due_at, a.level) for a in update_reminders(incident, at(50))] == [(at(50), 2)]


def test_update_reminder_after_scheduler_downtime_only_the_latest() -> None:
    incident = facts(updates=(update(5),))
    reminders = update_reminders(incident, at(132))
    assert [(a.due_at, a.level) for a in reminders] == [(at(125), 8)]
    assert reminders[0].message.startswith("no status update for 127 minutes")


def test_update_reminder_uses_the_severity_cadence() -> None:
    sev2 = facts(severity="SEV2", updates=(update(5),))
    assert update_reminders(sev2, at(34)) == []
    [reminder] = update_reminders(sev2, at(36))
    assert (reminder.due_at, reminder.level) == (at(35), 1)
    assert reminder.message == "no status update for 31 minutes (SEV2 expects one every 30 minutes)"


@pytest.mark.parametrize("severity", ["SEV3", "SEV4"])
def test_due_actions_nothing_for_severities_without_cadence_or_escalation(severity: str) -> None:
    assert due_actions(facts(severity=severity), TARGETS, at(hours=30)) == []


def test_update_reminder_follows_a_configured_cadence() -> None:
    targets = ResponseTargets(update_every={"SEV3": timedelta(hours=1)})
    [reminder] = due_actions(facts(severity="SEV3"), targets, at(61))
    assert (reminder.kind, reminder.due_at) == (DueKind.UPDATE_REMINDER, at(60))
    assert reminder.message.endswith("(SEV3 expects one every 1 hour)")


# No-progress escalation


def test_no_progress_due_after_30_minutes_without_mitigation() -> None:
    incident = facts(updates=(update(5), update(20, UpdateStatus.IDENTIFIED)))
    assert no_progress(incident, at(29)) == []
    assert no_progress(incident, at(30)) == [
        DueAction(DueKind.NO_PROGRESS, at(30), 1, "no progress (not mitigated) after 30 minutes")
    ]


def test_no_progress_repeats_each_period_with_the_next_level() -> None:
    assert [(a.due_at, a.level) for a in no_progress(facts(), at(65))] == [(at(60), 2)]


def test_no_progress_after_scheduler_downtime_only_the_latest() -> None:
    actions = no_progress(facts(), at(95))
    assert [(a.due_at, a.level) for a in actions] == [(at(90), 3)]
    assert actions[0].message == "no progress (not mitigated) after 95 minutes"


def test_no_progress_due_at_is_the_same_within_a_period() -> None:
    due = {(a.due_at, a.level) for m in (60, 75, 89) for a in no_progress(facts(), at(m))}
    assert due == {(at(60), 2)}


@pytest.mark.parametrize("status", [UpdateStatus.MONITORING, UpdateStatus.RESOLVED])
def test_no_progress_stops_once_mitigated(status: UpdateStatus) -> None:
    assert no_progress(facts(updates=(update(40, status),)), at(95)) == []


def test_no_progress_only_for_the_escalated_severities() -> None:
    assert no_progress(facts(severity="SEV2"), at(31))[0].level == 1
    targets = ResponseTargets(escalate_severities=("SEV1",))
    assert of_kind(due_actions(facts(severity="SEV2"), targets, at(31)), DueKind.NO_PROGRESS) == []


def test_no_progress_follows_the_configured_period() -> None:
    targets = ResponseTargets(escalate_without_progress=timedelta(minutes=20))
    actions = of_kind(due_actions(facts(), targets, at(45)), DueKind.NO_PROGRESS)
    assert [(a.due_at, a.level) for a in actions] == [(at(40), 2)]


def test_due_actions_open_incident_returns_both_kinds_once() -> None:
    actions = due_actions(facts(), TARGETS, at(31))
    assert [(a.kind, a.due_at, a.level) for a in actions] == [
        (DueKind.UPDATE_REMINDER, at(30), 2),
        (DueKind.NO_PROGRESS, at(30), 1),
    ]


# Resolved incidents


def test_due_actions_nothing_for_a_resolved_incident_without_postmortem() -> None:
    assert due_actions(resolved(60), TARGETS, at(hours=200)) == []


def test_due_actions_resolved_incident_gets_no_update_or_progress_reminders() -> None:
    incident = resolved(60, postmortem=postmortem())
    assert due_actions(incident, TARGETS, RESOLVED + timedelta(hours=47)) == []


def test_due_actions_open_incident_gets_no_postmortem_reminders() -> None:
    incident = facts(severity="SEV3", postmortem=postmortem())
    assert due_actions(incident, TARGETS, at(days=40)) == []


# Postmortem milestones


def test_postmortem_draft_due_at_48_hours() -> None:
    due = RESOLVED + timedelta(hours=48)
    assert due_actions(resolved(60, postmortem=postmortem()), TARGETS, due) == [
        DueAction(DueKind.POSTMORTEM_DRAFT, due, 0, "postmortem draft was due 2026-11-30 11:00")
    ]


def test_postmortem_draft_reminded_daily_only_the_latest() -> None:
    incident = resolved(60, postmortem=postmortem())
    actions = due_actions(incident, TARGETS, RESOLVED + timedelta(hours=48 + 30))
    assert actions == [
        DueAction(
            DueKind.POSTMORTEM_DRAFT,
            RESOLVED + timedelta(hours=48 + 24),
            1,
            "postmortem draft was due 2026-11-30 11:00, overdue by 1d 06h",
        )
    ]


def test_postmortem_reminder_due_at_is_the_same_within_a_day() -> None:
    incident = resolved(60, postmortem=postmortem())
    nows = [RESOLVED + timedelta(hours=h) for h in (72, 80, 95)]
    due = {(a.due_at, a.level) for now in nows for a in due_actions(incident, TARGETS, now)}
    assert due == {(RESOLVED + timedelta(hours=72), 1)}


def test_postmortem_draft_met_is_not_reminded() -> None:
    incident = resolved(60, postmortem=postmortem(drafted_at=RESOLVED + timedelta(hours=50)))
    assert due_actions(incident, TARGETS, RESOLVED + timedelta(hours=60)) == []


def test_postmortem_every_missed_milestone_once() -> None:
    incident = resolved(60, postmortem=postmortem())
    now = RESOLVED + timedelta(days=31, hours=5)
    actions = due_actions(incident, TARGETS, now)
    latest = RESOLVED + timedelta(days=31)
    assert [(a.kind, a.due_at, a.level) for a in actions] == [
        (DueKind.POSTMORTEM_DRAFT, latest, 29),
        (DueKind.POSTMORTEM_REVIEW, latest, 24),
        (DueKind.ACTION_ITEMS_ASSIGNED, latest, 17),
        (DueKind.ACTION_ITEMS_COMPLETED, latest, 1),
    ]
    assert actions[2].message == (
        "action items assigned was due 2026-12-12 11:00, overdue by 17d 05h (no action items yet)"
    )


def test_postmortem_action_item_reminders_name_what_is_missing() -> None:
    pm = postmortem(drafted_at=RESOLVED, reviewed_at=RESOLVED)
    items = (action_item(1), action_item(2, owner=None))
    incident = resolved(60, postmortem=pm)
    actions = due_actions(incident, TARGETS, RESOLVED + timedelta(days=15), items)
    assert [(a.kind, a.level) for a in actions] == [(DueKind.ACTION_ITEMS_ASSIGNED, 1)]
    assert actions[0].message.endswith("(1 of 2 assigned)")


def test_postmortem_action_items_done_or_excepted_are_not_reminded() -> None:
    pm = postmortem(drafted_at=RESOLVED, reviewed_at=RESOLVED)
    closed = (action_item(1, status="closed", closed_at=at(days=20)),)
    now = RESOLVED + timedelta(days=40)
    assert due_actions(resolved(60, postmortem=pm), TARGETS, now, closed) == []
    excepted = resolved(
        60,
        postmortem=postmortem(
            drafted_at=RESOLVED,
            reviewed_at=RESOLVED,
            exception="waiting on vendor",
            exception_at=at(days=25),
        ),
    )
    assert due_actions(excepted, TARGETS, now, (action_item(1),)) == []


def test_postmortem_reminders_follow_the_configured_period() -> None:
    targets = ResponseTargets(postmortem_remind_every=timedelta(hours=6))
    incident = resolved(60, postmortem=postmortem())
    actions = due_actions(incident, targets, RESOLVED + timedelta(hours=48 + 13))
    assert [(a.kind, a.due_at, a.level) for a in actions] == [
        (DueKind.POSTMORTEM_DRAFT, RESOLVED + timedelta(hours=60), 2)
    ]
