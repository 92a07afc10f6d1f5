"""The receiver as it runs in production: `onwatch serve` (gunicorn, several worker processes)
on loopback, on SQLite and on PostgreSQL.

What only a real server shows: concurrent notifications racing across worker processes,
metrics summed over workers, answers while the database is gone, and how `serve` starts.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from receiver.cli import serve_refusal
from receiver.config.settings import Settings
from tests.support.alertmanager import SERVER_TOKEN, raw_fixture
from tests.support.servers import (
    TcpProxy,
    backend_config,
    db_upgrade,
    free_port,
    fresh_postgres_database,
    get_json,
    get_text,
    incident_detail,
    list_incidents,
    post_json,
    run_onwatch,
    running_onwatch,
    wait_for,
    write_config,
)

TOKEN = SERVER_TOKEN


def _hook(base: str) -> str:
    return f"{base}/api/v1/alertmanager"


def _fire_together(url: str, bodies: list[Any]) -> list[tuple[int, Any]]:
    """POST every body at the same moment, one thread (and connection) each."""
    barrier = threading.Barrier(len(bodies))

    def send(body: Any) -> tuple[int, Any]:
        barrier.wait(timeout=20)
        return post_json(url, body, TOKEN, timeout=30)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


def _group_variant(base: dict[str, Any], service: str) -> dict[str, Any]:
    """`base` as another Alertmanager group: its own service, groupKey and fingerprints."""
    payload = copy.deepcopy(base)
    name = payload["groupLabels"]["alertname"]
    payload["groupKey"] = f'{{}}:{{alertname="{name}", service="{service}"}}'
    payload["groupLabels"]["service"] = service
    payload["commonLabels"]["service"] = service
    for number, alert in enumerate(payload["alerts"]):
        alert["labels"]["service"] = service
        alert["fingerprint"] = hashlib.sha256(f"{service}/{number}".encode()).hexdigest()[:16]
    return payload


# --------------------------------------------------------------------------------------------
# Concurrency: one open incident per group, across worker processes


def test_concurrent_identical_and_distinct_notifications(config_path: Path) -> None:
    group_5 = raw_fixture("group_5.json")
    fingerprints = {alert["fingerprint"] for alert in json.loads(group_5)["alerts"]}
    with running_onwatch(config_path, workers=2, threads=4) as base:
        # The same notification 16 times at once, 4 rounds: what HA Alertmanager peers and
        # retries do. Exactly one request opens the incident and writes; the rest change nothing.
        answers = []
        for _ in range(4):
            answers += _fire_together(_hook(base), [group_5] * 16)
        assert [status for status, _ in answers] == [200] * 64, answers
        assert sum(body["opened"] for _, body in answers) == 1
        assert sum(body["changed"] for _, body in answers) == 1
        assert {body["incident_id"] for _, body in answers} == {answers[0][1]["incident_id"]}

        incidents = list_incidents(base)
        assert len(incidents) == 1, incidents
        detail = incident_detail(base, incidents[0]["id"])
        assert detail["status"] == "open"
        assert {alert["fingerprint"] for alert in detail["alerts"]} == fingerprints
        assert len(detail["alerts"]) == 5
        kinds = Counter(entry["kind"] for entry in detail["timeline"])
        assert kinds == {"incident_opened": 1, "alert_firing": 1, "not_paged": 1}, kinds

        # 20 different groups at once, each sent twice: 20 new incidents, one per group.
        base_payload = json.loads(group_5)
        services = [f"svc-{number:02d}" for number in range(20)]
        bodies = [_group_variant(base_payload, service) for service in services] * 2
        answers = _fire_together(_hook(base), bodies)
        assert [status for status, _ in answers] == [200] * 40, answers
        assert sum(body["opened"] for _, body in answers) == 20

        incidents = list_incidents(base)
        assert len(incidents) == 21
        by_service = Counter(incident["service"] for incident in incidents)
        assert by_service == Counter({"api": 1, **dict.fromkeys(services, 1)})
        assert len({incident["channel"] for incident in incidents}) == 21
        for incident in incidents:
            assert len(incident_detail(base, incident["id"])["alerts"]) == 5


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ],
)
def test_concurrent_groups_sharing_a_channel_name(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # The same alertname and service routed through 20 child routes (or receivers): 20
    # groups, 20 incidents, and channel names `...-instancedown-api`, `-2`, ..., `-20`.
    base_payload = json.loads(raw_fixture("group_5.json"))
    bodies = []
    for team in range(20):
        payload = copy.deepcopy(base_payload)
        payload["groupKey"] = f'{{}}/{{team="t{team}"}}:{{alertname="InstanceDown", service="api"}}'
        for number, alert in enumerate(payload["alerts"]):
            alert["fingerprint"] = hashlib.sha256(f"t{team}/{number}".encode()).hexdigest()[:16]
        bodies.append(payload)
    with (
        backend_config(
            backend,
            tmp_path,
            postgres_admin_url=lambda: request.getfixturevalue("postgres_server"),
            bearer_token=TOKEN,
        ) as config,
        running_onwatch(config, workers=2, threads=4) as base,
    ):
        answers = _fire_together(_hook(base), bodies)
        assert [status for status, _ in answers] == [200] * 20, answers
        channels = sorted(incident["channel"] for incident in list_incidents(base))
    assert len(channels) == 20
    suffixes = {channel.rsplit("-instancedown-api", 1)[1] for channel in channels}
    assert suffixes == {""} | {f"-{number}" for number in range(2, 21)}


# --------------------------------------------------------------------------------------------
# Metrics summed over worker processes


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def _single_variant(severity: str, number: int) -> dict[str, Any]:
    payload = _group_variant(json.loads(raw_fixture("firing_single.json")), f"m-{number}")
    for alert in payload["alerts"]:
        alert["labels"]["severity"] = severity
    payload["commonLabels"]["severity"] = severity
    return payload


@dataclass(frozen=True)
class MetricsScenario:
    firing: int  # alerts with status firing in the accepted notifications
    resolved: int
    requests: int  # webhook requests, accepted or not
    counter_pids: set[str]  # workers that left a multiprocess counter file
    open_by_severity: Counter[str]  # from the incident API
    opened_by_severity: Counter[str]
    scrapes: list[dict[Any, float]]  # several /metrics scrapes, parsed


@pytest.fixture(scope="module")
def metrics_scenario(tmp_path_factory: pytest.TempPathFactory) -> MetricsScenario:
    """One server with 2 workers takes ~50 notifications from 8 threads; then it is scraped."""
    tmp_path = tmp_path_factory.mktemp("metrics")
    config = write_config(
        tmp_path / "onwatch.yaml", f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=TOKEN
    )
    temp = tmp_path / "server-tmp"  # `onwatch serve` makes its metrics directory in here
    temp.mkdir()
    group_5 = raw_fixture("group_5.json")  # 5 firing
    partial = raw_fixture("group_5_partial_resolved.json")  # 4 firing, 1 resolved
    single = raw_fixture("firing_single.json")  # 1 firing, critical
    resolved_single = raw_fixture("resolved_single.json")  # 1 resolved: closes `single`
    variants = [
        _single_variant(severity, number)
        for number, severity in enumerate(["critical", "critical", "warning", "info", "info"])
    ]
    first = [group_5] * 12 + [partial] * 6 + [single] * 8 + variants

    with running_onwatch(config, workers=2, threads=4, env={"TMPDIR": str(temp)}) as base:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda body: post_json(_hook(base), body, TOKEN), first))
        assert [status for status, _ in answers] == [200] * len(first), answers
        (metrics_dir,) = temp.glob("onwatch-metrics-*")
        # Requests are quick enough for one worker to take a whole batch: send more batches
        # of repeats (5 firing alerts each) until both workers have counted something.
        extra = 0
        for _ in range(50):
            if len(list(metrics_dir.glob("counter_*.db"))) >= 2:
                break
            with ThreadPoolExecutor(max_workers=16) as pool:
                batch = list(
                    pool.map(lambda body: post_json(_hook(base), body, TOKEN), [group_5] * 16)
                )
            assert [status for status, _ in batch] == [200] * 16, batch
            extra += 16
        answers = [post_json(_hook(base), resolved_single, TOKEN) for _ in range(3)]
        assert [status for status, _ in answers] == [200] * 3, answers
        assert post_json(_hook(base), group_5)[0] == 401  # no token: counted as rejected only

        scrapes = []
        for _ in range(8):  # whichever worker answers, each scrape must show the same sums
            status, text = get_text(f"{base}/metrics")
            assert status == 200
            scrapes.append(_samples(text))
        return MetricsScenario(
            firing=12 * 5 + 6 * 4 + 8 * 1 + len(variants) + extra * 5,
            resolved=6 * 1 + 3 * 1,
            requests=len(first) + extra + 3 + 1,
            counter_pids={path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")},
            open_by_severity=Counter(i["severity"] for i in list_incidents(base, status="open")),
            opened_by_severity=Counter(i["severity"] for i in list_incidents(base)),
            scrapes=scrapes,
        )


def test_open_incidents_gauge_matches_the_api(metrics_scenario: MetricsScenario) -> None:
    scenario = metrics_scenario
    # firing_single was resolved by resolved_single; the five variants and group_5 stay open.
    assert scenario.open_by_severity == {"SEV3": 2, "SEV2": 2, "SEV4": 2}
    for samples in scenario.scrapes:
        assert _value(samples, "onwatch_store_up") == 1
        for severity in ("SEV1", "SEV2", "SEV3", "SEV4"):
            assert _value(samples, "onwatch_incidents_open", severity=severity) == (
                scenario.open_by_severity.get(severity, 0)
            ), severity


def test_counters_are_summed_over_workers(metrics_scenario: MetricsScenario) -> None:
    scenario = metrics_scenario
    # Both workers handled webhooks: each keeps its own counter file (pid in the name).
    assert len(scenario.counter_pids) >= 2, f"workers with counter files: {scenario.counter_pids}"
    for samples in scenario.scrapes:
        assert _value(samples, "onwatch_alerts_received_total", status="firing") == (
            scenario.firing
        )
        assert _value(samples, "onwatch_alerts_received_total", status="resolved") == (
            scenario.resolved
        )
        assert (
            _value(samples, "onwatch_webhook_requests_rejected_total", reason="unauthorized") == 1
        )
        assert _value(samples, "onwatch_webhook_request_duration_seconds_count") == (
            scenario.requests
        )
        for severity in ("SEV1", "SEV2", "SEV3", "SEV4"):
            assert (
                _value(samples, "onwatch_incidents_opened_total", severity=severity) or 0
            ) == scenario.opened_by_severity.get(severity, 0), severity


# --------------------------------------------------------------------------------------------
# The database goes away and comes back


@pytest.mark.postgres
def test_store_unavailable_answers_503_and_recovers(postgres_server: str, tmp_path: Path) -> None:
    single = raw_fixture("firing_single.json")
    group_5 = raw_fixture("group_5.json")
    postgres = make_url(postgres_server)
    with (
        fresh_postgres_database(postgres_server) as direct_url,
        TcpProxy((postgres.host or "127.0.0.1", postgres.port or 5432)) as proxy,
    ):
        proxied = make_url(direct_url).set(host="127.0.0.1", port=proxy.port)
        config = write_config(
            tmp_path / "onwatch.yaml",
            proxied.render_as_string(hide_password=False),
            bearer_token=TOKEN,
        )
        db_upgrade(config)
        with running_onwatch(config, workers=2, threads=4) as base:
            status, body = post_json(_hook(base), single, TOKEN)
            assert (status, body["opened"]) == (200, True), body

            proxy.stop()  # the database is gone: refused, and open connections are cut
            for _ in range(4):  # several requests, so that both workers see the outage
                status, body = post_json(_hook(base), group_5, TOKEN)
                assert status == 503, body
                assert set(body) == {"error"}
                assert body["error"].startswith("store unavailable"), body
                status, body = get_json(f"{base}/readyz")
                assert status == 503, body
                assert body["error"].startswith("store unavailable"), body
            status, body = get_json(f"{base}/api/v1/incidents")
            assert status == 503 and "store unavailable" in body["error"], body
            status, text = get_text(f"{base}/metrics")
            assert status == 200
            assert _value(_samples(text), "onwatch_store_up") == 0
            assert get_json(f"{base}/healthz")[0] == 200  # liveness ignores the database

            proxy.start()  # the database is back
            for _ in range(4):
                status, body = get_json(f"{base}/readyz")
                assert status == 200, body
            status, body = post_json(_hook(base), group_5, TOKEN)
            assert (status, body["opened"]) == (200, True), body
            for _ in range(3):
                assert post_json(_hook(base), group_5, TOKEN)[0] == 200
            # The refused notifications wrote nothing: two groups, two incidents.
            incidents = list_incidents(base)
            assert sorted(i["group_labels"]["alertname"] for i in incidents) == [
                "HighErrorRate",
                "InstanceDown",
            ]
            samples = _samples(get_text(f"{base}/metrics")[1])
            assert _value(samples, "onwatch_store_up") == 1
            # (onwatch_webhook_requests_rejected_total{reason="store_unavailable"} is not
            # checked here: see test_counters_are_summed_over_workers.)


# --------------------------------------------------------------------------------------------
# Starting `onwatch serve`


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            "rules:\n  - name: broken\n    severity: SEV1\n    match: ['alertname=~\"(\"']\n",
            "rules[0].match[0]: invalid regex",
        ),
        ("webhook:\n  bearer_tokn: x\n", "webhook.bearer_tokn: unknown key"),
        ("database:\n  url: mysql://db/onwatch\n", "database.url: expected sqlite:///PATH"),
    ],
    ids=["bad-regex", "unknown-key", "bad-database-url"],
)
def test_serve_refuses_an_invalid_config(tmp_path: Path, document: str, expected: str) -> None:
    config = tmp_path / "bad.yaml"
    database = f"database:\n  url: sqlite:///{tmp_path / 'onwatch.db'}\n"
    config.write_text(document if document.startswith("database") else database + document)
    port = free_port()
    result = run_onwatch("serve", "--config", str(config), "--port", str(port), timeout=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "configuration error" in result.stderr
    assert expected in result.stderr, result.stderr
    assert "Booting worker" not in result.stderr and "Listening at" not in result.stderr
    assert _port_is_closed(port)
    assert not (tmp_path / "onwatch.db").exists()  # nothing was started or created


@pytest.mark.postgres
def test_serve_refuses_an_unmigrated_postgres_database(
    postgres_server: str, tmp_path: Path
) -> None:
    with fresh_postgres_database(postgres_server) as url:
        config = write_config(tmp_path / "onwatch.yaml", url, bearer_token=TOKEN)
        port = free_port()
        result = run_onwatch("serve", "--config", str(config), "--port", str(port), timeout=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "onwatch db upgrade" in result.stderr, result.stderr
    assert "Listening at" not in result.stderr
    assert _port_is_closed(port)


def test_serve_warns_loudly_without_webhook_credentials(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "onwatch.yaml", f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=None
    )
    log = tmp_path / "serve.stderr"
    with running_onwatch(config, workers=1, threads=2, log_path=log) as base:
        # Open, as the warning says: a notification without credentials is taken.
        status, body = post_json(_hook(base), raw_fixture("firing_single.json"))
        assert status == 200 and body["opened"], body
    stderr = log.read_text(encoding="utf-8")
    assert "NO credentials" in stderr
    assert "WARNING" in stderr and "!!!!!!!!" in stderr
    assert "NO credentials" not in (tmp_path / "serve.stderr.stdout").read_text(encoding="utf-8")


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "onwatch.yaml", f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=TOKEN
    )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = run_onwatch("serve", "--config", str(config), "--port", str(port), timeout=20)
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"onwatch: cannot listen on 127.0.0.1:{port}: address already in use"]
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr
    assert "scheduler" not in result.stdout + result.stderr  # its process never started
    assert not (tmp_path / "onwatch.db").exists()  # checked before the database is touched


def test_serve_log_format_json_writes_json_lines(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "onwatch.yaml", f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=TOKEN
    )
    log = tmp_path / "serve.stderr"
    with running_onwatch(config, workers=1, threads=2, log_path=log, json_logs=True) as base:
        status, body = post_json(_hook(base), raw_fixture("firing_single.json"), token=TOKEN)
        assert status == 200 and body["opened"], body
        opened = wait_for(
            lambda: [
                line
                for line in log.read_text(encoding="utf-8").splitlines()
                if '"incident_opened"' in line
            ],
            what="the incident_opened line",
        )
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line: gunicorn's, onwatch's, all
    assert all({"time", "level", "logger", "message"} <= set(p) for p in parsed)
    [line] = [json.loads(o) for o in opened]
    assert line["event"] == "incident_opened" and line["incident_id"] == body["incident_id"]
    assert line["level"] == "INFO" and line["logger"] == "receiver.incidents.ingest"
    assert not any("Adding job" in p["message"] for p in parsed)


# --------------------------------------------------------------------------------------------
# Closed by default: no API token, no network address


def test_serve_refuses_a_network_address_without_an_api_token(tmp_path: Path) -> None:
    # 192.0.2.10 (TEST-NET-1) is on no interface of this machine: were the refusal to regress,
    # gunicorn could not bind it either, so the test never listens beyond loopback. 0.0.0.0 and
    # the other wildcards are refused by the same check (the case table below).
    host = "192.0.2.10"
    config = write_config(
        tmp_path / "onwatch.yaml", f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=TOKEN
    )
    port = free_port()
    result = run_onwatch(
        "serve", "--config", str(config), "--host", host, "--port", str(port), timeout=30
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # one clear line
    assert lines[0].startswith(f"onwatch: refusing to listen on {host} without an API token")
    assert "api.bearer_token" in lines[0] and "api.open: true" in lines[0]
    assert _port_is_closed(port)
    assert not (tmp_path / "onwatch.db").exists()  # nothing was started or created


@pytest.mark.parametrize(
    ("host", "api", "refused"),
    [
        ("127.0.0.1", {}, False),
        ("127.0.0.2", {}, False),
        ("::1", {}, False),
        ("[::1]", {}, False),
        ("localhost", {}, False),
        ("LocalHost", {}, False),
        ("0.0.0.0", {}, True),
        ("::", {}, True),
        ("", {}, True),
        ("10.1.2.3", {}, True),
        ("0.0.0.0", {"bearer_token": "secret"}, False),
        ("0.0.0.0", {"open": True}, False),
        ("0.0.0.0", {"bearer_token": ""}, True),  # empty is unset (`${ONWATCH_API_TOKEN:-}`)
    ],
)
def test_serve_refusal_depends_on_address_and_api_settings(
    host: str, api: dict[str, Any], refused: bool
) -> None:
    settings = Settings.model_validate({"api": api})
    assert (serve_refusal(settings, host) is not None) == refused


# --------------------------------------------------------------------------------------------
# gunicorn's own errors are JSON too


def _raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no HTTP client would send these); the parsed answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One `onwatch serve` (1 worker) for the raw-socket tests; its port."""
    tmp_path = tmp_path_factory.mktemp("raw")
    config = write_config(
        tmp_path / "onwatch.yaml", f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=TOKEN
    )
    with running_onwatch(config, workers=1, threads=2) as base:
        yield int(base.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("request_bytes", "status", "message"),
    [
        (
            b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: onwatch\r\n\r\n",
            414,
            "Request Line is too large",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: onwatch\r\nNo colon here\r\n\r\n",
            400,
            "Invalid HTTP Header",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: onwatch\r\nBad Name: x\r\n\r\n",
            400,
            "Invalid HTTP header name",
        ),
        (b"NOT A REQUEST\r\n\r\n", 400, "Invalid"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: onwatch\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n",
            431,
            "Error parsing headers",
        ),
    ],
    ids=["url-too-long", "header-without-colon", "bad-header-name", "bad-request-line", "431"],
)
def test_requests_gunicorn_cannot_parse_get_json_errors(
    plain_server: int, request_bytes: bytes, status: int, message: str
) -> None:
    got, headers, body = _raw_exchange(plain_server, request_bytes)
    assert got == status, body
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    document = json.loads(body)
    assert set(document) == {"error"} and message in document["error"], document
    assert b"<html" not in body.lower() and b"Traceback" not in body
    # The server is still fine.
    assert get_json(f"http://127.0.0.1:{plain_server}/healthz")[0] == 200
