"""Authenticated pairwise channels and correlated randomness between compute nodes.

Interactive protocols (:mod:`flai.mpc.rss3`, the cohort check of :mod:`flai.mpc.analytics`)
need two things from every pair of nodes (a, b):

- a private, authenticated channel: node a's static X25519 key agreed with node b's public
  key, expanded by HKDF-SHA256 bound to both public keys and a session label, keys
  AES-256-GCM; nonces are (sender, message counter), so no nonce repeats under one key and
  a message replayed, reordered or redirected to another session fails authentication;
- a shared PRG seed (the same agreement, another HKDF label), from which the pair draws
  common randomness without talking: the correlated zero-sharings of Araki et al.
  ("High-Throughput Semi-Honest Secure Three-Party Computation with an Honest Majority",
  CCS 2016) and the reshare masks of ABY3 (Mohassel & Rindal, CCS 2018).

Static-static agreement authenticates both ends (only a and b can derive the key), which
:func:`flai.mpc.envelope.seal` (anonymous sender) does not.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flai.mpc.envelope import KeyPair
from flai.mpc.errors import EnvelopeError, ProtocolError
from flai.mpc.prg import hkdf

__all__ = ["ChannelSet", "Traffic"]

_DOMAIN = b"flai/mpc/channel/v1"


@dataclass
class Traffic:
    """Bytes one party sent and received, per peer (for the benches' bytes-per-party)."""

    sent: dict[object, int] = field(default_factory=dict)
    received: dict[object, int] = field(default_factory=dict)

    def add_sent(self, peer: object, n: int) -> None:
        """Count ``n`` bytes sent to ``peer``."""
        self.sent[peer] = self.sent.get(peer, 0) + n

    def add_received(self, peer: object, n: int) -> None:
        """Count ``n`` bytes received from ``peer``."""
        self.received[peer] = self.received.get(peer, 0) + n

    @property
    def total_sent(self) -> int:
        """All bytes sent."""
        return sum(self.sent.values())

    @property
    def total_received(self) -> int:
        """All bytes received."""
        return sum(self.received.values())


class ChannelSet:
    """One node's channels to its peers within one session.

    Parameters
    ----------
    index
        This node's index.
    keypair
        This node's static X25519 key pair.
    peers
        Peer index → its static X25519 public key (all other nodes of the protocol).
    session
        Label of the protocol run (round, validator, query); keys, nonces and seeds are
        bound to it, so nothing carries over between sessions.
    """

    def __init__(
        self, *, index: int, keypair: KeyPair, peers: Mapping[int, bytes], session: bytes
    ) -> None:
        if index in peers:
            raise ProtocolError(f"node {index} cannot be its own peer")
        self.index = index
        self.session = session
        self.traffic = Traffic()
        self._aead: dict[int, AESGCM] = {}
        self._seeds: dict[int, bytes] = {}
        self._sent: dict[int, int] = {}
        self._received: dict[int, int] = {}
        own = keypair.public_bytes
        for peer, public in peers.items():
            lo, hi = sorted((own, public))
            secret = keypair.agree(public)
            salt = lo + hi
            info = _DOMAIN + struct.pack(">II", *sorted((index, peer))) + session
            self._aead[peer] = AESGCM(hkdf(secret, info=info + b"/aead", salt=salt))
            self._seeds[peer] = hkdf(secret, info=info + b"/prg", salt=salt)
            self._sent[peer] = 0
            self._received[peer] = 0

    @property
    def peers(self) -> tuple[int, ...]:
        """Peer indices."""
        return tuple(sorted(self._aead))

    def seed(self, peer: int, label: bytes) -> bytes:
        """A 32-byte seed known to this node and ``peer`` only, for ``label``."""
        return hkdf(self._seeds[self._peer(peer)], info=b"seed/" + label)

    def seal(self, peer: int, payload: bytes, *, label: bytes) -> bytes:
        """Encrypt and authenticate ``payload`` for ``peer`` (the next message in order)."""
        p = self._peer(peer)
        nonce = struct.pack(">IQ", self.index, self._sent[p])
        self._sent[p] += 1
        blob = self._aead[p].encrypt(nonce, payload, label)
        self.traffic.add_sent(p, len(blob))
        return blob

    def open(self, peer: int, blob: bytes, *, label: bytes) -> bytes:
        """Decrypt the next message from ``peer``.

        Raises
        ------
        EnvelopeError
            Tampered, replayed, reordered, or sealed for another session or label.
        """
        p = self._peer(peer)
        nonce = struct.pack(">IQ", p, self._received[p])
        try:
            payload = self._aead[p].decrypt(nonce, blob, label)
        except InvalidTag as exc:
            raise EnvelopeError(
                f"message from node {p} failed authentication (label {label!r})"
            ) from exc
        self._received[p] += 1
        self.traffic.add_received(p, len(blob))
        return payload

    def _peer(self, peer: int) -> int:
        if peer not in self._aead:
            raise ProtocolError(f"node {self.index} has no channel to node {peer}")
        return peer
