"""Raw sockets for connection-level tests."""

from __future__ import annotations

import socket


def closed_by_peer(connection: socket.socket, within: float = 10.0) -> bool:
    """Whether the other end closes the connection within ``within`` seconds."""
    connection.settimeout(within)
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
