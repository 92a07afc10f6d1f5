"""Rest between a person's shifts and the longest they may stay on call: one rule, one wording.

Generation (choosing who takes a shift) and the check (`rota check`, overrides and swaps)
both walk a person's shifts in time order with a `RestLedger`, so a shift generation had to
flag is reported by the check with the same reason, and the reason reads the same way:
"dana would have 0 days of rest before platform primary ...; the rotation platform requires
7 days".

The rules, for a shift S of rotation R that starts after every earlier shift of the person:
- the rest R asks for must have passed since the end of the person's latest shift;
- the rest every earlier shift's rotation asks for must have passed since that shift ended
  (a weekly rotation's 8 days still hold across a daily shift given in between);
- a run of shifts with no break between them lasts at most R's `longest_duty` (across
  rotations, the more generous of the two limits).
Rest is counted on the wall clock of the rotation whose rule it is (a week between two
Monday 09:00 handoffs, even when the clocks changed in between: 167 or 169 real hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scheduler.handoffs import after_wall_clock
from scheduler.roster import Rotation
from scheduler.shifts import Shift

_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ShortRest:
    """A rest rule a shift breaks: `after` starts before `rule`'s rest since `before` ended."""

    before: Shift
    after: Shift
    rule: Rotation
    ready: datetime  # when the person would have rested enough

    def message(self, person: str) -> str:
        """The reason, said so that a person can act on it (never a negative rest)."""
        return (
            f"{person} would have {rest_amount(self.before.end, self.after.start, self.rule)} "
            f"of rest before {where(self.after, 'starts')}, after {where(self.before, 'ends')}; "
            f"the rotation {self.rule.name} requires {rule_amount(self.rule.min_rest)}"
        )


@dataclass(frozen=True)
class LongRun:
    """A stretch on call with no break that outlasts `rule`'s `longest_duty`."""

    start: datetime
    end: datetime
    rule: Rotation

    def message(self, person: str) -> str:
        """The reason, with the run's bounds and the rotation's limit."""
        return (
            f"{person} would be on call for {wall_span(self.start, self.end, self.rule)} "
            f"without a break ({self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M} UTC); "
            f"the rotation {self.rule.name} allows at most {rule_amount(self.rule.longest_duty)}"
        )


@dataclass
class RestLedger:
    """What is remembered about one person's shifts so far, in the order they start."""

    last: Shift | None = None  # the shift that ends latest
    last_rule: Rotation | None = None
    rested_at: datetime = _LONG_AGO  # every earlier shift's own rest, the latest of them
    rested_by: Shift | None = None
    rested_rule: Rotation | None = None
    run_start: datetime = _LONG_AGO  # where the current stretch without a break began

    @property
    def last_end(self) -> datetime:
        """When the person's latest shift ends (long ago when they had none)."""
        return self.last.end if self.last is not None else _LONG_AGO

    def short_rest(self, shift: Shift, rotation: Rotation) -> ShortRest | None:
        """The rest rule `shift` (of `rotation`) breaks, the most binding one; None if rested."""
        if self.last is None:
            return None
        found: list[ShortRest] = []
        ready = after_wall_clock(self.last.end, rotation.min_rest, rotation.zone)
        if ready > shift.start:
            found.append(ShortRest(self.last, shift, rotation, ready))
        if self.rested_at > shift.start:
            assert self.rested_by is not None and self.rested_rule is not None
            found.append(ShortRest(self.rested_by, shift, self.rested_rule, self.rested_at))
        return max(found, key=lambda short: short.ready, default=None)

    def long_run(self, shift: Shift, rotation: Rotation) -> LongRun | None:
        """The run `shift` would make too long (it starts as the last one ends), if any."""
        start = self.run_start if self.last is not None and self.last_end >= shift.start else None
        start = shift.start if start is None else start
        end = max(shift.end, self.last_end)
        rules = [rotation] + ([self.last_rule] if start < shift.start and self.last_rule else [])
        # A stretch across rotations is held to the most generous of their limits: handing
        # straight from one rotation to another is already a broken rest.
        rule = max(rules, key=lambda r: r.longest_duty)
        if after_wall_clock(start, rule.longest_duty, rule.zone) < end:
            return LongRun(start, end, rule)
        return None

    def took(self, shift: Shift, rotation: Rotation) -> None:
        """Remember `shift` (of `rotation`), the person's next shift by start."""
        if self.last is None or self.last_end < shift.start:
            self.run_start = shift.start
        if self.last is None or shift.end >= self.last_end:
            self.last, self.last_rule = shift, rotation
        ready = after_wall_clock(shift.end, rotation.min_rest, rotation.zone)
        if ready > self.rested_at:
            self.rested_at, self.rested_by, self.rested_rule = ready, shift, rotation


def where(shift: Shift, edge: str) -> str:
    """`ops primary (starts 2026-11-30 09:00 UTC)`: a shift named by one of its ends."""
    instant = shift.start if edge == "starts" else shift.end
    return f"{shift.rotation} {shift.layer} ({edge} {instant:%Y-%m-%d %H:%M} UTC)"


def _wall(start: datetime, end: datetime, rotation: Rotation) -> timedelta:
    zone = rotation.zone
    return end.astimezone(zone).replace(tzinfo=None) - start.astimezone(zone).replace(tzinfo=None)


def rest_amount(start: datetime, end: datetime, rule: Rotation) -> str:
    """The rest between two instants on `rule`'s wall clock, in the rule's own unit, >= 0."""
    span = max(_wall(start, end, rule), timedelta(0))
    return _amount(span, in_days=_in_days(rule.min_rest))


def wall_span(start: datetime, end: datetime, rule: Rotation) -> str:
    """A run's length on `rule`'s wall clock, in the unit of its limit."""
    return _amount(_wall(start, end, rule), in_days=_in_days(rule.longest_duty))


def rule_amount(span: timedelta) -> str:
    """A rule's length as configured: `7 days`, `36 hours`."""
    return _amount(span, in_days=_in_days(span))


def _in_days(span: timedelta) -> bool:
    return span > timedelta(0) and span % timedelta(days=1) == timedelta(0)


def _amount(span: timedelta, *, in_days: bool) -> str:
    unit, size = ("day", 86400) if in_days else ("hour", 3600)
    value = round(span.total_seconds() / size, 1)
    text = f"{value:g}"
    return f"{text} {unit}" if text == "1" else f"{text} {unit}s"
