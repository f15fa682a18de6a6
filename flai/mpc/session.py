"""Sessions: many small authenticated messages between two X25519 identities.

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

Wire format::

    hello   = 0x04 ‖ session id (16) ‖ ephemeral public (32) ‖ initiator public (32) ‖ tag (16)
    message = 0x05 ‖ session id (16) ‖ counter (8) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)

Any failure to open (wrong key, flipped byte, truncation, wrong associated data, unknown
version) raises :class:`EnvelopeError`. One-off messages to a recipient with no session
are :mod:`flai.mpc.envelope`'s sealed envelopes.
"""

from __future__ import annotations

import hmac
import os
import secrets
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flai.mpc.envelope import KeyPair
from flai.mpc.errors import EnvelopeError, ProtocolError, ReplayError
from flai.mpc.prg import hkdf

__all__ = [
    "SESSION_OVERHEAD",
    "SecureChannel",
    "SessionHello",
]

_TAG = 16
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
