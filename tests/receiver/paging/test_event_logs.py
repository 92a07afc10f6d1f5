"""One key=value log line per incident and page event, logged once the change committed."""

from __future__ import annotations

import logging

import pytest

from tests.support.paging import ROUTING_KEY, Paging, group


def _events(caplog: pytest.LogCaptureFixture, *names: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) in names]


def _lines(caplog: pytest.LogCaptureFixture, *names: str) -> list[str]:
    return [r.getMessage() for r in _events(caplog, *names)]


def test_opened_raised_and_resolved_by_alertmanager_are_logged(
    paging: Paging, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="receiver")
    incident = paging.post(group(severity="warning"))
    paging.post(group(severity="critical", fingerprint="f2"))
    paging.post(group(severity="critical", fingerprint="f2"))  # a re-send: nothing new
    paging.post(group(status="resolved"))

    [opened] = _events(caplog, "incident_opened")
    assert opened.levelno == logging.INFO
    assert opened.getMessage().startswith(
        f"incident_opened incident_id={incident} severity=SEV3 service=checkout group="
    )
    [raised] = _lines(caplog, "incident_raised")
    assert raised.startswith(
        f"incident_raised incident_id={incident} previous=SEV3 severity=SEV2 rule="
    )
    assert raised.endswith(" by=alertmanager")
    [resolved] = _lines(caplog, "incident_resolved")
    assert resolved == f"incident_resolved incident_id={incident} severity=SEV2 by=alertmanager"
    # No annotation (summary, description, runbook) is logged.
    annotations = group()["alerts"][0].get("annotations", {})
    text = caplog.text
    assert all(str(value) not in text for value in annotations.values() if len(str(value)) > 8)


def test_page_sent_and_acknowledged_and_resolved_by_a_person(
    paging: Paging, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="receiver")
    incident = paging.post(group())
    paging.run()
    [sent] = _events(caplog, "page_sent")
    assert sent.levelno == logging.INFO
    assert sent.getMessage().startswith(f"page_sent incident_id={incident} message_id=")
    assert " rotation=ops person=" in sent.getMessage()
    assert " action=trigger " in sent.getMessage()

    response = paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "dana"})
    assert response.status_code == 200
    [acked] = _lines(caplog, "incident_acknowledged")
    assert acked.startswith(
        f"incident_acknowledged incident_id={incident} severity=SEV2 by=dana source=onwatch "
    )
    response = paging.client.post(
        f"/api/v1/incidents/{incident}/resolve", json={"by": "Dana Scully"}
    )
    assert response.status_code == 200
    [resolved] = _lines(caplog, "incident_resolved")
    assert resolved == (
        f'incident_resolved incident_id={incident} severity=SEV2 by="Dana Scully" source=onwatch'
    )
    # Acting twice changes nothing and logs nothing.
    paging.client.post(f"/api/v1/incidents/{incident}/resolve", json={"by": "dana"})
    assert len(_lines(caplog, "incident_resolved")) == 1


def test_page_retry_then_failed_are_logged_as_warning_and_error(
    paging: Paging, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="receiver")
    paging.fake.fail_next(1, 500)
    incident = paging.post(group())
    paging.run()
    [retry] = _events(caplog, "page_retry")
    assert retry.levelno == logging.WARNING
    line = retry.getMessage()
    assert line.startswith(f"page_retry incident_id={incident} message_id=")
    assert " rotation=ops action=trigger attempt=1 next_in_s=" in line
    assert " reason=" in line
    assert _events(caplog, "page_sent") == []

    paging.fake.fail_next(1, 400)  # refused for good
    paging.clock.advance(minutes=5)
    paging.run()
    [failed] = _events(caplog, "page_failed")
    assert failed.levelno == logging.ERROR
    assert failed.getMessage().startswith(f"page_failed incident_id={incident} message_id=")
    assert " attempts=2 reason=" in failed.getMessage()
    assert ROUTING_KEY not in caplog.text
