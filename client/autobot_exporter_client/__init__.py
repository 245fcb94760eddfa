"""The client AutoBot uses to push workflow events to the exporter.

    from autobot_exporter_client import MetricsClient
    metrics = MetricsClient("http://127.0.0.1:9471")
    metrics.start_workflow_tracking("wf-1", {"complexity": "research"})

Every call only enqueues (a few microseconds) and never raises; a background sender posts
batches, retries with backoff, and flushes at interpreter exit. ``AsyncMetricsClient``
needs aiohttp (``pip install 'autobot-exporter-client[aio]'``); it is imported only when
asked for, so the threaded client works with requests alone.
"""

from typing import TYPE_CHECKING, Any

from autobot_exporter_client.core import ClientSettings, DeliveryStats
from autobot_exporter_client.sync import MetricsClient

if TYPE_CHECKING:
    from autobot_exporter_client.aio import AsyncMetricsClient

__all__ = ["AsyncMetricsClient", "ClientSettings", "DeliveryStats", "MetricsClient"]


def __getattr__(name: str) -> Any:
    if name == "AsyncMetricsClient":
        try:
            from autobot_exporter_client.aio import AsyncMetricsClient  # noqa: PLC0415
        except ImportError as error:
            raise ImportError(
                "AsyncMetricsClient needs aiohttp: pip install 'autobot-exporter-client[aio]'"
            ) from error
        return AsyncMetricsClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
