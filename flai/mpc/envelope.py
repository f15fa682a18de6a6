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

Sessions (:class:`SecureChannel`) carry many small messages between two parties that
know each other's X25519 keys, with no public-key operation per message. The initiator
sends one :class:`SessionHello`; both ends derive two directional AES-256-GCM keys with
the key schedule of HPKE's Auth mode (RFC 9180 §5.1.3): the shared secrets of a fresh
ephemeral key and of the initiator's static key, each with the responder's static key,
go through HKDF-SHA256 bound to all three public keys, the session id and a caller
context. Only the holder of the responder's private key can derive the keys, and only the
holder of the initiator's static private key can produce a hello the responder accepts
(a key-confirmation tag). Each message carries a 64-bit counter and a random 96-bit
nonce; the counter is authenticated and a receiver accepts each counter once (a sliding
window, as in IPsec's anti-replay, RFC 4303 §3.4.3), so a replayed or reordered-beyond-the-
window message raises :class:`ReplayError`. Random nonces make a repeated counter (a
resumed sender) harmless to AES-GCM; a key is retired after 2^32 messages (NIST SP
800-38D §8.3).

Wire format (session)::

    hello   = 0x04 ‖ session id (16) ‖ ephemeral public (32) ‖ initiator public (32) ‖ tag (16)
    message = 0x05 ‖ session id (16) ‖ counter (8) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)

Any failure to open (wrong key, flipped byte, truncation, wrong associated data, unknown
version) raises :class:`EnvelopeError`.
"""

from __future__ import annotations

import hmac
import os
import secrets
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from flai.mpc.errors import EnvelopeError, ProtocolError, ReplayError
from flai.mpc.prg import hkdf

__all__ = [
    "ENVELOPE_OVERHEAD",
    "SESSION_OVERHEAD",
    "KeyPair",
    "MultiEnvelope",
    "SecureChannel",
    "SessionHello",
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


# ------------------------------------------------------------------------------ sessions

_HELLO_VERSION = b"\x04"
_SESSION_VERSION = b"\x05"
_SESSION_INFO = b"flai/mpc/session/v1"
_SID = 16
_HEADER = 1 + _SID + 8 + 12
SESSION_OVERHEAD = _HEADER + _TAG
"""Bytes :meth:`SecureChannel.seal` adds to its plaintext."""
_HELLO_BYTES = 1 + _SID + 32 + 32 + _TAG
_MAX_MESSAGES = 2**32
_COUNTER_LIMIT = 2**64
_I2R, _R2I = b"i>r", b"r>i"


@dataclass(frozen=True)
class SessionHello:
    """The message that opens a session (see the module docstring).

    Attributes
    ----------
    session_id
        16 random bytes naming the session (public; carried by every message).
    ephemeral_public
        The initiator's fresh X25519 key for this session.
    initiator_public
        The initiator's static X25519 key (its identity).
    confirmation
        HMAC-SHA256 tag (16 bytes) under the derived confirmation key.
    """

    session_id: bytes
    ephemeral_public: bytes
    initiator_public: bytes
    confirmation: bytes

    def to_bytes(self) -> bytes:
        """The 97-byte wire form."""
        return (
            _HELLO_VERSION
            + self.session_id
            + self.ephemeral_public
            + self.initiator_public
            + self.confirmation
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SessionHello:
        """Parse a hello; raise :class:`EnvelopeError` on a wrong size or version."""
        if len(data) != _HELLO_BYTES:
            raise EnvelopeError(f"session hello must be {_HELLO_BYTES} bytes, got {len(data)}")
        if data[:1] != _HELLO_VERSION:
            raise EnvelopeError(f"unknown session hello version {data[0]}")
        return cls(
            session_id=data[1:17],
            ephemeral_public=data[17:49],
            initiator_public=data[49:81],
            confirmation=data[81:97],
        )


def _session_keys(
    dh: bytes, *, hello: SessionHello, responder_public: bytes, context: bytes
) -> tuple[bytes, bytes, bytes]:
    info = (
        _SESSION_INFO
        + hello.ephemeral_public
        + hello.initiator_public
        + responder_public
        + struct.pack(">I", len(context))
        + context
    )
    okm = hkdf(dh, info=info, salt=hello.session_id, length=96)
    return okm[:32], okm[32:64], okm[64:]


def _confirmation(key: bytes, hello: SessionHello) -> bytes:
    body = _HELLO_VERSION + hello.session_id + hello.ephemeral_public + hello.initiator_public
    return hmac.digest(key, body, "sha256")[:_TAG]


class SecureChannel:
    """One end of an authenticated session between two X25519 identities.

    Build one with :meth:`initiate` (the side that sends the hello, e.g. a model user) or
    :meth:`accept` (the side that receives it, e.g. a compute node). Messages go out with
    :meth:`seal` and come in with :meth:`open`; every counter is accepted once per
    direction.

    Parameters
    ----------
    session_id
        The session's public identifier.
    send_key, receive_key
        The two directional AES-256-GCM keys.
    initiator
        Whether this end sent the hello (selects the direction labels).
    local_public, peer_public
        The two static public keys (the peer's is the identity it authenticated with).
    window
        Size of the anti-replay window: a counter more than ``window`` below the highest
        accepted one is refused as too old.
    """

    def __init__(
        self,
        *,
        session_id: bytes,
        send_key: bytes,
        receive_key: bytes,
        initiator: bool,
        local_public: bytes,
        peer_public: bytes,
        window: int = 4096,
    ) -> None:
        if len(session_id) != _SID:
            raise EnvelopeError(f"session id must be {_SID} bytes, got {len(session_id)}")
        if window < 1:
            raise ProtocolError(f"replay window must be positive, got {window}")
        self.session_id = session_id
        self.initiator = initiator
        self.local_public = local_public
        self.peer_public = peer_public
        self._keys = (send_key, receive_key)
        self._send = AESGCM(send_key)
        self._receive = AESGCM(receive_key)
        self._send_label, self._receive_label = (_I2R, _R2I) if initiator else (_R2I, _I2R)
        self._sent = 0
        self._window = window
        self._highest = -1
        self._seen: set[int] = set()

    @classmethod
    def initiate(
        cls, *, own: KeyPair, peer_public: bytes, context: bytes = b""
    ) -> tuple[SecureChannel, SessionHello]:
        """Open a session to ``peer_public``; send the returned hello to the peer.

        Parameters
        ----------
        own
            The initiator's static key pair (its identity towards the peer).
        peer_public
            The responder's static X25519 public key.
        context
            Bytes both sides bind into the keys (e.g. a protocol and model identifier).
        """
        if len(peer_public) != 32:
            raise EnvelopeError(f"peer public key must be 32 bytes, got {len(peer_public)}")
        ephemeral = KeyPair.generate()
        partial = SessionHello(
            session_id=secrets.token_bytes(_SID),
            ephemeral_public=ephemeral.public_bytes,
            initiator_public=own.public_bytes,
            confirmation=b"",
        )
        dh = ephemeral.agree(peer_public) + own.agree(peer_public)
        i2r, r2i, confirm = _session_keys(
            dh, hello=partial, responder_public=peer_public, context=context
        )
        hello = SessionHello(
            session_id=partial.session_id,
            ephemeral_public=partial.ephemeral_public,
            initiator_public=partial.initiator_public,
            confirmation=_confirmation(confirm, partial),
        )
        channel = cls(
            session_id=hello.session_id,
            send_key=i2r,
            receive_key=r2i,
            initiator=True,
            local_public=own.public_bytes,
            peer_public=peer_public,
        )
        return channel, hello

    @classmethod
    def accept(
        cls,
        hello: SessionHello | bytes,
        *,
        own: KeyPair,
        context: bytes = b"",
        window: int = 4096,
    ) -> SecureChannel:
        """Accept a session; raise :class:`EnvelopeError` if the hello does not authenticate.

        The initiator's identity is ``channel.peer_public`` (its static key, proven by the
        confirmation tag). ``window`` is the anti-replay window (see the constructor).
        """
        h = SessionHello.from_bytes(hello) if isinstance(hello, bytes | bytearray) else hello
        if len(h.confirmation) != _TAG:
            raise EnvelopeError("session hello has no confirmation tag")
        dh = own.agree(h.ephemeral_public) + own.agree(h.initiator_public)
        i2r, r2i, confirm = _session_keys(
            dh, hello=h, responder_public=own.public_bytes, context=context
        )
        if not hmac.compare_digest(_confirmation(confirm, h), h.confirmation):
            raise EnvelopeError("session hello failed key confirmation")
        return cls(
            session_id=h.session_id,
            send_key=r2i,
            receive_key=i2r,
            initiator=False,
            local_public=own.public_bytes,
            peer_public=h.initiator_public,
            window=window,
        )

    @staticmethod
    def session_of(message: bytes) -> bytes:
        """The session id in a sealed message's header (to route it to its channel)."""
        if len(message) < SESSION_OVERHEAD or message[:1] != _SESSION_VERSION:
            raise EnvelopeError("not a session message")
        return bytes(message[1 : 1 + _SID])

    def seal(
        self, plaintext: bytes | bytearray | memoryview, *, counter: int, aad: bytes = b""
    ) -> bytes:
        """Encrypt ``plaintext`` for the peer as message ``counter`` (each counter once).

        Raises
        ------
        ProtocolError
            A counter outside [0, 2^64) or a key that has sealed 2^32 messages.
        """
        if not 0 <= counter < _COUNTER_LIMIT:
            raise ProtocolError(f"session counter {counter} outside [0, 2^64)")
        if self._sent >= _MAX_MESSAGES:
            raise ProtocolError("session key has sealed 2^32 messages; open a new session")
        self._sent += 1
        header = _SESSION_VERSION + self.session_id + struct.pack(">Q", counter) + os.urandom(12)
        return header + self._send.encrypt(
            header[-12:], plaintext, header[:-12] + self._send_label + aad
        )

    def open(self, message: bytes, *, aad: bytes = b"") -> tuple[int, bytes]:
        """Authenticate and decrypt a message from the peer; return ``(counter, plaintext)``.

        Raises
        ------
        EnvelopeError
            A message of another session, a wrong key, tampering or other associated data.
        ReplayError
            A counter already accepted, or older than the replay window.
        """
        if len(message) < SESSION_OVERHEAD or message[:1] != _SESSION_VERSION:
            raise EnvelopeError("not a session message")
        if message[1 : 1 + _SID] != self.session_id:
            raise EnvelopeError("message belongs to another session")
        (counter,) = struct.unpack_from(">Q", message, 1 + _SID)
        self._check_fresh(counter)
        view = memoryview(message)
        try:
            plaintext = self._receive.decrypt(
                view[_HEADER - 12 : _HEADER],
                view[_HEADER:],
                message[: _HEADER - 12] + self._receive_label + aad,
            )
        except InvalidTag as exc:
            raise EnvelopeError("authentication failed: wrong session or tampered message") from exc
        self._record(counter)
        return counter, plaintext

    def _check_fresh(self, counter: int) -> None:
        if counter in self._seen or counter <= self._highest - self._window:
            raise ReplayError(what="session message", counter=counter)

    def _record(self, counter: int) -> None:
        self._seen.add(counter)
        if counter > self._highest:
            self._highest = counter
            if len(self._seen) > 2 * self._window:
                floor = self._highest - self._window
                self._seen = {c for c in self._seen if c > floor}

    def to_bytes(self) -> bytes:
        """Secret state (keys, identities, replay window) for resuming this end later.

        Keep it as secret as a private key; :meth:`from_bytes` restores it.
        """
        seen = sorted(c for c in self._seen if c > self._highest - self._window)
        return (
            b"flai/mpc/channel/v1"
            + self.session_id
            + self._keys[0]
            + self._keys[1]
            + self.local_public
            + self.peer_public
            + struct.pack(">?QqI", self.initiator, self._sent, self._highest, len(seen))
            + b"".join(struct.pack(">Q", c) for c in seen)
            + struct.pack(">I", self._window)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SecureChannel:
        """Inverse of :meth:`to_bytes`."""
        prefix = b"flai/mpc/channel/v1"
        fixed = len(prefix) + _SID + 32 * 4 + struct.calcsize(">?QqI")
        if len(data) < fixed + 4 or not data.startswith(prefix):
            raise EnvelopeError("not a saved session channel")
        off = len(prefix)
        sid, send, receive = (
            data[off : off + 16],
            data[off + 16 : off + 48],
            data[off + 48 : off + 80],
        )
        local, peer = data[off + 80 : off + 112], data[off + 112 : off + 144]
        initiator, sent, highest, n_seen = struct.unpack_from(">?QqI", data, off + 144)
        body = off + 144 + struct.calcsize(">?QqI")
        if len(data) != body + 8 * n_seen + 4:
            raise EnvelopeError("saved session channel has the wrong length")
        seen = {struct.unpack_from(">Q", data, body + 8 * i)[0] for i in range(n_seen)}
        (window,) = struct.unpack_from(">I", data, body + 8 * n_seen)
        channel = cls(
            session_id=sid,
            send_key=send,
            receive_key=receive,
            initiator=initiator,
            local_public=local,
            peer_public=peer,
            window=window,
        )
        channel._sent, channel._highest, channel._seen = sent, highest, seen
        return channel
