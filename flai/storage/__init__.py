"""IPFS storage with Kubo-identical CIDs.

- :class:`Storage` — the interface: ``put``/``get`` (verified), ``has``, ``pin``/``unpin``,
  streaming ``put_stream``/``get_stream`` and JSON helpers.
- :class:`LocalStore` — on-disk blockstore; CIDs byte-for-byte those of Kubo's
  ``ipfs add --cid-version=1`` (default) or ``ipfs add`` (CIDv0).
- :class:`IpfsNode` — embedded node serving Kubo's RPC API on loopback
  (``python -m flai.storage.node`` / ``flai-ipfs``).
- :class:`IpfsHttpStorage` — the interface over ``ipfshttpclient`` for any Kubo-compatible
  API; :func:`open_storage` picks a backend from ``FLAI_IPFS_API`` / ``FLAI_IPFS_REPO``.
"""

from flai.storage.base import Storage, canonical_json
from flai.storage.config import StorageConfig, open_storage
from flai.storage.errors import (
    CIDNotFoundError,
    IntegrityError,
    InvalidCIDError,
    NodeBindError,
    NotPinnedError,
    StorageError,
    UnreachableError,
    UnsupportedOptionError,
)
from flai.storage.http import IpfsHttpStorage
from flai.storage.local import LocalStore
from flai.storage.node import IpfsNode
from flai.storage.unixfs import ImportOptions, ImportResult, import_bytes

__all__ = [
    "CIDNotFoundError",
    "ImportOptions",
    "ImportResult",
    "IntegrityError",
    "InvalidCIDError",
    "IpfsHttpStorage",
    "IpfsNode",
    "LocalStore",
    "NodeBindError",
    "NotPinnedError",
    "Storage",
    "StorageConfig",
    "StorageError",
    "UnreachableError",
    "UnsupportedOptionError",
    "canonical_json",
    "import_bytes",
    "open_storage",
]
