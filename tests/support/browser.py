"""Headless Chromium (Debian's chromium and chromium-driver, driven by Selenium), started
the way this machine allows: no sandbox as root, no background networking."""

from __future__ import annotations

import base64
import shutil

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium(
    width: int = 1366, height: int = 900, basic_auth: tuple[str, str] | None = None
) -> webdriver.Chrome:
    """A browser at a laptop's screen size; ``basic_auth`` sends the credentials with
    every request (as a browser does after its login prompt), TLS errors accepted."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver, (
        "chromium and chromium-driver: the README's test command installs them"
    )
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.binary_location = binary
    options.accept_insecure_certs = True
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    if basic_auth is not None:
        token = base64.b64encode(":".join(basic_auth).encode()).decode()
        browser.execute_cdp_cmd("Network.enable", {})
        browser.execute_cdp_cmd(
            "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}}
        )
    return browser


def console_errors(browser: webdriver.Chrome) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
