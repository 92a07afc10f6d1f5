"""The calendar's weeks: Monday midnight to Monday midnight on the rotation's own clock."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from receiver.config.settings import Settings
from receiver.pages.calendar_grid import weeks_from
from tests.support.rota_config import rota_config


def test_weeks_follow_the_rotations_wall_clock_across_dst() -> None:
    rotation = Settings.model_validate(rota_config()).rotations[0].to_rotation()
    weeks = weeks_from(rotation, date(2027, 3, 24), 3)  # a Wednesday: the week of Mar 22
    assert [w.start.date().isoformat() for w in weeks] == ["2027-03-22", "2027-03-29", "2027-04-05"]
    # Subtracted in UTC: aware datetimes of one zone subtract as wall clock times.
    assert [w.end.astimezone(UTC) - w.start.astimezone(UTC) for w in weeks] == [
        timedelta(hours=167),  # London springs forward on 2027-03-28
        timedelta(hours=168),
        timedelta(hours=168),
    ]
    assert all(w.start.hour == 0 and w.start.tzinfo == rotation.zone for w in weeks)
