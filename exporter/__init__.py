"""autobot-exporter: a Prometheus exporter sidecar for AutoBot workflows and hosts."""

__version__ = "0.1.0"
