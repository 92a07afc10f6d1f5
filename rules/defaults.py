"""The built-in grading policy: the seed's severity decision tree on ``impact_*`` labels.

Alert rules declare impact with these label conventions (values are exact and lowercase):

- ``impact_revenue="true"`` -> SEV1, ``revenue-impact`` (seed tree step 1)
- ``impact_data_loss="true"`` -> SEV1, ``data-loss-risk`` (seed SEV1 "data loss risk")
- ``impact_outage="complete"`` -> SEV1, ``complete-outage`` (seed SEV1 "complete outage")
- ``impact_users_percent`` >= 50 -> SEV1, ``most-users-affected`` (seed step 2, upper half)
- ``impact_users_percent`` > 10 -> SEV2, ``many-users-affected`` (seed step 2, lower half)
- ``impact_critical_workflow="true"`` -> SEV2, ``critical-workflow-broken`` (seed step 3)
- ``impact_workaround="true"`` -> SEV3, ``workaround-available`` (seed step 4)
- ``impact_users="none"`` -> SEV4, ``no-user-impact`` (seed step 5)
- ``severity`` critical or page, any case -> SEV2, ``severity-critical`` (fallback)
- ``severity`` warning or error, any case -> SEV3, ``severity-warning`` (fallback)
- ``severity`` info or none, any case -> SEV4, ``severity-info`` (fallback)
- anything else -> SEV3, ``unclassified`` (catch-all, no matchers)

Rules are tried in this order and the first match wins, so the tree's questions are asked in
the seed's order and explicit ``impact_*`` labels always beat the generic ``severity`` label.

``impact_users_percent`` is a plain decimal: digits with an optional fraction (``12``,
``12.5``, ``050``). Leading zeros are allowed and mean what ``float()`` says; signs, exponents,
a ``%`` suffix, ``.5`` and ``12.`` are not numbers here and so never match. Alertmanager's
matchers cannot compare numbers, so the thresholds are anchored regexes (``[.]`` rather than
``\\.`` keeps them free of escapes, so they paste into ``alertmanager.yml`` unchanged).

The seed's step 2 says ">10% of users -> SEV1-2" without a split; we call half or more of the
users SEV1 (that is an outage for most customers) and the rest above 10% SEV2.

A plain ``severity="critical"`` says nothing about revenue or the share of users affected, so
it pages promptly (SEV2, < 15 min) but does not claim SEV1 and its exec communication. An alert
we know nothing about is SEV3: looked at within the hour, not quietly queued for tomorrow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rules.engine import Rule
from rules.matchers import parse_matchers
from rules.severity import Severity

USERS_PERCENT_LABEL = "impact_users_percent"
# What the users-percent rules read as a number: digits with an optional fraction.
PLAIN_DECIMAL = re.compile(r"[0-9]+(?:[.][0-9]+)?")
# A decimal >= 50: three or more integer digits (>= 100), or 50-99; any fraction.
AT_LEAST_50_PERCENT = r"0*(?:[1-9][0-9]{2,}|[5-9][0-9])(?:[.][0-9]+)?"
# A decimal > 10: >= 100 or 11-99 with any fraction, or 10 with a fraction that is not all 0s.
OVER_10_PERCENT = r"0*(?:(?:[1-9][0-9]{2,}|1[1-9]|[2-9][0-9])(?:[.][0-9]+)?|10[.]0*[1-9][0-9]*)"


def default_rules() -> tuple[Rule, ...]:
    """The seed's decision tree as ordered rules, so a fresh install grades sensibly."""
    return (
        _rule(
            "revenue-impact",
            Severity.SEV1,
            'impact_revenue="true"',
            description="Revenue is directly impacted (seed decision tree step 1).",
        ),
        _rule(
            "data-loss-risk",
            Severity.SEV1,
            'impact_data_loss="true"',
            description="Data may be lost (seed SEV1 definition).",
        ),
        _rule(
            "complete-outage",
            Severity.SEV1,
            'impact_outage="complete"',
            description="The service is completely down (seed SEV1 definition).",
        ),
        _rule(
            "most-users-affected",
            Severity.SEV1,
            f'impact_users_percent=~"{AT_LEAST_50_PERCENT}"',
            description="Half or more of the users are affected (seed step 2, upper half).",
        ),
        _rule(
            "many-users-affected",
            Severity.SEV2,
            f'impact_users_percent=~"{OVER_10_PERCENT}"',
            description="More than 10% of the users are affected (seed step 2).",
        ),
        _rule(
            "critical-workflow-broken",
            Severity.SEV2,
            'impact_critical_workflow="true"',
            description="A critical workflow is broken (seed decision tree step 3).",
        ),
        _rule(
            "workaround-available",
            Severity.SEV3,
            'impact_workaround="true"',
            description="Users are affected but have a workaround (seed step 4).",
        ),
        _rule(
            "no-user-impact",
            Severity.SEV4,
            'impact_users="none"',
            description="No user impact, an internal issue (seed decision tree step 5).",
        ),
        _rule(
            "severity-critical",
            Severity.SEV2,
            'severity=~"(?i:critical|page)"',
            description="Generic critical alert: page promptly, but it does not prove SEV1.",
        ),
        _rule(
            "severity-warning",
            Severity.SEV3,
            'severity=~"(?i:warning|error)"',
            description="Generic warning: look within the hour.",
        ),
        _rule(
            "severity-info",
            Severity.SEV4,
            'severity=~"(?i:info|none)"',
            description="Informational or heartbeat alert: next business day.",
        ),
        _rule(
            "unclassified",
            Severity.SEV3,
            description="Nothing known about this alert: look within the hour, do not queue it.",
        ),
    )


def _rule(name: str, severity: Severity, *matchers: str, description: str) -> Rule:
    return Rule(
        name=name,
        severity=severity,
        label_matchers=parse_matchers(matchers),
        description=description,
    )


def label_problems(labels: Mapping[str, str]) -> tuple[str, ...]:
    """What the default rules cannot read in `labels`, in words for the incident's timeline.

    An ``impact_users_percent`` that is not a plain decimal ("abc", "12%") matches no
    users-percent rule, so the alert is graded by the rules after them; without saying so,
    a typo in the label silently lowers the severity.
    """
    value = labels.get(USERS_PERCENT_LABEL)
    if value is None or PLAIN_DECIMAL.fullmatch(value):
        return ()
    return (
        f'{USERS_PERCENT_LABEL}="{value}" is not a number (digits with an optional fraction,'
        " such as 12.5): the users-percent rules did not apply",
    )
