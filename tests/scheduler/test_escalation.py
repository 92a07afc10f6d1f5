"""Escalation chains and plans, and the SEV4 business-day queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.escalation import (
    ESCALATION_TARGET,
    Step,
    escalation_chain,
    escalation_plan,
    next_business_start,
)
from scheduler.roster import EscalationTarget
from tests.support.rota_builders import NEW_YORK, SYDNEY, rotation

TWO_LAYERS = {"primary": ("a", "b", "c", "d"), "secondary": ("c", "d", "a", "b")}
FIVE = timedelta(minutes=5)


def test_chain_is_layers_then_escalation_target() -> None:
    plain = rotation(layers=TWO_LAYERS)
    with_target = rotation(layers=TWO_LAYERS).__class__(
        **{**plain.__dict__, "escalation": EscalationTarget(person="boss")}
    )

    assert escalation_chain(plain) == ["primary", "secondary"]
    assert escalation_chain(with_target) == ["primary", "secondary", ESCALATION_TARGET]


def test_plan_waits_one_timeout_per_level_and_repeats() -> None:
    plan = escalation_plan(rotation(layers=TWO_LAYERS), ack_timeout=FIVE, repeat=1)

    assert plan == [
        Step(0, "primary", timedelta(0), 0),
        Step(1, "secondary", FIVE, 0),
        Step(0, "primary", 2 * FIVE, 1),
        Step(1, "secondary", 3 * FIVE, 1),
    ]


def test_plan_pages_every_layer_at_once_for_sev1() -> None:
    base = rotation(layers=TWO_LAYERS)
    urgent = base.__class__(**{**base.__dict__, "escalation": EscalationTarget(person="boss")})

    plan = escalation_plan(urgent, ack_timeout=FIVE, all_at_once=True)

    assert plan == [
        Step(0, "primary", timedelta(0)),
        Step(1, "secondary", timedelta(0)),
        Step(2, ESCALATION_TARGET, FIVE),
    ]


def test_plan_pages_every_layer_at_once_in_every_round_of_a_repeat() -> None:
    base = rotation(layers=TWO_LAYERS)
    urgent = base.__class__(**{**base.__dict__, "escalation": EscalationTarget(person="boss")})

    plan = escalation_plan(urgent, ack_timeout=FIVE, repeat=1, all_at_once=True)

    assert plan == [
        Step(0, "primary", timedelta(0), 0),
        Step(1, "secondary", timedelta(0), 0),
        Step(2, ESCALATION_TARGET, FIVE, 0),
        Step(0, "primary", 2 * FIVE, 1),
        Step(1, "secondary", 2 * FIVE, 1),
        Step(2, ESCALATION_TARGET, 3 * FIVE, 1),
    ]


def test_next_business_start_in_persons_zone() -> None:
    friday_evening_ny = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # Fri 18:00 EST

    assert next_business_start(friday_evening_ny, NEW_YORK) == datetime(
        2026, 11, 30, 9, 0, tzinfo=NEW_YORK
    )
    # Already Saturday 10:00 in Sydney: Monday 09:00 there.
    assert next_business_start(friday_evening_ny, SYDNEY) == datetime(
        2026, 11, 30, 9, 0, tzinfo=SYDNEY
    )
    early = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Mon 08:00 EST
    assert next_business_start(early, NEW_YORK) == datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
    assert next_business_start(early + timedelta(hours=2), NEW_YORK) == datetime(
        2026, 12, 1, 9, 0, tzinfo=NEW_YORK
    )
