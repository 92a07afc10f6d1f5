#!/usr/bin/env python3
"""Benchmark of the on-call scheduler: generating a year of shifts, feeds, "who is on call".

Why it is built this way:
- A figure alone says little across machines, so each one is printed with a baseline measured
  in the same run, on the same data: a bare `bisect` over the same sorted shift starts (the
  floor of "who is on call") and `icalendar` rendering the same number of bare VEVENTs built
  directly (the floor of a feed). The ratio is what travels between machines.
- The scenario is seeded and uses a fixed "now", so two runs with the same seed measure the
  same work: 10 rotations x 50 people (500 people in 8 IANA zones), primary and secondary
  layers, weekly, daily and 12-hour shifts, two holidays per person and 200 overrides.
- Timings use `time.perf_counter` with `gc.collect()` before every repetition; median and max
  are reported. The scheduler is pure (no I/O), so everything runs in this one process.

Run `bench/rota --help`. Results go to stdout and to `bench/results/rota-<time>.json`.
Exit status: 0 when the benchmark ran (whether or not the targets pass), 1 when it broke.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import resource
import statistics
import sys
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from icalendar import Calendar, Event  # noqa: E402

from scheduler.calendar import RenderedEvents, render_feed  # noqa: E402
from scheduler.feeds import person_events, rotation_events  # noqa: E402
from scheduler.overrides import Override  # noqa: E402
from scheduler.roster import (  # noqa: E402
    Layer,
    Member,
    Person,
    Rotation,
    ShiftLength,
    ShiftUnit,
    Unavailability,
)
from scheduler.rota import LOOKAHEAD, Rota  # noqa: E402
from scheduler.shifts import Shift  # noqa: E402

# The scenario's fixed clock: every run of a seed measures the same work.
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ROTATION_START = date(2026, 11, 2)  # a Monday, five weeks before NOW
OVERRIDES_CREATED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
FEED_BACK = timedelta(days=30)  # a feed covers [NOW - 30 days, NOW + 365 days)

ROTATIONS = 10
PEOPLE_PER_ROTATION = 50
HOLIDAYS_PER_PERSON = 2
OVERRIDES = 200
ON_CALL_CALLS = 10_000

PERSON_ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
ROTATION_ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Tokyo",
)
WEEKLY = ShiftLength(1, ShiftUnit.WEEKS)
DAILY = ShiftLength(1, ShiftUnit.DAYS)
HALF_DAY = ShiftLength(12, ShiftUnit.HOURS)
# (shift length, handoff time, handoff weekday, min rest) per rotation: 7 weekly, 2 daily, 1 12-h.
KINDS = {
    "weekly": (WEEKLY, clock(9, 0), 0, timedelta(days=7)),
    "daily": (DAILY, clock(9, 0), None, timedelta(days=2)),
    "12-hour": (HALF_DAY, clock(8, 0), None, timedelta(hours=12)),
}
ROTATION_KINDS = ("weekly",) * 7 + ("daily",) * 2 + ("12-hour",)

# Targets.
TARGET_FEED_MS = 100.0
TARGET_ON_CALL_MS = 1.0


# --------------------------------------------------------------------------------------
# Scenario


@dataclass
class Scenario:
    rotations: list[Rotation]
    people: dict[str, Person]
    overrides: list[Override]
    kinds: dict[str, str]  # rotation name -> weekly / daily / 12-hour

    def first_of(self, kind: str) -> Rotation:
        return next(r for r in self.rotations if self.kinds[r.name] == kind)


def build_scenario(seed: int) -> Scenario:
    """10 rotations x 50 people, holidays and overrides, all drawn from one seeded RNG."""
    rng = random.Random(seed)
    zones = {name: ZoneInfo(name) for name in {*PERSON_ZONES, *ROTATION_ZONES}}
    year_start = (NOW - FEED_BACK).date()
    people: dict[str, Person] = {}
    rotations: list[Rotation] = []
    kinds: dict[str, str] = {}
    for number, kind in enumerate(ROTATION_KINDS):
        name = f"team-{number:02d}-{kind}"
        length, handoff, weekday, rest = KINDS[kind]
        members = []
        for seat in range(PEOPLE_PER_ROTATION):
            person = f"p{number:02d}{seat:02d}"
            holidays = []
            for _ in range(HOLIDAYS_PER_PERSON):
                first = year_start + timedelta(days=rng.randrange(395))
                last = first + timedelta(days=rng.randint(1, 14) - 1)
                holidays.append(Unavailability(first, last, "holiday"))
            people[person] = Person(
                name=person,
                email=f"{person}@example.com",
                zone=zones[rng.choice(PERSON_ZONES)],
                unavailable=tuple(sorted(holidays, key=lambda h: h.first_day)),
            )
            members.append(person)
        half = len(members) // 2
        rotations.append(
            Rotation(
                name=name,
                zone=zones[ROTATION_ZONES[number % len(ROTATION_ZONES)]],
                members=tuple(Member(person) for person in members),
                layers=(
                    Layer("primary", tuple(members)),
                    Layer("secondary", tuple(members[half:] + members[:half])),
                ),
                shift=length,
                handoff_time=handoff,
                handoff_weekday=weekday,
                start=ROTATION_START,
                min_rest=rest,
            )
        )
        kinds[name] = kind
    overrides = []
    span_hours = int((YEAR + FEED_BACK) / timedelta(hours=1))
    for number in range(1, OVERRIDES + 1):
        rotation = rng.choice(rotations)
        start = NOW - FEED_BACK + timedelta(hours=rng.randrange(span_hours))
        overrides.append(
            Override(
                id=number,
                rotation=rotation.name,
                layer=rng.choice(rotation.layers).name,
                person=rng.choice(rotation.members).person,
                start=start,
                end=start + timedelta(hours=rng.randint(2, 72)),
                created_at=OVERRIDES_CREATED,
                reason="swap",
            )
        )
    return Scenario(rotations, people, overrides, kinds)


# --------------------------------------------------------------------------------------
# Timing


@dataclass
class Timing:
    """Seconds per repetition; the summary figures are in milliseconds."""

    samples_s: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_s) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.samples_s) * 1000

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_ms": self.median_ms,
            "max_ms": self.max_ms,
            "samples_ms": [s * 1000 for s in self.samples_s],
        }


def repeat(action: Callable[[], object], repetitions: int) -> Timing:
    """Time `action` `repetitions` times, collecting garbage before each."""
    timing = Timing()
    for _ in range(repetitions):
        gc.collect()
        started = time.perf_counter()
        action()
        timing.samples_s.append(time.perf_counter() - started)
    return timing


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


# --------------------------------------------------------------------------------------
# Measurements


def measure_generation(scenario: Scenario, repetitions: int) -> tuple[Timing, Rota, dict]:
    """A fresh Rota asked for a year ahead: it generates every rotation at once."""
    until = NOW + YEAR
    first = scenario.rotations[0]
    timing = Timing()
    rota: Rota | None = None
    for _ in range(repetitions):
        rota = None  # drop the previous schedule before collecting, not inside the timing
        gc.collect()
        started = time.perf_counter()
        rota = Rota(scenario.rotations, scenario.people)
        rota.schedule(first.name, first.layers[0].name, until)
        timing.samples_s.append(time.perf_counter() - started)
    assert rota is not None
    shifts = [
        shift
        for rotation in scenario.rotations
        for layer in rotation.layers
        for shift in rota.schedule(rotation.name, layer.name, until)
    ]
    by_kind = Counter(scenario.kinds[shift.rotation] for shift in shifts)
    facts = {
        "asked_until": until.isoformat(),
        "lookahead_days": LOOKAHEAD.days,
        "generated_from": min(shift.start for shift in shifts).isoformat(),
        "generated_until": max(shift.end for shift in shifts).isoformat(),
        "generated_days": (max(s.end for s in shifts) - min(s.start for s in shifts)).days,
        "shifts": len(shifts),
        "shifts_by_kind": dict(by_kind),
        "gaps": sum(shift.person is None for shift in shifts),
        "rest_broken": sum(shift.rest_broken for shift in shifts),
        "skip_notes": sum(bool(shift.note) for shift in shifts),
    }
    return timing, rota, facts


@dataclass
class FeedResult:
    label: str
    events: int
    cancelled: int
    bytes: int
    total: Timing
    build: Timing
    render: Timing
    baseline: Timing
    cold: Timing  # build + render with nothing remembered: a fresh worker's first render

    @property
    def ratio(self) -> float:
        return self.total.median_ms / self.baseline.median_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "events": self.events,
            "cancelled_events": self.cancelled,
            "bytes": self.bytes,
            "total": self.total.as_dict(),
            "build_events": self.build.as_dict(),
            "render": self.render.as_dict(),
            "baseline_bare_vevents": self.baseline.as_dict(),
            "cold_build_and_render": self.cold.as_dict(),
            "ratio": self.ratio,
        }


def bare_feed(rows: Sequence[tuple[str, datetime, datetime, datetime, str]]) -> bytes:
    """Baseline: icalendar rendering bare VEVENTs (UID, DTSTAMP, DTSTART, DTEND, SUMMARY)."""
    calendar = Calendar()
    calendar.add("PRODID", "-//onwatch//bench//EN")
    calendar.add("VERSION", "2.0")
    for uid, stamp, start, end, summary in rows:
        event = Event()
        event.add("UID", uid)
        event.add("DTSTAMP", stamp)
        event.add("DTSTART", start)
        event.add("DTEND", end)
        event.add("SUMMARY", summary)
        calendar.add_component(event)
    return calendar.to_ical()


def measure_feed(
    label: str,
    build: Callable[[datetime], list],
    render: Callable[[list, RenderedEvents], bytes],
    repetitions: int,
) -> FeedResult:
    """The feed as a server renders it each day: yesterday's feed was rendered (its events
    remembered, untimed), then today's is built and rendered (timed, both halves). Also the
    cold render (nothing remembered) and the baseline: icalendar alone on the same events."""
    total, build_t, render_t, cold = Timing(), Timing(), Timing(), Timing()
    events: list = []
    body = b""
    for _ in range(repetitions):
        rendered = RenderedEvents()
        render(build(NOW - timedelta(days=1)), rendered)
        gc.collect()
        started = time.perf_counter()
        events = build(NOW)
        built = time.perf_counter()
        body = render(events, rendered)
        done = time.perf_counter()
        total.samples_s.append(done - started)
        build_t.samples_s.append(built - started)
        render_t.samples_s.append(done - built)
        gc.collect()
        started = time.perf_counter()
        render(build(NOW), RenderedEvents())
        cold.samples_s.append(time.perf_counter() - started)
    stamp = OVERRIDES_CREATED
    rows = [
        (
            f"{n:032x}@bench",
            stamp,
            event.start.astimezone(UTC).replace(microsecond=0),
            event.end.astimezone(UTC).replace(microsecond=0),
            event.summary,
        )
        for n, event in enumerate(events)
    ]
    baseline = repeat(lambda: bare_feed(rows), repetitions)
    return FeedResult(
        label=label,
        events=len(events),
        cancelled=sum(event.cancelled for event in events),
        bytes=len(body),
        total=total,
        build=build_t,
        render=render_t,
        baseline=baseline,
        cold=cold,
    )


def feed_measurements(
    scenario: Scenario, rota: Rota, repetitions: int, person_rng: random.Random
) -> list[FeedResult]:
    overrides = scenario.overrides
    results = []
    for kind in ("weekly", "daily", "12-hour"):
        rotation = scenario.first_of(kind)
        results.append(
            measure_feed(
                f"rotation feed ({kind}, {rotation.name})",
                lambda now, r=rotation: rotation_events(
                    rota, r.name, now - FEED_BACK, now + YEAR, overrides
                ),
                lambda events, rendered, r=rotation: render_feed(
                    name=f"On call: {r.name}",
                    zone_name=r.zone.key,
                    events=events,
                    rendered=rendered,
                ),
                repetitions,
            )
        )
    for kind in ("weekly", "12-hour"):
        rotation = scenario.first_of(kind)
        person = scenario.people[person_rng.choice(rotation.members).person]
        results.append(
            measure_feed(
                f"person feed ({person.name}, {kind})",
                lambda now, p=person: person_events(
                    rota, p.name, now - FEED_BACK, now + YEAR, overrides
                ),
                lambda events, rendered, p=person: render_feed(
                    name=f"On call: {p.name}",
                    zone_name=p.zone.key,
                    events=events,
                    rendered=rendered,
                ),
                repetitions,
            )
        )
    return results


@dataclass
class PerCall:
    mean_us: float
    p50_us: float
    p99_us: float
    max_us: float

    @classmethod
    def of(cls, samples_s: Sequence[float]) -> PerCall:
        ordered = sorted(samples_s)
        return cls(
            mean_us=statistics.fmean(ordered) * 1e6,
            p50_us=percentile(ordered, 0.50) * 1e6,
            p99_us=percentile(ordered, 0.99) * 1e6,
            max_us=ordered[-1] * 1e6,
        )


FAR = timedelta(days=round(365.25 * 5))  # the API's instant range: five years either side


def measure_far(scenario: Scenario) -> dict[str, float]:
    """The first `on_call` of a fresh rota at now + 1 and + 5 years: cold (nothing generated,
    as in a one-off command) and after `Rota.warm_up` over the allowed range (what a server
    worker runs in the background as it starts, timed too); then a day beyond what was
    generated (generation goes on from where it stopped); and the slowest "now" question
    asked while a warm-up runs in another thread (it waits for one warm-up step at most)."""
    name = scenario.rotations[0].name
    overrides = scenario.overrides
    figures = {}
    for label, at in (("cold_1y_ms", NOW + YEAR), ("cold_far_ms", NOW + FAR)):
        rota = Rota(scenario.rotations, scenario.people)
        gc.collect()
        started = time.perf_counter()
        rota.on_call(name, at, overrides)
        figures[label] = (time.perf_counter() - started) * 1000
    rota = Rota(scenario.rotations, scenario.people)
    gc.collect()
    started = time.perf_counter()
    rota.warm_up(NOW + FAR + LOOKAHEAD)
    figures["warm_up_ms"] = (time.perf_counter() - started) * 1000
    for label, at in (
        ("warm_1y_ms", NOW + YEAR),
        ("warm_far_ms", NOW + FAR),
        ("then_now_ms", NOW),
        ("day_further_ms", NOW + FAR + LOOKAHEAD + timedelta(days=1)),
    ):
        started = time.perf_counter()
        rota.on_call(name, at, overrides)
        figures[label] = (time.perf_counter() - started) * 1000
    figures["now_during_warm_up_max_ms"] = now_during_warm_up(scenario)
    return figures


def now_during_warm_up(scenario: Scenario) -> float:
    """The slowest of `on_call` at now asked over and over while another thread warms up a
    fresh rota (now itself generated first, as a worker's first page would)."""
    name = scenario.rotations[0].name
    rota = Rota(scenario.rotations, scenario.people)
    rota.on_call(name, NOW, scenario.overrides)
    gc.collect()
    warming = threading.Thread(target=rota.warm_up, args=(NOW + FAR + LOOKAHEAD,))
    warming.start()
    slowest = 0.0
    while warming.is_alive():
        started = time.perf_counter()
        rota.on_call(name, NOW, scenario.overrides)
        slowest = max(slowest, time.perf_counter() - started)
        time.sleep(0.001)
    warming.join()
    return slowest * 1000


def measure_on_call(
    scenario: Scenario, rota: Rota, calls: int, rng: random.Random
) -> tuple[PerCall, PerCall, dict[str, Any]]:
    """`rota.on_call` at random instants of the year, against bare bisects per layer."""
    names = [rotation.name for rotation in scenario.rotations]
    span_s = int(YEAR.total_seconds())
    asks = [
        (rng.choice(names), NOW + timedelta(seconds=rng.randrange(span_s))) for _ in range(calls)
    ]
    overrides = scenario.overrides
    clock_ns = time.perf_counter_ns

    gc.collect()
    samples = []
    answers = []
    for name, at in asks:
        started = clock_ns()
        answer = rota.on_call(name, at, overrides)
        samples.append((clock_ns() - started) / 1e9)
        answers.append(answer)

    # Baseline: the same questions answered by bisect over each layer's sorted shift starts.
    tables: dict[str, list[tuple[str, list[datetime], list[Shift]]]] = {}
    for rotation in scenario.rotations:
        tables[rotation.name] = []
        for layer in rotation.layers:
            shifts = rota.schedule(rotation.name, layer.name, NOW + YEAR)
            tables[rotation.name].append((layer.name, [s.start for s in shifts], shifts))
    gc.collect()
    base_samples = []
    for name, at in asks:
        started = clock_ns()
        found = {}
        for layer, starts, shifts in tables[name]:
            index = bisect_right(starts, at) - 1
            found[layer] = shifts[index] if index >= 0 else None
        base_samples.append((clock_ns() - started) / 1e9)

    # Check a sample of answers against the feed's view of the same rotation.
    checked = mismatches = 0
    full = {
        name: rota.rotation_shifts(name, NOW - FEED_BACK, NOW + YEAR * 2, overrides)
        for name in names
    }
    for (name, at), answer in list(zip(asks, answers, strict=True))[:500]:
        for layer, shift in answer.items():
            expected = [
                s for s in full[name] if s.layer == layer and s.start <= at < s.end
            ]  # exactly one
            checked += 1
            if len(expected) != 1 or shift is None or shift.person != expected[0].person:
                mismatches += 1
    overridden = sum(
        any(s is not None and s.override_id is not None for s in answer.values())
        for answer in answers
    )
    facts = {
        "calls": calls,
        "answers_from_overrides": overridden,
        "checked_layers": checked,
        "mismatches_against_rotation_shifts": mismatches,
    }
    return PerCall.of(samples), PerCall.of(base_samples), facts


# --------------------------------------------------------------------------------------
# Report


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def peak_rss_mb() -> float:
    """Peak resident memory of this process (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def report(
    options: argparse.Namespace,
    generation: Timing,
    gen_facts: dict[str, Any],
    feeds: list[FeedResult],
    on_call: PerCall,
    on_call_base: PerCall,
    on_call_facts: dict[str, Any],
    setup_s: float,
    wall_s: float,
) -> dict[str, Any]:
    """Print the table and return the figures (also written as JSON)."""
    rss = peak_rss_mb()
    on_call_ratio = on_call.mean_us / on_call_base.mean_us
    targets: dict[str, bool | None] = {
        f"feed: {feed.label}": feed.total.median_ms < TARGET_FEED_MS for feed in feeds
    }
    targets["on_call_mean"] = on_call.mean_us < TARGET_ON_CALL_MS * 1000
    targets["on_call_p99"] = on_call.p99_us < TARGET_ON_CALL_MS * 1000
    title = (
        f"onwatch rota benchmark (seed {options.seed}, {len(ROTATION_KINDS)} rotations x "
        f"{PEOPLE_PER_ROTATION} people, {OVERRIDES} overrides; Python "
        f"{platform.python_version()}) on {os.cpu_count()} cores"
    )
    rows: list[tuple[str, ...]] = [
        ("measure", "onwatch (median / max)", "baseline (median)", "ratio", "target", "")
    ]
    rows.append(
        (
            f"generate {gen_facts['generated_days']} days, {gen_facts['shifts']} shifts",
            f"{generation.median_ms:.0f} / {generation.max_ms:.0f} ms",
            "-",
            "-",
            "(report only)",
            "",
        )
    )
    rows.append(
        (
            "  per generated shift",
            f"{generation.median_ms * 1000 / gen_facts['shifts']:.1f} us",
            "",
            "",
            "",
            "",
        )
    )
    for feed in feeds:
        rows.append(
            (
                f"{feed.label}: {feed.events} events",
                f"{feed.total.median_ms:.1f} / {feed.total.max_ms:.1f} ms",
                f"{feed.baseline.median_ms:.1f} ms",
                f"{feed.ratio:.1f} x",
                f"< {TARGET_FEED_MS:.0f} ms",
                verdict(targets[f"feed: {feed.label}"]),
            )
        )
    rows.append(
        (
            f"on_call() mean, {on_call_facts['calls']} calls",
            f"{on_call.mean_us:.1f} us",
            f"{on_call_base.mean_us:.2f} us",
            f"{on_call_ratio:.0f} x",
            f"< {TARGET_ON_CALL_MS * 1000:.0f} us",
            verdict(targets["on_call_mean"]),
        )
    )
    rows.append(
        (
            "on_call() p50 / p99 / max",
            f"{on_call.p50_us:.1f} / {on_call.p99_us:.1f} / {on_call.max_us:.0f} us",
            f"{on_call_base.p50_us:.2f} / {on_call_base.p99_us:.2f} us",
            f"{on_call.p99_us / on_call_base.p99_us:.0f} x (p99)",
            f"p99 < {TARGET_ON_CALL_MS * 1000:.0f} us",
            verdict(targets["on_call_p99"]),
        )
    )
    rows.append(("peak RSS of the process", f"{rss:.0f} MB", "", "", "(report only)", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    print()
    print(title)
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    print()
    print("details:")
    print(
        f"  generation: {generation.median_ms:.0f} ms median over {len(generation.samples_s)} "
        f"runs (max {generation.max_ms:.0f} ms); asked until {gen_facts['asked_until']}, Rota "
        f"adds LOOKAHEAD {gen_facts['lookahead_days']} days, so it generated "
        f"{gen_facts['generated_from']} .. {gen_facts['generated_until']}"
    )
    print(
        f"  shifts by kind {gen_facts['shifts_by_kind']}; gaps {gen_facts['gaps']}, "
        f"rest broken {gen_facts['rest_broken']}, shifts with skip notes "
        f"{gen_facts['skip_notes']}"
    )
    for feed in feeds:
        print(
            f"  {feed.label}: build events {feed.build.median_ms:.1f} ms + render "
            f"{feed.render.median_ms:.1f} ms (medians, the day after a render); cold "
            f"render (no event bytes remembered) {feed.cold.median_ms:.0f} ms; "
            f"{feed.events} events of which "
            f"{feed.cancelled} cancelled, {feed.bytes / 1024:.0f} KiB; bare-VEVENT baseline "
            f"{feed.baseline.median_ms:.1f} ms"
        )
    floor_over = [feed for feed in feeds if feed.baseline.median_ms >= TARGET_FEED_MS]
    if floor_over:
        worst = max(floor_over, key=lambda feed: feed.events)
        print(
            f"  note: the bare-icalendar floor alone misses the {TARGET_FEED_MS:.0f} ms feed "
            f"target here ({worst.baseline.median_ms:.0f} ms for {worst.events} bare VEVENTs, "
            f"{worst.baseline.median_ms * 1000 / worst.events:.0f} us each): onwatch renders "
            "each event with icalendar once and remembers its bytes (RenderedEvents), so a "
            "feed re-rendered the next day renders only its new events"
        )
    print(
        f"  on_call: {on_call_facts['answers_from_overrides']} of {on_call_facts['calls']} "
        f"answers came from an override; {on_call_facts['checked_layers']} layer answers "
        f"checked against rotation_shifts: {on_call_facts['mismatches_against_rotation_shifts']}"
        " mismatches; baseline: bisect_right over each layer's shift starts"
    )
    far = on_call_facts["far"]
    print(
        f"  first on_call of a fresh rota at now + 1 / + 5 years: cold {far['cold_1y_ms']:.0f}"
        f" / {far['cold_far_ms']:.0f} ms (generates every shift up to there); after the "
        f"worker's warm-up ({far['warm_up_ms']:.0f} ms in the background) "
        f"{far['warm_1y_ms']:.2f} / {far['warm_far_ms']:.2f} ms; then at now: "
        f"{far['then_now_ms']:.2f} ms; beyond what was generated: {far['day_further_ms']:.0f} ms;"
        f" slowest at now during a warm-up: {far['now_during_warm_up_max_ms']:.0f} ms"
    )
    print(f"  scenario built in {setup_s * 1000:.0f} ms; whole run {wall_s:.1f} s")
    figures = {
        "title": title,
        "timestamp": datetime.now(UTC).isoformat(),
        "options": vars(options),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "scenario": {
            "now": NOW.isoformat(),
            "rotations": len(ROTATION_KINDS),
            "people_per_rotation": PEOPLE_PER_ROTATION,
            "holidays_per_person": HOLIDAYS_PER_PERSON,
            "overrides": OVERRIDES,
            "kinds": Counter(ROTATION_KINDS),
        },
        "generation": {**generation.as_dict(), **gen_facts},
        "feeds": [feed.as_dict() for feed in feeds],
        "on_call": {
            "onwatch": asdict(on_call),
            "baseline_bisect": asdict(on_call_base),
            "ratio_mean": on_call_ratio,
            **on_call_facts,
        },
        "peak_rss_mb": rss,
        "targets": {key: verdict(ok) for key, ok in targets.items()},
        "wall_s": wall_s,
    }
    return figures


# --------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/rota",
        description="Benchmark the on-call scheduler (generation, feeds, who is on call).",
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (default 1)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    generation_reps, feed_reps = (2, 3) if options.quick else (5, 7)
    calls = ON_CALL_CALLS // 5 if options.quick else ON_CALL_CALLS
    try:
        began = time.perf_counter()
        scenario = build_scenario(options.seed)
        setup_s = time.perf_counter() - began
        print(
            f"scenario: {len(scenario.rotations)} rotations, {len(scenario.people)} people, "
            f"{len(scenario.overrides)} overrides (seed {options.seed}, now {NOW:%Y-%m-%d %H:%M}"
            " UTC)",
            flush=True,
        )
        print(f"generating a year of shifts x {generation_reps} ...", flush=True)
        generation, rota, gen_facts = measure_generation(scenario, generation_reps)
        print(f"feeds x {feed_reps} ...", flush=True)
        rng = random.Random(options.seed + 1)
        feeds = feed_measurements(scenario, rota, feed_reps, rng)
        print(f"on_call x {calls} ...", flush=True)
        on_call, on_call_base, on_call_facts = measure_on_call(scenario, rota, calls, rng)
        print("on_call at the far end of the allowed range ...", flush=True)
        on_call_facts["far"] = measure_far(scenario)
        figures = report(
            options,
            generation,
            gen_facts,
            feeds,
            on_call,
            on_call_base,
            on_call_facts,
            setup_s,
            time.perf_counter() - began,
        )
        RESULTS_DIR.mkdir(exist_ok=True)
        out = RESULTS_DIR / f"rota-{datetime.now():%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {out.relative_to(REPO_ROOT)}")
        return 0
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        print(f"bench/rota: broke: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
