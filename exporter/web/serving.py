"""How the HTTP server runs: aiohttp's server options from the config, in one place for
the command (``server.serve``) and the tests' in-process server."""

from __future__ import annotations

from typing import Any

from exporter.config import Config

MAX_HEADER_BYTES = 8190
"""aiohttp's own bound on one header line and one field; kept, and documented."""


def server_options(config: Config) -> dict[str, Any]:
    """Keyword arguments for aiohttp's server (``server.serve`` and ``TestServer``)."""
    return {
        # web/body.py decodes Content-Encoding itself, so a bad body is a 4xx, not a 500
        "auto_decompress": False,
        "keepalive_timeout": config.web.idle_timeout,
        "max_headers": config.web.max_header_count,
        "max_field_size": MAX_HEADER_BYTES,
        "max_line_size": MAX_HEADER_BYTES,
    }
