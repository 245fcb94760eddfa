"""OTLP/HTTP trace ingest and the span metrics made from it."""
