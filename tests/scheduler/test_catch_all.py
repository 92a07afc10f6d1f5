"""The catch-all rotation takes every service that no rotation lists."""

from __future__ import annotations

from dataclasses import replace

from receiver.config.settings import Settings
from receiver.rota.settings import rota_problems
from scheduler.rota import Rota
from tests.support.rota_config import rota_config


def _rota(catch_all: bool) -> Rota:
    settings = Settings.model_validate(rota_config())
    ops = settings.rotations[0].to_rotation()
    other = replace(ops, name="other", services=("db",), catch_all=catch_all)
    people = {p.name: p.to_person() for p in settings.people}
    return Rota([ops, other], people)


def test_catch_all_takes_services_no_rotation_lists() -> None:
    rota = _rota(catch_all=True)
    assert rota.rotation_for_service("checkout").name == "ops"  # type: ignore[union-attr]
    assert rota.rotation_for_service("db").name == "other"  # type: ignore[union-attr]
    assert rota.rotation_for_service("unrouted").name == "other"  # type: ignore[union-attr]


def test_without_catch_all_an_unlisted_service_has_no_rotation() -> None:
    assert _rota(catch_all=False).rotation_for_service("unrouted") is None


def test_two_catch_all_rotations_are_refused_naming_both() -> None:
    config = rota_config()
    config["rotations"][0]["catch_all"] = True
    settings = Settings.model_validate(config)
    other = settings.rotations[0].model_copy(update={"name": "other", "services": []})
    rotations = [*settings.rotations, other]
    assert rota_problems(settings.people, rotations) == [
        'rotations[1].catch_all: rotations "ops" and "other" are both the catch-all; '
        "at most one rotation may be"
    ]
