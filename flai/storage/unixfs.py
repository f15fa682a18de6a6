"""UnixFS files as dag-pb DAGs, built exactly as Kubo's ``ipfs add`` builds them.

A file is cut into fixed-size chunks (262,144 bytes by default); each chunk becomes a leaf
(a ``raw`` block with ``--cid-version=1``, a dag-pb node holding a UnixFS ``File`` with the
chunk as data otherwise); leaves are gathered into a *balanced* tree whose inner nodes are
dag-pb nodes with at most 174 links and a UnixFS ``File`` header listing each child's file
size. A file of a single chunk is that chunk's leaf. This reproduces, byte for byte, the
blocks of Kubo's ``ipfs add`` (CIDv0) and ``ipfs add --cid-version=1`` (CIDv1, raw leaves)
with default settings, and of the npm ``ipfs-unixfs-importer`` configured the same way.

The importer (:class:`DagBuilder`) writes the dag-pb and UnixFS bytes (the layout
:mod:`flai.storage.dagpb` decodes) and the binary CIDs (:mod:`flai.storage.cid`: multihash
prefix, varints) itself and hashes every chunk in place, so importing runs at close to the
speed of sha2-256 over the content; ``multiformats`` CID objects are made only at the API
edge (the root of an import, the readers, the ``(CID, bytes)`` sink).

References
----------
IPFS, "UnixFS specification", https://specs.ipfs.tech/unixfs/ ; IPLD, "DAG-PB
specification", https://ipld.io/specs/codecs/dag-pb/spec/ ; Kubo ``core/coreunix/add.go``
and boxo ``ipld/unixfs/importer/balanced``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from multiformats import CID

from flai.storage.base import BytesLike, ByteSource
from flai.storage.cid import (
    CIDV0_PREFIX,
    CIDV1_DAG_PB_PREFIX,
    CIDV1_RAW_PREFIX,
    canonical_cid,
    varint,
)
from flai.storage.dagpb import FILE_TYPES, decode_dag_pb, decode_unixfs
from flai.storage.errors import IntegrityError, InvalidCIDError, UnsupportedOptionError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_LINKS",
    "MAX_CHUNK_SIZE",
    "BlockSink",
    "DagBuilder",
    "ImportOptions",
    "ImportResult",
    "RawBlockSink",
    "import_bytes",
    "import_stream",
    "iter_file",
]

DEFAULT_CHUNK_SIZE = 262_144
"""Kubo's default fixed chunk size, ``size-262144``."""

DEFAULT_MAX_LINKS = 174
"""Kubo's ``helpers.DefaultLinksPerBlock``: links per balanced-DAG node."""

MAX_CHUNK_SIZE = 1_048_576
"""Kubo's ``chunk.ChunkSizeLimit``: larger chunks make blocks peers refuse to exchange."""

_RAW = "raw"
_DAG_PB = "dag-pb"
_sha256 = hashlib.sha256
_READ_SIZE = 1 << 20


# --------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How a file is cut and encoded; the defaults are ``ipfs add --cid-version=1``.

    Parameters
    ----------
    cid_version
        0 (plain ``ipfs add``) or 1.
    raw_leaves
        Store chunks as ``raw`` blocks. ``None`` follows Kubo: on for CIDv1, off for CIDv0.
    chunk_size
        Fixed chunk size in bytes (Kubo ``--chunker=size-N``), at most 1 MiB.
    max_links
        Links per node of the balanced DAG.
    """

    cid_version: int = 1
    raw_leaves: bool | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_links: int = DEFAULT_MAX_LINKS

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise UnsupportedOptionError("cid-version", self.cid_version)
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise UnsupportedOptionError("chunker", f"size-{self.chunk_size}")
        if self.max_links < 2:
            raise UnsupportedOptionError("max-links", self.max_links)

    @property
    def use_raw_leaves(self) -> bool:
        """Whether leaves are ``raw`` blocks."""
        return self.cid_version == 1 if self.raw_leaves is None else self.raw_leaves


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Outcome of an import.

    Attributes
    ----------
    cid
        Root CID.
    size
        Cumulative DAG size (Kubo's ``Size`` in ``add`` output / the root link's Tsize).
    file_size
        Number of content bytes.
    """

    cid: CID
    size: int
    file_size: int


BlockSink = Callable[[CID, bytes], None]
"""Receives each block as a :class:`~multiformats.CID` and its bytes."""

RawBlockSink = Callable[[bytes, tuple[BytesLike, ...]], None]
"""Receives each block as its binary CID and the pieces whose concatenation is the block.

The pieces may be views into the builder's reusable chunk buffer: they are valid only
during the call (write or copy them, do not keep them).
"""

_Entry = tuple[bytes, int, int]  # binary CID, cumulative DAG size (Tsize), content bytes


class DagBuilder:
    """Streaming UnixFS file importer producing Kubo's balanced DAG.

    Feed bytes with :meth:`write` (pieces of any size) or :meth:`write_from` (a file, an
    iterable of chunks or bytes) and call :meth:`finish` once; every block is handed to the
    sink as soon as it exists, children before parents, so memory stays bounded by one
    chunk plus one pending link list per tree level whatever the file size.

    Blocks and CIDs are encoded here directly (sha2-256 multihash prefix, varints, the
    fixed dag-pb/UnixFS field layout) and each chunk is hashed in place: a chunk is copied
    only when it straddles two writes (into the one reusable chunk buffer), and a binary
    file is read straight into that buffer. A CIDv0 leaf is hashed as its protobuf frame
    around the chunk, without assembling the block.

    Parameters
    ----------
    sink
        Receives each block as ``(CID, bytes)`` (convenient; builds a CID object and a
        contiguous copy of every block).
    raw_sink
        Receives each block as ``(binary CID, pieces)`` (see :data:`RawBlockSink`); what
        the local store uses. Give at most one of ``sink`` and ``raw_sink``; with neither,
        blocks are only hashed (``ipfs add --only-hash``).
    options
        Import options.
    """

    def __init__(
        self,
        *,
        sink: BlockSink | None = None,
        raw_sink: RawBlockSink | None = None,
        options: ImportOptions | None = None,
    ) -> None:
        if sink is not None and raw_sink is not None:
            raise ValueError("DagBuilder takes a sink or a raw_sink, not both")
        self._options = options or ImportOptions()
        self._sink: RawBlockSink | None = _object_sink(sink) if sink is not None else raw_sink
        self._chunk_size = self._options.chunk_size
        self._max_links = self._options.max_links
        self._buffer = bytearray(self._chunk_size)
        self._view = memoryview(self._buffer)
        self._fill = 0
        self._raw_leaves = self._options.use_raw_leaves
        self._node_prefix = CIDV0_PREFIX if self._options.cid_version == 0 else CIDV1_DAG_PB_PREFIX
        self._frames: dict[int, tuple[bytes, bytes]] = {}
        self._levels: list[list[_Entry]] = [[]]
        self._counts: list[int] = [0]
        self._finished = False

    @property
    def options(self) -> ImportOptions:
        """The import options in use."""
        return self._options

    def write(self, data: BytesLike) -> None:
        """Append content bytes (not retained: the caller may reuse ``data`` afterwards)."""
        if self._finished:
            raise RuntimeError("DagBuilder.write after finish")
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        total = len(view)
        size = self._chunk_size
        position = 0
        if self._fill:
            position = min(size - self._fill, total)
            self._view[self._fill : self._fill + position] = view[:position]
            self._fill += position
            if self._fill < size:
                return
            self._leaf(self._view)
            self._fill = 0
        while total - position >= size:
            self._leaf(view[position : position + size])
            position += size
        if position < total:
            self._fill = total - position
            self._view[: self._fill] = view[position:]

    def write_from(self, source: ByteSource) -> None:
        """Append everything ``source`` holds: bytes, a binary file or an iterable of chunks.

        A file is read with ``readinto`` straight into the chunk buffer (no copy beyond the
        read itself), so an arbitrarily large file streams in bounded memory.

        Raises
        ------
        TypeError
            If an iterable yields something other than bytes.
        """
        if isinstance(source, bytes | bytearray | memoryview):
            self.write(source)
            return
        readinto = getattr(source, "readinto", None)
        if callable(readinto):
            self._read_into(readinto)
            return
        read = getattr(source, "read", None)
        if callable(read):
            while chunk := read(_READ_SIZE):
                self.write(chunk)
            return
        for chunk in source:  # type: ignore[union-attr]
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(f"byte stream yielded {type(chunk).__name__}, expected bytes")
            self.write(chunk)

    def finish(self) -> ImportResult:
        """Flush the last chunk, close the tree and return the root."""
        if self._finished:
            raise RuntimeError("DagBuilder.finish called twice")
        self._finished = True
        if self._fill or self._counts[0] == 0:
            self._leaf(self._view[: self._fill])
            self._fill = 0
        level = 0
        while True:
            if level == len(self._levels) - 1 and self._counts[level] == 1:
                cid, tsize, file_size = self._levels[level][0]
                return ImportResult(canonical_cid(CID.decode(cid)), tsize, file_size)
            if self._levels[level]:
                self._reduce(level)
            level += 1

    # -- internals ----------------------------------------------------------------------

    def _read_into(self, readinto: Callable[[memoryview], int | None]) -> None:
        if self._finished:
            raise RuntimeError("DagBuilder.write after finish")
        size = self._chunk_size
        while True:
            count = readinto(self._view[self._fill :])
            if count is None:
                raise TypeError("non-blocking file returned no data; pass a blocking file")
            if count == 0:
                return
            self._fill += count
            if self._fill == size:
                self._leaf(self._view)
                self._fill = 0

    def _leaf(self, chunk: memoryview) -> None:
        length = len(chunk)
        sink = self._sink
        if self._raw_leaves:
            cid = CIDV1_RAW_PREFIX + _sha256(chunk).digest()
            if sink is not None:
                sink(cid, (chunk,))
            entry = (cid, length, length)
        else:
            frame = self._frames.get(length)
            if frame is None:
                frame = self._frames[length] = _leaf_frame(length)
            head, tail = frame
            hasher = _sha256(head)
            hasher.update(chunk)
            hasher.update(tail)
            cid = self._node_prefix + hasher.digest()
            if sink is not None:
                sink(cid, (head, chunk, tail))
            entry = (cid, len(head) + length + len(tail), length)
        self._push(0, entry)

    def _push(self, level: int, entry: _Entry) -> None:
        if level == len(self._levels):
            self._levels.append([])
            self._counts.append(0)
        pending = self._levels[level]
        pending.append(entry)
        self._counts[level] += 1
        if len(pending) == self._max_links:
            self._reduce(level)

    def _reduce(self, level: int) -> None:
        children = self._levels[level]
        self._levels[level] = []
        parts: list[bytes] = []
        sizes: list[bytes] = [b""]
        tsize = 0
        file_size = 0
        for cid, child_tsize, child_size in children:
            encoded_tsize = varint(child_tsize)
            # PBLink{Hash = 1: cid, Name = 2: "", Tsize = 3}, as a PBNode Links (2) entry.
            parts.append(
                b"\x12"
                + varint(len(cid) + len(encoded_tsize) + 5)
                + b"\x0a"
                + varint(len(cid))
                + cid
                + b"\x12\x00\x18"
                + encoded_tsize
            )
            sizes.append(varint(child_size))
            tsize += child_tsize
            file_size += child_size
        # UnixFS Data{Type = 1: File, filesize = 3, blocksizes = 4...} as PBNode Data (1).
        data = b"\x08\x02\x18" + varint(file_size) + b"\x20".join(sizes)
        parts.append(b"\x0a" + varint(len(data)) + data)
        block = b"".join(parts)
        cid = self._node_prefix + _sha256(block).digest()
        if self._sink is not None:
            self._sink(cid, (block,))
        self._push(level + 1, (cid, len(block) + tsize, file_size))


def _leaf_frame(length: int) -> tuple[bytes, bytes]:
    """The dag-pb bytes before and after a chunk of ``length`` bytes in a CIDv0 leaf:
    ``PBNode{Data = 1: UnixFS{Type = File, Data = chunk, filesize = length}}``."""
    if length:
        unixfs_head = b"\x08\x02\x12" + varint(length)
        unixfs_tail = b"\x18" + varint(length)
    else:
        unixfs_head = b"\x08\x02"
        unixfs_tail = b"\x18\x00"
    unixfs_length = len(unixfs_head) + length + len(unixfs_tail)
    return b"\x0a" + varint(unixfs_length) + unixfs_head, unixfs_tail


def _object_sink(sink: BlockSink) -> RawBlockSink:
    def deliver(cid: bytes, pieces: tuple[BytesLike, ...]) -> None:
        sink(canonical_cid(CID.decode(cid)), b"".join(pieces))

    return deliver


def import_bytes(
    data: BytesLike, *, options: ImportOptions | None = None, sink: BlockSink | None = None
) -> ImportResult:
    """Import ``data`` in one go (blocks go to ``sink`` if given; otherwise only hashed)."""
    builder = DagBuilder(sink=sink, options=options)
    builder.write(data)
    return builder.finish()


def import_stream(
    source: ByteSource,
    *,
    options: ImportOptions | None = None,
    sink: BlockSink | None = None,
    raw_sink: RawBlockSink | None = None,
) -> ImportResult:
    """Import a file, an iterable of chunks or bytes in bounded memory (see
    :meth:`DagBuilder.write_from`); blocks go to the sink given, otherwise only hashed."""
    builder = DagBuilder(sink=sink, raw_sink=raw_sink, options=options)
    builder.write_from(source)
    return builder.finish()


# --------------------------------------------------------------------------- export


def iter_file(root: CID, get_block: Callable[[CID], bytes]) -> Iterator[bytes]:
    """Yield the content of the UnixFS file (or raw block) at ``root``, in order.

    ``get_block`` must return bytes already verified against the CID asked for; this
    function additionally checks that every node's declared sizes match what its subtree
    yields, so a consistent-hash but malformed DAG is reported rather than truncated.

    Raises
    ------
    IntegrityError
        If a node is undecodable, not a file, or its sizes disagree with its children.
    InvalidCIDError
        If ``root`` uses a codec other than ``raw`` or ``dag-pb``.
    """
    if root.codec.name not in (_RAW, _DAG_PB):
        raise InvalidCIDError(str(root), f"codec {root.codec.name} is not a UnixFS file codec")
    yield from _iter_node(root, get_block, expected_size=None, depth=0)


_MAX_DEPTH = 64


def _iter_node(
    cid: CID, get_block: Callable[[CID], bytes], *, expected_size: int | None, depth: int
) -> Iterator[bytes]:
    if depth > _MAX_DEPTH:
        raise IntegrityError(str(cid), "DAG deeper than any UnixFS file")
    block = get_block(cid)
    if cid.codec.name == _RAW:
        if expected_size is not None and expected_size != len(block):
            raise IntegrityError(
                str(cid), f"raw leaf has {len(block)} bytes, parent says {expected_size}"
            )
        if block:
            yield block
        return
    if cid.codec.name != _DAG_PB:
        raise IntegrityError(str(cid), f"unexpected codec {cid.codec.name} inside a file")
    try:
        links, data = decode_dag_pb(block)
        node = decode_unixfs(data or b"")
    except ValueError as exc:
        raise IntegrityError(str(cid), f"undecodable dag-pb/UnixFS node: {exc}") from exc
    if node.type not in FILE_TYPES:
        raise IntegrityError(str(cid), f"UnixFS type {node.type} is not a file")
    if links and len(node.blocksizes) != len(links):
        raise IntegrityError(str(cid), "blocksizes do not match the links")
    declared = node.filesize if node.filesize is not None else len(node.data) + sum(node.blocksizes)
    if expected_size is not None and declared != expected_size:
        raise IntegrityError(str(cid), f"file size {declared}, parent says {expected_size}")
    if declared != len(node.data) + sum(node.blocksizes):
        raise IntegrityError(str(cid), "filesize disagrees with data and blocksizes")
    if node.data:
        yield node.data
    for link, size in zip(links, node.blocksizes):
        yield from _iter_node(link.cid, get_block, expected_size=size, depth=depth + 1)
