"""Typed keys for what the aiohttp application holds (aiohttp's AppKey)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from exporter.concurrency import ConcurrencyLimit
from exporter.config import Config
from exporter.metrics import SelfMetrics
from exporter.sampler import Sampler
from exporter.tracker import WorkflowTracker
from exporter.web_config import WebConfigFile

CONFIG = web.AppKey("config", Config)
REGISTRY = web.AppKey("registry", CollectorRegistry)
SELF_METRICS = web.AppKey("self_metrics", SelfMetrics)
TRACKER = web.AppKey("tracker", WorkflowTracker)
SAMPLER = web.AppKey("sampler", Sampler)
WEB_CONFIG = web.AppKey("web_config", WebConfigFile)
INGEST_TOKEN = web.AppKey("ingest_token", str)
SCRAPE_LIMIT = web.AppKey("scrape_limit", ConcurrencyLimit)
INGEST_LIMIT = web.AppKey("ingest_limit", ConcurrencyLimit)
LOGGED_REFUSALS = web.AppKey("logged_refusals", set[str])
