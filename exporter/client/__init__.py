"""The client AutoBot uses to push workflow events to the exporter.

    from exporter.client import MetricsClient
    metrics = MetricsClient("http://127.0.0.1:9471")
    metrics.start_workflow_tracking("wf-1", {"complexity": "research"})

Every call only enqueues (a few microseconds) and never raises; a background sender posts
batches, retries with backoff, and flushes at interpreter exit.
"""

from exporter.client.aio import AsyncMetricsClient
from exporter.client.core import ClientSettings, DeliveryStats
from exporter.client.sync import MetricsClient

__all__ = ["AsyncMetricsClient", "ClientSettings", "DeliveryStats", "MetricsClient"]
