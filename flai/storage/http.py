"""The storage interface over a Kubo-compatible RPC API, through ``ipfshttpclient``.

Works against a Kubo daemon or the embedded :class:`~flai.storage.node.IpfsNode`. The
client is built as ``ipfshttpclient.Client(addr)``: ``ipfshttpclient.connect()`` (0.7.0)
refuses every daemon from Kubo 0.8.0 on by version check, which the RPC subset used here
does not need.

The daemon is not trusted with integrity: ``put`` hashes the content locally while it
streams it up and checks the CID the daemon reports, and ``get`` fetches the DAG block by
block (``block/get``), checking every block against its CID before using it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import ipfshttpclient
from ipfshttpclient import exceptions as ipfs_errors
from multiformats import CID

from flai.storage.base import ByteSource, Storage, iter_source
from flai.storage.cid import parse_cid, verify_block
from flai.storage.config import to_multiaddr
from flai.storage.errors import (
    CIDNotFoundError,
    IntegrityError,
    InvalidCIDError,
    NotPinnedError,
    StorageError,
    UnreachableError,
)
from flai.storage.unixfs import DagBuilder, ImportOptions, iter_file

__all__ = ["IpfsHttpStorage"]

_T = TypeVar("_T")
_UPLOAD_CHUNK = 1 << 18


class IpfsHttpStorage(Storage):
    """Storage on an IPFS node reached over its RPC API.

    Parameters
    ----------
    address
        API multiaddr (``/ip4/127.0.0.1/tcp/5001/http``) or URL (``http://127.0.0.1:5001``).
    cid_version
        1 (default): ``ipfs add --cid-version=1 --raw-leaves``; 0: plain ``ipfs add``.
    timeout
        Seconds to wait for the daemon.

    Raises
    ------
    UnreachableError
        If ``address`` is not a usable API address (no connection is made here).
    """

    def __init__(self, *, address: str, cid_version: int = 1, timeout: float = 60.0) -> None:
        self._address = address
        self._options = ImportOptions(cid_version=cid_version)
        multiaddr = to_multiaddr(address)
        try:
            self._client = ipfshttpclient.Client(
                multiaddr, session=True, timeout=timeout, chunk_size=_UPLOAD_CHUNK
            )
        except ipfs_errors.AddressError as exc:
            raise UnreachableError(address, f"invalid API address: {exc}") from exc

    @property
    def address(self) -> str:
        """The API address as given."""
        return self._address

    @property
    def client(self) -> ipfshttpclient.Client:
        """The underlying ``ipfshttpclient`` client (for commands beyond this interface)."""
        return self._client

    # -- Storage ------------------------------------------------------------------------

    def put_stream(self, source: ByteSource, *, pin: bool = True) -> str:
        local = DagBuilder(options=self._options)  # hashes only, to check the reply

        def upload() -> Iterator[bytes]:
            for chunk in iter_source(source):
                local.write(chunk)
                yield chunk

        opts = {
            "cid-version": str(self._options.cid_version),
            "raw-leaves": "true" if self._options.use_raw_leaves else "false",
            "pin": "true" if pin else "false",
        }
        reply = self._call(lambda: self._client.add_bytes(upload(), opts=opts))
        remote = str(reply)  # add_bytes returns the "Hash" field
        expected = str(local.finish().cid)
        if remote != expected:
            raise IntegrityError(
                remote, f"node stored the content as {remote}, expected {expected}"
            )
        return remote

    def get_stream(self, cid: str) -> Iterator[bytes]:
        root = parse_cid(cid)
        first = self._get_block(root)  # raise not-found / integrity errors eagerly

        def get_block(target: CID) -> bytes:
            return first if target == root else self._get_block(target)

        return iter_file(root, get_block)

    def has(self, cid: str) -> bool:
        target = parse_cid(cid)
        try:
            self._call(lambda: self._client.block.stat(str(target), offline=True), cid=str(target))
        except CIDNotFoundError:
            return False
        return True

    def pin(self, cid: str) -> None:
        target = str(parse_cid(cid))
        self._call(lambda: self._client.pin.add(target), cid=target)

    def unpin(self, cid: str) -> None:
        target = str(parse_cid(cid))
        self._call(lambda: self._client.pin.rm(target), cid=target)

    def pins(self) -> frozenset[str]:
        reply = self._call(lambda: self._client.pin.ls(type="recursive"))
        return frozenset(str(key) for key in reply["Keys"])

    def close(self) -> None:
        self._client.close()

    # -- helpers ------------------------------------------------------------------------

    def _get_block(self, cid: CID) -> bytes:
        data = self._call(lambda: self._client.block.get(str(cid)), cid=str(cid))
        verify_block(cid, data)
        return bytes(data)

    def _call(self, request: Callable[[], _T], *, cid: str | None = None) -> _T:
        """Run ``request`` and translate ``ipfshttpclient`` failures to storage errors."""
        try:
            return request()
        except (ipfs_errors.ConnectionError, ipfs_errors.TimeoutError) as exc:
            raise UnreachableError(self._address, _reason(exc)) from exc
        except ipfs_errors.ErrorResponse as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            lowered = message.lower()
            if cid is not None and ("could not find" in lowered or "not found" in lowered):
                raise CIDNotFoundError(cid) from exc
            if cid is not None and "integrity check failed" in lowered:
                raise IntegrityError(cid, f"node reported: {message}") from exc
            if cid is not None and "not pinned" in lowered:
                raise NotPinnedError(cid) from exc
            if cid is not None and ("invalid path" in lowered or "invalid cid" in lowered):
                raise InvalidCIDError(cid, message) from exc
            raise StorageError(f"IPFS API at {self._address}: {message}") from exc
        except ipfs_errors.Error as exc:
            raise StorageError(f"IPFS API at {self._address}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__
