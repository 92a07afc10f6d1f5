"""The configuration file: interpolation, validation with key paths, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver.config.settings import ConfigError, interpolate, load_settings, resolve_config_path
from tests.support.paths import REPO_ROOT

REPO = REPO_ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "onwatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("value", "environ", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("${A}", {}, ""),
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A:-x}", {"A": "set"}, "set"),
        ("pre-${A}-${B:-b}-post", {"A": "a"}, "pre-a-b-post"),
        ("$$A and $${A}", {"A": "no"}, "$A and ${A}"),
        ("${A:-sqlite:///x.db}", {}, "sqlite:///x.db"),
        ("${not valid}", {}, "${not valid}"),
    ],
)
def test_interpolate_expands_variables(value: str, environ: dict[str, str], expected: str) -> None:
    assert interpolate(value, environ) == expected


def test_interpolate_walks_lists_and_mappings_but_not_keys_or_numbers() -> None:
    tree = {"${K}": ["${V}", 3, True, None], "n": {"deep": "${V}"}}

    assert interpolate(tree, {"K": "k", "V": "v"}) == {
        "${K}": ["v", 3, True, None],
        "n": {"deep": "v"},
    }


def test_interpolated_secret_cannot_change_yaml_structure(tmp_path: Path) -> None:
    path = write(tmp_path, "webhook:\n  bearer_token: ${TOKEN}\n")

    settings = load_settings(path, {"TOKEN": "a: b\nserver: {max_body_bytes: 1}"})

    assert settings.webhook.bearer_token is not None
    assert settings.server.max_body_bytes == 1024 * 1024


def test_config_example_is_valid_as_shipped() -> None:
    settings = load_settings(REPO / "config.example.yaml", {})

    assert settings.database.url == "sqlite:///onwatch.db"
    assert settings.webhook.bearer_token is None  # ${ONWATCH_WEBHOOK_TOKEN} unset
    assert not settings.webhook.has_credentials
    assert [rule.name for rule in settings.rules] == [
        "payments-checkout-down",
        "staging-is-never-urgent",
    ]


def test_config_example_reads_environment() -> None:
    environ = {
        "ONWATCH_WEBHOOK_TOKEN": "t0ken",
        "ONWATCH_DATABASE_URL": "postgresql+psycopg://onwatch@db/onwatch",
    }

    settings = load_settings(REPO / "config.example.yaml", environ)

    assert settings.webhook.bearer_token is not None
    assert settings.webhook.bearer_token.get_secret_value() == "t0ken"
    assert settings.database.url == "postgresql+psycopg://onwatch@db/onwatch"


def test_config_errors_name_key_path_and_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
database:
  url: mysql://db/onwatch
server:
  max_body_bytes: 0
webhok: {}
rules:
  - name: ok
    severity: SEV1
  - name: bad-severity
    severity: SEV9
  - name: bad-regex
    severity: SEV2
    match: ['alertname="x"', 'foo=~"("']
    match_annotations: ['summary']
""",
    )

    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})

    errors = caught.value.errors
    assert (
        'rules[2].match[1]: invalid regex "(": missing ), unterminated subpattern at position 0'
        in errors
    )
    assert any(line.startswith("rules[1].severity: Input should be 'SEV1'") for line in errors)
    assert any(
        line.startswith('rules[2].match_annotations[0]: bad matcher "summary"') for line in errors
    )
    assert any(line.startswith("database.url: expected sqlite:///PATH") for line in errors)
    assert "server.max_body_bytes: Input should be greater than 0" in errors
    assert "webhok: unknown key (check its spelling and indentation)" in errors
    assert len(errors) == 6


def test_config_rejects_duplicate_rule_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n  - {name: a, severity: SEV1}\n  - {name: a, severity: SEV2}\n"
        "  - {name: revenue-impact, severity: SEV2}\n",
    )

    with pytest.raises(ConfigError, match='rule name "a" is used twice'):
        load_settings(path, {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key: [unclosed", "not valid YAML"),
        ("- a list\n- at the top", "expected a mapping of keys at the top level"),
    ],
)
def test_config_rejects_unusable_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text), {})


def test_config_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.yaml", {})


def test_config_empty_file_means_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), {})

    assert settings.database.url == "sqlite:///onwatch.db"
    assert settings.default_rules is True


def test_config_secrets_never_in_repr(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "webhook:\n  bearer_token: hunter2-token\n"
        "  basic_auth: {username: am, password: hunter2-pw}\n"
        "api:\n  bearer_token: hunter2-api\n",
    )

    settings = load_settings(path, {})

    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_resolve_config_path_prefers_flag_then_environment() -> None:
    assert resolve_config_path("a.yaml", {"ONWATCH_CONFIG": "b.yaml"}) == "a.yaml"
    assert resolve_config_path(None, {"ONWATCH_CONFIG": "b.yaml"}) == "b.yaml"
    with pytest.raises(ConfigError, match="--config PATH or set \\$ONWATCH_CONFIG"):
        resolve_config_path(None, {})


def _rota_document() -> dict:
    from tests.support.rota_config import rota_config

    return rota_config()


def test_config_rota_cross_references_are_checked(tmp_path: Path) -> None:
    import yaml

    document = _rota_document()
    rotation = document["rotations"][0]
    rotation["members"] = ["a", "b", "zed", {"person": "a"}]
    rotation["layers"] = [{"name": "primary"}, {"name": "secondary", "order": ["a", "b"]}]
    rotation["escalation"] = {"rotation": "ops"}
    document["rotations"].append(
        {**rotation, "name": "ops2", "services": ["checkout"], "escalation": {"person": "nobody"}}
    )
    document["people"].append({"name": "a", "email": "a2@example.com", "time_zone": "UTC"})
    path = write(tmp_path, yaml.safe_dump(document))

    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})

    errors = caught.value.errors
    assert 'people[7].name: "a" is used twice' in errors
    assert 'rotations[0].members[2]: unknown person "zed"' in errors
    assert "rotations[0].members: a person is listed twice" in errors
    assert any(e.startswith("rotations[0].layers[1].order: must list each member") for e in errors)
    assert 'rotations[1].services[0]: "checkout" is already covered by rotation "ops"' in errors
    assert 'rotations[0].escalation.rotation: "ops" is not another rotation' in errors
    assert 'rotations[1].escalation.person: unknown person "nobody"' in errors


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, 'rotations[0].time_zone: unknown time zone "Mars/Olympus"'),
        ({"shift_length": "3 fortnights"}, "rotations[0].shift_length: expected a length"),
        ({"min_rest": "a week"}, 'rotations[0].min_rest: expected a rest such as "7d"'),
        ({"max_consecutive": "2d"}, "rotations[0]: max_consecutive (2d) is shorter than one"),
        ({"handoff": {"weekday": "funday"}}, "rotations[0].handoff.weekday: Input should be"),
        ({"start": "next week"}, "rotations[0].start: Input should be a valid date"),
        ({"members": []}, "rotations[0].members: List should have at least 1 item"),
        ({"escalation": {}}, "rotations[0].escalation: give exactly one of"),
    ],
)
def test_config_rota_fields_are_validated(tmp_path: Path, change: dict, message: str) -> None:
    import yaml

    document = _rota_document()
    document["rotations"][0].update(change)
    path = write(tmp_path, yaml.safe_dump(document))

    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})

    assert any(line.startswith(message) for line in caught.value.errors), caught.value.errors


def test_config_unavailability_must_be_ordered(tmp_path: Path) -> None:
    import yaml

    document = _rota_document()
    document["people"][0]["unavailable"] = [{"from": "2026-12-24", "to": "2026-12-20"}]
    path = write(tmp_path, yaml.safe_dump(document))

    with pytest.raises(ConfigError, match=r"people\[0\]\.unavailable\[0\]: .*before `from`"):
        load_settings(path, {})


def test_config_night_window_must_have_a_length(tmp_path: Path) -> None:
    import yaml

    document = _rota_document()
    document["people"][0]["night"] = {"start": "03:00", "end": "03:00"}
    path = write(tmp_path, yaml.safe_dump(document))

    with pytest.raises(ConfigError, match=r"people\[0\]\.night: start and end are both 03:00"):
        load_settings(path, {})


def test_config_handoff_time_unquoted_in_yaml_is_read_as_clock(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "people: [{name: a, email: a@x.org, time_zone: UTC}]\n"
        "rotations:\n  - {name: r, time_zone: UTC, members: [a], start: 2026-11-02,\n"
        "     handoff: {time: 09:30}}\n",
    )

    settings = load_settings(path, {})

    assert str(settings.rotations[0].handoff.time) == "09:30:00"


def test_unrouted_notify_names_configured_targets(tmp_path: Path) -> None:
    text = (REPO_ROOT / "config.example.yaml").read_text(encoding="utf-8")
    path = write(
        tmp_path, text.replace("unrouted_notify: [platform-chat]", "unrouted_notify: [nope]")
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert error.value.errors == [
        'routing.unrouted_notify[0]: unknown notification target "nope" '
        "(define it under notifications.targets)"
    ]


def test_example_routes_unrouted_alerts_to_a_catch_all() -> None:
    settings = load_settings(REPO_ROOT / "config.example.yaml", environ={})
    assert [r.name for r in settings.rotations if r.catch_all] == ["platform"]
    assert settings.routing.unrouted_notify == ["platform-chat"]
