"""Regenerate docs/status-page.png: the real exporter after a demo workload, the status
page in headless Chromium at a laptop's width.

    .venv/bin/python scripts/status-screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP))

from tests.support.browser import chromium  # noqa: E402
from tests.support.processes import Exporter, run_demo, wait_until  # noqa: E402

CONFIG = "collection_interval: 1s\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        exporter = Exporter(Path(directory), CONFIG)
        try:
            demo = run_demo(exporter.url, duration=20, rate=4, speed=10, seed=7, timeout=300)
            assert demo.returncode == 0, demo.stderr
            browser = chromium(height=1900)
            try:
                browser.get(exporter.url + "/")
                wait_until(
                    lambda: browser.execute_script(
                        "return document.querySelectorAll('svg[data-chart] polyline').length"
                    ),
                    15,
                    "the charts",
                )
                time.sleep(1)  # the last chart's redraw; nothing to poll for in a picture
                browser.save_screenshot(str(TOP / "docs" / "status-page.png"))
            finally:
                browser.quit()
        finally:
            exporter.stop()
    print("wrote docs/status-page.png")


if __name__ == "__main__":
    main()
