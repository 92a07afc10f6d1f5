"""Status updates and all-clears: the built-in templates (golden files) and user templates.

Golden files live in tests/response/golden/ and are compared byte for byte. After an
intended change to a template, regenerate them and review the diff:

    ONWATCH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/response
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from response import rendering
from response.facts import (
    IncidentFacts,
    Postmortem,
    Role,
    RoleAssignment,
    SeverityChange,
    StatusUpdate,
    Tick,
    UpdateStatus,
)
from response.rendering import (
    CONTEXT_VARIABLES,
    RenderedMessage,
    TemplateError,
    Templates,
    check_template,
    worst_impact,
    worst_update,
)
from tests.support.golden_files import assert_golden
from tests.support.paths import GOLDEN as GOLDEN_DIR

GOLDEN = GOLDEN_DIR / "response"
FOUR_HOURS = timedelta(hours=4)


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


INVESTIGATING = StatusUpdate(
    at(27, 23, 52),
    "carol",
    UpdateStatus.INVESTIGATING,
    "Card payments at checkout fail for about 40% of customers; PayPal orders go through",
    "Checking the payment gateway dashboards and the 23:30 payments-api deploy",
    "next update 00:10 UTC",
)
IDENTIFIED = StatusUpdate(
    at(28, 0, 9),
    "carol",
    UpdateStatus.IDENTIFIED,
    "All card payments fail at checkout; PayPal orders go through",
    "Rolling back payments-api 4.12.0 (bad TLS settings towards the card gateway)",
    "00:40 UTC",
)
MONITORING = StatusUpdate(
    at(28, 0, 41),
    "carol",
    UpdateStatus.MONITORING,
    "Card payments recovering; checkout error rate back under 1%",
    "Watching the error rate and the payment retry queue after the rollback",
    "resolution expected 01:10 UTC",
)


@pytest.fixture
def outage() -> IncidentFacts:
    """A SEV1 checkout outage across midnight UTC, as it stands right after the second update."""
    return IncidentFacts(
        id=42,
        title="Checkout: card payments failing",
        service="checkout",
        severity="SEV1",
        channel="#inc-20261127-checkout-card-payments",
        status="open",
        opened_at=at(27, 23, 41),
        acknowledged_at=at(27, 23, 44),
        acknowledged_by="alice",
        roles=(
            RoleAssignment(Role.COMMANDER, "alice", at(27, 23, 46), "alice"),
            RoleAssignment(Role.TECHNICAL_LEAD, "bob", at(27, 23, 47), "alice"),
            RoleAssignment(Role.COMMUNICATIONS_LEAD, "carol", at(27, 23, 47), "alice"),
        ),
        updates=(INVESTIGATING, IDENTIFIED),
        ticks=(
            Tick("war_room", at(27, 23, 48), "alice", "https://meet.example.com/inc-42"),
            Tick("customer_communication", at(28, 0, 15), "dave", "status page"),
        ),
    )


@pytest.fixture
def resolved(outage: IncidentFacts) -> IncidentFacts:
    """The same outage once resolved at 01:06 UTC, with its postmortem scheduled."""
    return replace(
        outage,
        status="resolved",
        resolved_at=at(28, 1, 6),
        resolved_by="alice",
        updates=(INVESTIGATING, IDENTIFIED, MONITORING),
        postmortem=Postmortem(scheduled_at=at(28, 1, 6)),
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_internal_update_golden(outage: IncidentFacts) -> None:
    message = Templates().status_update("internal", outage, IDENTIFIED, at(28, 0, 9))
    assert message.subject == "[SEV1] checkout: Identified — Checkout: card payments failing"
    assert message.text.splitlines()[:4] == [
        "[SEV1] - checkout - Identified",
        f"Impact: {IDENTIFIED.impact}",
        f"Current action: {IDENTIFIED.current_action}",
        "ETA: 00:40 UTC",
    ]
    assert_golden(GOLDEN / "internal_update.txt", message.text)


def test_executive_update_golden(outage: IncidentFacts) -> None:
    message = Templates().status_update(
        "executive", outage, IDENTIFIED, at(28, 0, 9), mttr_target=FOUR_HOURS
    )
    assert message.subject == "[SEV1] Executive update: Checkout: card payments failing"
    assert_golden(GOLDEN / "executive_update.txt", message.text)


def test_all_clear_internal_golden(resolved: IncidentFacts) -> None:
    message = Templates().all_clear("internal", resolved, at(28, 1, 7), FOUR_HOURS)
    assert message.subject == "[SEV1] checkout: Resolved — Checkout: card payments failing"
    lines = message.text.splitlines()
    assert lines[0] == "[SEV1] - checkout - Resolved"
    assert lines[1].startswith(f"Impact: {IDENTIFIED.impact} (at its worst; for 1h 25m")
    assert lines[2].startswith("Current action: All clear: service restored")
    assert lines[3] == "ETA: n/a"
    assert_golden(GOLDEN / "all_clear_internal.txt", message.text)


def test_all_clear_executive_golden(resolved: IncidentFacts) -> None:
    message = Templates().all_clear("executive", resolved, at(28, 1, 7), FOUR_HOURS)
    assert message.subject == "[SEV1] Executive update: Checkout: card payments failing (resolved)"
    assert_golden(GOLDEN / "all_clear_executive.txt", message.text)


def test_executive_update_sections_in_order(outage: IncidentFacts) -> None:
    text = Templates().status_update("executive", outage, IDENTIFIED, at(28, 0, 9)).text
    positions = [text.index(s) for s in ("Business impact", "Customer communication", "Timeline")]
    assert positions == sorted(positions)
    assert (
        '"Customer communication drafted if needed" ticked 00:15 UTC by dave: status page' in text
    )
    assert "- 2026-11-27 23:41 UTC: Opened" in text
    assert "- 00:09 UTC: Identified (update by carol)" in text


def test_executive_update_without_customer_tick_says_it_is_not_ticked(
    outage: IncidentFacts,
) -> None:
    quiet = replace(outage, ticks=())
    text = Templates().status_update("executive", quiet, IDENTIFIED, at(28, 0, 9)).text
    assert (
        'Customer communication\n"Customer communication drafted if needed" not ticked yet\n'
        in text
    )


def test_executive_update_says_what_was_ticked_not_that_customers_were_told(
    outage: IncidentFacts,
) -> None:
    # The item is "drafted if needed": a tick with the note "drafted" is a draft, and the
    # executives must not read that customers were informed.
    drafted = replace(
        outage, ticks=(Tick("customer_communication", at(28, 0, 15), "dave", "drafted"),)
    )
    text = Templates().status_update("executive", drafted, IDENTIFIED, at(28, 0, 9)).text
    assert "Customers informed" not in text
    assert (
        'Customer communication\n"Customer communication drafted if needed" ticked 00:15 UTC '
        "by dave: drafted\n" in text
    )
    bare = replace(outage, ticks=(Tick("customer_communication", at(28, 0, 15), "dave"),))
    text = Templates().status_update("executive", bare, IDENTIFIED, at(28, 0, 9)).text
    assert "ticked 00:15 UTC by dave (no note)\n" in text


def test_all_clear_states_the_impact_at_its_worst_not_the_recovery(
    resolved: IncidentFacts,
) -> None:
    recovered = replace(
        resolved,
        updates=(INVESTIGATING, IDENTIFIED, replace(MONITORING, impact="errors back to baseline")),
    )
    templates = Templates()
    internal = templates.all_clear("internal", recovered, at(28, 1, 7), FOUR_HOURS).text
    executive = templates.all_clear("executive", recovered, at(28, 1, 7), FOUR_HOURS).text
    assert "baseline" not in internal and "baseline" not in executive
    assert internal.splitlines()[1].startswith(f"Impact: {IDENTIFIED.impact} (at its worst;")
    assert f"Business impact at its worst\n{IDENTIFIED.impact}\n" in executive
    # A status update still says the impact as it is now.
    update = templates.status_update("executive", recovered, MONITORING, at(28, 0, 41)).text
    assert f"Business impact\n{MONITORING.impact}\n" in update


def test_worst_update_is_the_last_before_the_first_mitigation() -> None:
    later = replace(IDENTIFIED, at=at(28, 0, 20), impact="Card payments fail for 60%")
    recovered = replace(MONITORING, impact="errors back to baseline")
    resolved_update = replace(MONITORING, at=at(28, 1, 0), status=UpdateStatus.RESOLVED)
    assert worst_update((INVESTIGATING, IDENTIFIED, later, recovered)) == later
    # Order-independent, and an investigating update after the mitigation does not count.
    relapse = replace(INVESTIGATING, at=at(28, 0, 50), impact="Retries slow")
    assert worst_update((relapse, recovered, IDENTIFIED, INVESTIGATING)) == IDENTIFIED
    # An update without an impact is passed over.
    silent = replace(later, impact="  ")
    assert worst_update((IDENTIFIED, silent, recovered)) == IDENTIFIED
    assert worst_update((INVESTIGATING, resolved_update)) == INVESTIGATING


def test_worst_update_falls_back_to_the_latest_stated_impact() -> None:
    # No mitigation reported yet: the latest word.
    assert worst_update((INVESTIGATING, IDENTIFIED)) == IDENTIFIED
    # The first update already reported the mitigation: nothing before it, the latest word.
    later = replace(MONITORING, at=at(28, 1, 0), impact="errors back to baseline")
    assert worst_update((MONITORING, later)) == later
    assert worst_update(()) is None
    assert worst_impact(()) == ""


def test_executive_update_shows_severity_changes_in_its_timeline(
    outage: IncidentFacts,
) -> None:
    changed = replace(
        outage,
        severity="SEV2",
        severity_changes=(
            SeverityChange(at(28, 0, 5), "SEV1", "SEV2", "alice", "PayPal still\nworks"),
            SeverityChange(at(27, 23, 50), "SEV2", "SEV1", "", "rule revenue-impact"),
        ),
    )
    text = Templates().status_update("executive", changed, IDENTIFIED, at(28, 0, 9)).text
    timeline = text[text.index("Timeline\n") :].splitlines()
    assert timeline[3:7] == [
        "- 2026-11-27 23:50 UTC: Severity raised from SEV2 to SEV1 by a new alert "
        "(rule revenue-impact)",
        "- 2026-11-27 23:52 UTC: Investigating (update by carol)",
        "- 00:05 UTC: Severity lowered from SEV1 to SEV2 by alice (PayPal still works)",
        "- 00:09 UTC: Identified (update by carol)",
    ]
    assert text.startswith("[SEV2] Executive update")
    all_clear = (
        Templates()
        .all_clear(
            "executive", replace(changed, resolved_at=at(28, 1, 6)), at(28, 1, 7), FOUR_HOURS
        )
        .text
    )
    assert "- 00:05 UTC: Severity lowered from SEV1 to SEV2 by alice (PayPal still works)" in (
        all_clear
    )


def test_user_template_can_list_severity_changes(tmp_path: Path, outage: IncidentFacts) -> None:
    path = write(
        tmp_path / "executive.j2",
        "{% for c in severity_changes %}{{ c.previous }}->{{ c.severity }} {{ c.verb }}"
        "{% endfor %}\n",
    )
    changed = replace(
        outage, severity_changes=(SeverityChange(at(28, 0, 5), "SEV1", "SEV2", "alice", "x"),)
    )
    message = Templates(executive=path).status_update(
        "executive", changed, IDENTIFIED, at(28, 0, 9)
    )
    assert message.text == "SEV1->SEV2 lowered"  # trim_blocks eats the newline after a tag


def test_update_is_listed_once_whether_or_not_facts_already_hold_it(
    outage: IncidentFacts,
) -> None:
    before = replace(outage, updates=(INVESTIGATING,))
    templates = Templates()
    stored = templates.status_update("executive", outage, IDENTIFIED, at(28, 0, 9))
    unstored = templates.status_update("executive", before, IDENTIFIED, at(28, 0, 9))
    assert stored == unstored
    assert stored.text.count("Identified (update by carol)") == 1


def test_all_clear_reports_a_missed_mttr_target(resolved: IncidentFacts) -> None:
    message = Templates().all_clear("executive", resolved, at(28, 1, 7), timedelta(hours=1))
    assert "1h 25m against a target of 1h: target missed" in message.text


def test_all_clear_resolved_by_monitoring(resolved: IncidentFacts) -> None:
    by_monitoring = replace(resolved, resolved_by=None, postmortem=None)
    templates = Templates()
    internal = templates.all_clear("internal", by_monitoring, at(28, 1, 7), FOUR_HOURS).text
    executive = templates.all_clear("executive", by_monitoring, at(28, 1, 7), FOUR_HOURS).text
    assert "Current action: All clear: service restored\n" in internal
    assert "01:06 UTC: Resolved (the monitoring reports recovery)" in executive


def test_long_impact_is_kept_intact(outage: IncidentFacts) -> None:
    impact = " ".join(f"region-{n:03d} checkout payments failing;" for n in range(35))
    assert len(impact) > 1000
    update = replace(IDENTIFIED, impact=impact)
    templates = Templates()
    for name in ("internal", "executive"):
        message = templates.status_update(name, outage, update, at(28, 0, 9))
        assert impact in message.text


@pytest.mark.parametrize("name", ["internal", "executive"])
def test_subject_is_one_line_even_for_a_multiline_title(
    outage: IncidentFacts, name: rendering.TemplateName
) -> None:
    messy = replace(outage, title="Checkout down\nsince the\r\n23:30 deploy\t(payments)")
    templates = Templates()
    for message in (
        templates.status_update(name, messy, IDENTIFIED, at(28, 0, 9)),
        templates.all_clear(
            name, replace(messy, resolved_at=at(28, 1, 6)), at(28, 1, 6), FOUR_HOURS
        ),
    ):
        assert "\n" not in message.subject and "\r" not in message.subject
        assert "Checkout down since the 23:30 deploy (payments)" in message.subject


def test_user_template_replaces_the_builtin(tmp_path: Path, outage: IncidentFacts) -> None:
    path = write(
        tmp_path / "internal.j2",
        "{% set subject = incident.severity ~ ' ' ~ status ~ ': ' ~ incident.title %}\n"
        "*{{ incident.service }}* is {{ status | lower }} (IC {{ roles.commander.person }})\n"
        "{{ update.impact if update else last_impact }}; since {{ incident.opened_at | clock }}\n",
    )
    templates = Templates(internal=path)
    message = templates.status_update("internal", outage, IDENTIFIED, at(28, 0, 9))
    assert message == RenderedMessage(
        subject="SEV1 Identified: Checkout: card payments failing",
        text="*checkout* is identified (IC alice)\n"
        f"{IDENTIFIED.impact}; since 2026-11-27 23:41 UTC\n",
    )
    # The other template stays the built-in one.
    executive = templates.status_update("executive", outage, IDENTIFIED, at(28, 0, 9))
    assert executive.text.startswith("[SEV1] Executive update:")


def test_user_template_without_subject_gets_the_builtin_subject(
    tmp_path: Path, outage: IncidentFacts
) -> None:
    path = write(tmp_path / "exec.j2", "{{ incident.title }}\n")
    message = Templates(executive=path).status_update("executive", outage, IDENTIFIED, at(28, 0, 9))
    assert message.subject == "[SEV1] Executive update: Checkout: card payments failing"


def test_unknown_variable_is_a_template_error_naming_it_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "internal.j2", "[{{ incident.severity }}]\nImpact: {{ impcat }}\n")
    with pytest.raises(TemplateError) as caught:
        check_template(path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 2" in message
    assert "'impcat'" in message


def test_unknown_attribute_is_a_template_error_naming_it_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "internal.j2", "{{ incident.title }}\n\n{{ incident.owner }}\n")
    with pytest.raises(TemplateError) as caught:
        Templates(internal=path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 3" in message
    assert "owner" in message


def test_template_failing_only_for_the_all_clear_is_reported_at_start(tmp_path: Path) -> None:
    # `update` is None in an all-clear: a template that forgets it must fail at load, not
    # when the incident is resolved and the all-clear is lost.
    path = write(tmp_path / "internal.j2", "{{ incident.title }}\n{{ update.impact | upper }}\n")
    with pytest.raises(TemplateError, match=r"line 2.*all-clear"):
        check_template(path)


def test_syntax_error_is_a_template_error_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "executive.j2",
        "{{ incident.title }}\n{% if kind == 'update' %}\n{{ update.impact }\n{% endif %}\n",
    )
    with pytest.raises(TemplateError) as caught:
        check_template(path)
    message = str(caught.value)
    assert str(path) in message
    assert re.search(r"line 3\b", message), message
    assert "syntax error" in message


def test_missing_file_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        check_template(tmp_path / "nope.j2")


def test_render_time_failure_is_a_template_error(tmp_path: Path, outage: IncidentFacts) -> None:
    # A failure the sample renders cannot see (it depends on this incident's data).
    path = write(
        tmp_path / "internal.j2",
        "{% if incident.id == 42 %}{{ 1 // (incident.id - 42) }}{% endif %}\n",
    )
    templates = Templates(internal=path)
    with pytest.raises(TemplateError, match=r"line 1: ZeroDivisionError"):
        templates.status_update("internal", outage, IDENTIFIED, at(28, 0, 9))


def test_builtin_templates_pass_their_own_check() -> None:
    for name in ("internal", "executive"):
        check_template(rendering.TEMPLATE_DIR / f"{name}.j2")


@pytest.mark.parametrize("name", ["internal.j2", "executive.j2"])
def test_builtin_templates_document_every_context_variable(name: str) -> None:
    source = (rendering.TEMPLATE_DIR / name).read_text(encoding="utf-8")
    comment = source[: source.index("#}")]
    docstring = rendering.__doc__ or ""
    for variable in CONTEXT_VARIABLES:
        assert re.search(rf"^\s+{variable}\s", comment, re.MULTILINE), (name, variable)
        assert re.search(rf"^\s+{variable}\s", docstring, re.MULTILINE), variable


def test_context_holds_exactly_the_documented_variables(outage: IncidentFacts) -> None:
    context = rendering.message_context(outage, IDENTIFIED, at(28, 0, 9), FOUR_HOURS)
    assert set(context) == set(CONTEXT_VARIABLES)


def test_user_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    path = write(tmp_path / "internal.j2", "{{ incident.__class__.__mro__ }}\n")
    with pytest.raises(TemplateError, match=r"line 1: .*unsafe"):
        check_template(path)
