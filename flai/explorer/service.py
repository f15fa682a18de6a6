"""The explorer as a running service: chain connection, index, background sync and web server.

:class:`Explorer` wires the parts from an :class:`ExplorerConfig`: a read-only web3
connection (:mod:`flai.explorer.rpc`), the deployment's platform addresses, the SQLite index
(:mod:`flai.explorer.index`), an optional IPFS backend for public documents, and the
Starlette app (:mod:`flai.explorer.web`). A background thread keeps the index in step with
the chain every ``poll`` seconds; pages read only the index.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from flai.explorer.abi import default_build_dir
from flai.explorer.deployment import load_deployment
from flai.explorer.errors import ExplorerError
from flai.explorer.index import ExplorerIndex, SyncReport
from flai.explorer.rpc import ReadOnlyHTTPProvider, connect
from flai.explorer.web import create_app
from flai.storage import Storage, StorageError

__all__ = ["Explorer", "ExplorerConfig", "load_names", "url"]

log = logging.getLogger(__name__)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class ExplorerConfig:
    """Where the explorer reads from and serves on.

    Parameters
    ----------
    rpc
        HTTP JSON-RPC URL of the chain.
    deployment
        A ``deployments/<network>.json`` (see :mod:`flai.explorer.deployment`).
    database
        SQLite index file.
    build_dir
        brownie's ``build/contracts`` (default: the project's, see
        :func:`flai.explorer.abi.default_build_dir`).
    ipfs_api
        A Kubo-compatible RPC API (``http://127.0.0.1:5001`` or a multiaddr) for documents.
    ipfs_repo
        An embedded-node repository folder read directly (e.g. a lifecycle run's ``ipfs``).
    names
        Optional JSON file ``{address: name}`` of display names.
    host, port
        Where to serve (loopback only; port 0 picks a free one).
    poll
        Seconds between index syncs (0: sync once at start only).
    """

    rpc: str
    deployment: Path
    database: Path = Path(".flai/explorer.sqlite")
    build_dir: Path | None = None
    ipfs_api: str | None = None
    ipfs_repo: Path | None = None
    names: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8800
    poll: float = 2.0

    def __post_init__(self) -> None:
        if not _loopback(self.host):
            raise ExplorerError(f"host: {self.host!r} is not a loopback address")
        if not 0 <= self.port <= 65535:
            raise ExplorerError(f"port: {self.port} is not a TCP port")
        if self.poll < 0:
            raise ExplorerError(f"poll: {self.poll} is negative")
        if self.ipfs_api and self.ipfs_repo:
            raise ExplorerError("ipfs_api, ipfs_repo: give one IPFS source, not both")


def load_names(path: Path) -> dict[str, str]:
    """``{address: name}`` from a JSON file (addresses checksummed; bad entries named)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExplorerError(f"names: cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ExplorerError(f"names: {path} is not an object of address -> name")
    out = {}
    for address, name in raw.items():
        if not is_address(address) or not isinstance(name, str):
            raise ExplorerError(f"names: entry {address!r}: expected an address and a name")
        out[str(to_checksum_address(address))] = name
    return out


def _storage(config: ExplorerConfig) -> Storage | None:
    try:
        if config.ipfs_api:
            from flai.storage import IpfsHttpStorage

            return IpfsHttpStorage(address=config.ipfs_api, timeout=10.0)
        if config.ipfs_repo:
            from flai.storage import LocalStore

            if not Path(config.ipfs_repo).is_dir():
                raise ExplorerError(f"ipfs_repo: {config.ipfs_repo} is not a folder")
            return LocalStore(root=config.ipfs_repo, fsync=False)
        if os.environ.get("FLAI_IPFS_API") or os.environ.get("FLAI_IPFS_REPO"):
            from flai.storage import open_storage

            return open_storage()
    except StorageError as exc:
        raise ExplorerError(f"ipfs: {exc}") from exc
    return None


class Explorer:
    """The explorer service built from ``config`` (connects to the chain; builds no server yet).

    Parameters
    ----------
    config
        The :class:`ExplorerConfig`.
    rebuild
        Drop the index and build it again from the start block.
    """

    def __init__(self, *, config: ExplorerConfig, rebuild: bool = False) -> None:
        self.config = config
        self.w3 = connect(config.rpc)
        self.platform = load_deployment(config.deployment)
        self.storage = _storage(config)
        self.names = load_names(config.names) if config.names else {}
        build_dir = config.build_dir or default_build_dir()
        self.index = ExplorerIndex(
            w3=self.w3,
            platform=self.platform,
            database=config.database,
            build_dir=build_dir,
            storage=self.storage,
        )
        if rebuild:
            self.index.rebuild()
        self.app = create_app(database=config.database, abis=self.index.abis, names=self.names)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_sync: SyncReport | None = None
        self.last_error: str | None = None

    @property
    def provider(self) -> ReadOnlyHTTPProvider:
        """The read-only provider (its ``request_count`` counts every JSON-RPC request)."""
        provider = self.w3.provider
        assert isinstance(provider, ReadOnlyHTTPProvider)
        return provider

    def sync(self) -> SyncReport:
        """One index pass (see :meth:`ExplorerIndex.sync`)."""
        report = self.index.sync()
        self.last_sync = report
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                self.last_error = None
            except ExplorerError as exc:  # the node went away: keep serving, retry later
                if str(exc) != self.last_error:
                    log.warning("index sync failed: %s", exc)
                self.last_error = str(exc)
            if self.config.poll == 0:
                return
            self._stop.wait(self.config.poll)

    def start_indexing(self) -> None:
        """Sync in a background thread (every ``poll`` seconds until :meth:`stop`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="explorer-index", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the background sync and close the index and the IPFS backend."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.index.close()
        if self.storage is not None:
            self.storage.close()

    def server(self) -> Any:
        """A :class:`uvicorn.Server` for the app on ``config.host:config.port``."""
        import uvicorn

        settings = uvicorn.Config(
            self.app,
            host=self.config.host,
            port=self.config.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        return uvicorn.Server(settings)

    def serve(self, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Index in the background and serve until SIGINT/SIGTERM.

        ``on_ready`` gets the URL (``http://host:port``) once the server listens."""
        server = self.server()

        def announce() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.02)
            if server.started and on_ready is not None:
                on_ready(url(server))

        self.start_indexing()
        threading.Thread(target=announce, name="explorer-ready", daemon=True).start()
        try:
            server.run()
        finally:
            self.stop()


def url(server: Any) -> str:
    """``http://host:port`` a started :class:`uvicorn.Server` listens on."""
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    return f"http://{host}:{port}"
