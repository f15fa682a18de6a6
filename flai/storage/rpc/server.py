"""The threaded HTTP server behind the embedded node, and how it closes connections.

A connection whose request was refused mid-upload is drained briefly before it is closed,
so the client still reads the error instead of a connection reset.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from flai.storage.rpc.handler import Handler

if TYPE_CHECKING:
    from flai.storage.node import IpfsNode

__all__ = ["Server", "Server6"]

_LINGER_SECONDS = 1.0
_LINGER_BYTES = 64 << 20


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], node: IpfsNode) -> None:
        self.node = node
        self._connections: set[socket.socket] = set()
        self._lingering: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def linger(self, request: socket.socket) -> None:
        """Drain ``request`` briefly before closing it (see :meth:`shutdown_request`)."""
        with self._connections_lock:
            self._lingering.add(request)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
            lingering = request in self._lingering
            self._lingering.discard(request)
        if lingering:
            _drain_before_close(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _drain_before_close(request: socket.socket) -> None:
    """Half-close, then read and discard what the client still sends, for a bounded time.

    Closing a socket with unread input makes the kernel answer with a reset, which can
    destroy the error response before the client reads it; a client still uploading a
    refused body would then see only "connection reset". Discarding into one fixed
    buffer costs no memory, and time and bytes are both capped.
    """
    try:
        request.shutdown(socket.SHUT_WR)
    except OSError:
        return
    buffer = bytearray(1 << 16)
    deadline = time.monotonic() + _LINGER_SECONDS
    discarded = 0
    try:
        while discarded < _LINGER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            request.settimeout(remaining)
            count = request.recv_into(buffer)
            if not count:
                break
            discarded += count
    except OSError:
        pass


class Server6(Server):
    address_family = socket.AF_INET6
