"""The embedded node's libp2p identity: an Ed25519 key kept in the repository, its peer ID.

References
----------
libp2p, "Peer Ids and Keys", https://github.com/libp2p/specs/blob/master/peer-ids/peer-ids.md .
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from multiformats import multihash

from flai.storage.blockstore import atomic_write

__all__ = ["libp2p_public_key", "load_identity", "peer_id"]


def load_identity(path: Path) -> Ed25519PrivateKey:
    """Load (or create) the node's Ed25519 key; 32 raw bytes, mode 0600."""
    if path.is_file():
        return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    atomic_write(path, raw)
    os.chmod(path, 0o600)
    return key


def libp2p_public_key(key: Ed25519PrivateKey) -> bytes:
    """libp2p ``PublicKey{Type: Ed25519, Data}`` protobuf of ``key``."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return b"\x08\x01\x12" + bytes([len(raw)]) + raw


def peer_id(public_key: bytes) -> str:
    """libp2p peer ID: identity multihash of the public key protobuf, base58btc."""
    from multiformats import multibase

    digest = multihash.wrap(public_key, "identity")
    return multibase.encode(digest, "base58btc")[1:]
