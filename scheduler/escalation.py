"""Escalation: whom to page, in which order, and when, for an incident of some severity.

A rotation's chain is its layers in order (primary, secondary, ...) and then its escalation
target. Each level is paged when the previous one has not acknowledged within the
severity's acknowledgement timeout; the whole chain may repeat (PagerDuty's num_loops,
GoAlert's repeat). Some severities (SEV1 by default) page every layer at once, in every
round of the chain (a repeat pages them all together again, not one by one). A severity
without a timeout (SEV4 by default) pages nobody: it is queued for the next business day in
the on-call person's time zone. Pure: instants are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.roster import Rotation

ESCALATION_TARGET = "escalation"  # the step after the last layer
BUSINESS_DAY_START = time(9, 0)


@dataclass(frozen=True)
class Step:
    """Page `target` (a layer name, or ESCALATION_TARGET) `after` the incident opened."""

    level: int
    target: str
    after: timedelta
    loop: int = 0


def escalation_chain(rotation: Rotation) -> list[str]:
    """The targets in order: each layer, then the escalation target if there is one."""
    chain = [layer.name for layer in rotation.layers]
    if rotation.escalation.person or rotation.escalation.rotation:
        chain.append(ESCALATION_TARGET)
    return chain


def escalation_plan(
    rotation: Rotation, *, ack_timeout: timedelta, repeat: int = 0, all_at_once: bool = False
) -> list[Step]:
    """Every page of the chain with its delay, until someone acknowledges."""
    chain = escalation_chain(rotation)
    steps: list[Step] = []
    elapsed = timedelta(0)
    for loop in range(repeat + 1):
        if all_at_once:
            # Every layer at once (in each round); the escalation target after one timeout
            # without an ack, and the next round one timeout after that.
            layers = [target for target in chain if target != ESCALATION_TARGET]
            steps += [Step(level, target, elapsed, loop) for level, target in enumerate(layers)]
            elapsed += ack_timeout
            if ESCALATION_TARGET in chain:
                steps.append(Step(len(layers), ESCALATION_TARGET, elapsed, loop))
                elapsed += ack_timeout
            continue
        for level, target in enumerate(chain):
            steps.append(Step(level, target, elapsed, loop))
            elapsed += ack_timeout
    return steps


def next_business_start(now: datetime, zone: ZoneInfo) -> datetime:
    """The next weekday 09:00 in `zone` at or after `now` (the SEV4 queue's send time)."""
    local = now.astimezone(zone)
    day = local.date()
    while True:
        candidate = datetime.combine(day, BUSINESS_DAY_START, zone)
        if day.weekday() < 5 and candidate >= local:
            return candidate
        day += timedelta(days=1)
