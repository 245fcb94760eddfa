"""The optional bearer token guarding the routes that change state (ingest, monitoring)."""

from __future__ import annotations

import hmac

from aiohttp import web

from exporter.errors import json_error
from exporter.keys import INGEST_TOKEN


def unauthorized(request: web.Request) -> web.Response | None:
    """A 401 reply when a token is configured and the request lacks it, else None.

    The comparison is constant-time, so the token cannot be guessed byte by byte.
    """
    token = request.app.get(INGEST_TOKEN)
    if token is None:
        return None
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    ):
        return None
    response = json_error(401, "missing or wrong bearer token")
    response.headers["WWW-Authenticate"] = 'Bearer realm="autobot-exporter"'
    return response
