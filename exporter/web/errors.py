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
    """A query parameter out of range; answered 422 in FastAPI's shape, as the original was:
    ``detail`` entries with ``type``, ``loc``, ``msg``, ``input`` and ``ctx``."""

    def __init__(
        self, parameter: str, kind: str, message: str, value: str, context: dict | None = None
    ) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.detail: dict = {"type": kind, "loc": ["query", parameter], "msg": message}
        self.detail["input"] = value
        if context is not None:
            self.detail["ctx"] = context


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high], else QueryError naming it."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        message = "Input should be a valid integer, unable to parse string as an integer"
        raise QueryError(name, "int_parsing", message, raw) from None
    if value < low:
        message = f"Input should be greater than or equal to {low}"
        raise QueryError(name, "greater_than_equal", message, raw, {"ge": low})
    if value > high:
        message = f"Input should be less than or equal to {high}"
        raise QueryError(name, "less_than_equal", message, raw, {"le": high})
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
