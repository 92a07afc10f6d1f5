"""Plain-text rendering of a decision, for ``onwatch rules test`` and logs, and the words a
decision uses for its matchers."""

from __future__ import annotations

from collections.abc import Mapping

from rules.defaults import AT_LEAST_50_PERCENT, OVER_10_PERCENT
from rules.engine import NO_RULE_MATCHED, Decision
from rules.matchers import Matcher, MatchOp

# Alertmanager's matchers cannot compare numbers, so the default rules write their numeric
# thresholds as regexes over plain decimals (rules/defaults.py). The regex is what matches;
# the comparison is what a person reads. Keyed by the exact regex, so a rule of the user's
# that copies it reads the same, and any other regex is shown as written.
_COMPARISONS: Mapping[str, str] = {AT_LEAST_50_PERCENT: ">= 50", OVER_10_PERCENT: "> 10"}

_INDENT = " " * len("matched:  ")


def format_decision(
    labels: Mapping[str, str], annotations: Mapping[str, str], decision: Decision
) -> str:
    """Show what was decided for an alert and why, so a rule author can check a rule set."""
    lines = [f"alert:    {labels.get('alertname') or '(no alertname label)'}"]
    summary = annotations.get("summary")
    if summary:
        # A multi-line summary would break the one-field-per-line layout.
        lines.append(f"summary:  {one_line(summary)}")
    lines += [
        f"severity: {decision.severity}",
        f"service:  {decision.service}",
        f"rule:     {decision.rule}",
    ]
    if decision.matched:
        first, *rest = decision.matched
        lines.append(f"matched:  {first}")
        lines += [_INDENT + text for text in rest]
    elif decision.rule == NO_RULE_MATCHED:
        lines.append("matched:  (no rule matched)")
    else:
        lines.append("matched:  (catch-all rule, no matchers)")
    lines.append(f"why:      {decision.explain()}")
    return "\n".join(lines)


def describe_matcher(matcher: Matcher) -> str:
    """A matcher as a decision shows it: ``impact_users_percent >= 50`` for a threshold regex
    of the default rules (``not impact_users_percent >= 50`` for its ``!~``), else the
    matcher in Alertmanager's syntax (``severity=~"(?i:critical|page)"``).

    Only the words change: the rule still matches with its regex, which accepts plain
    decimals only (``12``, ``12.5``; not ``12%``), as rules/defaults.py says.
    """
    comparison = _COMPARISONS.get(matcher.value) if matcher.op.is_regex else None
    if comparison is None:
        return str(matcher)
    text = f"{matcher.name} {comparison}"
    return text if matcher.op is MatchOp.REGEX else f"not {text}"


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) made one space."""
    return " ".join(text.split())
