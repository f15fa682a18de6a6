"""IPFS storage with Kubo-identical CIDs.

- :class:`Storage` — the interface: ``put``/``get`` (verified), ``has``, ``pin``/``unpin``,
  streaming ``put_stream``/``get_stream`` and JSON helpers.
- :class:`LocalStore` — on-disk blockstore; CIDs byte-for-byte those of Kubo's
  ``ipfs add --cid-version=1`` (default) or ``ipfs add`` (CIDv0); a GC lock shared by
  adds and pins, ``gc`` that reports damaged pinned DAGs, ``verify`` (``repo verify``).
- :func:`import_bytes` / :func:`import_stream` — CIDs without storing (any size, bounded
  memory).
- :class:`IpfsNode` — embedded node serving Kubo's RPC API on loopback
  (``python -m flai.storage.node`` / ``flai-ipfs``).
- :class:`IpfsHttpStorage` — the interface over ``ipfshttpclient`` for any Kubo-compatible
  API; :func:`open_storage` picks a backend from ``FLAI_IPFS_API`` / ``FLAI_IPFS_REPO``.
"""

from typing import TYPE_CHECKING, Any

from flai.storage.base import Storage, canonical_json
from flai.storage.config import StorageConfig, open_storage
from flai.storage.errors import (
    BadRequestBodyError,
    BodyTooLargeError,
    CIDNotFoundError,
    ForbiddenOriginError,
    IntegrityError,
    InvalidCIDError,
    LengthRequiredError,
    NodeBindError,
    NotPinnedError,
    RequestRefusedError,
    StorageError,
    UnreachableError,
    UnsupportedOptionError,
)
from flai.storage.local import BlockProblem, GCResult, LocalStore, VerifyResult
from flai.storage.unixfs import ImportOptions, ImportResult, import_bytes, import_stream

if TYPE_CHECKING:
    from flai.storage.http import IpfsHttpStorage
    from flai.storage.node import IpfsNode

# Imported on first use: the node module must not be loaded by the package when it runs
# as ``python -m flai.storage.node``, and ipfshttpclient only when the HTTP backend is used.
_LAZY = {"IpfsHttpStorage": "flai.storage.http", "IpfsNode": "flai.storage.node"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flai.storage' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BadRequestBodyError",
    "BlockProblem",
    "BodyTooLargeError",
    "CIDNotFoundError",
    "ForbiddenOriginError",
    "GCResult",
    "ImportOptions",
    "ImportResult",
    "IntegrityError",
    "InvalidCIDError",
    "IpfsHttpStorage",
    "IpfsNode",
    "LengthRequiredError",
    "LocalStore",
    "NodeBindError",
    "NotPinnedError",
    "RequestRefusedError",
    "Storage",
    "StorageConfig",
    "StorageError",
    "UnreachableError",
    "UnsupportedOptionError",
    "VerifyResult",
    "canonical_json",
    "import_bytes",
    "import_stream",
    "open_storage",
]
