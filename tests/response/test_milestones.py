"""milestones and is_overdue: the seed's postmortem timeline, counted from resolution."""

from __future__ import annotations

from datetime import timedelta

from response.milestones import MilestoneState, MilestoneView, is_overdue, milestones
from response.targets import ResponseTargets
from tests.support.response_builders import TARGETS, action_item, at, postmortem

RESOLVED = at(60)


def by_key(views: tuple[MilestoneView, ...]) -> dict[str, MilestoneView]:
    return {view.key: view for view in views}


def test_milestones_keys_labels_and_due_dates_from_resolution() -> None:
    views = milestones(postmortem(), RESOLVED, (), TARGETS, now=RESOLVED)
    assert [(v.key, v.due_at) for v in views] == [
        ("draft", RESOLVED + timedelta(hours=48)),
        ("review", RESOLVED + timedelta(weeks=1)),
        ("action_items_assigned", RESOLVED + timedelta(weeks=2)),
        ("action_items_completed", RESOLVED + timedelta(days=30)),
    ]
    assert [v.label for v in views] == [
        "Draft postmortem written within 48 hours",
        "Postmortem review meeting held within 1 week",
        "Action items assigned and tracked within 2 weeks",
        "Action items completed (or exceptions documented) within 30 days",
    ]
    assert {v.state for v in views} == {MilestoneState.PENDING}


def test_milestones_labels_and_due_dates_follow_configured_targets() -> None:
    targets = ResponseTargets(postmortem_draft=timedelta(hours=24))
    draft = milestones(postmortem(), RESOLVED, (), targets, now=RESOLVED)[0]
    assert draft.label == "Draft postmortem written within 24 hours"
    assert draft.due_at == RESOLVED + timedelta(hours=24)


def test_milestones_draft_met_on_time() -> None:
    draft = milestones(postmortem(drafted_at=at(hours=20)), RESOLVED, (), TARGETS, at(days=5))[0]
    assert (draft.state, draft.met_at, draft.note) == (MilestoneState.MET, at(hours=20), "")


def test_milestones_draft_met_late_stays_met_with_a_note() -> None:
    late = RESOLVED + timedelta(hours=50, minutes=30)
    draft = milestones(postmortem(drafted_at=late), RESOLVED, (), TARGETS, at(days=5))[0]
    assert draft.state == MilestoneState.MET
    assert draft.met_at == late
    assert draft.note == "met late by 2h 30m"


def test_milestones_draft_pending_until_due_then_overdue() -> None:
    due = RESOLVED + timedelta(hours=48)
    assert milestones(postmortem(), RESOLVED, (), TARGETS, due)[0].state == MilestoneState.PENDING
    after = due + timedelta(seconds=1)
    assert milestones(postmortem(), RESOLVED, (), TARGETS, after)[0].state == MilestoneState.OVERDUE


def test_milestones_review_met_and_overdue() -> None:
    met = by_key(milestones(postmortem(reviewed_at=at(days=6)), RESOLVED, (), TARGETS, at(days=9)))
    assert (met["review"].state, met["review"].met_at) == (MilestoneState.MET, at(days=6))
    overdue = by_key(milestones(postmortem(), RESOLVED, (), TARGETS, at(days=9)))
    assert overdue["review"].state == MilestoneState.OVERDUE


def test_milestones_action_items_assigned_when_every_item_has_owner_and_due_date() -> None:
    items = (action_item(1, created_at=at(days=2)), action_item(2, created_at=at(days=4)))
    view = by_key(milestones(postmortem(), RESOLVED, items, TARGETS, at(days=5)))
    assigned = view["action_items_assigned"]
    assert (assigned.state, assigned.met_at, assigned.note) == (MilestoneState.MET, at(days=4), "")


def test_milestones_action_items_assigned_counts_the_unassigned() -> None:
    items = (
        action_item(1),
        action_item(2),
        action_item(3, owner=None),
        action_item(4, due_at=None),
    )
    view = by_key(milestones(postmortem(), RESOLVED, items, TARGETS, at(days=20)))
    assigned = view["action_items_assigned"]
    assert assigned.state == MilestoneState.OVERDUE
    assert assigned.met_at is None
    assert assigned.note == "2 of 4 assigned"


def test_milestones_action_items_without_any_item_are_not_met() -> None:
    view = by_key(milestones(postmortem(), RESOLVED, (), TARGETS, at(days=3)))
    assert view["action_items_assigned"].met_at is None
    assert view["action_items_assigned"].note == "no action items yet"
    assert view["action_items_completed"].met_at is None


def test_milestones_action_items_completed_when_all_closed() -> None:
    items = (
        action_item(1, status="closed", closed_at=at(days=12)),
        action_item(2, status="closed", closed_at=at(days=20)),
    )
    view = by_key(milestones(postmortem(), RESOLVED, items, TARGETS, at(days=40)))
    completed = view["action_items_completed"]
    assert (completed.state, completed.met_at) == (MilestoneState.MET, at(days=20))


def test_milestones_action_items_completed_counts_the_closed() -> None:
    items = (action_item(1, status="closed", closed_at=at(days=12)), action_item(2))
    view = by_key(milestones(postmortem(), RESOLVED, items, TARGETS, at(days=31)))
    completed = view["action_items_completed"]
    assert completed.state == MilestoneState.OVERDUE
    assert completed.note == "1 of 2 closed"


def test_milestones_action_items_completed_by_documented_exception() -> None:
    pm = postmortem(exception="vendor fix ships in Q1", exception_at=at(days=29))
    items = (action_item(1), action_item(2, status="closed", closed_at=at(days=3)))
    completed = by_key(milestones(pm, RESOLVED, items, TARGETS, at(days=45)))[
        "action_items_completed"
    ]
    assert completed.state == MilestoneState.MET
    assert completed.met_at == at(days=29)
    assert completed.note == "exception: vendor fix ships in Q1"


def test_milestones_exception_recorded_late_is_met_late() -> None:
    late = RESOLVED + timedelta(days=32)
    pm = postmortem(exception="blocked on hardware", exception_at=late)
    completed = milestones(pm, RESOLVED, (action_item(1),), TARGETS, at(days=45))[3]
    assert completed.state == MilestoneState.MET
    assert completed.note == "exception: blocked on hardware; met late by 2d"


def test_is_overdue_open_and_past_due() -> None:
    items = [
        action_item(1, due_at=at(days=9)),
        action_item(2, due_at=at(days=3)),
        action_item(3, due_at=at(days=2), status="closed", closed_at=at(days=2)),
        action_item(4, due_at=None),
        action_item(5, due_at=at(days=20)),
        action_item(6, due_at=at(days=10)),
    ]
    overdue = [item for item in items if is_overdue(item, now=at(days=10))]
    assert sorted(item.id for item in overdue) == [1, 2]
