"""Secure comparison on replicated shares: the sign of a shared value, opening one bit.

Used by small-cell suppression (:mod:`flai.mpc.analytics`): the nodes learn whether a
cohort count reaches the governed minimum without opening the count.

Construction (any (t, n) of :class:`~flai.mpc.replicated.ReplicatedScheme`, 2t + 1
participating nodes)

- Arithmetic to binary (ABY3's A2B, Mohassel & Rindal, CCS 2018, §5.3): x = Σ_c x_c mod 2^ℓ,
  and the holders of component c know x_c, so x_c is a binary (XOR) replicated sharing
  with x_c in slot c and zeros elsewhere — no communication.
- A carry-save tree reduces the C components to two summands (each level one round of
  ANDs: carry = (a ∧ b) ⊕ (c ∧ (a ⊕ b)), shifted), then a Kogge–Stone prefix adder
  (Kogge & Stone 1973; log2 ℓ rounds) gives the carry into bit ℓ − 1, whose XOR with the
  summands' top bits is the sign of x.
- AND of XOR-shared words (Maurer, "Secure multi-party computation made simple", 2006):
  each product x_a ∧ y_b is computed by a participating node that holds both components
  (one exists when 2t + 1 nodes take part, since |T_a ∪ T_b| ≤ 2t), every node XORs its
  terms and re-shares the result with fresh randomness over the sealed channels of
  :class:`~flai.mpc.channel.ChannelSet`. Word-parallel: one ``uint64`` per compared value,
  all 64 bit positions at once.
- The sign bit is refreshed (a fresh sharing of zero from every node) and only bit 0 of
  each word is opened; every other bit is cleared locally first.

Semi-honest security with at most t colluding nodes: every message is a component of a
fresh sharing that the recipient's coalition misses at least one component of.
"""

from __future__ import annotations

import struct
from collections.abc import Generator, Iterable, Mapping, Sequence

import numpy as np

from flai.mpc.channel import ChannelSet
from flai.mpc.envelope import KeyPair
from flai.mpc.errors import ProtocolError, ThresholdError
from flai.mpc.prg import random_words
from flai.mpc.replicated import NodeShare, ReplicatedScheme
from flai.mpc.rss3 import Outbox

__all__ = ["BinaryNode", "open_bits"]

Parts = dict[int, np.ndarray]
"""Component index → ``uint64`` words of one node's binary share."""

_ONE = np.uint64(1)


class BinaryNode:
    """One node's side of binary (XOR) replicated-sharing protocols in one session.

    Parameters
    ----------
    index
        This node's index in the scheme.
    scheme
        The (t, n) replicated scheme (component convention and holders).
    keypair, node_public_keys
        Static X25519 keys of this node and of every participating node.
    participants
        The participating nodes (at least 2t + 1, including this one).
    session
        Label binding channels to this protocol run.
    """

    def __init__(
        self,
        *,
        index: int,
        scheme: ReplicatedScheme,
        keypair: KeyPair,
        node_public_keys: Mapping[int, bytes],
        participants: Iterable[int],
        session: bytes,
    ) -> None:
        self.index = index
        self.scheme = scheme
        self.participants = tuple(sorted(set(participants)))
        if index not in self.participants:
            raise ProtocolError(f"node {index} is not a participant")
        if len(self.participants) < 2 * scheme.threshold + 1:
            raise ThresholdError(
                available=len(self.participants),
                required=2 * scheme.threshold + 1,
                what="compute nodes for a secure comparison",
            )
        peers = {j: node_public_keys[j] for j in self.participants if j != index}
        self.channels = ChannelSet(index=index, keypair=keypair, peers=peers, session=session)
        self.held = scheme.held_by(index)
        self._owner = self._assign_products()
        self._counter = 0

    def _assign_products(self) -> dict[tuple[int, int], int]:
        """(a, b) → the participating node that computes x_a ∧ y_b."""
        owner = {}
        count = len(self.scheme.components)
        for a in range(count):
            for b in range(count):
                both = [
                    j
                    for j in self.participants
                    if j in self.scheme.holders(a) and j in self.scheme.holders(b)
                ]
                if not both:  # cannot happen with 2t + 1 participants
                    raise ProtocolError(f"no participant holds components {a} and {b}")
                owner[(a, b)] = both[(a + b) % len(both)]
        return owner

    def _label(self, what: bytes) -> bytes:
        self._counter += 1
        return what + struct.pack(">Q", self._counter)

    def _reshare(
        self, z: np.ndarray, *, mask: np.uint64 | None = None
    ) -> Generator[Outbox, Mapping[int, bytes], Parts]:
        """Share Σ_j z_j (XOR) afresh: this node's z_j split into random components.

        With ``mask``, the random pieces (and so the result's components) are confined to
        the masked bits, which z must be confined to as well.
        """
        label = self._label(b"binary-reshare")
        count = len(self.scheme.components)
        pieces = {c: random_words(z.size).reshape(z.shape) for c in range(1, count)}
        if mask is not None:
            pieces = {c: v & mask for c, v in pieces.items()}
        first = z.copy()
        for piece in pieces.values():
            first ^= piece
        pieces[0] = first
        outbox = {}
        for j in self.participants:
            if j == self.index:
                continue
            payload = b"".join(pieces[c].astype("<u8").tobytes() for c in self.scheme.held_by(j))
            outbox[j] = self.channels.seal(j, payload, label=label)
        inbox = yield outbox
        out = {c: pieces[c].copy() for c in self.held}
        width = z.size * 8
        for j in self.participants:
            if j == self.index:
                continue
            if j not in inbox:
                raise ProtocolError(f"node {self.index} is missing a message from node {j}")
            payload = self.channels.open(j, inbox[j], label=label)
            if len(payload) != width * len(self.held):
                raise ProtocolError(f"malformed reshare from node {j}")
            for i, c in enumerate(self.held):
                piece = np.frombuffer(payload[i * width : (i + 1) * width], dtype="<u8")
                out[c] ^= piece.astype(np.uint64).reshape(z.shape)
        return out

    def and_(self, x: Parts, y: Parts) -> Generator[Outbox, Mapping[int, bytes], Parts]:
        """Binary share of x ∧ y (one round)."""
        shape = next(iter(x.values())).shape
        z = np.zeros(shape, dtype=np.uint64)
        for (a, b), j in self._owner.items():
            if j == self.index:
                z ^= x[a] & y[b]
        return (yield from self._reshare(z))

    def refresh(
        self, x: Parts, *, mask: np.uint64 | None = None
    ) -> Generator[Outbox, Mapping[int, bytes], Parts]:
        """A fresh sharing of the same value (every node adds a random sharing of zero).

        ``mask`` confines the fresh randomness to the bits ``x`` occupies.
        """
        shape = next(iter(x.values())).shape
        zero = yield from self._reshare(np.zeros(shape, dtype=np.uint64), mask=mask)
        return {c: x[c] ^ zero[c] for c in self.held}

    def sign_bits(
        self, share: NodeShare, *, ring_bits: int
    ) -> Generator[Outbox, Mapping[int, bytes], Parts]:
        """Binary share of [x < 0] (bit 0 of each word) for an arithmetic share in Z_{2^ℓ}."""
        if share.node != self.index or set(share.parts) != set(self.held):
            raise ProtocolError(f"node {self.index} needs its full share for a comparison")
        mask = np.uint64((1 << ring_bits) - 1) if ring_bits < 64 else np.uint64(2**64 - 1)
        shape = next(iter(share.parts.values())).shape
        zero = np.zeros(shape, dtype=np.uint64)
        values: list[Parts] = []
        for c in range(len(self.scheme.components)):  # x_c in slot c, zeros elsewhere
            values.append({h: (share.parts[c] & mask if h == c else zero) for h in self.held})
        while len(values) > 2:  # carry-save level: three summands → two
            triples = [values[i : i + 3] for i in range(0, len(values) - len(values) % 3, 3)]
            rest = values[len(triples) * 3 :]
            left = {
                h: np.concatenate([t[k][h] for t in triples for k in (0, 2)]) for h in self.held
            }
            right = {
                h: np.concatenate([x for t in triples for x in (t[1][h], t[0][h] ^ t[1][h])])
                for h in self.held
            }
            products = yield from self.and_(left, right)
            nxt: list[Parts] = []
            for i, (s0, s1, s2) in enumerate(triples):
                ab = {h: products[h][2 * i * shape[0] : (2 * i + 1) * shape[0]] for h in self.held}
                cab = {
                    h: products[h][(2 * i + 1) * shape[0] : (2 * i + 2) * shape[0]]
                    for h in self.held
                }
                nxt.append({h: s0[h] ^ s1[h] ^ s2[h] for h in self.held})
                nxt.append({h: (ab[h] ^ cab[h]) << _ONE for h in self.held})
            values = nxt + rest
        a, b = values
        p0 = {h: a[h] ^ b[h] for h in self.held}
        g = yield from self.and_(a, b)
        p = dict(p0)
        shift = 1
        while shift < ring_bits - 1:  # Kogge–Stone: g_i = carry out of bits 0..i
            s = np.uint64(shift)
            left = {h: np.concatenate([p[h], p[h]]) for h in self.held}
            right = {h: np.concatenate([g[h] << s, p[h] << s]) for h in self.held}
            both = yield from self.and_(left, right)
            n = shape[0]
            g = {h: g[h] ^ both[h][:n] for h in self.held}
            p = {h: both[h][n:] for h in self.held}
            shift *= 2
        top = np.uint64(ring_bits - 1)
        sign = {h: ((p0[h] ^ (g[h] << _ONE)) >> top) & _ONE for h in self.held}
        return (yield from self.refresh(sign, mask=_ONE))


def open_bits(scheme: ReplicatedScheme, shares: Sequence[tuple[int, Parts]]) -> np.ndarray:
    """Reconstruct bit 0 of each word from ≥ t + 1 nodes' (node, parts); copies must agree."""
    comps: dict[int, np.ndarray] = {}
    for _, parts in shares:
        for c, value in parts.items():
            if c in comps and not np.array_equal(comps[c], value):
                raise ProtocolError(f"copies of component {c} disagree")
            comps[c] = value
    if set(comps) != set(range(len(scheme.components))):
        raise ThresholdError(available=len(shares), required=scheme.threshold + 1, what="shares")
    out = np.zeros_like(next(iter(comps.values())))
    for value in comps.values():
        out ^= value
    return (out & _ONE).astype(bool)
