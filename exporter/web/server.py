"""Serving the application: aiohttp's runner with our own protocol factory, so every
connection is counted against ``web.max_connections`` and a request aiohttp cannot parse
is answered in JSON, like every other error, with one bounded log line.

This replaces ``web.run_app``, which gives no way to choose the connection's protocol.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from exporter.config import Config
from exporter.log_limit import LOG_CAUSE
from exporter.web.connections import ConnectionLimit
from exporter.web.errors import json_error
from exporter.web.keys import CONNECTIONS
from exporter.web.serving import server_options

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 128


class ServingHandler(web.RequestHandler):
    """aiohttp's connection handler, counted by the connection limit, with JSON errors."""

    __slots__ = ("_connections",)

    def __init__(self, manager: web.Server, connections: ConnectionLimit, **options: Any) -> None:
        super().__init__(manager, **options)
        self._connections = connections

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._connections.opened(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connections.closed(self)
        super().connection_lost(exc)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """What aiohttp answers when it cannot hand a request to the application (it cannot
        parse it) or the application failed past its own error handling."""
        if request.writer.output_size > 0:
            raise ConnectionError("the response had started: no error reply can follow")
        if isinstance(exc, HttpProcessingError):
            # The parser's message may quote the peer's bytes (its first line can be them
            # alone): the log's cause is the exception's class, so that requests differing
            # only in their bytes count as one cause (log_limit.RepeatLimit).
            what = str(exc.message).splitlines()[0][:100]
            cause = type(exc).__name__
            log.warning("bad HTTP request (%s): %s", cause, what, extra={LOG_CAUSE: cause})
            reply = f"bad HTTP request: {what}"
        else:
            log.error("error handling %s %s", request.method, request.path, exc_info=exc)
            reply = "internal error" if status >= 500 else (message or "bad request")
        response = json_error(status, reply)
        response.force_close()
        return response


async def serve(app: web.Application, config: Config, ssl_context: ssl.SSLContext | None) -> None:
    """Serve until SIGTERM or SIGINT, then stop within ``web.shutdown_timeout``."""
    options = {"access_log": None, **server_options(config)}
    runner = web.AppRunner(
        app, handle_signals=True, shutdown_timeout=config.web.shutdown_timeout, **options
    )
    await runner.setup()
    server = runner.server
    assert server is not None  # set up above
    loop = asyncio.get_running_loop()

    def connection() -> ServingHandler:
        return ServingHandler(server, app[CONNECTIONS], loop=loop, **options)

    listener = await loop.create_server(
        connection,
        config.host,
        config.port,
        ssl=ssl_context,
        backlog=LISTEN_BACKLOG,
        reuse_address=True,
    )
    try:
        await asyncio.Event().wait()  # until a signal raises GracefulExit
    finally:
        listener.close()
        await runner.cleanup()
