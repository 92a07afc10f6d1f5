"""Routing keys: which PagerDuty Events API integration a page goes to, and so whom it wakes.

With the Events API onwatch cannot name a person: PagerDuty notifies whoever the escalation
policy of the service behind the routing key names. So a page goes to the routing key of a
service that wakes exactly the person onwatch chose: the person's own key
(`paging.pagerduty.routing_keys.people`), else the key of the page's layer
(`routing_keys.layers`: `primary`, `secondary`, ..., `escalation`), else the rotation's
default `routing_key`. Only a person's own key lets onwatch's rota decide who is woken; with
a layer's key PagerDuty's policy for that layer picks the person, and with the default key
PagerDuty's policy picks everyone, whatever onwatch's rota says. `routing_problems` (errors:
a name that matches nobody, a page with no key at all) and `routing_warnings` (pages that
fall back to the default key) say so from the configuration, before anything is paged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from receiver.paging.settings import PagerDutySettings
from receiver.rota.settings import PersonSettings, RotationSettings
from scheduler.escalation import ESCALATION_TARGET

# The pager these keys are for: where its page goes depends on the person and layer paged,
# so each page's acknowledgement and resolution must go where that page went.
ROUTED_PAGER = "pagerduty-events"


@dataclass(frozen=True)
class Route:
    """A routing key and where in the configuration it came from (for messages: no secret)."""

    key: str
    via: str  # "routing_keys.people.alice", "routing_keys.layers.secondary", "routing_key"


@dataclass(frozen=True)
class RoutingKeys:
    """A rotation's routing keys: the default, and those of people and layers."""

    default: str | None = None
    people: Mapping[str, str] = field(default_factory=dict)
    layers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: PagerDutySettings) -> RoutingKeys:
        """The keys of a `paging.pagerduty` section, as plain strings for the pager."""
        keys = settings.routing_keys
        return cls(
            default=settings.routing_key.get_secret_value() if settings.routing_key else None,
            people={name: key.get_secret_value() for name, key in keys.people.items()},
            layers={name: key.get_secret_value() for name, key in keys.layers.items()},
        )

    def route(self, person: str | None, target: str) -> Route | None:
        """Where a page to `person` as `target` (a layer, or "escalation") goes; None: nowhere."""
        if person is not None and person in self.people:
            return Route(self.people[person], f"routing_keys.people.{person}")
        if target in self.layers:
            return Route(self.layers[target], f"routing_keys.layers.{target}")
        if self.default is not None:
            return Route(self.default, "routing_key")
        return None

    def all_keys(self) -> set[str]:
        """Every distinct key (one PagerDuty session each)."""
        keys = {*self.people.values(), *self.layers.values()}
        return keys | ({self.default} if self.default is not None else set())


def who_decides(route: Route | None) -> str:
    """What a page's timeline entry adds when PagerDuty, not onwatch, picks who it wakes."""
    if route is None or route.via.startswith("routing_keys.people."):
        return ""
    if route.via.startswith("routing_keys.layers."):
        return f"; {route.via}: PagerDuty's policy for the layer picks who is woken"
    return f"; {route.via}: PagerDuty's escalation policy, not onwatch's rota, picks who is woken"


@dataclass(frozen=True)
class _Target:
    """One step of a rotation's chain and the people it may page."""

    name: str  # a layer's name, or ESCALATION_TARGET
    people: tuple[str, ...]


def _targets(rotation: RotationSettings, rotations: Sequence[RotationSettings]) -> list[_Target]:
    members = tuple(member.person for member in rotation.member_list())
    targets = [_Target(layer.name, members) for layer in rotation.layers]
    escalation = rotation.escalation
    if escalation is not None and escalation.person is not None:
        targets.append(_Target(ESCALATION_TARGET, (escalation.person,)))
    elif escalation is not None:
        other = next((r for r in rotations if r.name == escalation.rotation), None)
        if other is not None:  # an unknown rotation is rota_problems' to report
            people = tuple(member.person for member in other.member_list())
            targets.append(_Target(ESCALATION_TARGET, people))
    return targets


def _where(r: int) -> str:
    return f"rotations[{r}].paging.pagerduty"


def routing_problems(
    people: Sequence[PersonSettings], rotations: Sequence[RotationSettings]
) -> list[str]:
    """Routing keys that name nobody, and pages that would have no routing key at all."""
    names = {person.name for person in people}
    problems: list[str] = []
    for r, rotation in enumerate(rotations):
        keys = rotation.paging.pagerduty.routing_keys
        targets = _targets(rotation, rotations)
        for name in keys.people:
            if name not in names:
                problems.append(f'{_where(r)}.routing_keys.people: unknown person "{name}"')
        known = [target.name for target in targets]
        for name in keys.layers:
            if name not in known:
                problems.append(
                    f'{_where(r)}.routing_keys.layers: "{name}" is not a level of rotation '
                    f'"{rotation.name}" (expected one of {", ".join(known)})'
                )
        if rotation.paging.pager != ROUTED_PAGER or rotation.paging.pagerduty.routing_key:
            continue
        for target in targets:
            if target.name in keys.layers:
                continue
            stranded = [person for person in target.people if person not in keys.people]
            if stranded:
                problems.append(
                    f"{_where(r)}: {target.name} pages of {', '.join(stranded)} have no routing "
                    f"key (give routing_keys.people entries, routing_keys.layers.{target.name}, "
                    "or a default routing_key)"
                )
    return problems


def routing_warnings(rotations: Sequence[RotationSettings]) -> list[str]:
    """Pages through the Events API that fall back to the default routing key: PagerDuty's
    escalation policy on that service, not onwatch's rota, decides who they wake."""
    warnings: list[str] = []
    for r, rotation in enumerate(rotations):
        paging = rotation.paging
        if paging.pager != ROUTED_PAGER or paging.pagerduty.routing_key is None:
            continue
        keys = paging.pagerduty.routing_keys
        fallbacks = []
        for target in _targets(rotation, rotations):
            if target.name in keys.layers:
                continue
            people = [person for person in target.people if person not in keys.people]
            if people:
                fallbacks.append(f"{target.name} ({', '.join(people)})")
        if fallbacks:
            warnings.append(
                f'{_where(r)}: rotation "{rotation.name}" pages {"; ".join(fallbacks)} through '
                "the default routing_key: PagerDuty's escalation policy on that service, not "
                "onwatch's rota, decides who is woken (give each person a routing key of their "
                "own in routing_keys.people: see the README, Who PagerDuty wakes)"
            )
    return warnings
