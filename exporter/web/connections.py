"""At most ``web.max_connections`` connections, without letting a flood of new ones push
out the clients that already use the exporter.

Every open connection costs a file descriptor and some memory, so their number is capped.
When a new connection would pass the cap, the oldest connection that has not yet sent a
whole request head is closed (a slow or silent client; web.idle_timeout would close it
later anyway); only when every open connection has sent one is the new connection closed
instead. Prometheus' and AutoBot's keep-alive connections have sent requests, so an
attacker opening connections cannot evict them, and a new scrape connection takes the
place of a silent one.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from exporter.workflows.metrics import DroppedConnection

log = logging.getLogger(__name__)

FILE_DESCRIPTOR_RESERVE = 64
"""Descriptors kept for what is not a connection: the log, /proc reads, the listener."""


class Connection(Protocol):
    def force_close(self) -> None: ...


class ConnectionLimit:
    def __init__(
        self,
        capacity: int,
        on_open_change: Callable[[int], None],
        on_drop: Callable[[DroppedConnection], None],
    ) -> None:
        self.capacity = capacity
        self._on_open_change = on_open_change
        self._on_drop = on_drop
        self._open: set[Connection] = set()
        self._unproven: OrderedDict[Connection, None] = OrderedDict()
        """Open connections that have not sent a whole request head yet, oldest first."""

    def fit_open_files_limit(self, open_files: int) -> None:
        """Lower the cap below the process' open-files limit, so the cap bites before
        accept() fails for want of a descriptor."""
        fitting = max(1, open_files - FILE_DESCRIPTOR_RESERVE)
        if fitting < self.capacity:
            log.warning(
                "web.max_connections lowered from %d to %d: the open files limit is %d",
                self.capacity,
                fitting,
                open_files,
            )
            self.capacity = fitting

    def opened(self, connection: Connection) -> None:
        self._open.add(connection)
        self._unproven[connection] = None
        if len(self._open) > self.capacity:
            self._drop_one(connection)
        self._on_open_change(len(self._open))

    def proven(self, connection: Connection) -> None:
        """It sent a whole request head: no longer the first to be closed at the cap."""
        self._unproven.pop(connection, None)

    def closed(self, connection: Connection) -> None:
        self._open.discard(connection)
        self._unproven.pop(connection, None)
        self._on_open_change(len(self._open))

    def _drop_one(self, new: Connection) -> None:
        oldest, _ = self._unproven.popitem(last=False)
        which: DroppedConnection = "new" if oldest is new else "unproven"
        log.warning(
            "web.max_connections (%d) reached: closed the %s connection",
            self.capacity,
            "new" if which == "new" else "oldest one that had not sent a request",
        )
        self._on_drop(which)
        self.closed(oldest)
        oldest.force_close()


def proving_middleware(limit: ConnectionLimit) -> Middleware:
    """Marks the connection of every request that reaches the application as proven: it
    sent a whole request head, so it is no longer the first closed at the cap."""

    @web.middleware
    async def connection_proven(request: web.Request, handler: Handler) -> web.StreamResponse:
        limit.proven(request.protocol)
        return await handler(request)

    return connection_proven
