"""The exporter's application served in the test process: ``create_app(config)`` on
aiohttp's TestServer, its event loop in a thread. Same HTTP surface as the real process
(``ExporterHttp``) without a process start (~0.65 s each), for tests of handlers where the
process adds nothing; the real process keeps its own tests (CLI, signals, TLS, e2e)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any

import requests
from aiohttp.test_utils import TestServer

from exporter.app import create_app
from exporter.config import parse_config
from exporter.web.serving import server_options
from tests.support.processes import STARTUP_TIMEOUT_SECONDS, ExporterHttp, free_port, wait_until


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"level={record.levelname} logger={record.name} {record.getMessage()}")


class InProcessExporter(ExporterHttp):
    def __init__(self, config_text: str = "", auth: tuple[str, str] | None = None) -> None:
        """``auth``: basic auth credentials, when the config's web config file asks for them."""
        self.config = parse_config(config_text)
        self._logs = _LogCapture()
        logging.getLogger("exporter").addHandler(self._logs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self._server = TestServer(create_app(self.config), host="127.0.0.1", port=self.port)
        self._run(self._server.start_server(**server_options(self.config)))
        self.session = requests.Session()
        self.session.auth = auth
        wait_until(
            lambda: self.get("/-/ready").status_code == 200,
            STARTUP_TIMEOUT_SECONDS,
            "the in-process exporter to be ready",
        )

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def log_text(self) -> str:
        return "\n".join(self._logs.lines)

    def stop(self) -> None:
        self.session.close()
        self._run(self._server.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        logging.getLogger("exporter").removeHandler(self._logs)
