"""The client AutoBot uses to push workflow events to the exporter.

    from autobot_exporter_client import MetricsClient
    metrics = MetricsClient("http://127.0.0.1:9471")
    metrics.start_workflow_tracking("wf-1", {"complexity": "research"})

Every call only enqueues (a few microseconds) and never raises; a background sender posts
batches, retries with backoff, and flushes at interpreter exit. ``AsyncMetricsClient``
needs aiohttp (``pip install 'autobot-exporter-client[aio]'``).

The names are imported when first asked for, so importing a submodule does not load
requests or aiohttp.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autobot_exporter_client.aio import AsyncMetricsClient
    from autobot_exporter_client.core import ClientSettings, DeliveryStats
    from autobot_exporter_client.reads import SystemMonitorClient
    from autobot_exporter_client.stats import WorkflowExecutionStats
    from autobot_exporter_client.sync import MetricsClient

__all__ = [
    "AsyncMetricsClient",
    "ClientSettings",
    "DeliveryStats",
    "MetricsClient",
    "SystemMonitorClient",
    "WorkflowExecutionStats",
]

_HOMES = {
    "AsyncMetricsClient": "aio",
    "ClientSettings": "core",
    "DeliveryStats": "core",
    "MetricsClient": "sync",
    "SystemMonitorClient": "reads",
    "WorkflowExecutionStats": "stats",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = import_module(f"autobot_exporter_client.{home}")
    except ImportError as error:
        if home != "aio":
            raise
        raise ImportError(
            "AsyncMetricsClient needs aiohttp: pip install 'autobot-exporter-client[aio]'"
        ) from error
    return getattr(module, name)
