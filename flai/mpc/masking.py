"""Pairwise-masking secure aggregation with dropout recovery (000 §2.2.1).

This is the semi-honest protocol of Bonawitz et al., "Practical Secure Aggregation for
Privacy-Preserving Machine Learning", CCS 2017 (§4, Fig. 4), with a server that relays
messages and learns only the sum of the surviving clients' inputs:

Round 0 (advertise)  every client u publishes two X25519 public keys: c_u for envelopes
                     and s_u for mask agreement.
Round 1 (share keys) u draws a self-mask seed b_u and Shamir-shares (degree t) both b_u
                     and its mask private key s_u^SK among all clients in U1, sealing each
                     share to the recipient's c key (:func:`flai.mpc.envelope.seal`) and
                     sending it through the server; the senders form U2.
Round 2 (masked)     u sends y_u = x_u + PRG(b_u) + Σ_{v∈U2, v≠u} ±PRG(s_{u,v}) over
                     Z_{2^ℓ}, where s_{u,v} = HKDF(X25519(s_u^SK, s_v^PK)) and the sign is
                     + for u < v and − for u > v, so r_{u,v} = −r_{v,u} (000 §2.2.1).
Round 3 (unmask)     the server announces the survivors U3 (whose y arrived) and the
                     dropped clients U2 \\ U3 (U2 ⊆ U1: the clients that completed
                     round 1). Each survivor returns its shares of b_u for u ∈ U3 and of
                     s_v^SK for v ∉ U3, never both for the same client. With t + 1
                     responses the server rebuilds the dropped clients' pairwise masks
                     and the survivors' self masks, and removes them from Σ y_u.

A client that drops after round 1 but before its y arrives is therefore recovered: its
pairwise masks, left uncancelled in the survivors' y, are reconstructed from the
threshold shares. A semi-honest server together with up to t clients learns nothing
about another client's input beyond the sum; the server is trusted to announce the
dropped set honestly (a malicious server could claim a live client dropped; the active
variant's consistency round addresses this). Out of scope: the active-security variant (signatures and
the consistency check round) and the SecAgg+ sparse graph.

Masks are AES-256-CTR streams (:func:`flai.mpc.prg.expand`) of 32-byte HKDF outputs;
nothing here uses numpy's random generators.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from flai.mpc.encoding import FixedPoint
from flai.mpc.envelope import KeyPair, open_sealed, seal
from flai.mpc.errors import EnvelopeError, ProtocolError, ThresholdError
from flai.mpc.prg import SEED_BYTES, expand, hkdf, random_seed
from flai.mpc.ring import Ring
from flai.mpc.shamir import ShamirShare, combine_secret, split_secret

__all__ = [
    "AdvertisedKeys",
    "MaskingClient",
    "MaskingConfig",
    "MaskingServer",
    "UnmaskResponse",
]

_SHARE_BYTES = 66  # 521-bit field elements


@dataclass(frozen=True)
class MaskingConfig:
    """Parameters of pairwise-masking aggregation.

    Attributes
    ----------
    threshold
        t: Shamir degree; any t + 1 surviving clients' responses unmask, t learn nothing.
    ring_bits
        ℓ of the masking ring Z_{2^ℓ}.
    frac_bits
        Fixed-point fractional bits of the inputs.
    max_abs
        Largest accepted |x_i|.
    round_id
        Domain separation between rounds (bound into every key derivation and envelope).
    """

    threshold: int
    ring_bits: int = 64
    frac_bits: int = 16
    max_abs: float = float(2**20)
    round_id: int = 0

    @property
    def fixed_point(self) -> FixedPoint:
        """Input codec."""
        return FixedPoint(ring=Ring(self.ring_bits), frac_bits=self.frac_bits, max_abs=self.max_abs)

    def check_capacity(self, n_clients: int) -> None:
        """Ensure the sum of ``n_clients`` in-range inputs cannot wrap."""
        if n_clients * self.max_abs * 2.0**self.frac_bits >= 2.0 ** (self.ring_bits - 2):
            raise ProtocolError(
                f"{n_clients} clients × max_abs overflow a {self.ring_bits}-bit ring"
            )


@dataclass(frozen=True)
class AdvertisedKeys:
    """Round 0 message: a client's two public keys."""

    client_id: int
    envelope_public: bytes
    mask_public: bytes


@dataclass(frozen=True)
class UnmaskResponse:
    """Round 3 message: one survivor's shares for the server.

    Attributes
    ----------
    sender
        The responding survivor.
    self_mask_shares
        Surviving client u → this sender's Shamir share of b_u.
    key_shares
        Dropped client v → this sender's Shamir share of s_v^SK.
    """

    sender: int
    self_mask_shares: Mapping[int, ShamirShare]
    key_shares: Mapping[int, ShamirShare]


def _pair_seed(agreed: bytes, u: int, v: int, round_id: int) -> bytes:
    lo, hi = min(u, v), max(u, v)
    return hkdf(agreed, info=b"flai/mpc/masking/pair" + struct.pack(">QQQ", round_id, lo, hi))


def _pair_mask(seed: bytes, n: int) -> np.ndarray:
    return expand(seed, n, label=b"pairwise-mask")


def _self_mask(seed: bytes, n: int) -> np.ndarray:
    return expand(seed, n, label=b"self-mask")


def _envelope_aad(round_id: int, sender: int, recipient: int) -> bytes:
    return b"flai/mpc/masking/share" + struct.pack(">QQQ", round_id, sender, recipient)


class MaskingClient:
    """One participant of pairwise-masking aggregation."""

    def __init__(self, *, client_id: int, config: MaskingConfig) -> None:
        if client_id < 0:
            raise ProtocolError(f"client ids must be non-negative, got {client_id}")
        self.client_id = client_id
        self.config = config
        self._envelope_keys = KeyPair.generate()
        self._mask_keys = KeyPair.generate()
        self._self_seed = random_seed()
        self._roster: dict[int, AdvertisedKeys] = {}
        self._held: dict[int, tuple[ShamirShare, ShamirShare]] = {}
        self._revealed: dict[int, str] = {}

    def advertise(self) -> AdvertisedKeys:
        """Round 0: publish the envelope and mask-agreement public keys."""
        return AdvertisedKeys(
            client_id=self.client_id,
            envelope_public=self._envelope_keys.public_bytes,
            mask_public=self._mask_keys.public_bytes,
        )

    def share_keys(self, roster: Mapping[int, AdvertisedKeys]) -> dict[int, bytes]:
        """Round 1: Shamir-share b_u and s_u^SK; return recipient → sealed share."""
        if self.client_id not in roster:
            raise ProtocolError(f"client {self.client_id} missing from the roster")
        if self._roster:
            raise ProtocolError(f"client {self.client_id} already shared its keys")
        t = self.config.threshold
        if len(roster) < t + 1:
            raise ThresholdError(available=len(roster), required=t + 1, what="clients")
        self._roster = dict(roster)
        ids = sorted(roster)
        seed_shares = split_secret(self._self_seed, indices=[v + 1 for v in ids], threshold=t)
        key_shares = split_secret(
            self._mask_keys.private_bytes(), indices=[v + 1 for v in ids], threshold=t
        )
        out: dict[int, bytes] = {}
        for v, sb, sk in zip(ids, seed_shares, key_shares, strict=True):
            if v == self.client_id:
                self._held[v] = (sk, sb)
                continue
            plain = (
                struct.pack(">QQ", self.client_id, v)
                + sk.value.to_bytes(_SHARE_BYTES, "big")
                + sb.value.to_bytes(_SHARE_BYTES, "big")
            )
            aad = _envelope_aad(self.config.round_id, self.client_id, v)
            out[v] = seal(plain, roster[v].envelope_public, aad=aad)
        return out

    def receive_shares(self, sealed: Mapping[int, bytes]) -> None:
        """Round 1 (receiving side): open the shares other clients sent to this client."""
        index = self.client_id + 1
        for sender, envelope in sealed.items():
            if sender not in self._roster:
                raise ProtocolError(f"shares from {sender}, who is not in the roster")
            aad = _envelope_aad(self.config.round_id, sender, self.client_id)
            plain = open_sealed(envelope, self._envelope_keys, aad=aad)
            if len(plain) != 16 + 2 * _SHARE_BYTES:
                raise EnvelopeError(f"share message from {sender} has {len(plain)} bytes")
            u, v = struct.unpack(">QQ", plain[:16])
            if (u, v) != (sender, self.client_id):
                raise ProtocolError(
                    f"share message routed as {sender}->{self.client_id} claims {u}->{v}"
                )
            sk = int.from_bytes(plain[16 : 16 + _SHARE_BYTES], "big")
            sb = int.from_bytes(plain[16 + _SHARE_BYTES :], "big")
            self._held[sender] = (ShamirShare(index, sk), ShamirShare(index, sb))

    @property
    def peers(self) -> set[int]:
        """Clients that completed round 1 as seen by this client (those whose shares it holds)."""
        return set(self._held)

    def masked_input(self, x: np.ndarray) -> np.ndarray:
        """Round 2: y_u = x_u + PRG(b_u) + Σ_v ±PRG(s_{u,v}) over Z_{2^ℓ}.

        The pairwise masks are with every peer whose round-1 shares arrived: a client that
        advertised keys but never shared them is left out, since nobody could recover its
        masks if it then dropped.
        """
        if not self._roster:
            raise ProtocolError("share_keys must run before masked_input")
        if len(self._held) < self.config.threshold + 1:
            raise ThresholdError(
                available=len(self._held), required=self.config.threshold + 1, what="peers"
            )
        self.config.check_capacity(len(self._held))
        codec = self.config.fixed_point
        y = codec.encode(np.asarray(x, dtype=np.float64).reshape(-1))
        n = len(y)
        y += _self_mask(self._self_seed, n)
        for v in sorted(self._held):
            if v == self.client_id:
                continue
            keys = self._roster[v]
            seed = _pair_seed(
                self._mask_keys.agree(keys.mask_public), self.client_id, v, self.config.round_id
            )
            mask = _pair_mask(seed, n)
            if self.client_id < v:
                y += mask
            else:
                y -= mask
        return codec.ring.reduce(y)

    def unmask(self, *, survivors: Collection[int], dropped: Collection[int]) -> UnmaskResponse:
        """Round 3: reveal b-shares of survivors and key-shares of dropped clients.

        Raises
        ------
        ProtocolError
            The sets overlap, do not cover the roster, or ask for the other secret of a
            client already answered for (which would let the server unmask an input).
        ThresholdError
            Fewer than t + 1 survivors.
        """
        alive, gone = set(survivors), set(dropped)
        if alive & gone or alive | gone != set(self._held):
            raise ProtocolError("survivors and dropped clients must partition the round-1 peers")
        if self.client_id not in alive:
            raise ProtocolError(f"client {self.client_id} is not listed as a survivor")
        if len(alive) < self.config.threshold + 1:
            raise ThresholdError(
                available=len(alive), required=self.config.threshold + 1, what="survivors"
            )
        for v in alive:
            if self._revealed.get(v, "self") != "self":
                raise ProtocolError(f"key share of client {v} already revealed")
        for v in gone:
            if self._revealed.get(v, "key") != "key":
                raise ProtocolError(f"self-mask share of client {v} already revealed")
        for v in alive:
            self._revealed[v] = "self"
        for v in gone:
            self._revealed[v] = "key"
        return UnmaskResponse(
            sender=self.client_id,
            self_mask_shares={v: self._held[v][1] for v in alive if v in self._held},
            key_shares={v: self._held[v][0] for v in gone if v in self._held},
        )


class MaskingServer:
    """The relay/aggregator: sees masked vectors and threshold shares, learns only Σ x."""

    def __init__(self, *, config: MaskingConfig) -> None:
        self.config = config
        self.roster: dict[int, AdvertisedKeys] = {}
        self.shared: set[int] = set()
        self._masked: dict[int, np.ndarray] = {}

    def collect_keys(self, adverts: Collection[AdvertisedKeys]) -> dict[int, AdvertisedKeys]:
        """Round 0: build the roster U1 from the advertisements."""
        roster = {a.client_id: a for a in adverts}
        if len(roster) != len(adverts):
            raise ProtocolError("duplicate client ids in round 0")
        if len(roster) < self.config.threshold + 1:
            raise ThresholdError(
                available=len(roster), required=self.config.threshold + 1, what="clients"
            )
        self.config.check_capacity(len(roster))
        self.roster = roster
        return dict(roster)

    def route(self, outgoing: Mapping[int, Mapping[int, bytes]]) -> dict[int, dict[int, bytes]]:
        """Round 1 relay: sender → {recipient: envelope} becomes recipient → {sender: envelope}.

        The senders form the set of clients that completed round 1; only they may send a
        masked input, and only shares between them are delivered.
        """
        unknown = set(outgoing) - set(self.roster)
        if unknown:
            raise ProtocolError(
                f"round-1 messages from clients outside the roster: {sorted(unknown)}"
            )
        if len(outgoing) < self.config.threshold + 1:
            raise ThresholdError(
                available=len(outgoing), required=self.config.threshold + 1, what="clients"
            )
        self.shared = set(outgoing)
        inbox: dict[int, dict[int, bytes]] = {}
        for sender, messages in outgoing.items():
            for recipient, envelope in messages.items():
                if recipient in self.shared:
                    inbox.setdefault(recipient, {})[sender] = envelope
        return inbox

    def collect_masked(self, client_id: int, y: np.ndarray) -> None:
        """Round 2: store a masked input."""
        if client_id not in self.shared:
            raise ProtocolError(f"client {client_id} did not complete round 1")
        if client_id in self._masked:
            raise ProtocolError(f"client {client_id} already sent its masked input")
        self._masked[client_id] = np.asarray(y, dtype=np.uint64)

    @property
    def survivors(self) -> set[int]:
        """Clients whose masked input arrived (U2)."""
        return set(self._masked)

    @property
    def dropped(self) -> set[int]:
        """Round-1 clients whose masked input did not arrive."""
        return self.shared - set(self._masked)

    def aggregate(self, responses: Collection[UnmaskResponse]) -> np.ndarray:
        """Round 3: remove every mask and return Σ_{u∈U2} x_u (decoded).

        Raises
        ------
        ThresholdError
            Fewer than t + 1 responses from survivors (or no masked input at all).
        """
        t = self.config.threshold
        valid = [r for r in responses if r.sender in self._masked]
        if not self._masked or len({r.sender for r in valid}) < t + 1:
            raise ThresholdError(
                available=len({r.sender for r in valid}), required=t + 1, what="survivor responses"
            )
        ring = self.config.fixed_point.ring
        lengths = {len(y) for y in self._masked.values()}
        if len(lengths) != 1:
            raise ProtocolError(f"masked inputs of different lengths {sorted(lengths)}")
        n = lengths.pop()
        total = np.zeros(n, dtype=np.uint64)
        for y in self._masked.values():
            total += y
        for u in self._masked:
            seed = combine_secret(
                [r.self_mask_shares[u] for r in valid if u in r.self_mask_shares],
                threshold=t,
                length=SEED_BYTES,
            )
            total -= _self_mask(seed, n)
        for v in self.dropped:
            raw = combine_secret(
                [r.key_shares[v] for r in valid if v in r.key_shares], threshold=t, length=32
            )
            recovered = KeyPair.from_private_bytes(raw)
            if recovered.public_bytes != self.roster[v].mask_public:
                raise ProtocolError(f"recovered key of client {v} does not match its advertisement")
            for u in self._masked:
                seed = _pair_seed(
                    recovered.agree(self.roster[u].mask_public), u, v, self.config.round_id
                )
                mask = _pair_mask(seed, n)
                # y_u carries +mask if u < v, −mask if u > v: remove it.
                if u < v:
                    total -= mask
                else:
                    total += mask
        codec = self.config.fixed_point
        bound = len(self._masked) * (codec.limit + codec.resolution)
        return codec.decode(ring.reduce(total), bound=bound)
