"""Generated artifacts: the Prometheus rules and the Grafana dashboards, rendered from the
same config as the health endpoint (the shipped files are the renderings of the defaults)."""
