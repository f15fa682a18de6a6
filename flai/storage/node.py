"""An embedded IPFS node serving a subset of Kubo's RPC API over a local store.

It lets every FLAI process (custodians, validators, compute nodes) share one
:class:`~flai.storage.local.LocalStore` through the same HTTP API a Kubo daemon offers, so
an unmodified ``ipfshttpclient.Client`` — or :class:`~flai.storage.http.IpfsHttpStorage` —
works against either. No networking beyond the API: the node is always "offline".

Served commands (``POST /api/v0/<command>``, arguments in the query string as ``arg=``,
results as Kubo shapes them): ``add`` (multipart upload, streamed, NDJSON result),
``cat``, ``block/get``, ``block/stat``, ``block/put``, ``pin/add``, ``pin/ls``,
``pin/rm``, ``repo/gc``, ``repo/verify``, ``version``, ``id``. Other methods get ``405``
and unknown commands ``404`` like Kubo; errors are ``{"Message", "Code", "Type": "error"}``.

Requests are bounded before the node reads them: a body must be framed by a plain
decimal ``Content-Length`` or by chunked encoding (never both, nothing else), is capped at
``max_body_size`` (413), and is streamed, never held whole; a command that needs a body
and got no framing answers 411. As in Kubo, a request naming a web origin (``Origin``,
``Referer``) other than the API's own gets ``403 - Forbidden``, as does a browser
request naming none. Adds and pins hold the repository's GC lock shared and ``repo/gc``
holds it alone (see :mod:`flai.storage.lock`); ``repo/gc`` reports corrupt or missing
blocks of pinned DAGs as ``{"Error": ...}`` entries and collects the rest. The HTTP server,
request handling and commands are in :mod:`flai.storage.rpc`; the node's libp2p identity in
:mod:`flai.storage.identity`.

Run it from Python::

    with IpfsNode(repo="/var/lib/flai/ipfs") as node:
        storage = IpfsHttpStorage(address=node.address)

or as a command: ``python -m flai.storage.node --repo DIR --port 5001`` (``flai-ipfs``).
The API only binds to loopback unless ``allow_remote=True`` (``--allow-remote``); like
Kubo, it has no authentication, so exposing it lets anyone write and unpin content.

References
----------
Kubo RPC API reference, https://docs.ipfs.tech/reference/kubo/rpc/ .
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from flai.storage.errors import NodeBindError, UnsupportedOptionError
from flai.storage.identity import libp2p_public_key, load_identity, peer_id
from flai.storage.local import LocalStore
from flai.storage.rpc.handler import normal_origin
from flai.storage.rpc.server import Server, Server6

__all__ = ["DEFAULT_API_PORT", "DEFAULT_MAX_BODY_SIZE", "IpfsNode", "main"]

DEFAULT_API_PORT = 5001
"""Kubo's default RPC API port."""

_log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_SIZE = 4 << 30
"""Largest request body the node accepts by default (4 GiB; ``max_body_size``)."""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class IpfsNode:
    """An embedded node: a :class:`LocalStore` behind Kubo's RPC API on ``host:port``.

    Parameters
    ----------
    repo
        Repository directory (ignored when ``store`` is given).
    store
        An existing local store to serve.
    host
        Bind address; loopback unless ``allow_remote``.
    port
        TCP port; 0 picks a free one (see :attr:`port` after :meth:`start`).
    allow_remote
        Permit a non-loopback bind (the API is unauthenticated, as Kubo's).
    max_body_size
        Largest request body accepted, in bytes (larger ones get 413 unread).
    allowed_origins
        Web origins allowed besides the API's own (Kubo's
        ``API.HTTPHeaders.Access-Control-Allow-Origin``), e.g. ``"http://localhost:3000"``.
        A request naming any other origin gets 403.

    Raises
    ------
    NodeBindError
        If ``host`` is not a loopback address and ``allow_remote`` is false.
    UnsupportedOptionError
        If ``max_body_size`` is not positive.
    """

    def __init__(
        self,
        *,
        repo: Path | str | None = None,
        store: LocalStore | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        allowed_origins: Iterable[str] = (),
    ) -> None:
        if not allow_remote and not _is_loopback(host):
            raise NodeBindError(host)
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
            raise UnsupportedOptionError("max-body-size", max_body_size)
        if max_body_size <= 0:
            raise UnsupportedOptionError("max-body-size", max_body_size)
        self.max_body_size = max_body_size
        self._extra_origins = frozenset(normal_origin(o) for o in allowed_origins)
        if store is None:
            if repo is None:
                raise ValueError("IpfsNode needs a repo directory or a store")
            store = LocalStore(root=repo)
        self._store = store
        self._host = host
        self._requested_port = port
        self.allow_remote = allow_remote
        with store.gc_lock.pin_lock():  # a collection sweeps temporary files in the root
            key = load_identity(store.root / "identity.ed25519")
        self.public_key = libp2p_public_key(key)
        self.peer_id = peer_id(self.public_key)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> LocalStore:
        """The store being served."""
        return self._store

    @property
    def allowed_origins(self) -> frozenset[str]:
        """Origins that may call the API: its own (``http``/``https`` on the loopback
        names and the bind host, at the bound port, as Kubo lists them) and the extra
        ones given."""
        port = self.port
        hosts = {"127.0.0.1", "localhost", "[::1]"}
        bound = self._host.strip("[]").lower()
        if bound not in ("0.0.0.0", "::"):
            hosts.add(f"[{bound}]" if ":" in bound else bound)
        own = {f"{scheme}://{host}:{port}" for scheme in ("http", "https") for host in hosts}
        return frozenset(own) | self._extra_origins

    @property
    def port(self) -> int:
        """The bound TCP port (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("node not started")
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        """The API multiaddr, e.g. ``/ip4/127.0.0.1/tcp/5001/http``."""
        host = self._host.strip("[]")
        if host.lower() == "localhost":
            proto = "dns"
        else:
            proto = "ip6" if ipaddress.ip_address(host).version == 6 else "ip4"
        return f"/{proto}/{host}/tcp/{self.port}/http"

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:5001``."""
        host = self._host.strip("[]")
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Bind and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("node already started")
        host = self._host.strip("[]")
        server_cls = Server6 if ":" in host else Server
        self._server = server_cls((host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"flai-ipfs-{self.port}",
            daemon=True,
        )
        self._thread.start()
        _log.info("RPC API server listening on %s", self.address)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _default_repo() -> Path:
    return Path(os.environ.get("FLAI_IPFS_REPO", Path.home() / ".flai" / "ipfs"))


def main(argv: list[str] | None = None) -> int:
    """Run the embedded node until SIGINT/SIGTERM (``flai-ipfs`` / ``python -m``)."""
    parser = argparse.ArgumentParser(
        prog="flai-ipfs", description="Embedded IPFS node speaking a subset of Kubo's RPC API."
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        help="repository directory (default: $FLAI_IPFS_REPO or ~/.flai/ipfs)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_API_PORT, help="TCP port (0: any free)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding to a non-loopback address (unauthenticated API!)",
    )
    parser.add_argument(
        "--max-body-size",
        type=int,
        default=DEFAULT_MAX_BODY_SIZE,
        help=f"largest request body in bytes (default {DEFAULT_MAX_BODY_SIZE})",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin allowed besides the API's own (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    try:
        node = IpfsNode(
            repo=args.repo or _default_repo(),
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            max_body_size=args.max_body_size,
            allowed_origins=args.allow_origin,
        )
        node.start()
    except (NodeBindError, UnsupportedOptionError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"PeerID: {node.peer_id}", flush=True)
        print(f"RPC API server listening on {node.address}", flush=True)
        print("Daemon is ready", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Daemon is stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
