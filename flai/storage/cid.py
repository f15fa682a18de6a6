"""Binary CIDs: multiformats varints, the sha2-256 multihash prefixes, Kubo's text forms,
parsing and checking a block against its CID.

The importer and the stores handle CIDs as bytes (``<version><codec><multihash>``, a CIDv0
being the bare multihash) and make :class:`~multiformats.CID` objects only at the API edge.

References
----------
Multiformats, "CID specification", https://github.com/multiformats/cid ; "unsigned-varint",
https://github.com/multiformats/unsigned-varint .
"""

from __future__ import annotations

import base64
import hashlib

from multiformats import CID, multihash

from flai.storage.base import BytesLike
from flai.storage.errors import IntegrityError, InvalidCIDError

__all__ = [
    "CIDV0_PREFIX",
    "CIDV1_DAG_PB_PREFIX",
    "CIDV1_RAW_PREFIX",
    "SHA2_256_PREFIX",
    "block_cid",
    "canonical_cid",
    "cid_codec",
    "cid_multihash",
    "cid_string",
    "parse_cid",
    "read_varint",
    "varint",
    "verify_block",
]

SHA2_256_PREFIX = b"\x12\x20"
"""Multihash prefix of a sha2-256 digest: function 0x12, 32 bytes."""
CIDV1_RAW_PREFIX = b"\x01\x55" + SHA2_256_PREFIX
"""Binary CIDv1 prefix, codec raw (0x55), sha2-256."""
CIDV1_DAG_PB_PREFIX = b"\x01\x70" + SHA2_256_PREFIX
"""Binary CIDv1 prefix, codec dag-pb (0x70), sha2-256."""
CIDV0_PREFIX = SHA2_256_PREFIX
"""A CIDv0 is the bare multihash (dag-pb implied)."""

_sha256 = hashlib.sha256
_CODEC_RAW = 0x55
_CODEC_DAG_PB = 0x70
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(buf: BytesLike, pos: int) -> tuple[int, int]:
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


def canonical_cid(cid: CID) -> CID:
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


def cid_codec(cid: bytes) -> int:
    """The multicodec code of a binary CID (0x70 dag-pb for CIDv0)."""
    if cid[:2] == SHA2_256_PREFIX and len(cid) == 34:
        return _CODEC_DAG_PB
    try:
        _version, position = read_varint(cid, 0)
        return read_varint(cid, position)[0]
    except ValueError as exc:
        raise InvalidCIDError(cid.hex(), f"not a binary CID: {exc}") from None


def cid_string(cid: bytes) -> str:
    """A binary CID in Kubo's text form: base58btc for CIDv0, base32 (``b...``) for v1."""
    if cid[:2] == SHA2_256_PREFIX and len(cid) == 34:
        number = int.from_bytes(cid, "big")
        digits = []
        while number:
            number, remainder = divmod(number, 58)
            digits.append(_BASE58[remainder])
        return "".join(reversed(digits))
    return "b" + base64.b32encode(cid).decode("ascii").rstrip("=").lower()


def block_cid(data: BytesLike, *, version: int, codec: str) -> CID:
    """The CID of ``data`` under sha2-256 (base58btc for v0, base32 for v1)."""
    digest = SHA2_256_PREFIX + _sha256(data).digest()
    return CID("base58btc" if version == 0 else "base32", version, codec, digest)


def cid_multihash(cid: bytes) -> bytes:
    """The multihash inside a binary CID (a CIDv0 is its multihash).

    Raises
    ------
    InvalidCIDError
        If ``cid`` is not a binary CID.
    """
    if cid[:2] == SHA2_256_PREFIX and len(cid) == 34:
        return cid
    try:
        version, position = read_varint(cid, 0)
        if version != 1:
            raise ValueError(f"CID version {version}")
        _codec, position = read_varint(cid, position)
        _code, end = read_varint(cid, position)
        length, end = read_varint(cid, end)
    except ValueError as exc:
        raise InvalidCIDError(cid.hex(), f"not a binary CID: {exc}") from None
    if end + length != len(cid):
        raise InvalidCIDError(cid.hex(), "multihash length does not match the CID")
    return cid[position:]


def verify_block(cid: CID, data: bytes) -> None:
    """Check that ``data`` hashes to ``cid``'s multihash.

    Raises
    ------
    IntegrityError
        On a mismatch (or a hash function this library cannot compute).
    """
    digest = bytes(cid.digest)
    if digest[:2] == SHA2_256_PREFIX:
        matches = _sha256(data).digest() == digest[2:]
    else:
        try:
            expected = multihash.digest(data, cid.hashfun)
        except Exception as exc:
            raise IntegrityError(str(cid), f"cannot verify hash {cid.hashfun.name}: {exc}") from exc
        matches = bytes(expected) == digest
    if not matches:
        raise IntegrityError(str(cid), "block bytes do not hash to the CID")
