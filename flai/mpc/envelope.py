"""Sealed envelopes: public-key authenticated encryption to an X25519 recipient.

``seal`` is ECIES in the style of HPKE base mode (RFC 9180) and libsodium sealed boxes:
an ephemeral X25519 key agreement with the recipient, HKDF-SHA256 over the shared secret
bound to both public keys, and ChaCha20-Poly1305 (RFC 8439). Each envelope uses a fresh
ephemeral key, hence a fresh AEAD key, so the all-zero nonce is never reused under one key.
The sender is anonymous (as with a sealed box); authenticating the sender is the transport's
job (signed chain transactions, TLS).

Wire format (``seal``)::

    version (1) ‖ ephemeral public key (32) ‖ ciphertext ‖ Poly1305 tag (16)

``seal_for_many`` encrypts a large payload once under a random single-use data key with
AES-256-GCM (hardware AES is ~10× faster than ChaCha20-Poly1305 on bulk data here) and wraps
that key in one small sealed envelope per recipient, so a client uploads a share to several
compute nodes for the price of one copy. Every reader shares the data key, so the GCM tag
alone cannot stop one reader from forging a body that another reader accepts; each reader
therefore also gets, inside its own sealed key envelope, a fresh one-time GMAC key and the
GMAC tag of the body under it (a Wegman–Carter one-time MAC, NIST SP 800-38D). A reader that
does not know another reader's MAC key forges a body it accepts with probability about
(body bytes / 16) / 2^128: the guarantee of hashing the body with SHA-256 into every key
envelope, with ~15× less work per reader (GHASH runs at ~25 GB/s here).

Wire format (``seal_for_many``)::

    body       = 0x03 ‖ AES-256-GCM(data key, nonce 0, payload, aad 0x03 ‖ aad)
    reader key = seal(0x01 ‖ data key (32) ‖ GMAC key (32) ‖ GMAC tag of body (16) ‖ extra,
                      aad 0x01 ‖ aad)
    other key  = seal(0x00 ‖ extra, aad 0x00 ‖ aad)
Any failure to open (wrong key, flipped byte, truncation, wrong associated data, unknown
version) raises :class:`EnvelopeError`. Many small messages between two parties that know
each other's keys go over a session (:mod:`flai.mpc.session`) instead.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from flai.mpc.errors import EnvelopeError
from flai.mpc.prg import hkdf

__all__ = [
    "ENVELOPE_OVERHEAD",
    "KeyPair",
    "MultiEnvelope",
    "open_body",
    "open_for",
    "open_key_for",
    "open_sealed",
    "seal",
    "seal_for_many",
]

_VERSION = b"\x01"
_MULTI_VERSION = b"\x03"
_INFO = b"flai/mpc/envelope/v1"
_NONCE = bytes(12)
_TAG = 16
ENVELOPE_OVERHEAD = 1 + 32 + _TAG
"""Bytes ``seal`` adds to its plaintext."""


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair.

    Attributes
    ----------
    private_key
        The secret key (keep it on the owning party).
    public_bytes
        The 32-byte raw public key to publish.
    """

    private_key: X25519PrivateKey
    public_bytes: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        """Generate a key pair from the OS CSPRNG."""
        return cls.from_private_key(X25519PrivateKey.generate())

    @classmethod
    def from_private_key(cls, private_key: X25519PrivateKey) -> KeyPair:
        """Wrap an existing private key."""
        public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(private_key=private_key, public_bytes=public)

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> KeyPair:
        """Rebuild a key pair from its 32 raw private-key bytes."""
        return cls.from_private_key(X25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        """The 32 raw private-key bytes (for threshold backup, see :mod:`flai.mpc.masking`)."""
        return self.private_key.private_bytes_raw()

    def agree(self, peer_public: bytes) -> bytes:
        """Raw X25519 shared secret with ``peer_public``; low-order points are rejected."""
        try:
            return self.private_key.exchange(X25519PublicKey.from_public_bytes(peer_public))
        except ValueError as exc:
            raise EnvelopeError(f"invalid X25519 public key: {exc}") from exc


def _aead_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return hkdf(shared, info=_INFO, salt=ephemeral_public + recipient_public)


def seal(plaintext: bytes, recipient_public: bytes, *, aad: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` so only the holder of ``recipient_public``'s key can open it.

    Parameters
    ----------
    plaintext
        Bytes to protect.
    recipient_public
        The recipient's 32-byte X25519 public key.
    aad
        Associated data authenticated but not encrypted (e.g. a round identifier);
        the same value must be passed to :func:`open_sealed`.
    """
    if len(recipient_public) != 32:
        raise EnvelopeError(f"recipient public key must be 32 bytes, got {len(recipient_public)}")
    ephemeral = KeyPair.generate()
    key = _aead_key(ephemeral.agree(recipient_public), ephemeral.public_bytes, recipient_public)
    header = _VERSION + ephemeral.public_bytes
    return header + ChaCha20Poly1305(key).encrypt(_NONCE, plaintext, header + aad)


def open_sealed(envelope: bytes, recipient: KeyPair, *, aad: bytes = b"") -> bytes:
    """Open an envelope made by :func:`seal`; raise :class:`EnvelopeError` on any failure."""
    if len(envelope) < ENVELOPE_OVERHEAD:
        raise EnvelopeError(f"envelope too short: {len(envelope)} bytes")
    if envelope[:1] != _VERSION:
        raise EnvelopeError(f"unknown envelope version {envelope[0]}")
    header, body = envelope[:33], envelope[33:]
    ephemeral_public = header[1:]
    key = _aead_key(recipient.agree(ephemeral_public), ephemeral_public, recipient.public_bytes)
    try:
        return ChaCha20Poly1305(key).decrypt(_NONCE, body, header + aad)
    except InvalidTag as exc:
        raise EnvelopeError("authentication failed: wrong key or tampered envelope") from exc


@dataclass(frozen=True)
class MultiEnvelope:
    """One payload encrypted once, with its data key sealed to several recipients.

    Attributes
    ----------
    body
        ``version ‖ AES-256-GCM(data key, payload)`` (fresh key, so a fixed nonce is safe).
    keys
        Recipient id → :func:`seal` of ``data key ‖ extra`` bound to the body's hash.
    """

    body: bytes
    keys: Mapping[int, bytes]

    @property
    def size(self) -> int:
        """Total bytes on the wire."""
        return len(self.body) + sum(len(k) for k in self.keys.values())


def _body_mac(mac_key: bytes, body: bytes | memoryview) -> bytes:
    """GMAC (AES-256-GCM with an empty plaintext) of ``body`` under a one-time key."""
    return AESGCM(mac_key).encrypt(_NONCE, b"", body)


def seal_for_many(
    payload: bytes | bytearray,
    recipients: Mapping[int, bytes],
    *,
    aad: bytes = b"",
    readers: Iterable[int] | None = None,
    extras: Mapping[int, bytes] | None = None,
) -> MultiEnvelope:
    """Encrypt ``payload`` once for several recipients.

    Parameters
    ----------
    payload
        The (large) bytes the readers may decrypt.
    recipients
        Recipient id → X25519 public key; each gets one key envelope.
    aad
        Associated data bound to the body and to every key envelope.
    readers
        Recipients that receive the data key (default: all). The others get only their
        ``extras`` and cannot decrypt the body.
    extras
        Recipient id → small private bytes carried in that recipient's key envelope
        (e.g. PRG seeds only that recipient may hold).
    """
    extras = extras or {}
    reader_ids = set(recipients) if readers is None else set(readers)
    unknown = (set(extras) | reader_ids) - set(recipients)
    if unknown:
        raise EnvelopeError(f"extras or readers that are not recipients: {sorted(unknown)}")
    data_key = secrets.token_bytes(32)
    body = _MULTI_VERSION + AESGCM(data_key).encrypt(_NONCE, payload, _MULTI_VERSION + aad)
    keys = {}
    for rid, public in recipients.items():
        extra = extras.get(rid, b"")
        if rid in reader_ids:
            mac_key = secrets.token_bytes(32)
            inner = b"\x01" + data_key + mac_key + _body_mac(mac_key, body) + extra
            keys[rid] = seal(inner, public, aad=b"\x01" + aad)
        else:
            keys[rid] = seal(b"\x00" + extra, public, aad=b"\x00" + aad)
    return MultiEnvelope(body=body, keys=keys)


def open_key_for(
    envelope: MultiEnvelope,
    recipient_id: int,
    recipient: KeyPair,
    *,
    aad: bytes = b"",
    reader: bool = True,
) -> tuple[bytes | None, bytes]:
    """Open ``recipient_id``'s key envelope and, for a reader, authenticate the body.

    A reader checks the body against its own one-time GMAC key and tag, so a body forged by
    another reader (who knows the data key but not this MAC key) is refused here; the body
    is decrypted later with :func:`open_body`. A non-reader's key envelope is bound to
    ``aad`` only and the body is not read.

    Returns
    -------
    tuple
        ``(data key, extra)``; the data key is ``None`` for a recipient that is not a reader.
    """
    if recipient_id not in envelope.keys:
        raise EnvelopeError(f"no key envelope for recipient {recipient_id}")
    if envelope.body[:1] != _MULTI_VERSION:
        raise EnvelopeError("unknown multi-envelope version")
    if not reader:
        inner = open_sealed(envelope.keys[recipient_id], recipient, aad=b"\x00" + aad)
        if inner[:1] != b"\x00":
            raise EnvelopeError("malformed key envelope")
        return None, inner[1:]
    inner = open_sealed(envelope.keys[recipient_id], recipient, aad=b"\x01" + aad)
    if inner[:1] != b"\x01" or len(inner) < 81:
        raise EnvelopeError("malformed key envelope")
    data_key, mac_key, tag, extra = inner[1:33], inner[33:65], inner[65:81], inner[81:]
    if not hmac.compare_digest(_body_mac(mac_key, envelope.body), tag):
        raise EnvelopeError("authentication failed: tampered envelope body")
    return data_key, extra


def open_body(
    envelope: MultiEnvelope, data_key: bytes, *, aad: bytes = b"", out: bytearray | None = None
) -> bytes | bytearray:
    """Decrypt and authenticate the body with the data key from :func:`open_key_for`.

    ``out``, if given, is a reusable buffer of exactly the payload's size that receives the
    plaintext (and is returned).
    """
    ciphertext = memoryview(envelope.body)[1:]
    try:
        if out is None:
            return AESGCM(data_key).decrypt(_NONCE, ciphertext, _MULTI_VERSION + aad)
        if len(out) != len(ciphertext) - _TAG:
            raise EnvelopeError(f"body buffer must be {len(ciphertext) - _TAG} bytes")
        AESGCM(data_key).decrypt_into(_NONCE, ciphertext, _MULTI_VERSION + aad, out)
        return out
    except InvalidTag as exc:
        raise EnvelopeError("authentication failed: tampered envelope body") from exc


def open_for(
    envelope: MultiEnvelope,
    recipient_id: int,
    recipient: KeyPair,
    *,
    aad: bytes = b"",
    reader: bool = True,
) -> tuple[bytes | None, bytes]:
    """Open ``envelope`` as ``recipient_id`` (:func:`open_key_for` then :func:`open_body`).

    Returns
    -------
    tuple
        ``(payload, extra)``; ``payload`` is ``None`` for a recipient that is not a reader.
    """
    data_key, extra = open_key_for(envelope, recipient_id, recipient, aad=aad, reader=reader)
    if data_key is None:
        return None, extra
    return bytes(open_body(envelope, data_key, aad=aad)), extra
