"""The read side of AutoBot's ``WorkflowMetricsCollector`` and ``SystemResourceMonitor``,
answered by the exporter over HTTP, so AutoBot's own ``/api/metrics`` router keeps
working unchanged on top of the client: the original method names and return shapes.

Like the originals, these never raise for a failure of the metrics system: with the
exporter unreachable or answering an error they return what the originals returned on
failure (None for a workflow, ``{"error": ...}`` for a summary, an ``Export failed: ...``
string for an export). They block for at most ``read_timeout`` (the originals read
memory; this is a loopback round trip).
"""

from __future__ import annotations

import asyncio
from typing import Any

import requests

from autobot_exporter_client.core import ClientSettings, client_settings


class ExporterUnavailable(Exception):
    """The exporter did not answer, or answered an error."""


class ExporterReads:
    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._reads = requests.Session()
        self.collection_interval: float | None = None
        """The exporter's sampling interval, as the last start_monitoring() answered it."""

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        try:
            reply = self._reads.get(
                self.settings.url.rstrip("/") + path,
                params=params,
                headers=self.settings.headers,
                timeout=self.settings.read_timeout,
            )
            answer = reply.json()
        except (requests.RequestException, ValueError) as error:
            raise ExporterUnavailable(f"autobot-exporter unreachable: {error}") from None
        if not reply.ok or not isinstance(answer, dict):
            message = answer.get("message") if isinstance(answer, dict) else None
            raise ExporterUnavailable(f"autobot-exporter answered {reply.status_code}: {message}")
        return answer

    def _get_key(self, path: str, key: str, **params: Any) -> Any:
        return self._get(path, **params)[key]

    # ---- WorkflowMetricsCollector ----------------------------------------------------

    def get_workflow_stats(self, workflow_id: str) -> dict[str, Any] | None:
        """The workflow's statistics (running or finished); None when unknown."""
        try:
            return self._get_key(f"/api/metrics/workflow/{workflow_id}", "metrics")
        except ExporterUnavailable:
            return None

    def get_performance_summary(self, time_window_hours: int = 24) -> dict[str, Any]:
        try:
            return self._get_key(
                "/api/metrics/performance/summary",
                "performance_summary",
                time_window_hours=time_window_hours,
            )
        except ExporterUnavailable as error:
            return {"error": str(error)}

    def export_metrics(self, format: str = "json") -> str:
        try:
            return str(self._get_key("/api/metrics/export/workflow", "data", format=format))
        except ExporterUnavailable as error:
            return f"Export failed: {error}"

    # ---- SystemResourceMonitor -----------------------------------------------------------

    def get_current_metrics(self) -> dict[str, Any]:
        try:
            return self._get_key("/api/metrics/system/current", "system_metrics")
        except ExporterUnavailable as error:
            return {"error": str(error)}

    def get_resource_summary(self, minutes: int = 10) -> dict[str, Any]:
        try:
            return self._get_key("/api/metrics/system/summary", "resource_summary", minutes=minutes)
        except ExporterUnavailable as error:
            return {"error": str(error)}

    def check_resource_thresholds(self) -> dict[str, Any]:
        try:
            return self._get_key("/api/metrics/system/health", "health_status")
        except ExporterUnavailable as error:
            return {"status": "unknown", "critical_alerts": [], "warnings": [], "error": str(error)}

    def export_resource_data(self, format: str = "json") -> str:
        try:
            return str(self._get_key("/api/metrics/export/system", "data", format=format))
        except ExporterUnavailable as error:
            return f"Export failed: {error}"

    async def start_monitoring(self) -> None:
        """Resume the exporter's sampling (awaited, as the original's was)."""
        answer = await asyncio.to_thread(self._post_control, "/api/metrics/system/monitoring/start")
        self.collection_interval = answer.get("collection_interval", self.collection_interval)

    async def stop_monitoring(self) -> None:
        await asyncio.to_thread(self._post_control, "/api/metrics/system/monitoring/stop")

    def _post_control(self, path: str) -> dict[str, Any]:
        try:
            reply = self._reads.post(
                self.settings.url.rstrip("/") + path,
                headers=self.settings.headers,
                timeout=self.settings.read_timeout,
            )
            return reply.json() if reply.ok else {}
        except (requests.RequestException, ValueError):
            return {}


class SystemMonitorClient(ExporterReads):
    """Stands in for AutoBot's ``system_monitor`` object: the monitor's read methods and
    start/stop, answered by the exporter (which does the sampling itself)."""

    def __init__(self, url: str | None = None, **settings: Any) -> None:
        super().__init__(client_settings(url, settings))
