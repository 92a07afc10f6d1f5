"""The pages in a real browser (Debian's chromium driven by Playwright) against a real
`onwatch serve` on loopback: sign-in everywhere, an incident from a real Alertmanager payload
appearing on the overview without a reload, the IC's actions in the timeline, the update
preview, CSRF, and axe-core on every page. With ONWATCH_SCREENSHOTS=docs/screenshots set, the
screenshots the README shows are taken again.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.alertmanager import SERVER_TOKEN, raw_fixture
from tests.support.pages import PASSWORD, WEB_SECRET
from tests.support.paths import REPO_ROOT
from tests.support.rota_config import rota_config
from tests.support.servers import onwatch_command, post_json, running_onwatch, write_config

playwright_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package: .ci/run installs it when missing
# Screenshots for the README are refreshed only when asked for
# (ONWATCH_SCREENSHOTS=docs/screenshots), so that a test run leaves the work tree as it was.
SCREENSHOTS = os.environ.get("ONWATCH_SCREENSHOTS")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`onwatch serve` with password sign-in; a has a password."""
    extra = yaml.safe_dump(
        {**rota_config(), "web": {"auth": "password", "session_secret": WEB_SECRET}}
    )
    config = write_config(
        tmp_path / "onwatch.yaml",
        f"sqlite:///{tmp_path / 'onwatch.db'}",
        bearer_token=SERVER_TOKEN,
        extra=extra,
    )
    with running_onwatch(config, workers=1, threads=4) as base_url:
        result = subprocess.run(
            onwatch_command("user", "set-password", "a", "--config", str(config)),
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        yield base_url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            yield context.new_page()
        finally:
            browser.close()


def _accessible(page: Any, what: str) -> None:
    """axe-core finds no serious or critical violation on the page shown."""
    results = axe_module.Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"{what}: {bad}"


def _shot(page: Any, name: str) -> None:
    if not SCREENSHOTS:
        return
    folder = REPO_ROOT / SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_incident_commanders_path_through_the_pages(server: str, page: Any) -> None:
    expect = playwright_api.expect
    # Sign-in is required everywhere; a wrong password is refused.
    for path in ("/incidents/1", "/incidents", "/"):  # the last is where sign-in returns
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    _accessible(page, "sign-in")
    _shot(page, "sign-in")
    page.fill("#name", "a")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Wrong name or password")
    page.fill("#name", "a")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator("#open")).to_contain_text("No open incidents")

    # An incident from a real Alertmanager payload appears without a reload.
    status, body = post_json(
        f"{server}/api/v1/alertmanager", raw_fixture("firing_single.json"), SERVER_TOKEN
    )
    assert status == 200, body
    expect(page.locator("#open")).to_contain_text("#1 ", timeout=20_000)
    _accessible(page, "overview")
    _shot(page, "overview")

    # The IC acknowledges, names a Technical Lead, posts an update after previewing it.
    page.click("#open a[href='/incidents/1']")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.locator("#timeline")).to_contain_text("acknowledged by a after")
    page.select_option("#role", "technical_lead")
    page.fill("#person", "c")
    page.get_by_role("button", name="Name", exact=True).click()
    expect(page.locator("#timeline")).to_contain_text("c is now Technical Lead, named by a")
    page.select_option("#status", "identified")
    page.fill("#impact", "checkout fails for 20% of users")
    page.fill("#current_action", "rolling back the deploy")
    page.fill("#eta", "30 minutes")
    preview = page.locator("#preview pre")
    expect(preview).to_contain_text("Current action: rolling back the deploy")
    shown = preview.inner_text()
    assert shown.splitlines()[0].endswith("- checkout - Identified")
    assert "Impact: checkout fails for 20% of users" in shown
    assert "ETA: 30 minutes" in shown
    assert "IC: a" in shown
    _accessible(page, "incident")
    _shot(page, "incident")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator("#timeline")).to_contain_text(
        "Impact: checkout fails for 20% of users | Current action: rolling back the deploy"
    )

    # A form posted without its CSRF token is refused, and changes nothing.
    refused = page.request.post(f"{server}/incidents/1/resolve", form={"note": "x"})
    assert refused.status == 400
    assert "CSRF" in refused.text()
    page.goto("/incidents/1")
    expect(page.locator("dl.facts")).to_contain_text("open")

    page.goto("/incidents")
    expect(page.locator("table")).to_contain_text("#1")
    _accessible(page, "incident list")
    _shot(page, "incidents")
    page.goto("/rotations/ops/escalation")
    expect(page.locator("h1")).to_contain_text("Escalation paths of ops")
    _accessible(page, "escalation paths")
    page.goto("/incidents/999")
    expect(page.locator("h1")).to_contain_text("404")
    _accessible(page, "404 page")


def _sign_in(page: Any, path: str) -> None:
    page.goto(path)
    page.fill("#name", "a")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_the_rota_pages(server: str, page: Any) -> None:
    expect = playwright_api.expect
    # Across the spring DST change in London (2027-03-28) the handoff stays at 09:00 local.
    _sign_in(page, "/rotations/ops?from=2027-03-22&weeks=2")
    primary = page.locator("table.calendar tbody tr").first
    first_week, second_week = primary.locator("td").nth(0), primary.locator("td").nth(1)
    winter = first_week.locator(".shift", has_text=re.compile(r"2027-03-22 09:00 GMT →"))
    summer = second_week.locator(".shift", has_text=re.compile(r"2027-03-29 09:00 BST →"))
    expect(winter).to_contain_text("2027-03-29 09:00 BST")  # its end, after the change
    before = winter.locator("strong").inner_text()
    after = summer.locator("strong").inner_text()
    assert before and after and before != after
    _accessible(page, "rotation calendar")

    # The person on call the week before the change cannot take the next one straight after
    # it: the rest gap is the reason shown.
    page.select_option("#o-layer", "primary")
    page.select_option("#o-person", before)
    page.fill("#o-start", "2027-03-29T09:00")
    page.fill("#o-end", "2027-04-05T09:00")
    page.get_by_role("button", name="Store override").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Not done: override refused:")
    expect(refusal).to_contain_text("rest")
    _shot(page, "rotation")

    for path, heading in (("/people/a", "a"), ("/reports/burden?month=2026-11", "burden")):
        page.goto(path)
        expect(page.locator("h1")).to_contain_text(heading)
        _accessible(page, path)
    _shot(page, "burden")


def test_the_pages_work_with_javascript_off(server: str) -> None:
    expect = playwright_api.expect
    status, body = post_json(
        f"{server}/api/v1/alertmanager", raw_fixture("firing_single.json"), SERVER_TOKEN
    )
    assert status == 200, body
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = browser.new_context(base_url=server, java_script_enabled=False)
            context.set_default_timeout(15_000)
            page = context.new_page()
            _sign_in(page, "/incidents/1")
            page.fill("#impact", "search is slow")
            page.fill("#current_action", "adding capacity")
            page.get_by_role("button", name="Preview").click()  # a GET: the server renders it
            expect(page.locator("#preview pre")).to_contain_text("Impact: search is slow")
            expect(page.locator("#impact")).to_have_value("search is slow")
            page.get_by_role("button", name="Post update").click()
            expect(page.locator("#timeline")).to_contain_text(
                "Impact: search is slow | Current action: adding capacity"
            )
            page.get_by_role("button", name="Acknowledge", exact=True).click()
            expect(page.locator("#timeline")).to_contain_text("acknowledged by a after")
        finally:
            browser.close()
