"""Choosing a storage backend from configuration.

``FLAI_IPFS_API`` set (a multiaddr such as ``/ip4/127.0.0.1/tcp/5001/http`` or a URL such
as ``http://127.0.0.1:5001``) selects :class:`~flai.storage.http.IpfsHttpStorage` against
that Kubo-compatible RPC API — a Kubo daemon or the embedded node. Otherwise the local
store in ``FLAI_IPFS_REPO`` (default ``~/.flai/ipfs``) is used directly, no daemon needed.
``FLAI_IPFS_CID_VERSION`` (0 or 1, default 1) picks the CID version of new content.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from flai.storage.base import Storage
from flai.storage.errors import UnreachableError, UnsupportedOptionError

__all__ = [
    "ENV_API",
    "ENV_CID_VERSION",
    "ENV_REPO",
    "StorageConfig",
    "default_repo",
    "open_storage",
    "to_multiaddr",
]

ENV_API = "FLAI_IPFS_API"
ENV_REPO = "FLAI_IPFS_REPO"
ENV_CID_VERSION = "FLAI_IPFS_CID_VERSION"


def default_repo() -> Path:
    """``~/.flai/ipfs``."""
    return Path.home() / ".flai" / "ipfs"


def to_multiaddr(address: str) -> str:
    """Normalise an API address to the multiaddr form ``ipfshttpclient`` expects.

    Multiaddrs pass through; ``http://host:port`` and ``host:port`` are converted.

    Raises
    ------
    UnreachableError
        If the address cannot be understood (it names the address).
    """
    text = address.strip()
    if text.startswith("/"):
        return text
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise UnreachableError(address, "not a multiaddr or http(s)://host:port URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnreachableError(address, "invalid port") from None
    host = parts.hostname
    try:
        proto = "ip6" if ipaddress.ip_address(host).version == 6 else "ip4"
    except ValueError:
        proto = "dns"
    return f"/{proto}/{host}/tcp/{port}/{parts.scheme}"


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Where content is stored.

    Parameters
    ----------
    api
        Kubo-compatible RPC API address; ``None`` means the local store.
    repo
        Local store directory (used when ``api`` is ``None``).
    cid_version
        CID version of new content (1: ``ipfs add --cid-version=1``; 0: ``ipfs add``).
    timeout
        HTTP timeout in seconds for the API backend.
    """

    api: str | None = None
    repo: Path = field(default_factory=default_repo)
    cid_version: int = 1
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise UnsupportedOptionError("cid-version", self.cid_version)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StorageConfig:
        """Read ``FLAI_IPFS_API``, ``FLAI_IPFS_REPO`` and ``FLAI_IPFS_CID_VERSION``."""
        env = os.environ if environ is None else environ
        api = env.get(ENV_API, "").strip() or None
        repo = Path(env[ENV_REPO]).expanduser() if env.get(ENV_REPO) else default_repo()
        raw_version = env.get(ENV_CID_VERSION, "1").strip() or "1"
        if raw_version not in ("0", "1"):
            raise UnsupportedOptionError("cid-version", raw_version)
        return cls(api=api, repo=repo, cid_version=int(raw_version))


def open_storage(config: StorageConfig | None = None) -> Storage:
    """The backend ``config`` (default: :meth:`StorageConfig.from_env`) selects."""
    cfg = config if config is not None else StorageConfig.from_env()
    if cfg.api is not None:
        from flai.storage.http import IpfsHttpStorage

        return IpfsHttpStorage(address=cfg.api, cid_version=cfg.cid_version, timeout=cfg.timeout)
    from flai.storage.local import LocalStore
    from flai.storage.unixfs import ImportOptions

    return LocalStore(root=cfg.repo, options=ImportOptions(cid_version=cfg.cid_version))
