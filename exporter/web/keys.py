"""Typed keys for what the aiohttp application holds (aiohttp's AppKey)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CollectorRegistry

from exporter.config import Config
from exporter.log_once import LogOnce
from exporter.system.sampler import Sampler
from exporter.web.concurrency import ConcurrencyLimit
from exporter.web.connections import ConnectionLimit
from exporter.web.web_config import WebConfigFile
from exporter.workflows.metrics import SelfMetrics
from exporter.workflows.tracker import WorkflowTracker

CONFIG = web.AppKey("config", Config)
REGISTRY = web.AppKey("registry", CollectorRegistry)
SELF_METRICS = web.AppKey("self_metrics", SelfMetrics)
TRACKER = web.AppKey("tracker", WorkflowTracker)
SAMPLER = web.AppKey("sampler", Sampler)
WEB_CONFIG = web.AppKey("web_config", WebConfigFile)
INGEST_TOKEN = web.AppKey("ingest_token", str)
SCRAPE_LIMIT = web.AppKey("scrape_limit", ConcurrencyLimit)
INGEST_LIMIT = web.AppKey("ingest_limit", ConcurrencyLimit)
APPLY_LOCK = web.AppKey("apply_lock", asyncio.Lock)
"""One ingest body decoded and applied at a time (web/ingest.py)."""
INGEST_REFUSALS_LOG = web.AppKey("ingest_refusals_log", LogOnce)
CONNECTIONS = web.AppKey("connections", ConnectionLimit)
