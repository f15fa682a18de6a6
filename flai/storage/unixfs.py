"""UnixFS files as dag-pb DAGs, built exactly as Kubo's ``ipfs add`` builds them.

A file is cut into fixed-size chunks (262,144 bytes by default); each chunk becomes a leaf
(a ``raw`` block with ``--cid-version=1``, a dag-pb node holding a UnixFS ``File`` with the
chunk as data otherwise); leaves are gathered into a *balanced* tree whose inner nodes are
dag-pb nodes with at most 174 links and a UnixFS ``File`` header listing each child's file
size. A file of a single chunk is that chunk's leaf. This reproduces, byte for byte, the
blocks of Kubo's ``ipfs add`` (CIDv0) and ``ipfs add --cid-version=1`` (CIDv1, raw leaves)
with default settings, and of the npm ``ipfs-unixfs-importer`` configured the same way.

The two protobuf schemas involved are small enough to encode by hand here:

- dag-pb ``PBNode { repeated PBLink Links = 2; optional bytes Data = 1; }`` written
  links first (its canonical form), ``PBLink { bytes Hash = 1; string Name = 2;
  uint64 Tsize = 3; }``;
- UnixFS ``Data { Type = 1; bytes Data = 2; uint64 filesize = 3;
  repeated uint64 blocksizes = 4 (unpacked); ... }``.

References
----------
IPFS, "UnixFS specification", https://specs.ipfs.tech/unixfs/ ; IPLD, "DAG-PB
specification", https://ipld.io/specs/codecs/dag-pb/spec/ ; Kubo ``core/coreunix/add.go``
and boxo ``ipld/unixfs/importer/balanced``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from multiformats import CID, multihash

from flai.storage.errors import IntegrityError, InvalidCIDError, UnsupportedOptionError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_LINKS",
    "MAX_CHUNK_SIZE",
    "DagBuilder",
    "FileNode",
    "ImportOptions",
    "ImportResult",
    "PBLink",
    "block_cid",
    "decode_dag_pb",
    "decode_unixfs",
    "import_bytes",
    "iter_file",
    "parse_cid",
    "verify_block",
]

DEFAULT_CHUNK_SIZE = 262_144
"""Kubo's default fixed chunk size, ``size-262144``."""

DEFAULT_MAX_LINKS = 174
"""Kubo's ``helpers.DefaultLinksPerBlock``: links per balanced-DAG node."""

MAX_CHUNK_SIZE = 1_048_576
"""Kubo's ``chunk.ChunkSizeLimit``: larger chunks make blocks peers refuse to exchange."""

_UNIXFS_RAW = 0
_UNIXFS_FILE = 2
_FILE_TYPES = (_UNIXFS_RAW, _UNIXFS_FILE)
_RAW = "raw"
_DAG_PB = "dag-pb"


# --------------------------------------------------------------------------- protobuf


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Yield ``(field number, value)`` for varint and length-delimited fields."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
            yield number, value
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            if pos + length > len(buf):
                raise ValueError("length-delimited field runs past the end")
            yield number, buf[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")


@dataclass(frozen=True, slots=True)
class PBLink:
    """One dag-pb link: target CID, name and cumulative DAG size (``Tsize``)."""

    cid: CID
    name: str
    tsize: int | None


@dataclass(frozen=True, slots=True)
class FileNode:
    """The UnixFS header of a dag-pb node (only the fields files use)."""

    type: int
    data: bytes
    filesize: int | None
    blocksizes: tuple[int, ...]


def encode_unixfs_file(*, data: bytes, blocksizes: Iterable[int] = ()) -> bytes:
    """Encode a UnixFS ``File`` header as ipfs-unixfs/boxo do (default mode omitted)."""
    sizes = tuple(blocksizes)
    out = _int_field(1, _UNIXFS_FILE)
    if data:
        out += _len_field(2, data)
    out += _int_field(3, len(data) + sum(sizes))
    for size in sizes:
        out += _int_field(4, size)
    return out


def encode_dag_pb(*, links: Iterable[tuple[CID, int]], data: bytes | None) -> bytes:
    """Encode a dag-pb node in canonical form (links, then data); link names are empty."""
    out = bytearray()
    for cid, tsize in links:
        link = _len_field(1, bytes(cid)) + _len_field(2, b"") + _int_field(3, tsize)
        out += _len_field(2, link)
    if data is not None:
        out += _len_field(1, data)
    return bytes(out)


def decode_dag_pb(block: bytes) -> tuple[list[PBLink], bytes | None]:
    """Decode a dag-pb node into its links and data.

    Raises
    ------
    ValueError
        If the bytes are not a dag-pb node.
    """
    links: list[PBLink] = []
    data: bytes | None = None
    for number, value in _fields(block):
        if number == 2 and isinstance(value, bytes):
            target: CID | None = None
            name = ""
            tsize: int | None = None
            for sub, sub_value in _fields(value):
                if sub == 1 and isinstance(sub_value, bytes):
                    target = _canonical(CID.decode(bytes(sub_value)))
                elif sub == 2 and isinstance(sub_value, bytes):
                    name = sub_value.decode("utf-8")
                elif sub == 3 and isinstance(sub_value, int):
                    tsize = sub_value
                else:
                    raise ValueError(f"unexpected PBLink field {sub}")
            if target is None:
                raise ValueError("PBLink without Hash")
            links.append(PBLink(target, name, tsize))
        elif number == 1 and isinstance(value, bytes):
            data = bytes(value)
        else:
            raise ValueError(f"unexpected PBNode field {number}")
    return links, data


def decode_unixfs(data: bytes) -> FileNode:
    """Decode a UnixFS ``Data`` message (fields other than files' are skipped).

    Raises
    ------
    ValueError
        If the bytes are not a UnixFS message.
    """
    kind: int | None = None
    payload = b""
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, value in _fields(data):
        if number == 1 and isinstance(value, int):
            kind = value
        elif number == 2 and isinstance(value, bytes):
            payload = bytes(value)
        elif number == 3 and isinstance(value, int):
            filesize = value
        elif number == 4 and isinstance(value, int):
            blocksizes.append(value)
    if kind is None:
        raise ValueError("UnixFS message without Type")
    return FileNode(kind, payload, filesize, tuple(blocksizes))


# --------------------------------------------------------------------------- CIDs


def _canonical(cid: CID) -> CID:
    """Binary CIDs carry no multibase: print v1 in base32, as Kubo does (v0 is base58)."""
    return cid if cid.version == 0 else cid.set(base="base32")


def parse_cid(value: str | CID) -> CID:
    """Parse a CID string (an ``/ipfs/`` prefix is accepted).

    Raises
    ------
    InvalidCIDError
        If ``value`` is not a CID.
    """
    if isinstance(value, CID):
        return value
    if not isinstance(value, str):
        raise InvalidCIDError(value, "expected a CID string")
    text = value.strip()
    text = text.removeprefix("/ipfs/")
    if not text or "/" in text:
        raise InvalidCIDError(value, "expected a bare CID (paths are not supported)")
    try:
        return CID.decode(text)
    except Exception as exc:  # multiformats raises several unrelated error types
        raise InvalidCIDError(value, str(exc) or type(exc).__name__) from exc


def block_cid(data: bytes, *, version: int, codec: str) -> CID:
    """The CID of ``data`` under sha2-256 (base58btc for v0, base32 for v1)."""
    digest = multihash.digest(data, "sha2-256")
    return CID("base58btc" if version == 0 else "base32", version, codec, digest)


def verify_block(cid: CID, data: bytes) -> None:
    """Check that ``data`` hashes to ``cid``'s multihash.

    Raises
    ------
    IntegrityError
        On a mismatch (or a hash function this library cannot compute).
    """
    try:
        expected = multihash.digest(data, cid.hashfun)
    except Exception as exc:
        raise IntegrityError(str(cid), f"cannot verify hash {cid.hashfun.name}: {exc}") from exc
    if bytes(expected) != bytes(cid.digest):
        raise IntegrityError(str(cid), "block bytes do not hash to the CID")


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


@dataclass(slots=True)
class _Entry:
    cid: CID
    tsize: int
    file_size: int


@dataclass(slots=True)
class _Level:
    pending: list[_Entry] = field(default_factory=list)
    total: int = 0


BlockSink = Callable[[CID, bytes], None]


class DagBuilder:
    """Streaming UnixFS file importer producing Kubo's balanced DAG.

    Feed bytes with :meth:`write` in pieces of any size and call :meth:`finish` once;
    every block is handed to ``sink(cid, data)`` as soon as it exists, children before
    parents, so memory stays bounded by one chunk plus one pending link list per level.

    Parameters
    ----------
    sink
        Receives each block.
    options
        Import options.
    """

    def __init__(self, *, sink: BlockSink, options: ImportOptions | None = None) -> None:
        self._sink = sink
        self._options = options or ImportOptions()
        self._buffer = bytearray()
        self._levels: list[_Level] = [_Level()]
        self._finished = False

    @property
    def options(self) -> ImportOptions:
        """The import options in use."""
        return self._options

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append content bytes."""
        if self._finished:
            raise RuntimeError("DagBuilder.write after finish")
        self._buffer += data
        size = self._options.chunk_size
        if len(self._buffer) >= size:
            view = memoryview(self._buffer)
            offset = 0
            while len(self._buffer) - offset >= size:
                self._add_leaf(bytes(view[offset : offset + size]))
                offset += size
            view.release()
            del self._buffer[:offset]

    def finish(self) -> ImportResult:
        """Flush the last chunk, close the tree and return the root."""
        if self._finished:
            raise RuntimeError("DagBuilder.finish called twice")
        self._finished = True
        if self._buffer or self._levels[0].total == 0:
            self._add_leaf(bytes(self._buffer))
            self._buffer.clear()
        level_index = 0
        while True:
            level = self._levels[level_index]
            is_top = level_index == len(self._levels) - 1
            if is_top and level.total == 1:
                root = level.pending[0]
                return ImportResult(root.cid, root.tsize, root.file_size)
            if level.pending:
                self._reduce(level_index)
            level_index += 1

    def _add_leaf(self, chunk: bytes) -> None:
        options = self._options
        if options.use_raw_leaves:
            cid = block_cid(chunk, version=1, codec=_RAW)
            block = chunk
        else:
            block = encode_dag_pb(links=(), data=encode_unixfs_file(data=chunk))
            cid = block_cid(block, version=options.cid_version, codec=_DAG_PB)
        self._sink(cid, block)
        self._push(0, _Entry(cid, len(block), len(chunk)))

    def _push(self, level_index: int, entry: _Entry) -> None:
        if level_index == len(self._levels):
            self._levels.append(_Level())
        level = self._levels[level_index]
        level.pending.append(entry)
        level.total += 1
        if len(level.pending) == self._options.max_links:
            self._reduce(level_index)

    def _reduce(self, level_index: int) -> None:
        children = self._levels[level_index].pending
        self._levels[level_index].pending = []
        data = encode_unixfs_file(data=b"", blocksizes=[c.file_size for c in children])
        block = encode_dag_pb(links=[(c.cid, c.tsize) for c in children], data=data)
        cid = block_cid(block, version=self._options.cid_version, codec=_DAG_PB)
        self._sink(cid, block)
        tsize = len(block) + sum(c.tsize for c in children)
        self._push(level_index + 1, _Entry(cid, tsize, sum(c.file_size for c in children)))


def import_bytes(
    data: bytes, *, options: ImportOptions | None = None, sink: BlockSink | None = None
) -> ImportResult:
    """Import ``data`` in one go (blocks go to ``sink`` if given; otherwise only hashed)."""
    builder = DagBuilder(sink=sink or (lambda cid, block: None), options=options)
    builder.write(data)
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
    if node.type not in _FILE_TYPES:
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
