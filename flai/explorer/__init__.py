"""FLAI Explorer: a read-only web front end to the registry, SubDAOs, rounds and revenue.

- :class:`ExplorerIndex` — the SQLite event index of one deployment (incremental from logs,
  reorg-safe, rebuilt on demand; :mod:`flai.explorer.index`);
- :class:`Reader` — what each page shows, computed from the index alone
  (:mod:`flai.explorer.queries`);
- :func:`create_app` — the Starlette app serving the pages (:mod:`flai.explorer.web`);
- :class:`Explorer` / :class:`ExplorerConfig` — the running service: read-only chain
  connection, background sync, uvicorn on loopback (``flai explorer``);
- :func:`platform_addresses` / :func:`load_deployment` — the platform addresses of a
  ``deployments/<network>.json`` (its ``platform``, ``subdaoFactory`` and ``market``
  sections).

Heavy modules (web3, Starlette) load on first use, so ``import flai.explorer`` stays cheap
for the ``flai`` command line.
"""

from typing import TYPE_CHECKING, Any

from flai.explorer.deployment import PlatformAddresses, load_deployment, platform_addresses
from flai.explorer.errors import (
    ArtifactError,
    ChainReadError,
    DeploymentError,
    ExplorerError,
    ReadOnlyViolationError,
)

if TYPE_CHECKING:
    from flai.explorer.index import ExplorerIndex, SyncReport
    from flai.explorer.queries import Reader
    from flai.explorer.service import Explorer, ExplorerConfig
    from flai.explorer.web import create_app

_LAZY = {
    "Explorer": "flai.explorer.service",
    "ExplorerConfig": "flai.explorer.service",
    "ExplorerIndex": "flai.explorer.index",
    "SyncReport": "flai.explorer.index",
    "Reader": "flai.explorer.queries",
    "create_app": "flai.explorer.web",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flai.explorer' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ArtifactError",
    "ChainReadError",
    "DeploymentError",
    "Explorer",
    "ExplorerConfig",
    "ExplorerError",
    "ExplorerIndex",
    "PlatformAddresses",
    "ReadOnlyViolationError",
    "Reader",
    "SyncReport",
    "create_app",
    "load_deployment",
    "platform_addresses",
]
