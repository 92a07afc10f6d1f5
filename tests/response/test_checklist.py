"""evaluate: the seed's four phases, their items ticked by events or by hand, and phase targets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from response.checklist import (
    ITEMS,
    NO_CHAT_CHANNEL,
    PHASES,
    ChecklistView,
    ItemState,
    ItemView,
    PhaseView,
    evaluate,
    item_spec,
)
from response.facts import ChatChannel, IncidentFacts, Role, UpdateStatus
from response.targets import ResponseTargets
from tests.support.response_builders import (
    OPENED,
    TARGETS,
    acknowledged,
    all_roles,
    at,
    facts,
    postmortem,
    resolved,
    role,
    tick,
    update,
)

CHANNEL = "#inc-20261128-checkout-errors"


def checklist(incident: IncidentFacts, now_minutes: float = 60, **targets: object) -> ChecklistView:
    return evaluate(incident, ResponseTargets(**targets) if targets else TARGETS, at(now_minutes))


def item(view: ChecklistView, key: str) -> ItemView:
    return next(i for phase in view.phases for i in phase.items if i.key == key)


def phase(view: ChecklistView, key: str) -> PhaseView:
    return next(p for p in view.phases if p.key == key)


def summary(view: ItemView) -> tuple[ItemState, object, object, str, str]:
    return (view.state, view.at, view.by, view.how, view.note)


PENDING = (ItemState.PENDING, None, None, "", "")


# The items and their specs


def test_items_follow_the_seed_phase_by_phase() -> None:
    assert [key for key, _ in PHASES] == ["detection", "triage", "response", "resolution"]
    by_phase = {key: [i.key for i in ITEMS if i.phase == key] for key, _ in PHASES}
    assert by_phase == {
        "detection": ["acknowledged", "impact_assessed", "channel_named", "commander_identified"],
        "triage": [
            "severity_determined",
            "roles_assigned",
            "hypothesis_formed",
            "stakeholders_notified",
            "war_room",
        ],
        "response": [
            "investigating",
            "updates_posted",
            "mitigation_attempted",
            "customer_communication",
            "escalated_if_stuck",
        ],
        "resolution": [
            "service_restored",
            "verified",
            "all_clear_sent",
            "channel_archived",
            "postmortem_scheduled",
        ],
    }


def test_item_spec_known_and_unknown_keys() -> None:
    spec = item_spec("war_room")
    assert spec is not None
    assert (spec.phase, spec.label, spec.severities) == (
        "triage",
        "War room/bridge established",
        ("SEV1", "SEV2"),
    )
    assert item_spec("acknowledged").severities is None  # type: ignore[union-attr]
    assert item_spec("make_coffee") is None


def test_evaluate_new_incident_only_system_items_are_done() -> None:
    view = checklist(facts(), now_minutes=1)
    done = {i.key for p in view.phases for i in p.items if i.state is ItemState.DONE}
    assert done == {"severity_determined"}
    assert summary(item(view, "severity_determined")) == (
        ItemState.DONE,
        OPENED,
        "onwatch",
        "rules engine",
        "",
    )
    assert summary(item(view, "acknowledged")) == PENDING


def test_channel_items_without_a_chat_channel_stay_open_saying_why() -> None:
    view = checklist(facts(), now_minutes=1)
    for key in ("channel_named", "channel_archived"):
        assert summary(item(view, key)) == (ItemState.PENDING, None, None, "", NO_CHAT_CHANNEL)
    ticked = checklist(facts(ticks=(tick("channel_named", 2, by="alice"),)), now_minutes=3)
    assert summary(item(ticked, "channel_named"))[:4] == (ItemState.DONE, at(2), "alice", "by hand")


def test_channel_created_only_when_slack_confirmed_it() -> None:
    waiting = facts(chat_channel=ChatChannel("inc-20261128-x", created_at=None))
    assert summary(item(checklist(waiting), "channel_named")) == (
        ItemState.PENDING,
        None,
        None,
        "",
        "waiting for Slack to create #inc-20261128-x",
    )
    refused = facts(chat_channel=ChatChannel("inc-x", None, problem="answered 200: missing_scope"))
    assert "missing_scope" in item(checklist(refused), "channel_named").note
    created = facts(chat_channel=ChatChannel("inc-x-2", created_at=at(1)))
    assert summary(item(checklist(created, 2), "channel_named")) == (
        ItemState.DONE,
        at(1),
        "Slack",
        "channel #inc-x-2 created in Slack",
        "",
    )
    assert summary(item(checklist(created, 2), "channel_archived")) == PENDING
    archived = resolved(60, chat_channel=ChatChannel("inc-x-2", at(1), archived_at=at(90)))
    assert summary(item(checklist(archived, 100), "channel_archived")) == (
        ItemState.DONE,
        at(90),
        "Slack",
        "channel #inc-x-2 archived in Slack",
        "",
    )


# Detection


def test_acknowledged_by_the_acknowledgement() -> None:
    view = checklist(acknowledged(3, by="alice"))
    assert summary(item(view, "acknowledged")) == (
        ItemState.DONE,
        at(3),
        "alice",
        "acknowledged",
        "",
    )


def test_impact_assessed_by_the_first_update_with_an_impact() -> None:
    updates = (update(4, impact="  "), update(6, impact="EU checkout down", by="bob"))
    view = checklist(acknowledged(updates=updates))
    assert summary(item(view, "impact_assessed")) == (
        ItemState.DONE,
        at(6),
        "bob",
        "status update with impact",
        "",
    )


def test_impact_assessed_pending_when_no_update_states_an_impact() -> None:
    view = checklist(acknowledged(updates=(update(4, impact=""),)))
    assert item(view, "impact_assessed").state is ItemState.PENDING


def test_commander_identified_by_the_current_assignment() -> None:
    incident = facts(roles=(role(Role.COMMANDER, 4, person="erin", by="alice"),))
    assert summary(item(checklist(incident), "commander_identified")) == (
        ItemState.DONE,
        at(4),
        "alice",
        "erin named Incident Commander",
        "",
    )


def test_commander_identified_when_first_named_even_if_replaced_later() -> None:
    incident = facts(
        roles=(role(Role.COMMANDER, 40, person="erin", by="dave"),),
        first_named=(role(Role.COMMANDER, 3, person="dave", by="onwatch"),),
    )
    identified = item(checklist(incident), "commander_identified")
    assert (identified.at, identified.how) == (at(3), "dave named Incident Commander")


# Triage


def test_roles_assigned_pending_names_the_missing_roles() -> None:
    incident = facts(roles=(role(Role.COMMANDER, 2), role(Role.SCRIBE, 3)))
    assert summary(item(checklist(incident), "roles_assigned")) == (
        ItemState.PENDING,
        None,
        None,
        "",
        "missing: Technical Lead, Communications Lead",
    )


def test_roles_assigned_at_the_last_of_the_three_without_a_scribe() -> None:
    roles = (
        role(Role.COMMANDER, 2, by="alice"),
        role(Role.COMMUNICATIONS_LEAD, 9, person="carol", by="frank"),
        role(Role.TECHNICAL_LEAD, 5, person="bob", by="alice"),
    )
    assert summary(item(checklist(facts(roles=roles)), "roles_assigned")) == (
        ItemState.DONE,
        at(9),
        "frank",
        "Communications Lead assigned",
        "",
    )


@pytest.mark.parametrize(
    ("status", "done"),
    [
        (UpdateStatus.INVESTIGATING, False),
        (UpdateStatus.IDENTIFIED, True),
        (UpdateStatus.MONITORING, True),
        (UpdateStatus.RESOLVED, True),
    ],
)
def test_hypothesis_formed_by_an_identified_or_later_update(
    status: UpdateStatus, done: bool
) -> None:
    view = checklist(facts(updates=(update(5), update(8, status, by="bob"))))
    hypothesis = item(view, "hypothesis_formed")
    if done:
        assert summary(hypothesis) == (
            ItemState.DONE,
            at(8),
            "bob",
            f"status update: {status}",
            "",
        )
    else:
        assert summary(hypothesis) == PENDING


def test_stakeholders_notified_when_an_update_was_queued_for_them() -> None:
    updates = (update(7, by="carol"), update(20, by="bob"))
    view = checklist(facts(updates=updates, first_notified_at=at(7)))
    assert summary(item(view, "stakeholders_notified")) == (
        ItemState.DONE,
        at(7),
        "onwatch",
        "first status update queued for its audiences",
        "",
    )
    assert summary(item(view, "investigating")) == (
        ItemState.DONE,
        at(7),
        "carol",
        "first status update",
        "",
    )


def test_stakeholders_not_notified_when_no_target_reached_anyone() -> None:
    view = checklist(facts(updates=(update(7),)))
    notified = item(view, "stakeholders_notified")
    assert notified.state is ItemState.PENDING
    assert notified.note == "updates posted, but no notification target reached anyone"


def test_war_room_pending_for_sev1_and_not_applicable_for_sev3() -> None:
    assert summary(item(checklist(facts()), "war_room")) == PENDING
    assert summary(item(checklist(facts(severity="SEV3")), "war_room")) == (
        ItemState.NOT_APPLICABLE,
        None,
        None,
        "",
        "not required for SEV3",
    )


def test_war_room_ticked_by_hand_carries_the_bridge_link() -> None:
    link = "https://meet.example.com/inc-7"
    view = checklist(facts(ticks=(tick("war_room", 6, by="alice", note=link),)))
    assert summary(item(view, "war_room")) == (ItemState.DONE, at(6), "alice", "by hand", link)


# Response: updates every 15-30 minutes


def test_updates_posted_not_applicable_without_a_cadence() -> None:
    view = checklist(facts(severity="SEV3", updates=(update(5), update(90))), now_minutes=200)
    assert summary(item(view, "updates_posted")) == (
        ItemState.NOT_APPLICABLE,
        None,
        None,
        "",
        "no update cadence for SEV3",
    )
    assert item(view, "updates_posted").label == "Updates posted every 15-30 minutes"


def test_updates_posted_label_uses_the_severity_cadence() -> None:
    assert item(checklist(facts()), "updates_posted").label == "Updates posted every 15 minutes"
    sev2 = checklist(facts(severity="SEV2"))
    assert item(sev2, "updates_posted").label == "Updates posted every 30 minutes"


def test_updates_posted_pending_before_the_second_update() -> None:
    view = checklist(facts(updates=(update(5),)), now_minutes=12)
    assert summary(item(view, "updates_posted")) == (
        ItemState.PENDING,
        None,
        None,
        "",
        "next update due by 10:20",
    )


def test_updates_posted_done_at_the_second_update_within_cadence() -> None:
    view = checklist(facts(updates=(update(5), update(18, by="bob"))), now_minutes=25)
    assert summary(item(view, "updates_posted")) == (
        ItemState.DONE,
        at(18),
        "bob",
        "second status update within cadence",
        "",
    )


def test_updates_posted_overdue_while_open() -> None:
    updates = (update(5), update(18), update(30))
    view = checklist(facts(updates=updates), now_minutes=46)
    assert summary(item(view, "updates_posted")) == (
        ItemState.PENDING,
        None,
        None,
        "",
        "update overdue since 10:45",
    )


def test_updates_posted_exactly_at_the_cadence_is_not_overdue() -> None:
    view = checklist(facts(updates=(update(5), update(18))), now_minutes=33)
    assert item(view, "updates_posted").state is ItemState.DONE


def test_updates_posted_resolved_incident_counts_its_gaps() -> None:
    # 10:00 -> 10:05 -> 10:25 (20 min) -> 10:35 -> resolved 11:00 (25 min)
    updates = (update(5), update(25), update(35))
    view = checklist(resolved(60, updates=updates), now_minutes=300)
    assert summary(item(view, "updates_posted")) == (
        ItemState.PENDING,
        None,
        None,
        "",
        "gaps over 15 minutes: 2",
    )


def test_updates_posted_resolved_quickly_with_one_update_is_done() -> None:
    view = checklist(resolved(12, updates=(update(5, by="carol"),)), now_minutes=300)
    assert summary(item(view, "updates_posted")) == (
        ItemState.DONE,
        at(5),
        "carol",
        "status update within cadence",
        "",
    )


# Response: mitigation and escalation


def test_mitigation_attempted_by_the_first_monitoring_or_resolved_update() -> None:
    updates = (update(5), update(12, UpdateStatus.IDENTIFIED), update(20, UpdateStatus.MONITORING))
    assert summary(item(checklist(facts(updates=updates)), "mitigation_attempted")) == (
        ItemState.DONE,
        at(20),
        "carol",
        "status update: monitoring",
        "",
    )
    assert item(checklist(facts(updates=updates[:2])), "mitigation_attempted").state == "pending"


def test_customer_communication_and_channel_archived_only_by_hand() -> None:
    view = checklist(resolved(60, all_clear_at=at(61), postmortem=postmortem()), now_minutes=90)
    assert summary(item(view, "customer_communication")) == PENDING
    assert summary(item(view, "channel_archived"))[:4] == PENDING[:4]
    ticked = checklist(resolved(60, ticks=(tick("channel_archived", 70, by="alice"),)))
    assert summary(item(ticked, "channel_archived")) == (
        ItemState.DONE,
        at(70),
        "alice",
        "by hand",
        "",
    )


def test_escalated_if_stuck_done_at_the_first_escalation() -> None:
    view = checklist(facts(escalations=(at(30), at(60))), now_minutes=70)
    assert summary(item(view, "escalated_if_stuck")) == (
        ItemState.DONE,
        at(30),
        "onwatch",
        "no progress: escalated",
        "",
    )


def test_escalated_if_stuck_not_applicable_when_mitigated_within_30_minutes() -> None:
    view = checklist(facts(updates=(update(30, UpdateStatus.MONITORING),)), now_minutes=90)
    assert summary(item(view, "escalated_if_stuck")) == (
        ItemState.NOT_APPLICABLE,
        None,
        None,
        "",
        "mitigated within 30 minutes",
    )


def test_escalated_if_stuck_not_applicable_when_resolved_within_30_minutes() -> None:
    view = checklist(resolved(25), now_minutes=90)
    assert item(view, "escalated_if_stuck").state is ItemState.NOT_APPLICABLE


def test_escalated_if_stuck_not_applicable_below_the_escalated_severities() -> None:
    view = checklist(facts(severity="SEV3"), now_minutes=90)
    assert summary(item(view, "escalated_if_stuck")) == (
        ItemState.NOT_APPLICABLE,
        None,
        None,
        "",
        "no escalation for lack of progress at SEV3",
    )


def test_escalated_if_stuck_pending_before_and_after_the_deadline() -> None:
    assert summary(item(checklist(facts(), now_minutes=29), "escalated_if_stuck")) == PENDING
    overdue = item(checklist(facts(), now_minutes=31), "escalated_if_stuck")
    assert (overdue.state, overdue.note) == (ItemState.PENDING, "escalation due since 10:30")


def test_escalated_if_stuck_mitigated_late_without_escalation_stays_pending() -> None:
    view = checklist(facts(updates=(update(45, UpdateStatus.MONITORING),)), now_minutes=90)
    stuck = item(view, "escalated_if_stuck")
    assert (stuck.state, stuck.note) == (
        ItemState.PENDING,
        "mitigated after 45m without escalation",
    )


def test_escalated_if_stuck_label_and_deadline_use_the_configured_time() -> None:
    targets = {"escalate_without_progress": timedelta(minutes=45)}
    view = checklist(facts(updates=(update(40, UpdateStatus.MONITORING),)), 90, **targets)
    stuck = item(view, "escalated_if_stuck")
    assert stuck.label == "Escalation if no progress after 45 minutes"
    assert (stuck.state, stuck.note) == (ItemState.NOT_APPLICABLE, "mitigated within 45 minutes")


# Resolution


def test_service_restored_by_alertmanager_or_by_a_person() -> None:
    by_monitoring = item(checklist(resolved(50), 60), "service_restored")
    assert summary(by_monitoring) == (
        ItemState.DONE,
        at(50),
        "Alertmanager",
        "incident resolved",
        "",
    )
    by_person = item(checklist(resolved(50, by="alice"), 60), "service_restored")
    assert (by_person.at, by_person.by) == (at(50), "alice")


def test_verified_when_monitoring_reports_the_alerts_resolved() -> None:
    assert summary(item(checklist(resolved(50), 60), "verified")) == (
        ItemState.DONE,
        at(50),
        "Alertmanager",
        "monitoring reports the alerts resolved",
        "",
    )


def test_verified_by_hand_when_a_person_resolved() -> None:
    assert summary(item(checklist(resolved(50, by="alice"), 60), "verified")) == PENDING
    ticks = (tick("verified", 58, by="alice", note="dashboards green, no new tickets"),)
    view = checklist(resolved(50, by="alice", ticks=ticks), 60)
    assert summary(item(view, "verified")) == (
        ItemState.DONE,
        at(58),
        "alice",
        "by hand",
        "dashboards green, no new tickets",
    )


def test_all_clear_sent_when_queued() -> None:
    assert summary(item(checklist(resolved(50, all_clear_at=at(52))), "all_clear_sent")) == (
        ItemState.DONE,
        at(52),
        "onwatch",
        "all-clear sent",
        "",
    )
    assert summary(item(checklist(resolved(50)), "all_clear_sent")) == PENDING


def test_postmortem_scheduled_done_pending_and_not_applicable() -> None:
    scheduled = item(checklist(resolved(60, postmortem=postmortem())), "postmortem_scheduled")
    assert summary(scheduled) == (ItemState.DONE, at(60), "onwatch", "postmortem scheduled", "")
    assert scheduled.label == "Postmortem scheduled within 48 hours"
    assert summary(item(checklist(resolved(60)), "postmortem_scheduled")) == PENDING
    sev3 = item(checklist(resolved(60, severity="SEV3")), "postmortem_scheduled")
    assert (sev3.state, sev3.note) == (ItemState.NOT_APPLICABLE, "no postmortem required for SEV3")
    asked = item(
        checklist(resolved(60, severity="SEV3", postmortem=postmortem())), "postmortem_scheduled"
    )
    assert asked.state is ItemState.DONE


# Hand ticks against events


def test_hand_tick_earlier_than_the_event_wins() -> None:
    incident = acknowledged(4, by="alice", ticks=(tick("acknowledged", 1, by="bob"),))
    assert summary(item(checklist(incident), "acknowledged")) == (
        ItemState.DONE,
        at(1),
        "bob",
        "by hand",
        "",
    )


def test_event_earlier_than_the_hand_tick_wins() -> None:
    incident = acknowledged(4, by="alice", ticks=(tick("acknowledged", 9, by="bob"),))
    assert summary(item(checklist(incident), "acknowledged")) == (
        ItemState.DONE,
        at(4),
        "alice",
        "acknowledged",
        "",
    )


def test_hand_tick_alone_ticks_an_event_item() -> None:
    incident = facts(ticks=(tick("impact_assessed", 3, by="bob", note="EU only"),))
    assert summary(item(checklist(incident), "impact_assessed")) == (
        ItemState.DONE,
        at(3),
        "bob",
        "by hand",
        "EU only",
    )


def test_hand_ticks_earliest_wins_and_unknown_keys_are_ignored() -> None:
    ticks = (tick("war_room", 9, by="bob"), tick("war_room", 6, by="alice"), tick("nope", 1))
    view = checklist(facts(ticks=ticks))
    assert (item(view, "war_room").at, item(view, "war_room").by) == (at(6), "alice")


def test_hand_tick_overrides_not_applicable() -> None:
    view = checklist(facts(severity="SEV3", ticks=(tick("war_room", 5, by="alice"),)))
    assert item(view, "war_room").state is ItemState.DONE


# Phases


def detection_done(ack: float = 2, update_at: float = 4, roles_at: float = 3) -> IncidentFacts:
    return acknowledged(
        ack,
        updates=(update(update_at),),
        roles=all_roles(roles_at),
        chat_channel=ChatChannel("inc-20261128-checkout-errors", created_at=at(1)),
    )


def test_phase_detection_completed_and_met() -> None:
    detection = phase(checklist(detection_done(), now_minutes=20), "detection")
    assert detection.completed_at == at(4)
    assert (detection.target, detection.due_at) == (timedelta(minutes=5), at(5))
    assert detection.met is True


def test_phase_detection_completed_late_is_missed() -> None:
    detection = phase(checklist(detection_done(update_at=7), now_minutes=20), "detection")
    assert (detection.completed_at, detection.met) == (at(7), False)


def test_phase_detection_at_exactly_the_target_is_met() -> None:
    detection = phase(checklist(detection_done(update_at=5), now_minutes=20), "detection")
    assert detection.met is True


def test_phase_detection_pending_before_the_target_is_undecided() -> None:
    detection = phase(checklist(acknowledged(2), now_minutes=4), "detection")
    assert (detection.completed_at, detection.met) == (None, None)


def test_phase_detection_pending_after_the_target_is_missed() -> None:
    detection = phase(checklist(acknowledged(2), now_minutes=6), "detection")
    assert (detection.completed_at, detection.met) == (None, False)


def test_phase_triage_completed_with_war_room_ticked() -> None:
    incident = acknowledged(
        2,
        updates=(update(4), update(9, UpdateStatus.IDENTIFIED)),
        roles=all_roles(3),
        ticks=(tick("war_room", 11),),
        first_notified_at=at(4),
    )
    triage = phase(checklist(incident, now_minutes=20), "triage")
    assert (triage.completed_at, triage.due_at, triage.met) == (at(11), at(15), True)


def test_phase_triage_sev3_completes_without_a_war_room() -> None:
    incident = acknowledged(
        2,
        severity="SEV3",
        updates=(update(4, UpdateStatus.IDENTIFIED),),
        roles=all_roles(3),
        first_notified_at=at(4),
    )
    triage = phase(checklist(incident, now_minutes=20), "triage")
    assert (triage.completed_at, triage.met) == (at(4), True)


def test_phase_response_and_resolution_have_no_target() -> None:
    view = checklist(facts(), now_minutes=600)
    for key in ("response", "resolution"):
        assert (phase(view, key).target, phase(view, key).due_at, phase(view, key).met) == (
            None,
            None,
            None,
        )


def test_phase_resolution_completed_at_its_last_item() -> None:
    incident = resolved(
        50,
        all_clear_at=at(52),
        postmortem=postmortem(scheduled_at=at(50)),
        ticks=(tick("channel_archived", 80),),
    )
    assert phase(checklist(incident, 90), "resolution").completed_at == at(80)


def test_phase_labels_follow_the_seed() -> None:
    view = checklist(facts())
    assert [(p.key, p.label) for p in view.phases] == list(PHASES)


# Current phase


@pytest.mark.parametrize(
    ("incident", "expected"),
    [
        (facts(), "detection"),
        (acknowledged(2), "triage"),
        (acknowledged(2, updates=(update(4),)), "response"),
        (acknowledged(2, updates=(update(4),), resolved_at=at(30)), "resolution"),
        (facts(resolved_at=at(3)), "resolution"),
    ],
)
def test_evaluate_current_phase(incident: IncidentFacts, expected: str) -> None:
    assert checklist(incident).phase == expected
