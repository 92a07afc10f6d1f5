"""The postmortem draft: the seed's seven sections, pre-filled, compared with golden files.

Golden files live in tests/response/golden/ and are compared byte for byte. After an
intended change to the template, regenerate them and review the diff:

    ONWATCH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/response
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from response.facts import (
    ActionItem,
    AlertFact,
    IncidentFacts,
    Postmortem,
    Role,
    RoleAssignment,
    StatusUpdate,
    TimelineItem,
    UpdateStatus,
)
from response.postmortem import render_postmortem
from response.targets import ResponseTargets
from tests.support.golden_files import assert_golden
from tests.support.paths import GOLDEN as GOLDEN_DIR

GOLDEN = GOLDEN_DIR / "response"
TARGETS = ResponseTargets()
SECTIONS = [
    "## 1. Summary",
    "## 2. Impact",
    "## 3. Timeline",
    "## 4. Root cause analysis",
    "## 5. What went well",
    "## 6. What could be improved",
    "## 7. Action items",
]


def at(day: int, hour: int, minute: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def outage() -> IncidentFacts:
    """A SEV1 checkout outage across midnight UTC, resolved, its draft written, not reviewed."""
    return IncidentFacts(
        id=42,
        title="Checkout: card payments failing",
        service="checkout",
        severity="SEV1",
        channel="#inc-20261127-checkout-card-payments",
        status="resolved",
        opened_at=at(27, 23, 41),
        acknowledged_at=at(27, 23, 44),
        acknowledged_by="alice",
        resolved_at=at(28, 1, 6),
        resolved_by="alice",
        roles=(
            RoleAssignment(Role.COMMANDER, "alice", at(27, 23, 46), "alice"),
            RoleAssignment(Role.TECHNICAL_LEAD, "bob", at(27, 23, 47), "alice"),
            RoleAssignment(Role.COMMUNICATIONS_LEAD, "carol", at(27, 23, 47), "alice"),
        ),
        updates=(
            StatusUpdate(
                at(27, 23, 52),
                "carol",
                UpdateStatus.INVESTIGATING,
                "Card payments at checkout fail for about 40% of customers",
                "Checking the gateway dashboards and the 23:30 deploy",
                "next update 00:10 UTC",
            ),
            StatusUpdate(
                at(28, 0, 9),
                "carol",
                UpdateStatus.IDENTIFIED,
                "All card payments fail at checkout; PayPal orders go through",
                "Rolling back payments-api 4.12.0",
                "00:40 UTC",
            ),
            StatusUpdate(
                at(28, 0, 41),
                "carol",
                UpdateStatus.MONITORING,
                "",  # nothing new to say about impact: the draft keeps the previous one
                "Watching the error rate after the rollback",
                "01:10 UTC",
            ),
        ),
        postmortem=Postmortem(scheduled_at=at(28, 1, 6), drafted_at=at(28, 15, 20)),
    )


ALERTS = (
    AlertFact(
        name="PaymentsApiTLSErrors",
        severity="warning",
        status="resolved",
        service="payments-api",
        rule="severity-warning",
        starts_at=at(27, 23, 38),
        ends_at=at(28, 0, 55),
    ),
    AlertFact(
        name="CheckoutPaymentErrors",
        severity="critical",
        status="resolved",
        service="checkout",
        rule="revenue-impact",
        starts_at=at(27, 23, 39),
        ends_at=at(28, 0, 58),
        summary="Checkout payment error rate above 20%",
    ),
)

TIMELINE = (
    TimelineItem(
        at(27, 23, 41),
        "incident_opened",
        "Incident opened: CheckoutPaymentErrors (SEV1 by rule revenue-impact)",
    ),
    TimelineItem(at(27, 23, 41), "paged", "Paged alice (checkout primary) via PagerDuty"),
    TimelineItem(at(27, 23, 42), "alert_added", "Alert PaymentsApiTLSErrors joined the incident"),
    TimelineItem(at(27, 23, 44), "acknowledged", "Acknowledged by alice"),
    TimelineItem(at(27, 23, 46), "role_assigned", "alice is Incident Commander"),
    TimelineItem(
        at(27, 23, 47), "role_assigned", "bob is Technical Lead; carol is Communications Lead"
    ),
    TimelineItem(
        at(27, 23, 52),
        "status_update",
        "[SEV1] - checkout - Investigating | Impact: Card payments at checkout fail for about "
        "40% of customers (by carol)",
    ),
    TimelineItem(
        at(28, 0, 9),
        "status_update",
        "[SEV1] - checkout - Identified | Current action: Rolling back payments-api 4.12.0",
    ),
    TimelineItem(at(28, 0, 11), "checklist_ticked", "Mitigation attempted: rollback started"),
    TimelineItem(
        at(28, 0, 15), "checklist_ticked", "Customer communication sent: status page (dave)"
    ),
    TimelineItem(
        at(28, 0, 41),
        "status_update",
        "[SEV1] - checkout - Monitoring | Current action: Watching the error rate",
    ),
    TimelineItem(at(28, 1, 6), "incident_resolved", "Resolved by alice"),
)

ACTION_ITEMS = (
    ActionItem(
        id=7,
        title="Alert on TLS handshake failures towards the card gateway",
        owner="bob",
        due_at=at(4, 17, 0, month=12),
        status="closed",
        created_at=at(30, 10, 0),
        closed_at=at(3, 16, 30, month=12),
    ),
    ActionItem(
        id=8,
        title="Canary payments-api deploys against the gateway sandbox | before production",
        owner="erin",
        due_at=at(5, 17, 0, month=12),
        status="open",
        created_at=at(30, 10, 5),
    ),
)

NOW = at(8, 9, 0, month=12)  # the review is overdue, one action item too


@pytest.fixture
def slow_search() -> IncidentFacts:
    """A SEV3 search slowdown the monitoring resolved, with no updates or roles."""
    return IncidentFacts(
        id=51,
        title="Search suggestions slow",
        service="search",
        severity="SEV3",
        channel="",
        status="resolved",
        opened_at=at(20, 14, 2),
        acknowledged_at=at(20, 14, 30),
        acknowledged_by="frank",
        resolved_at=at(20, 16, 45),
    )


SEARCH_TIMELINE = (
    TimelineItem(at(20, 14, 2), "incident_opened", "Incident opened: SearchLatencyHigh (SEV3)"),
    TimelineItem(at(20, 14, 2), "paged", "Paged frank (search primary) via PagerDuty"),
    TimelineItem(at(20, 14, 10), "alert_added", "Alert SearchSuggestLatency joined the incident"),
    TimelineItem(at(20, 14, 30), "acknowledged", "Acknowledged by frank"),
    TimelineItem(at(20, 15, 0), "checklist_ticked", "Dashboards checked"),
    TimelineItem(at(20, 16, 45), "incident_resolved", "Resolved by Alertmanager"),
)


def sections(text: str) -> dict[str, str]:
    """The body of each "## " section, by heading."""
    parts = re.split(r"^(## .*)$", text, flags=re.MULTILINE)
    return {heading: body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_postmortem_sev1_golden(outage: IncidentFacts) -> None:
    text = render_postmortem(outage, ALERTS, TIMELINE, ACTION_ITEMS, TARGETS, NOW)
    assert_golden(GOLDEN / "postmortem_sev1.md", text)


def test_postmortem_sev3_golden(slow_search: IncidentFacts) -> None:
    alert = AlertFact(
        name="SearchSuggestLatency",
        severity="warning",
        status="resolved",
        service="search",
        rule="workaround-available",
        starts_at=at(20, 13, 58),
        ends_at=at(20, 16, 43),
    )
    text = render_postmortem(slow_search, (alert,), SEARCH_TIMELINE, (), TARGETS, at(21, 10, 0))
    assert_golden(GOLDEN / "postmortem_sev3.md", text)


def test_postmortem_has_the_seven_sections_in_order(outage: IncidentFacts) -> None:
    text = render_postmortem(outage, ALERTS, TIMELINE, ACTION_ITEMS, TARGETS, NOW)
    assert re.findall(r"^## .*$", text, flags=re.MULTILINE) == SECTIONS


def test_postmortem_header_has_blameless_principles_and_milestones(
    outage: IncidentFacts,
) -> None:
    text = render_postmortem(outage, ALERTS, TIMELINE, ACTION_ITEMS, TARGETS, NOW)
    header = text[: text.index("## 1. Summary")]
    for principle in (
        "Focus on systems, not individuals",
        '"How did the system allow this?" not "Who caused this?"',
        "All participants acted rationally with available information",
        "Goal is learning, not punishment",
    ):
        assert principle in header
    milestones = {
        cells[0]: cells[1:]
        for cells in (
            [c.strip() for c in line.strip("|").split("|")]
            for line in header.splitlines()
            if line.startswith("| ") and "UTC" in line
        )
    }
    assert milestones == {
        "Draft postmortem written within 48 hours": [
            "2026-11-30 01:06 UTC (2d after resolution)",
            "done 2026-11-28 15:20 UTC",
        ],
        "Postmortem review meeting held within 1 week": [
            "2026-12-05 01:06 UTC (7d after resolution)",
            "overdue",
        ],
        "Action items assigned and tracked within 2 weeks": [
            "2026-12-12 01:06 UTC (14d after resolution)",
            "done 2026-11-30 10:05 UTC",
        ],
        "Action items completed (or exceptions documented) within 30 days": [
            "2026-12-28 01:06 UTC (30d after resolution)",
            "pending (1 of 2 closed)",
        ],
    }


def test_postmortem_summary_is_guided_and_prefilled(outage: IncidentFacts) -> None:
    body = sections(render_postmortem(outage, ALERTS, TIMELINE, ACTION_ITEMS, TARGETS, NOW))
    summary = body["## 1. Summary"]
    guidance = re.search(r"<!--(.*?)-->", summary, flags=re.DOTALL)
    assert guidance is not None
    for part in ("5 sentences", "what happened", "impact", "detected", "resolved", "prevents"):
        assert part in guidance.group(1)
    assert (
        'On 2026-11-27 at 23:41 UTC, checkout had a SEV1 incident, "Checkout: card payments '
        'failing", detected by the alert PaymentsApiTLSErrors; it was resolved at '
        "2026-11-28 01:06 UTC, 1h 25m later." in summary
    )


def test_postmortem_impact_uses_the_worst_stated_impact_and_lists_alerts(
    outage: IncidentFacts,
) -> None:
    impact = sections(render_postmortem(outage, ALERTS, TIMELINE, ACTION_ITEMS, TARGETS, NOW))[
        "## 2. Impact"
    ]
    assert (
        "- **Users affected:** All card payments fail at checkout; PayPal orders go through "
        "(at its worst: update of 2026-11-28 00:09 UTC by carol)\n" in impact
    )
    assert "- **Duration:** 1h 25m, from 2026-11-27 23:41 UTC to 2026-11-28 01:06 UTC" in impact
    assert "- **Services:** checkout, payments-api" in impact
    assert (
        "| CheckoutPaymentErrors | critical | revenue-impact | 2026-11-27 23:39 UTC "
        "| 2026-11-28 00:58 UTC |" in impact
    )


def test_postmortem_impact_is_not_the_recovery_the_last_update_reports(
    outage: IncidentFacts,
) -> None:
    *before, monitoring = outage.updates
    recovered = replace(
        outage, updates=(*before, replace(monitoring, impact="errors back to baseline"))
    )
    impact = sections(render_postmortem(recovered, (), (), (), TARGETS, NOW))["## 2. Impact"]
    assert "baseline" not in impact
    assert (
        "- **Users affected:** All card payments fail at checkout; PayPal orders go through "
        "(at its worst: update of 2026-11-28 00:09 UTC by carol)\n" in impact
    )


def test_postmortem_impact_without_an_update_before_the_mitigation_is_the_last_stated(
    outage: IncidentFacts,
) -> None:
    monitoring = outage.updates[-1]
    first = replace(monitoring, impact="Card payments recovering")
    later = replace(monitoring, at=at(28, 0, 55), impact="errors back to baseline")
    quick = replace(outage, updates=(first, later))
    impact = sections(render_postmortem(quick, (), (), (), TARGETS, NOW))["## 2. Impact"]
    assert (
        "- **Users affected:** errors back to baseline "
        "(as last stated: update of 2026-11-28 00:55 UTC by carol)\n" in impact
    )


def test_postmortem_impact_to_be_filled_in_without_updates(outage: IncidentFacts) -> None:
    quiet = replace(outage, updates=())
    impact = sections(render_postmortem(quiet, (), (), (), TARGETS, NOW))["## 2. Impact"]
    assert "- **Users affected:** to be filled in" in impact
    assert "No alerts recorded." in impact


def test_sev1_timeline_is_minute_by_minute_with_day_lines(outage: IncidentFacts) -> None:
    timeline = sections(render_postmortem(outage, ALERTS, TIMELINE, ACTION_ITEMS, TARGETS, NOW))[
        "## 3. Timeline"
    ]
    entries = [line for line in timeline.splitlines() if line.startswith("- ")]
    assert len(entries) == len(TIMELINE)
    assert entries[1] == "- 23:41 UTC — Paged alice (checkout primary) via PagerDuty"
    assert timeline.index("**2026-11-27**") < timeline.index("- 23:41 UTC")
    assert timeline.index("- 23:52 UTC") < timeline.index("**2026-11-28**")
    assert timeline.index("**2026-11-28**") < timeline.index("- 00:09 UTC")


def test_sev3_timeline_keeps_only_key_events(slow_search: IncidentFacts) -> None:
    timeline = sections(render_postmortem(slow_search, (), SEARCH_TIMELINE, (), TARGETS, NOW))[
        "## 3. Timeline"
    ]
    entries = [line for line in timeline.splitlines() if line.startswith("- ")]
    assert entries == [
        "- 14:02 UTC — Incident opened: SearchLatencyHigh (SEV3)",
        "- 14:30 UTC — Acknowledged by frank",
        "- 16:45 UTC — Resolved by Alertmanager",
    ]
    assert "3 routine entries left out" in timeline


def test_timeline_is_sorted_and_multiline_messages_stay_in_their_entry(
    outage: IncidentFacts,
) -> None:
    timeline = (
        TimelineItem(at(28, 0, 30), "note", "second"),
        TimelineItem(at(28, 0, 10), "note", "first line\nsecond line"),
    )
    text = sections(render_postmortem(outage, (), timeline, (), TARGETS, NOW))["## 3. Timeline"]
    assert "- 00:10 UTC — first line\n  second line\n- 00:30 UTC — second\n" in text


def test_root_cause_has_a_five_whys_scaffold(outage: IncidentFacts) -> None:
    rca = sections(render_postmortem(outage, (), (), (), TARGETS, NOW))["## 4. Root cause analysis"]
    assert re.findall(r"^(\d)\. Why\?", rca, flags=re.MULTILINE) == ["1", "2", "3", "4", "5"]


def test_action_items_table_with_owner_due_date_and_guidance(outage: IncidentFacts) -> None:
    unowned = ActionItem(9, "Runbook for gateway TLS", None, None, "open", at(30, 10, 9))
    items = sections(render_postmortem(outage, (), (), (*ACTION_ITEMS, unowned), TARGETS, NOW))[
        "## 7. Action items"
    ]
    assert "every action item has an owner and a due date" in items.lower()
    rows = [line for line in items.splitlines() if re.match(r"\| \d", line)]
    assert rows == [
        "| 7 | Alert on TLS handshake failures towards the card gateway | bob "
        "| 2026-12-04 17:00 UTC | closed 2026-12-03 16:30 UTC |",
        "| 8 | Canary payments-api deploys against the gateway sandbox \\| before production "
        "| erin | 2026-12-05 17:00 UTC | open, overdue |",
        "| 9 | Runbook for gateway TLS | **no owner yet** | **no due date yet** | open |",
    ]


def test_milestones_mark_review_and_completion_done(outage: IncidentFacts) -> None:
    reviewed = replace(
        outage,
        postmortem=replace(outage.postmortem, reviewed_at=at(3, 14, 0, month=12)),
    )
    closed = tuple(
        replace(item, status="closed", closed_at=at(10, 12, 0, month=12)) for item in ACTION_ITEMS
    )
    text = render_postmortem(reviewed, (), (), closed, TARGETS, at(11, 9, 0, month=12))
    assert (
        "| Postmortem review meeting held within 1 week | 2026-12-05 01:06 UTC "
        "(7d after resolution) | done 2026-12-03" in text
    )
    assert (
        "| Action items completed (or exceptions documented) within 30 days | 2026-12-28 01:06 UTC"
        " (30d after resolution) | done 2026-12-10 12:00 UTC |" in text
    )


def test_milestones_follow_the_configured_targets(outage: IncidentFacts) -> None:
    targets = replace(TARGETS, postmortem_draft=timedelta(hours=24))
    text = render_postmortem(outage, (), (), (), targets, NOW)
    assert "| Draft postmortem written within 24 hours | 2026-11-29 01:06 UTC (1d after" in text


def test_open_incident_draft_says_so_and_runs_to_now(outage: IncidentFacts) -> None:
    still_open = replace(outage, status="open", resolved_at=None, resolved_by=None, postmortem=None)
    now = at(28, 0, 50)
    text = render_postmortem(still_open, ALERTS, TIMELINE[:8], (), TARGETS, now)
    header = text[: text.index("## 1. Summary")]
    assert "Incident still open: draft ahead of resolution" in header
    assert "- **Duration:** 1h 09m, from 2026-11-27 23:41 UTC to now, 2026-11-28 00:50 UTC" in text
    assert "it is still open after 1h 09m." in text
    assert "| Draft written | 2d after resolution | not started |" in header


def test_resolved_draft_does_not_say_still_open(outage: IncidentFacts) -> None:
    text = render_postmortem(outage, ALERTS, TIMELINE, ACTION_ITEMS, TARGETS, NOW)
    assert "still open" not in text.lower()


def test_milestone_exception_is_shown_when_items_are_not_all_closed(
    outage: IncidentFacts,
) -> None:
    assert outage.postmortem is not None
    excused = replace(
        outage,
        postmortem=replace(
            outage.postmortem,
            exception="Canary needs the\nnew gateway sandbox (Q1)",
            exception_at=at(27, 11, 0, month=12),
        ),
    )
    text = render_postmortem(excused, (), (), ACTION_ITEMS, TARGETS, at(30, 9, 0, month=12))
    assert (
        "| Action items completed (or exceptions documented) within 30 days | 2026-12-28 01:06 UTC"
        " (30d after resolution) | done 2026-12-27 11:00 UTC (exception: Canary needs the new "
        "gateway sandbox (Q1)) |" in text
    )


def test_multiline_title_stays_on_its_heading_line(outage: IncidentFacts) -> None:
    text = render_postmortem(
        replace(outage, title="Checkout down\nafter deploy"), (), (), (), TARGETS, NOW
    )
    assert text.startswith("# Postmortem: Checkout down after deploy\n")
