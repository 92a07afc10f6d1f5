"""Who PagerDuty wakes through the Events API: a routing key per person or layer, and a dedup
key per page, against a fake PagerDuty that merges triggers by dedup key as PagerDuty does.

The fake wakes whoever its `notifies` names for the routing key of each NEW alert; a trigger
with the dedup key of an open alert on the same routing key is merged and wakes nobody. The
clock starts on Saturday 2026-11-28 06:45 UTC: the ops rotation's primary is d, its secondary
b, and f is the escalation target.
"""

from __future__ import annotations

import argparse
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from receiver.cli import main
from receiver.config.settings import ConfigError, Settings
from receiver.jobs.runner import SchedulerRunner
from receiver.paging.cli import cmd_escalation_show
from receiver.paging.pagers import PageAction, PageRequest, Recipient
from receiver.paging.pagers.pagerduty_events import PagerDutyEventsPager
from receiver.paging.planner import page_key, parse_page_key
from receiver.paging.routing import Route, RoutingKeys, routing_warnings
from receiver.paging.settings import PagingSettings
from receiver.store.database import Store
from tests.support.clock import START, Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import (
    ROUTING_KEY,
    WEBHOOK_SECRET,
    Paging,
    events,
    group,
    make_paging,
    paging_config,
    sign,
)
from tests.support.paths import REPO_ROOT

D_KEY, B_KEY, F_KEY = "D" * 32, "B" * 32, "F" * 32  # a PagerDuty service per person
SECONDARY_KEY = "S" * 32  # a service for the secondary layer
# Whom each service's escalation policy notifies; the default service notifies whoever
# PagerDuty's own schedule says, which is not onwatch's rota.
NOTIFIES = {
    D_KEY: "d",
    B_KEY: "b",
    F_KEY: "f",
    SECONDARY_KEY: "secondary-schedule",
    ROUTING_KEY: "pagerduty-schedule",
}
PEOPLE_KEYS = {"d": D_KEY, "b": B_KEY, "f": F_KEY}


@pytest.fixture
def fake() -> Iterator[FakePagerDuty]:
    """The fake PagerDuty with a service per person, per layer, and a default service."""
    with FakePagerDuty(notifies=NOTIFIES) as server:
        yield server


def routed_config(
    fake: FakePagerDuty,
    *,
    people: dict[str, str] | None = None,
    layers: dict[str, str] | None = None,
    default: str | None = ROUTING_KEY,
    **paging: Any,
) -> dict[str, Any]:
    """`paging_config` with routing keys per person and layer (and the default, if any)."""
    config = paging_config(fake, **paging)
    pagerduty = config["rotations"][0]["paging"]["pagerduty"]
    pagerduty["routing_keys"] = {"people": people or {}, "layers": layers or {}}
    if default is None:
        del pagerduty["routing_key"]
    else:
        pagerduty["routing_key"] = default
    return config


@pytest.fixture
def routed(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> Paging:
    """Paging through the Events API with a routing key for each of d, b and f."""
    return make_paging(make_app, store, clock, fake, routed_config(fake, people=PEOPLE_KEYS))


def _after(paging: Paging, minutes: float) -> list[str | None]:
    """Move the clock, run the dispatcher; whom PagerDuty newly woke."""
    before = len(paging.fake.woken())
    paging.clock.advance(minutes=minutes)
    paging.run()
    return paging.fake.woken()[before:]


def _alerts(fake: FakePagerDuty) -> dict[tuple[str, str], str]:
    """(routing key, dedup key) -> status of every Events API alert."""
    return {(i.routing_key, i.key): i.status for i in fake.incidents if i.api == "events"}


# ------------------------------------------------------------------------------------------
# Escalation wakes the person onwatch chose


def test_secondary_is_woken_on_their_own_routing_key_when_the_primary_does_not_acknowledge(
    routed: Paging,
) -> None:
    incident = routed.post(group())
    routed.run()
    assert routed.fake.woken() == ["d"]
    assert _after(routed, 5) == ["b"]  # a new alert on b's service, not merged into d's
    assert _after(routed, 5) == ["f"]
    assert _alerts(routed.fake) == {
        (D_KEY, f"onwatch-{incident}"): "triggered",
        (B_KEY, f"onwatch-{incident}-level-1"): "triggered",
        (F_KEY, f"onwatch-{incident}-level-2"): "triggered",
    }
    assert [p.person for p in routed.ledger()] == ["d", "b", "f"]
    paged = routed.timeline(incident, "paged")
    assert paged[1].message == "paged b (secondary, level 1) via pagerduty-events at night"
    pages = routed.incident(incident)["pages"]
    assert [(p["recipient"], p["dedup_key"]) for p in pages] == [
        ("d", f"onwatch-{incident}"),
        ("b", f"onwatch-{incident}-level-1"),
        ("f", f"onwatch-{incident}-level-2"),
    ]
    assert paged[1].data["routing"] == "routing_keys.people.b"


def test_acknowledgement_and_resolution_reach_every_alert_the_incident_opened(
    routed: Paging,
) -> None:
    incident = routed.post(group())
    routed.run()
    _after(routed, 5)
    ack = routed.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "b"})
    assert ack.status_code == 200
    routed.run()
    assert set(_alerts(routed.fake).values()) == {"acknowledged"}
    acks = {
        (r.body["routing_key"], r.body["dedup_key"])
        for r in events(routed.fake)
        if r.body["event_action"] == "acknowledge"
    }
    assert acks == {(D_KEY, f"onwatch-{incident}"), (B_KEY, f"onwatch-{incident}-level-1")}

    resolved = routed.client.post(f"/api/v1/incidents/{incident}/resolve", json={"by": "b"})
    assert resolved.status_code == 200
    routed.run()
    assert set(_alerts(routed.fake).values()) == {"resolved"}
    assert _after(routed, 60) == []  # the escalation target was never paged
    timeline = [e["message"] for e in routed.incident(incident)["timeline"]]
    assert "acknowledge sent via pagerduty-events for b's page" in timeline


def test_sev1_wakes_primary_and_secondary_at_once_each_on_their_own_key(routed: Paging) -> None:
    routed.post(group(impact_revenue="true"))
    routed.run()
    assert sorted(p or "" for p in routed.fake.woken()) == ["b", "d"]
    assert _after(routed, 5) == ["f"]


def test_a_repeat_round_wakes_the_primary_again(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = routed_config(fake, people=PEOPLE_KEYS, repeat=1, ack_timeout={"SEV2": "10m"})
    paging = make_paging(make_app, store, clock, fake, config)
    incident = paging.post(group())
    paging.run()
    for _ in range(5):
        _after(paging, 10)
    assert paging.fake.woken() == ["d", "b", "f", "d", "b", "f"]
    assert paging.fake.incidents_for(f"onwatch-{incident}-level-0-repeat-1", D_KEY)


def test_with_only_the_default_key_each_page_is_a_new_alert_that_pagerduty_routes(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    # Every page still reaches PagerDuty as an alert of its own (none is merged away), but
    # PagerDuty's schedule decides who each wakes: onwatch cannot, and config check says so.
    paging = make_paging(make_app, store, clock, fake, routed_config(fake))
    incident = paging.post(group())
    paging.run()
    assert _after(paging, 5) == ["pagerduty-schedule"]
    paged = paging.timeline(incident, "paged")[1]
    assert paged.message == (
        "paged b (secondary, level 1) via pagerduty-events at night; routing_key: PagerDuty's "
        "escalation policy, not onwatch's rota, picks who is woken"
    )
    assert paging.fake.woken() == ["pagerduty-schedule"] * 2
    assert [r.body["payload"]["custom_details"]["on_call"]["name"] for r in paging.triggers()] == [
        "d",
        "b",
    ]


def test_a_layer_key_serves_the_people_without_a_key_of_their_own(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = routed_config(
        fake, people={"d": D_KEY}, layers={"secondary": SECONDARY_KEY}, default=F_KEY
    )
    paging = make_paging(make_app, store, clock, fake, config)
    incident = paging.post(group())
    paging.run()
    assert _after(paging, 5) == ["secondary-schedule"]
    assert _after(paging, 5) == ["f"]  # the escalation target: the default key
    assert paging.timeline(incident, "paged")[1].message.endswith(
        "; routing_keys.layers.secondary: PagerDuty's policy for the layer picks who is woken"
    )


@pytest.mark.parametrize(
    ("event_type", "action", "status"),
    [
        ("incident.acknowledged", "acknowledge", "acknowledged"),
        ("incident.resolved", "resolve", "resolved"),
    ],
)
def test_acting_in_pagerduty_on_one_alert_acts_on_the_others(
    routed: Paging, event_type: str, action: str, status: str
) -> None:
    incident = routed.post(group())
    routed.run()
    _after(routed, 5)
    body = json.dumps(
        {
            "event": {
                "id": f"01{uuid.uuid4().hex[:24].upper()}",
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": "2026-11-28T06:50:00.000Z",
                "agent": {"id": "PBOB001", "summary": "Bob", "type": "user_reference"},
                "data": {
                    "id": "Q000002",
                    "type": "incident",
                    "incident_key": f"onwatch-{incident}-level-1",
                },
            }
        }
    ).encode()
    response = routed.client.post(
        "/api/v1/pagerduty",
        data=body,
        headers={"X-PagerDuty-Signature": sign(body, WEBHOOK_SECRET)},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert routed.incident(incident)["status"] == ("open" if action == "acknowledge" else status)
    routed.run()
    told = [
        (r.body["routing_key"], r.body["dedup_key"])
        for r in events(routed.fake)
        if r.body["event_action"] == action
    ]
    assert told == [(D_KEY, f"onwatch-{incident}")]  # PagerDuty acted on b's alert itself
    assert _alerts(routed.fake)[(D_KEY, f"onwatch-{incident}")] == status
    assert _after(routed, 60) == []


def test_an_unconfirmed_page_is_followed_up_on_the_key_it_was_tried_on(
    routed: Paging,
) -> None:
    incident = routed.post(group())
    routed.fake.fail_next(1, 503)  # the trigger may or may not have arrived
    routed.run()
    resolved = routed.client.post(f"/api/v1/incidents/{incident}/resolve", json={"by": "d"})
    assert resolved.status_code == 200
    routed.run()
    resolves = [
        (r.body["routing_key"], r.body["dedup_key"])
        for r in events(routed.fake)
        if r.body["event_action"] == "resolve"
    ]
    assert resolves == [(D_KEY, f"onwatch-{incident}")]


# ------------------------------------------------------------------------------------------
# Keys, the pager, the settings


def test_page_keys_are_one_per_level_and_round_and_name_the_incident() -> None:
    keys = [page_key(7, level, loop) for loop in (0, 1) for level in (0, 1, 2)]
    assert keys == [
        "onwatch-7",
        "onwatch-7-level-1",
        "onwatch-7-level-2",
        "onwatch-7-level-0-repeat-1",
        "onwatch-7-level-1-repeat-1",
        "onwatch-7-level-2-repeat-1",
    ]
    for key in keys:
        parsed = parse_page_key(key)
        assert parsed is not None and parsed.incident_id == 7 and not parsed.escalation
    assert parse_page_key("onwatch-7-level-") is None


def test_route_prefers_the_persons_key_then_the_layers_then_the_default() -> None:
    keys = RoutingKeys(default="R", people={"d": "D"}, layers={"secondary": "S"})
    assert keys.route("d", "secondary") == Route("D", "routing_keys.people.d")
    assert keys.route("b", "secondary") == Route("S", "routing_keys.layers.secondary")
    assert keys.route("b", "primary") == Route("R", "routing_key")
    assert keys.route(None, "") == Route("R", "routing_key")
    assert RoutingKeys(people={"d": "D"}).route("b", "primary") is None


def test_events_pager_without_a_key_for_the_page_fails_permanently_naming_it(
    fake: FakePagerDuty,
) -> None:
    pager = PagerDutyEventsPager(RoutingKeys(people={"alice": D_KEY}), base_url=fake.url)
    alice = Recipient("alice", "alice@example.com", "PALICE1")
    trigger = PageRequest(
        PageAction.TRIGGER, "onwatch-42", "checkout down", "SEV2", "checkout", alice
    )
    resolve = PageRequest(
        PageAction.RESOLVE, "onwatch-42", "", "SEV2", "checkout", None, target="primary"
    )
    try:
        assert pager.send(trigger).ok  # alice's own key
        delivery = pager.send(resolve)
    finally:
        pager.close()
    assert not delivery.ok and not delivery.retryable
    assert delivery.detail.startswith("no routing key for nobody named as primary")
    assert [(i.routing_key, i.status) for i in fake.incidents] == [(D_KEY, "triggered")]


def test_paging_keys_per_person_replace_the_default_and_blanks_are_unset() -> None:
    settings = PagingSettings.model_validate(
        {
            "pager": "pagerduty-events",
            "pagerduty": {"routing_keys": {"people": {"d": D_KEY, "b": ""}, "layers": {}}},
        }
    )
    keys = settings.pagerduty.routing_keys
    assert list(keys.people) == ["d"] and keys.people["d"].get_secret_value() == D_KEY
    assert D_KEY not in repr(settings)


def _settings(config: dict[str, Any]) -> Settings:
    return Settings.model_validate({**config, "database": {"url": "sqlite://"}})


def test_config_names_routing_keys_for_unknown_people_and_levels(fake: FakePagerDuty) -> None:
    config = routed_config(fake, people={"zed": D_KEY}, layers={"tertiary": SECONDARY_KEY})
    with pytest.raises(ConfigError) as caught:
        _settings(config)
    assert caught.value.errors == [
        'rotations[0].paging.pagerduty.routing_keys.people: unknown person "zed"',
        'rotations[0].paging.pagerduty.routing_keys.layers: "tertiary" is not a level of '
        'rotation "ops" (expected one of primary, secondary, escalation)',
    ]


def test_config_refuses_pages_with_no_routing_key_at_all(fake: FakePagerDuty) -> None:
    config = routed_config(fake, people={"d": D_KEY, "f": F_KEY}, default=None)
    with pytest.raises(ConfigError) as caught:
        _settings(config)
    assert caught.value.errors == [
        "rotations[0].paging.pagerduty: primary pages of a, b, c, e have no routing key (give "
        "routing_keys.people entries, routing_keys.layers.primary, or a default routing_key)",
        "rotations[0].paging.pagerduty: secondary pages of a, b, c, e have no routing key (give "
        "routing_keys.people entries, routing_keys.layers.secondary, or a default routing_key)",
    ]
    every = {name: "K" * 32 for name in "abcdef"}
    assert _settings(routed_config(fake, people=every, default=None))


def test_warnings_name_the_pages_that_fall_back_to_the_default_key(fake: FakePagerDuty) -> None:
    settings = _settings(routed_config(fake, people={"a": D_KEY, "b": B_KEY, "c": F_KEY}))
    [warning] = routing_warnings(settings.rotations)
    assert warning.startswith(
        'rotations[0].paging.pagerduty: rotation "ops" pages primary (d, e); secondary (d, e); '
        "escalation (f) through the default routing_key: PagerDuty's escalation policy on that "
        "service, not onwatch's rota, decides who is woken"
    )
    every = {name: "K" * 32 for name in "abcdef"}
    assert routing_warnings(_settings(routed_config(fake, people=every)).rotations) == []


def test_config_check_warns_when_the_events_pager_lets_pagerduty_decide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONWATCH_PAGER", "pagerduty-events")
    monkeypatch.setenv("ONWATCH_PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    example = str(REPO_ROOT / "config.example.yaml")
    assert main(["config", "check", "--config", example]) == 0  # a warning, not a failure
    err = capsys.readouterr().err
    assert 'rotation "platform" pages primary (alice, bob, chidi, dana, emeka)' in err
    assert "not onwatch's rota, decides who is woken" in err
    assert ROUTING_KEY not in err

    monkeypatch.delenv("ONWATCH_PAGERDUTY_ROUTING_KEY")
    assert main(["config", "check", "--config", example]) == 2  # no key at all: an error
    err = capsys.readouterr().err
    assert "paging.pagerduty.routing_key is required" in err

    monkeypatch.delenv("ONWATCH_PAGER")
    assert main(["config", "check", "--config", example]) == 0  # dry-run: nothing to say
    assert "routing_key" not in capsys.readouterr().err


def test_the_scheduler_says_at_start_where_pagerduty_decides_who_is_woken(
    fake: FakePagerDuty, store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    config = routed_config(fake, people={"a": D_KEY, "b": B_KEY, "c": F_KEY})
    settings = Settings.model_validate({**config, "database": {"url": store.settings.url}})
    with caplog.at_level(logging.WARNING, logger="receiver.jobs.runner"):
        SchedulerRunner(settings, store=store, clock=clock, holder="routing-test")
    [record] = [r for r in caplog.records if "routing_key" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert 'rotation "ops" pages primary (d, e)' in record.getMessage()


def test_escalation_show_says_which_pages_reach_their_persons_own_service(
    fake: FakePagerDuty, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    config = routed_config(fake, people={"d": D_KEY}, layers={"secondary": SECONDARY_KEY})
    settings = Settings.model_validate({**config, "database": {"url": store.settings.url}})
    args = argparse.Namespace(config=None, rotation="ops", severity="SEV2")
    assert cmd_escalation_show(args, settings, now=START) == 0
    out = capsys.readouterr().out
    assert "ops primary: d <d@example.com> (Europe/London, own routing key)" in out
    assert (
        "ops secondary: b <b@example.com> (Europe/London, routing_keys.layers.secondary: "
        "PagerDuty's policy picks who is woken)"
    ) in out
    assert (
        "escalation person: f <f@example.com> (Europe/London, routing_key: PagerDuty's policy "
        "picks who is woken)"
    ) in out
