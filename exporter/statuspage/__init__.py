"""The live status page at ``/``: server-rendered first paint, updated by polling
``/api/status``; every asset served by the exporter."""
