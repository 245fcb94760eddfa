"""An HTTP receiver standing in for a webhook target of Alertmanager: it keeps every JSON
body posted to it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        received = self.payloads

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet: the test reads the payloads, not a log."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/alerts"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def alerts(self, status: str, name: str) -> list[dict[str, Any]]:
        """Alerts named ``name`` delivered with ``status`` (firing or resolved)."""
        return [
            alert
            for payload in self.payloads
            for alert in payload["alerts"]
            if alert["status"] == status and alert["labels"]["alertname"] == name
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
