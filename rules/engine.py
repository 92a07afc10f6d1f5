"""Ordered severity rules: the first rule whose matchers all hold grades the alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rules.matchers import Matcher
from rules.severity import Severity

NO_RULE_MATCHED = "no-rule-matched"
ANNOTATION_PREFIX = "annotations."


@dataclass(frozen=True)
class Rule:
    """One branch of the grading policy: when these matchers hold, the alert is this severe."""

    name: str
    severity: Severity
    label_matchers: tuple[Matcher, ...] = ()
    annotation_matchers: tuple[Matcher, ...] = ()
    service: str | None = None
    description: str = ""
    # `describe_matchers`, worked out on first use: every decision by this rule shows it.
    _described: tuple[str, ...] | None = field(
        init=False, default=None, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a rule needs a non-empty name")
        if self.service == "":
            raise ValueError(f'rule "{self.name}": service must be None or non-empty')
        # Accept lists from config loaders but store tuples, so rules stay hashable values.
        object.__setattr__(self, "label_matchers", tuple(self.label_matchers))
        object.__setattr__(self, "annotation_matchers", tuple(self.annotation_matchers))

    def matches(self, labels: Mapping[str, str], annotations: Mapping[str, str]) -> bool:
        """Whether every matcher holds; a rule without matchers is a catch-all."""
        # Loops rather than all(generator): this runs for every rule tried on every alert.
        for matcher in self.label_matchers:
            if not matcher.matches(labels):
                return False
        for matcher in self.annotation_matchers:  # noqa: SIM110 (all() is the slower form)
            if not matcher.matches(annotations):
                return False
        return True

    def describe_matchers(self) -> tuple[str, ...]:
        """The matchers as text, annotations prefixed, so a decision can show its evidence.

        In the words of `rules.explain.describe_matcher`: a threshold regex of the default
        rules reads ``impact_users_percent >= 50``, not the regex that implements it.
        """
        if self._described is None:
            # Imported here: rules.explain imports this module (and the defaults built on it).
            from rules.explain import describe_matcher

            described = tuple(describe_matcher(m) for m in self.label_matchers) + tuple(
                ANNOTATION_PREFIX + describe_matcher(m) for m in self.annotation_matchers
            )
            object.__setattr__(self, "_described", described)
            return described
        return self._described


@dataclass(frozen=True)
class Decision:
    """The grade of one alert and the evidence for it, so on-call can see why it paged."""

    severity: Severity
    service: str
    rule: str
    matched: tuple[str, ...]

    def explain(self) -> str:
        """One sentence that justifies the severity to a human."""
        routed = f'routed to service "{self.service}"'
        if self.rule == NO_RULE_MATCHED:
            return f"{self.severity} by fallback: no rule matched; {routed}"
        evidence = ", ".join(self.matched) if self.matched else "catch-all, no matchers"
        return f'{self.severity} by rule "{self.rule}" ({evidence}); {routed}'


@dataclass(frozen=True)
class RuleSet:
    """An ordered policy plus how to route alerts to a service; first match wins."""

    rules: tuple[Rule, ...]
    service_label: str = "service"
    default_service: str = "unrouted"
    fallback_severity: Severity = Severity.SEV3

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name == NO_RULE_MATCHED:
                # Reserved: a decision carrying it means "nothing matched", not this rule.
                raise ValueError(f'rule name "{NO_RULE_MATCHED}" is reserved for the fallback')
            if rule.name in seen:
                raise ValueError(f'duplicate rule name "{rule.name}" in rule set')
            seen.add(rule.name)

    def decide(self, labels: Mapping[str, str], annotations: Mapping[str, str]) -> Decision:
        """Grade one alert by its labels and annotations and pick the service that owns it."""
        for rule in self.rules:
            if rule.matches(labels, annotations):
                return Decision(
                    severity=rule.severity,
                    service=rule.service or self._service_from(labels),
                    rule=rule.name,
                    matched=rule.describe_matchers(),
                )
        return Decision(
            severity=self.fallback_severity,
            service=self._service_from(labels),
            rule=NO_RULE_MATCHED,
            matched=(),
        )

    def _service_from(self, labels: Mapping[str, str]) -> str:
        # An empty label is as good as none: Alertmanager itself treats them the same.
        return labels.get(self.service_label) or self.default_service
