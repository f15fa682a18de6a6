"""The storage interface every backend implements.

Content goes in as bytes (or a stream of bytes) and comes back out by CID; the CID is the
one Kubo's ``ipfs add`` would give the same bytes (see :mod:`flai.storage.unixfs`), so a
CID recorded on-chain can be fetched and checked with any IPFS implementation. ``get``
never returns bytes that were not verified against the CID asked for.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, BinaryIO, Self

__all__ = ["ByteSource", "BytesLike", "Storage", "canonical_json", "iter_source"]

BytesLike = bytes | bytearray | memoryview
"""A contiguous byte buffer."""

ByteSource = bytes | bytearray | memoryview | Iterable[bytes] | BinaryIO
"""What ``put_stream`` accepts: bytes, an iterable of byte chunks, or a binary file."""

_READ_SIZE = 1 << 20


def iter_source(source: ByteSource) -> Iterator[bytes]:
    """Iterate over the byte chunks of a :data:`ByteSource`."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
        return
    read = getattr(source, "read", None)
    if callable(read):
        while chunk := read(_READ_SIZE):
            yield bytes(chunk)
        return
    for chunk in source:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"byte stream yielded {type(chunk).__name__}, expected bytes")
        yield bytes(chunk)


def canonical_json(value: Any) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, no whitespace, no NaN/Infinity.

    Equal values always give equal bytes and so equal CIDs.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


class Storage(ABC):
    """Content-addressed storage of byte objects (IPFS UnixFS files).

    Implementations: :class:`flai.storage.local.LocalStore` (on-disk, no daemon) and
    :class:`flai.storage.http.IpfsHttpStorage` (any Kubo-compatible RPC API, including
    the embedded :class:`flai.storage.node.IpfsNode`).
    """

    # -- abstract -----------------------------------------------------------------------

    @abstractmethod
    def put_stream(self, source: ByteSource, *, pin: bool = True) -> str:
        """Store a (possibly large) object streamed from ``source``; return its CID."""

    @abstractmethod
    def get_stream(self, cid: str) -> Iterator[bytes]:
        """Stream the object at ``cid``; every block is verified before it is yielded.

        Errors about the CID itself (malformed, unknown root) are raised by this call,
        not deferred to the first ``next``.

        Raises
        ------
        InvalidCIDError
            If ``cid`` is not a CID.
        CIDNotFoundError
            If a block is missing.
        IntegrityError
            If a block does not match its CID.
        """

    @abstractmethod
    def has(self, cid: str) -> bool:
        """Whether the root block of ``cid`` is available without network fetches."""

    @abstractmethod
    def pin(self, cid: str) -> None:
        """Pin ``cid`` recursively (every block of its DAG must be present)."""

    @abstractmethod
    def unpin(self, cid: str) -> None:
        """Remove the recursive pin on ``cid`` (raises ``NotPinnedError`` if none)."""

    @abstractmethod
    def pins(self) -> frozenset[str]:
        """The CIDs pinned recursively."""

    # -- derived ------------------------------------------------------------------------

    def put(self, data: bytes, *, pin: bool = True) -> str:
        """Store ``data``; return its CID."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"put expects bytes, got {type(data).__name__}")
        return self.put_stream(bytes(data), pin=pin)

    def get(self, cid: str) -> bytes:
        """Return the object at ``cid``, verified against the CID."""
        return b"".join(self.get_stream(cid))

    def put_json(self, value: Any, *, pin: bool = True) -> str:
        """Store ``value`` as canonical JSON (:func:`canonical_json`); return its CID."""
        return self.put(canonical_json(value), pin=pin)

    def get_json(self, cid: str) -> Any:
        """Load the JSON object stored at ``cid``."""
        return json.loads(self.get(cid))

    def close(self) -> None:
        """Release resources (connections); the default does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
