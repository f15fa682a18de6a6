"""The local store: Kubo-identical UnixFS DAGs in an on-disk blockstore, no daemon needed.

Repository layout under ``root``::

    blocks/<shard>/<MULTIHASH-BASE32>.data   one file per block (see blockstore.py)
    pins/<cid>                               "recursive" or "direct"

Several processes may open the same repository: every file appears atomically and
blocks are immutable, so concurrent writers of the same content agree. To share a store
across machines or without sharing a filesystem, serve it with
:class:`flai.storage.node.IpfsNode` and use :class:`flai.storage.http.IpfsHttpStorage`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from multiformats import CID

from flai.storage.base import ByteSource, Storage, iter_source
from flai.storage.blockstore import Blockstore, atomic_write
from flai.storage.errors import CIDNotFoundError, IntegrityError, NotPinnedError
from flai.storage.unixfs import (
    DagBuilder,
    ImportOptions,
    ImportResult,
    block_cid,
    decode_dag_pb,
    iter_file,
    parse_cid,
)

__all__ = ["PIN_DIRECT", "PIN_RECURSIVE", "LocalStore"]

PIN_RECURSIVE = "recursive"
PIN_DIRECT = "direct"


class LocalStore(Storage):
    """A repository of UnixFS files on local disk.

    Parameters
    ----------
    root
        Repository directory (created if missing).
    options
        Import options for :meth:`put` / :meth:`put_stream`; the default is
        ``ipfs add --cid-version=1`` (CIDv1, raw leaves, 256 KiB chunks, 174 links).
    fsync
        ``fsync`` each block and pin before it becomes visible.
    """

    def __init__(
        self, *, root: Path | str, options: ImportOptions | None = None, fsync: bool = True
    ) -> None:
        self._root = Path(root)
        self._options = options or ImportOptions()
        self._fsync = fsync
        self._blocks = Blockstore(root=self._root / "blocks", fsync=fsync)
        self._pins = self._root / "pins"
        self._pins.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        """The repository directory."""
        return self._root

    @property
    def options(self) -> ImportOptions:
        """Import options used by :meth:`put` and :meth:`put_stream`."""
        return self._options

    @property
    def blocks(self) -> Blockstore:
        """The underlying blockstore."""
        return self._blocks

    # -- Storage ------------------------------------------------------------------------

    def put_stream(self, source: ByteSource, *, pin: bool = True) -> str:
        return str(self.add(source, pin=pin).cid)

    def get_stream(self, cid: str) -> Iterator[bytes]:
        root = parse_cid(cid)
        first = self._blocks.get(root)  # raise not-found / integrity errors eagerly

        def get_block(target: CID) -> bytes:
            return first if target == root else self._blocks.get(target)

        return iter_file(root, get_block)

    def has(self, cid: str) -> bool:
        return self._blocks.has(parse_cid(cid))

    def pin(self, cid: str, *, recursive: bool = True) -> None:
        target = parse_cid(cid)
        if recursive:
            for _ in self.walk(target):
                pass
        elif not self._blocks.has(target):
            raise CIDNotFoundError(str(target))
        current = self._pin_type(target)
        if current == PIN_RECURSIVE or (current == PIN_DIRECT and not recursive):
            return
        kind = PIN_RECURSIVE if recursive else PIN_DIRECT
        atomic_write(self._pins / str(target), kind.encode("ascii"), fsync=self._fsync)

    def unpin(self, cid: str, *, recursive: bool = True) -> None:
        target = parse_cid(cid)
        current = self._pin_type(target)
        if current is None or (current == PIN_RECURSIVE and not recursive):
            raise NotPinnedError(str(target))
        try:
            os.unlink(self._pins / str(target))
        except FileNotFoundError:
            raise NotPinnedError(str(target)) from None

    def pins(self) -> frozenset[str]:
        return frozenset(c for c, kind in self.pin_types().items() if kind == PIN_RECURSIVE)

    # -- beyond the interface -----------------------------------------------------------

    def add(
        self,
        source: ByteSource,
        *,
        options: ImportOptions | None = None,
        pin: bool = True,
        only_hash: bool = False,
    ) -> ImportResult:
        """Import a file as ``ipfs add`` does and return the root with its sizes.

        Parameters
        ----------
        source
            The content.
        options
            Overrides the store's import options for this call.
        pin
            Pin the root recursively once every block is written.
        only_hash
            Compute the CID without writing anything (``ipfs add --only-hash``).
        """

        def sink(cid: CID, block: bytes) -> None:
            if not only_hash:
                self._blocks.put(cid, block)

        builder = DagBuilder(sink=sink, options=options or self._options)
        for chunk in iter_source(source):
            builder.write(chunk)
        result = builder.finish()
        if pin and not only_hash:
            atomic_write(
                self._pins / str(result.cid), PIN_RECURSIVE.encode("ascii"), fsync=self._fsync
            )
        return result

    def put_block(self, data: bytes, *, codec: str = "raw", version: int = 1) -> CID:
        """Store one block (``ipfs block put``) and return its CID."""
        cid = block_cid(data, version=version, codec=codec)
        self._blocks.put(cid, data)
        return cid

    def get_block(self, cid: str | CID) -> bytes:
        """Return one verified block (``ipfs block get``)."""
        return self._blocks.get(parse_cid(cid))

    def block_size(self, cid: str | CID) -> int:
        """Size of one stored block (``ipfs block stat``)."""
        return self._blocks.size(parse_cid(cid))

    def walk(self, cid: str | CID) -> Iterator[CID]:
        """Yield every CID of the DAG under ``cid`` (root first), verifying each block.

        Raises
        ------
        CIDNotFoundError
            If a block of the DAG is missing.
        IntegrityError
            If a block is corrupt or a dag-pb node undecodable.
        """
        stack = [parse_cid(cid)]
        seen: set[bytes] = set()
        while stack:
            current = stack.pop()
            if bytes(current) in seen:
                continue
            seen.add(bytes(current))
            block = self._blocks.get(current)
            yield current
            if current.codec.name == "dag-pb":
                try:
                    links, _ = decode_dag_pb(block)
                except ValueError as exc:
                    raise IntegrityError(str(current), f"undecodable dag-pb node: {exc}") from exc
                stack.extend(link.cid for link in reversed(links))

    def pin_types(self) -> dict[str, str]:
        """Map each pinned CID to ``"recursive"`` or ``"direct"``."""
        result: dict[str, str] = {}
        for entry in sorted(self._pins.iterdir()):
            if entry.name.startswith("."):
                continue
            kind = entry.read_text(encoding="ascii").strip()
            result[entry.name] = kind
        return result

    def indirect_pins(self) -> set[str]:
        """CIDs reachable from a recursive pin, other than the pinned roots."""
        roots = {c for c, kind in self.pin_types().items() if kind == PIN_RECURSIVE}
        found: set[str] = set()
        for root in roots:
            for cid in self.walk(root):
                if str(cid) != root:
                    found.add(str(cid))
        return found - roots

    def gc(self) -> list[str]:
        """Delete every block not reachable from a pin; return the deleted keys."""
        keep: set[str] = set()
        for cid, kind in self.pin_types().items():
            if kind == PIN_RECURSIVE:
                keep.update(Blockstore.key(c) for c in self.walk(cid))
            else:
                keep.add(Blockstore.key(parse_cid(cid)))
        removed = [key for key in self._blocks.iter_keys() if key not in keep]
        for key in removed:
            self._blocks.delete_key(key)
        return removed

    def _pin_type(self, cid: CID) -> str | None:
        try:
            return (self._pins / str(cid)).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
