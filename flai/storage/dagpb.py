"""dag-pb nodes and the UnixFS headers inside them, encoded and decoded by hand.

The two protobuf schemas involved are small enough to write here:

- dag-pb ``PBNode { repeated PBLink Links = 2; optional bytes Data = 1; }`` written
  links first (its canonical form), ``PBLink { bytes Hash = 1; string Name = 2;
  uint64 Tsize = 3; }``;
- UnixFS ``Data { Type = 1; bytes Data = 2; uint64 filesize = 3;
  repeated uint64 blocksizes = 4 (unpacked); ... }``.

References
----------
IPFS, "UnixFS specification", https://specs.ipfs.tech/unixfs/ ; IPLD, "DAG-PB
specification", https://ipld.io/specs/codecs/dag-pb/spec/ .
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from multiformats import CID

from flai.storage.base import BytesLike
from flai.storage.cid import canonical_cid, cid_multihash, read_varint, varint

__all__ = [
    "FILE_TYPES",
    "UNIXFS_FILE",
    "UNIXFS_RAW",
    "FileNode",
    "PBLink",
    "decode_dag_pb",
    "decode_unixfs",
    "encode_dag_pb",
    "encode_unixfs_file",
    "link_cids",
]

UNIXFS_RAW = 0
"""UnixFS ``Data.Type`` of a raw leaf."""
UNIXFS_FILE = 2
"""UnixFS ``Data.Type`` of a file node."""
FILE_TYPES = (UNIXFS_RAW, UNIXFS_FILE)
"""The UnixFS types a file's nodes may have."""


def _len_field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def _fields(buf: BytesLike) -> Iterator[tuple[int, int | BytesLike]]:
    """Yield ``(field number, value)`` for varint and length-delimited fields."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
            yield number, value
        elif wire == 2:
            length, pos = read_varint(buf, pos)
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
    out = _int_field(1, UNIXFS_FILE)
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
                    target = canonical_cid(CID.decode(bytes(sub_value)))
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


def link_cids(block: BytesLike) -> list[bytes]:
    """The binary CIDs a dag-pb node links to, in order, without building CID objects.

    Raises
    ------
    ValueError
        If the bytes are not a dag-pb node.
    """
    targets: list[bytes] = []
    for number, value in _fields(block):
        if number == 2 and not isinstance(value, int):
            target: bytes | None = None
            for sub, sub_value in _fields(value):
                if sub == 1 and not isinstance(sub_value, int):
                    target = bytes(sub_value)
            if target is None:
                raise ValueError("PBLink without Hash")
            cid_multihash(target)
            targets.append(target)
        elif number != 1:
            raise ValueError(f"unexpected PBNode field {number}")
    return targets


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
