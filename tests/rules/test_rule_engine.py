"""Rule engine: ordered first-match rules, service routing, fallback and explanations."""

from __future__ import annotations

import pytest

from rules import Decision, Rule, RuleSet, Severity, parse_matchers


def rule(
    name: str,
    severity: Severity,
    *labels: str,
    annotations: tuple[str, ...] = (),
    service: str | None = None,
) -> Rule:
    return Rule(
        name=name,
        severity=severity,
        label_matchers=parse_matchers(labels),
        annotation_matchers=parse_matchers(annotations),
        service=service,
    )


def test_rule_without_matchers_matches_everything() -> None:
    catch_all = rule("anything", Severity.SEV3)
    assert catch_all.matches({}, {})
    assert catch_all.matches({"a": "b"}, {"summary": "x"})


def test_rule_needs_all_label_and_annotation_matchers() -> None:
    both = rule("both", Severity.SEV2, 'env="prod"', "team=~pay.*", annotations=('runbook!=""',))
    labels = {"env": "prod", "team": "payments"}
    assert both.matches(labels, {"runbook": "https://x"})
    assert not both.matches(labels, {})
    assert not both.matches({"env": "prod"}, {"runbook": "https://x"})
    # Annotations are checked against annotations only, never against labels.
    assert not both.matches({**labels, "runbook": "https://x"}, {})


def test_rule_rejects_empty_name_and_empty_service() -> None:
    with pytest.raises(ValueError, match="non-empty name"):
        Rule(name="", severity=Severity.SEV1)
    with pytest.raises(ValueError, match='rule "r": service must be None or non-empty'):
        Rule(name="r", severity=Severity.SEV1, service="")


def test_rule_stores_matchers_as_tuples() -> None:
    built = Rule(name="r", severity=Severity.SEV1, label_matchers=list(parse_matchers(["a=1"])))
    assert built.label_matchers == parse_matchers(["a=1"])
    assert hash(built) == hash(
        Rule(name="r", severity=Severity.SEV1, label_matchers=parse_matchers(["a=1"]))
    )


def test_ruleset_first_matching_rule_wins() -> None:
    rules = RuleSet(
        (
            rule("specific", Severity.SEV1, 'env="prod"', 'impact="total"'),
            rule("prod", Severity.SEV2, 'env="prod"'),
            rule("also-prod", Severity.SEV1, 'env="prod"'),
        )
    )
    assert rules.decide({"env": "prod", "impact": "total"}, {}).rule == "specific"
    assert rules.decide({"env": "prod"}, {}).rule == "prod"
    assert rules.decide({"env": "prod"}, {}).severity is Severity.SEV2


def test_ruleset_decision_lists_matched_matchers_with_annotation_prefix() -> None:
    rules = RuleSet(
        (rule("r", Severity.SEV2, 'env="prod"', annotations=('summary=~".*"', 'runbook!=""')),)
    )
    decision = rules.decide({"env": "prod", "service": "api"}, {"runbook": "x"})
    assert decision == Decision(
        severity=Severity.SEV2,
        service="api",
        rule="r",
        matched=('env="prod"', 'annotations.summary=~".*"', 'annotations.runbook!=""'),
    )


@pytest.mark.parametrize(
    ("rule_service", "labels", "expected"),
    [
        ("payments", {"service": "checkout"}, "payments"),
        ("payments", {}, "payments"),
        (None, {"service": "checkout"}, "checkout"),
        (None, {"service": ""}, "unrouted"),
        (None, {}, "unrouted"),
        (None, {"app": "checkout"}, "unrouted"),
    ],
)
def test_ruleset_resolves_service_rule_then_label_then_default(
    rule_service: str | None, labels: dict[str, str], expected: str
) -> None:
    rules = RuleSet((rule("r", Severity.SEV3, service=rule_service),))
    assert rules.decide(labels, {}).service == expected


def test_ruleset_uses_configured_service_label_and_default() -> None:
    rules = RuleSet((rule("r", Severity.SEV3),), service_label="app", default_service="platform")
    assert rules.decide({"app": "web", "service": "ignored"}, {}).service == "web"
    assert rules.decide({"service": "ignored"}, {}).service == "platform"


def test_ruleset_falls_back_when_no_rule_matches() -> None:
    rules = RuleSet((rule("prod", Severity.SEV1, 'env="prod"'),), fallback_severity=Severity.SEV4)
    decision = rules.decide({"env": "dev", "service": "api"}, {})
    assert decision == Decision(
        severity=Severity.SEV4, service="api", rule="no-rule-matched", matched=()
    )


def test_ruleset_default_fallback_is_sev3_and_empty_ruleset_works() -> None:
    decision = RuleSet(()).decide({}, {})
    assert (decision.severity, decision.service, decision.rule) == (
        Severity.SEV3,
        "unrouted",
        "no-rule-matched",
    )


def test_ruleset_rejects_duplicate_rule_names() -> None:
    with pytest.raises(ValueError, match='duplicate rule name "prod"'):
        RuleSet(
            (
                rule("prod", Severity.SEV1, 'env="prod"'),
                rule("other", Severity.SEV2),
                rule("prod", Severity.SEV3),
            )
        )


def test_ruleset_rejects_reserved_fallback_name() -> None:
    with pytest.raises(ValueError, match='"no-rule-matched" is reserved'):
        RuleSet((rule("no-rule-matched", Severity.SEV1),))


def test_ruleset_accepts_a_list_of_rules() -> None:
    rules = RuleSet([rule("r", Severity.SEV2)])  # type: ignore[arg-type]
    assert isinstance(rules.rules, tuple)
    assert rules.decide({}, {}).rule == "r"


@pytest.mark.parametrize(
    ("decision", "sentence"),
    [
        (
            Decision(
                Severity.SEV2,
                "checkout",
                "critical-workflow-broken",
                ('impact_critical_workflow="true"',),
            ),
            'SEV2 by rule "critical-workflow-broken" (impact_critical_workflow="true"); '
            'routed to service "checkout"',
        ),
        (
            Decision(Severity.SEV1, "api", "r", ('env="prod"', 'annotations.summary=~".*"')),
            'SEV1 by rule "r" (env="prod", annotations.summary=~".*"); routed to service "api"',
        ),
        (
            Decision(Severity.SEV3, "minimal", "unclassified", ()),
            'SEV3 by rule "unclassified" (catch-all, no matchers); routed to service "minimal"',
        ),
        (
            Decision(Severity.SEV3, "unrouted", "no-rule-matched", ()),
            'SEV3 by fallback: no rule matched; routed to service "unrouted"',
        ),
    ],
)
def test_decision_explain_is_one_sentence(decision: Decision, sentence: str) -> None:
    assert decision.explain() == sentence
