"""Authentication: the optional ingest bearer token guarding the routes that change state
(ingest, monitoring), and the optional basic auth of ``--web.config.file`` on every route.

A request with the right bearer token is authenticated as well: the token and basic auth
both use the Authorization header, so a client of the ingest API sends the token only."""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from exporter.web.errors import json_error
from exporter.web.keys import INGEST_TOKEN
from exporter.web.web_config import BasicAuth


def _has_token(request: web.Request, token: str) -> bool:
    """Constant-time comparison, so the token cannot be guessed byte by byte."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


def unauthorized(request: web.Request) -> web.Response | None:
    """A 401 reply when a token is configured and the request lacks it, else None."""
    token = request.app.get(INGEST_TOKEN)
    if token is None or _has_token(request, token):
        return None
    response = json_error(401, "missing or wrong bearer token")
    response.headers["WWW-Authenticate"] = 'Bearer realm="autobot-exporter"'
    return response


def basic_auth_middleware(auth: BasicAuth) -> Middleware:
    @web.middleware
    async def require_basic_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = request.app.get(INGEST_TOKEN)
        has_token = token is not None and _has_token(request, token)
        if has_token or await auth.accepts(request.headers.get("Authorization", "")):
            return await handler(request)
        response = json_error(401, "authentication required")
        response.headers["WWW-Authenticate"] = 'Basic realm="autobot-exporter"'
        return response

    return require_basic_auth
