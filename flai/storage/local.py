"""The local store: Kubo-identical UnixFS DAGs in an on-disk blockstore, no daemon needed.

Repository layout under ``root``::

    blocks/<shard>/<MULTIHASH-BASE32>.data   one file per block (see blockstore.py)
    pins/<cid>                               "recursive" or "direct"

Several processes may open the same repository: every file appears atomically and
blocks are immutable, so concurrent writers of the same content agree. Writers hold the
repository's GC lock shared and :meth:`LocalStore.gc` holds it exclusively (see
:mod:`flai.storage.lock`), so a collection never deletes the blocks of an add still in
progress, in this process or another. Temporary files a killed writer left behind are
removed when the store opens (if no writer is active then) and at every collection.

Blocks that are missing or corrupt are reported, not fatal, wherever the whole repository
is scanned: :meth:`LocalStore.gc` keeps a pinned DAG's corrupt blocks, reports them and
collects everything else; :meth:`LocalStore.verify` (Kubo's ``repo verify``) re-hashes
every block; listing indirect pins skips what it cannot read. To share a store across
machines or without sharing a filesystem, serve it with
:class:`flai.storage.node.IpfsNode` and use :class:`flai.storage.http.IpfsHttpStorage`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from multiformats import CID

from flai.storage.base import BytesLike, ByteSource, Storage
from flai.storage.blockstore import Blockstore, atomic_write, remove_temp_files
from flai.storage.cid import block_cid, cid_codec, cid_multihash, cid_string, parse_cid
from flai.storage.dagpb import link_cids
from flai.storage.errors import CIDNotFoundError, IntegrityError, NotPinnedError
from flai.storage.lock import GCLock
from flai.storage.unixfs import DagBuilder, ImportOptions, ImportResult, iter_file

__all__ = [
    "PIN_DIRECT",
    "PIN_RECURSIVE",
    "BlockProblem",
    "GCResult",
    "LocalStore",
    "VerifyResult",
]

PIN_RECURSIVE = "recursive"
PIN_DIRECT = "direct"

_CODEC_DAG_PB = 0x70
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BlockProblem:
    """A block that could not be used while scanning the repository.

    Attributes
    ----------
    cid
        The block's CID (as the linking node names it; CIDv1 ``raw`` for a bare key).
    kind
        ``"corrupt"`` (bytes do not hash to the CID), ``"missing"`` or ``"undecodable"``
        (a dag-pb node whose links cannot be read).
    reason
        What was wrong, in words.
    pin
        The pinned root whose DAG holds the block (``None`` outside a pin walk).
    """

    cid: str
    kind: Literal["corrupt", "missing", "undecodable"]
    reason: str
    pin: str | None = None

    def describe(self) -> str:
        """One line for logs and API output."""
        where = f" (in the DAG pinned at {self.pin})" if self.pin and self.pin != self.cid else ""
        return f"block {self.cid} is {self.kind}{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class GCResult:
    """Outcome of :meth:`LocalStore.gc`.

    Attributes
    ----------
    removed
        Blockstore keys (multihashes in base32) of the deleted blocks.
    problems
        Missing or corrupt blocks of pinned DAGs, kept and reported rather than fatal.
    temp_files
        Stale temporary files removed.
    """

    removed: tuple[str, ...]
    problems: tuple[BlockProblem, ...]
    temp_files: int


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :meth:`LocalStore.verify`.

    Attributes
    ----------
    checked
        Number of blocks re-hashed.
    corrupt
        The blocks whose bytes do not match their key.
    removed
        Keys of the corrupt blocks deleted (only with ``remove_corrupt``).
    """

    checked: int
    corrupt: tuple[BlockProblem, ...]
    removed: tuple[str, ...]


class LocalStore(Storage):
    """A repository of UnixFS files on local disk.

    Opening a repository removes the temporary files of writers that were killed
    mid-write, provided no writer (in any process) holds the GC lock at that moment.

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
        self._lock = GCLock(path=self._root)
        with self._lock.try_gc_lock() as alone:
            self.stale_temp_files = self._remove_temp_files() if alone else 0
        if self.stale_temp_files:
            _log.info("removed %d stale temporary files from %s", self.stale_temp_files, self._root)

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

    @property
    def gc_lock(self) -> GCLock:
        """The repository's GC lock (held shared by writers, exclusively by :meth:`gc`)."""
        return self._lock

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
        with self._lock.pin_lock():
            if recursive:
                for _ in self._walk(bytes(target)):
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

        The GC lock is held shared from the first block to the pin, so a concurrent
        :meth:`gc` waits rather than deleting the blocks of an unfinished add.

        Parameters
        ----------
        source
            The content: bytes, a binary file (read in chunks, never whole) or an iterable
            of byte chunks.
        options
            Overrides the store's import options for this call.
        pin
            Pin the root recursively once every block is written.
        only_hash
            Compute the CID without writing anything (``ipfs add --only-hash``).
        """
        if only_hash:
            builder = DagBuilder(options=options or self._options)
            builder.write_from(source)
            return builder.finish()
        builder = DagBuilder(raw_sink=self._write_block, options=options or self._options)
        with self._lock.pin_lock():
            builder.write_from(source)
            result = builder.finish()
            if pin:
                atomic_write(
                    self._pins / str(result.cid),
                    PIN_RECURSIVE.encode("ascii"),
                    fsync=self._fsync,
                )
        return result

    def put_block(self, data: bytes, *, codec: str = "raw", version: int = 1) -> CID:
        """Store one block (``ipfs block put``) and return its CID."""
        cid = block_cid(data, version=version, codec=codec)
        with self._lock.pin_lock():
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
        root = parse_cid(cid)
        for current in self._walk(bytes(root)):
            yield _to_cid(current)

    def pin_types(self) -> dict[str, str]:
        """Map each pinned CID to ``"recursive"`` or ``"direct"``."""
        result: dict[str, str] = {}
        for entry in sorted(self._pins.iterdir()):
            if entry.name.startswith("."):
                continue
            try:
                kind = entry.read_text(encoding="ascii").strip()
            except FileNotFoundError:  # unpinned meanwhile
                continue
            result[entry.name] = kind
        return result

    def indirect_pins(self) -> set[str]:
        """CIDs reachable from a recursive pin, other than the pinned roots.

        Blocks that are missing or corrupt (and whatever only they link to) are skipped,
        so one damaged DAG does not hide the others; :meth:`verify` and :meth:`gc`
        report them.
        """
        roots = {c for c, kind in self.pin_types().items() if kind == PIN_RECURSIVE}
        found: set[str] = set()
        seen: set[bytes] = set()
        for root in sorted(roots):
            for current, problem in self._scan(bytes(parse_cid(root)), seen):
                if problem is None:
                    found.add(cid_string(current))
        return found - roots

    def pinned_through(self, cid: str | CID) -> str | None:
        """The recursive pin whose DAG holds ``cid`` (other than ``cid`` itself), if any."""
        target = cid_multihash(bytes(parse_cid(cid)))
        for root, kind in sorted(self.pin_types().items()):
            if kind != PIN_RECURSIVE:
                continue
            root_cid = bytes(parse_cid(root))
            for current, problem in self._scan(root_cid, set()):
                if problem is None and current != root_cid and cid_multihash(current) == target:
                    return root
        return None

    def gc(self) -> GCResult:
        """Delete every block not reachable from a pin, under the exclusive GC lock.

        Missing or corrupt blocks inside a pinned DAG do not stop the collection: a
        corrupt block is kept (with whatever its links, if still readable, name) and
        reported, and everything unreachable is collected. Stale temporary files are
        removed too.
        """
        with self._lock.gc_lock():
            temp_files = self._remove_temp_files()
            keep: set[str] = set()
            problems: list[BlockProblem] = []
            seen: set[bytes] = set()
            for root, kind in sorted(self.pin_types().items()):
                root_cid = bytes(parse_cid(root))
                if kind != PIN_RECURSIVE:
                    keep.add(Blockstore.multihash_key(cid_multihash(root_cid)))
                    continue
                for current, problem in self._scan(root_cid, seen, keep_corrupt=True):
                    keep.add(Blockstore.multihash_key(cid_multihash(current)))
                    if problem is not None:
                        problems.append(_with_pin(problem, root))
            removed = [key for key in self._blocks.iter_keys() if key not in keep]
            for key in removed:
                self._blocks.delete_key(key)
        for problem in problems:
            _log.warning("gc: %s", problem.describe())
        return GCResult(removed=tuple(removed), problems=tuple(problems), temp_files=temp_files)

    def verify(self, *, remove_corrupt: bool = False) -> VerifyResult:
        """Re-hash every stored block, as Kubo's ``repo verify``.

        Parameters
        ----------
        remove_corrupt
            Delete the corrupt blocks (under the exclusive GC lock), so that adding the
            same content again, or ``block put`` of the original bytes, restores them.
        """
        corrupt: list[BlockProblem] = []
        corrupt_keys: list[str] = []
        checked = 0
        for key in self._blocks.iter_keys():
            try:
                data = self._blocks.read_key(key)
            except CIDNotFoundError:
                continue  # deleted meanwhile
            checked += 1
            reason = self._blocks.check_key(key, data)
            if reason is not None:
                corrupt.append(BlockProblem(Blockstore.key_cid(key), "corrupt", reason))
                corrupt_keys.append(key)
        removed: list[str] = []
        if remove_corrupt and corrupt_keys:
            with self._lock.gc_lock():
                for key in corrupt_keys:
                    try:
                        still_corrupt = self._blocks.check_key(key, self._blocks.read_key(key))
                    except CIDNotFoundError:
                        continue
                    if still_corrupt is not None and self._blocks.delete_key(key):
                        removed.append(key)
        return VerifyResult(checked=checked, corrupt=tuple(corrupt), removed=tuple(removed))

    # -- internals ----------------------------------------------------------------------

    def _write_block(self, cid: bytes, pieces: tuple[BytesLike, ...]) -> None:
        self._blocks.put_multihash(cid_multihash(cid), pieces)

    def _read(self, cid: bytes) -> tuple[bytes | None, BlockProblem | None]:
        """The block of ``cid`` and, if it cannot be used as is, what is wrong with it."""
        key = Blockstore.multihash_key(cid_multihash(cid))
        try:
            data = self._blocks.read_key(key)
        except CIDNotFoundError:
            return None, BlockProblem(cid_string(cid), "missing", "no block stored")
        reason = self._blocks.check_key(key, data)
        if reason is not None:
            return data, BlockProblem(cid_string(cid), "corrupt", reason)
        return data, None

    def _walk(self, root: bytes) -> Iterator[bytes]:
        """The binary CIDs of the DAG under ``root``, root first; strict."""
        for current, problem in self._scan(root, set()):
            if problem is None:
                yield current
            elif problem.kind == "missing":
                raise CIDNotFoundError(problem.cid)
            else:
                raise IntegrityError(problem.cid, problem.reason)

    def _scan(
        self, root: bytes, seen: set[bytes], *, keep_corrupt: bool = False
    ) -> Iterator[tuple[bytes, BlockProblem | None]]:
        """Every block of the DAG under ``root`` with its problem, if any (depth first).

        Blocks in ``seen`` (by multihash) are skipped and new ones added. A corrupt
        dag-pb node is descended only with ``keep_corrupt``, if its links still decode
        (conservative for a collection: keeping too much is safe, too little is not).
        """
        stack = [root]
        while stack:
            current = stack.pop()
            digest = cid_multihash(current)
            if digest in seen:
                continue
            seen.add(digest)
            data, problem = self._read(current)
            yield current, problem
            if data is None or cid_codec(current) != _CODEC_DAG_PB:
                continue
            if problem is not None and not keep_corrupt:
                continue
            try:
                links = link_cids(data)
            except Exception as exc:  # noqa: BLE001 - ValueError or a malformed link CID
                if problem is None:
                    yield (
                        current,
                        BlockProblem(
                            cid_string(current), "undecodable", f"undecodable dag-pb node: {exc}"
                        ),
                    )
                continue
            stack.extend(reversed(links))

    def _remove_temp_files(self) -> int:
        removed = self._blocks.remove_temp_files()
        removed += remove_temp_files(self._pins)
        removed += remove_temp_files(self._root)
        return len(removed)

    def _pin_type(self, cid: CID) -> str | None:
        try:
            return (self._pins / str(cid)).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None


def _to_cid(cid: bytes) -> CID:
    decoded = CID.decode(cid)
    return decoded if decoded.version == 0 else decoded.set(base="base32")


def _with_pin(problem: BlockProblem, pin: str) -> BlockProblem:
    return BlockProblem(problem.cid, problem.kind, problem.reason, pin)
