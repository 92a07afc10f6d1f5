"""`scheduler.check`: overlaps across rotations are overlaps, never a negative rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.check import Rule, check
from scheduler.overrides import Override
from scheduler.rota import Rota
from tests.support.rota_builders import DAILY, people, rotation

START = datetime(2026, 11, 2, tzinfo=UTC)


def test_check_reports_shifts_in_two_rotations_at_once_as_an_overlap() -> None:
    weekly = rotation("weekly", ("a", "b", "c"), rest=timedelta(days=1))
    daily = rotation("daily", ("d", "e", "f"), length=DAILY, weekday=None, rest=timedelta(days=1))
    rota = Rota([weekly, daily], people(*"abcdef"))
    # a (weekly, Nov 2 - 9) also covers the daily rotation on Nov 4.
    cover = Override(
        1, "daily", "primary", "a", START + timedelta(days=2, hours=9),
        START + timedelta(days=3, hours=9), START,
    )  # fmt: skip

    found = [v for v in check(rota, START, START + timedelta(days=7), [cover]) if v.person == "a"]

    assert [v.rule for v in found] == [Rule.TWO_ROTATIONS_AT_ONCE]
    assert found[0].message == (
        "a is on call for weekly primary and daily primary at the same time"
    )
    assert "rest" not in found[0].message
