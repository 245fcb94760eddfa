"""The status page at /: server-rendered first paint, its data at /api/status computed at
most once a second, its assets small and local; in a real headless Chromium it shows what
the JSON API says, opens a workflow's drill-down, updates without a reload, logs no
console error, and works under TLS with basic auth."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from selenium.webdriver.common.by import By

from exporter.statuspage.data import StatusCache, StatusInputs, build_status
from tests.support.browser import chromium, console_errors
from tests.support.processes import Exporter, run_demo, wait_until
from tests.test_web_config import PASSWORD, certificates, hashed, web_config_file  # noqa: F401

PAGE_BUDGET_BYTES = 150 * 1024


def workflow(workflow_id: str, complexity: str = "status", status: str = "completed") -> list:
    return [
        {
            "type": "workflow_started",
            "workflow_id": workflow_id,
            "complexity": complexity,
            "total_steps": 2,
        },
        {
            "type": "step_finished",
            "workflow_id": workflow_id,
            "step_id": "s",
            "agent": "page",
            "success": status == "completed",
            "duration_seconds": 0.4,
        },
        {"type": "workflow_finished", "workflow_id": workflow_id, "status": status},
    ]


def test_first_paint_is_server_rendered_accessible_and_small(shared_app):
    shared_app.post_events(workflow("paint-1") + workflow("paint-2", status="failed"))
    page = shared_app.get("/")
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    health = shared_app.get("/api/metrics/system/health").json()["health_status"]["status"]
    assert re.search(rf'data-part="health-status"[^>]*>{health}<', html)
    assert "paint-2" in html and 'href="/api/metrics/workflow/paint-2"' in html
    for path in ("/metrics", "/-/healthy", "/-/ready", "/api/metrics/dashboard"):
        assert f'href="{path}"' in html
    assert html.count("<caption>") == html.count("<table")
    assert html.count('role="img"') == html.count("<svg") == 7
    assert (
        'lang="en"' in html and "prefers-color-scheme" in shared_app.get("/static/status.css").text
    )
    assets = [shared_app.get(path) for path in ("/static/status.js", "/static/status.css")]
    assert all(asset.ok for asset in assets)
    assert len(page.content) + sum(len(asset.content) for asset in assets) < PAGE_BUDGET_BYTES
    fetched = re.findall(r"(?:src|href)=\"(https?://[^\"]+)", html)
    fetched += re.findall(r"fetch\(\"(https?://[^\"]+)", assets[0].text)
    assert fetched == [], "every asset and request is the exporter's own"
    assert shared_app.get("/static/nothing.js").status_code == 404


def test_status_data_names_what_the_page_shows(shared_app):
    shared_app.post_events(workflow("data-1"))
    status = shared_app.get("/api/status").json()
    assert set(status) == {
        "generated",
        "collection_interval",
        "health",
        "trends",
        "workflows",
        "agents",
        "approvals",
        "exporter",
    }
    assert {"warning_percent", "critical_percent"} <= set(status["health"]["resources"][0])
    assert "page" in {agent["agent"] for agent in status["agents"]}


def test_a_dozen_pollers_cost_one_computation_per_second():
    calls = []

    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    cache = StatusCache(interval=1.0, clock=clock)

    def inputs() -> StatusInputs:
        calls.append(1)
        from exporter.config import Config  # noqa: PLC0415

        return StatusInputs(Config(), 1e9, True, [], [], [], 0, {}, {})

    async def poll_many() -> int:
        await asyncio.gather(*(cache.get(inputs) for _ in range(12)))
        return cache.computations

    async def scenario() -> list[int]:
        seen = [await poll_many()]
        clock.now = 0.5
        seen.append(await poll_many())
        clock.now = 1.2
        seen.append(await poll_many())
        return seen

    assert asyncio.run(scenario()) == [1, 1, 2]
    assert len(calls) == 2
    assert build_status(inputs())["health"]["status"] == "unknown"  # before the first pass


BROKEN_WORDS = """
return [...document.querySelectorAll("th, td:first-child")]
  .filter((cell) => /^\\S+$/.test(cell.textContent.trim()))
  .filter((cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
    return tops.size > 1;
  })
  .map((cell) => cell.textContent.trim());
"""
"""The table headings and first-column names (one word each) that wrap over two lines."""


@pytest.mark.e2e
def test_the_page_in_a_real_browser(start_exporter, tmp_path):
    # the disk level lowered: health is critical steadily, whatever the CPU does meanwhile
    exporter = start_exporter("collection_interval: 1s\nthresholds: {disk: {critical: 0.01}}\n")
    demo = run_demo(exporter.url, duration=3, rate=20, speed=40, seed=15)
    assert demo.returncode == 0, demo.stderr
    browser = chromium()
    try:
        browser.get(exporter.url + "/")
        wait_until(
            lambda: browser.find_elements(By.CSS_SELECTOR, "svg[data-chart] polyline"),
            10,
            "the charts drawn",
        )
        browser.execute_script("window.notReloaded = true")
        health = exporter.get("/api/metrics/system/health").json()["health_status"]["status"]
        badge = browser.find_element(By.CSS_SELECTOR, '[data-part="health-status"]')
        assert badge.text.lower() == health == "critical"
        reasons = browser.find_element(By.CSS_SELECTOR, '[data-part="reasons"]').text
        assert "disk_percent" in reasons and "(threshold: 1%)" in reasons
        status = exporter.get("/api/status").json()
        shown_active = browser.find_element(By.CSS_SELECTOR, '[data-part="active-total"]').text
        assert int(shown_active) == status["workflows"]["active_total"]
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        ), "fits the laptop screen without horizontal scrolling"
        assert browser.execute_script(BROKEN_WORDS) == [], "headings and names read whole"
        browser.save_screenshot(str(tmp_path / "status-page.png"))

        before = int(browser.find_element(By.CSS_SELECTOR, '[data-part="events-accepted"]').text)
        exporter.post_events(workflow("live-1", complexity="live"))
        wait_until(
            lambda: (
                int(browser.find_element(By.CSS_SELECTOR, '[data-part="events-accepted"]').text)
                >= before + 3
            ),
            15,
            "the new events on the page",
        )
        assert browser.execute_script("return window.notReloaded === true")
        finished = browser.find_elements(By.CSS_SELECTOR, '[data-part="finished"] tbody a')
        assert finished[0].text == "live-1"
        finished[0].click()
        wait_until(
            lambda: (
                '"workflow_id": "live-1"' in browser.page_source
                or '"workflow_id":"live-1"' in browser.page_source
            ),
            10,
            "the drill-down",
        )
        assert console_errors(browser) == []
    finally:
        browser.quit()


@pytest.mark.e2e
def test_the_page_under_tls_and_basic_auth(tmp_path, process_reaper, certificates):  # noqa: F811
    web = web_config_file(certificates, {"prometheus": hashed(PASSWORD)})
    import requests  # noqa: PLC0415

    session = requests.Session()
    session.verify = str(certificates / "ca.pem")
    session.trust_env = False
    session.auth = ("prometheus", PASSWORD)
    exporter = Exporter(
        tmp_path,
        "collection_interval: 1s\n",
        extra_args=("--web.config.file", web),
        session=session,
        scheme="https",
    )
    process_reaper.append(exporter)
    browser = chromium(basic_auth=("prometheus", PASSWORD))
    try:
        browser.get(exporter.url + "/")
        wait_until(
            lambda: browser.find_elements(By.CSS_SELECTOR, "svg[data-chart] polyline"),
            15,
            "the charts drawn over TLS with basic auth",
        )
        generated = browser.find_element(By.CSS_SELECTOR, '[data-part="generated"]').text
        assert generated and "unreachable" not in generated
        assert console_errors(browser) == []
    finally:
        browser.quit()
    assert yaml.safe_load(Path(web).read_text())["basic_auth_users"]
