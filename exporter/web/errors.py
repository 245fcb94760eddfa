"""JSON error replies: every 4xx carries a human-readable ``message``; nothing leaks a 500 page."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"success": False, "message": message, **extra}, status=status)


class QueryError(ValueError):
    """A query parameter out of range; answered 422 in FastAPI's shape, as the original was."""

    def __init__(self, parameter: str, message: str, value: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.detail = {"loc": ["query", parameter], "msg": message, "input": value}


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high], else QueryError naming it."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(name, "Input should be a valid integer", raw) from None
    if not low <= value <= high:
        raise QueryError(name, f"Input should be between {low} and {high}", raw)
    return value


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn routing errors, query errors and unexpected exceptions into JSON replies."""
    try:
        return await handler(request)
    except QueryError as error:
        return json_error(422, str(error), detail=[error.detail])
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        return json_error(error.status, error.reason, path=request.path)
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        return json_error(500, "internal error; see the exporter log")
