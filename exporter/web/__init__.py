"""The HTTP layer: ingest handler, /metrics, landing and health endpoints, auth, TLS,
limits on requests in progress, JSON errors, and the typed app keys the handlers read.
Depends on workflows/ and system/; nothing below it imports it."""
