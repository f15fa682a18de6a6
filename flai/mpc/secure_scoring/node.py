"""A compute node of secure scoring, and the public openings of the nodes' parts.

:class:`ScoringNode` keeps its shares of the custodians' parameters and of each
validator's prepared holdout, opens the per-round statistics (update norms, the cosines
that decide a flag, the consistency of scoring and aggregation uploads) as masked
:class:`PublicPart` values, and runs one validator's interactive scoring with its two
peers (:meth:`ScoringNode.score`, driven by :func:`flai.mpc.rss3.run`).
:func:`combine_public` opens a value from the three parts; :func:`check_consistency`
names a custodian whose two uploads differ.
"""

from __future__ import annotations

import struct
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flai.fl import LogisticModel
from flai.mpc import ring128 as r128
from flai.mpc.channel import Traffic
from flai.mpc.envelope import KeyPair, seal
from flai.mpc.errors import InconsistentUploadError, ProtocolError
from flai.mpc.prg import expand, hkdf
from flai.mpc.replicated import NodeShare
from flai.mpc.rss3 import (
    Outbox,
    SealedInput,
    Share,
    ThreePartyNode,
    combine_additive,
    open_input,
)
from flai.mpc.secure_scoring.config import N_NODES, SecureScoringConfig
from flai.mpc.secure_scoring.estimator import Estimator
from flai.mpc.secure_scoring.parties import holdout_aad, output_aad, update_aad

__all__ = [
    "PublicPart",
    "ScoringNode",
    "check_consistency",
    "combine_public",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PublicPart:
    """One node's masked part of a public opening (sum the three parts to open)."""

    node: int
    what: str
    payload: bytes
    count: int


def combine_public(parts: Sequence[PublicPart]) -> list[int]:
    """Open a public value from the three nodes' parts (integers at the parts' scale)."""
    nodes = sorted(p.node for p in parts)
    whats = {(p.what, p.count) for p in parts}
    if nodes != [0, 1, 2] or len(whats) != 1:
        raise ProtocolError(f"a public opening needs one matching part per node, got {nodes}")
    count = parts[0].count
    arrays = [r128.unpack(p.payload, (count,)) for p in sorted(parts, key=lambda p: p.node)]
    return r128.to_ints(combine_additive(arrays))


@dataclass
class _Round:
    base: LogisticModel
    clients: tuple[int, ...]
    weights: FloatArray
    deltas: Share  # K × (d + 1)
    engine: ThreePartyNode
    node_public_keys: dict[int, bytes]
    gram: np.ndarray | None = None


class ScoringNode:
    """A compute node of secure scoring (one of three).

    Holds its shares of the custodians' parameters and of each validator's prepared
    holdout; runs the per-round statistics (local computation plus masked openings) and,
    per validator, the interactive scoring protocol (:meth:`score`, a
    :data:`~flai.mpc.rss3.Step` generator driven with its two peers).
    """

    def __init__(
        self, *, index: int, config: SecureScoringConfig, keypair: KeyPair | None = None
    ) -> None:
        if not 0 <= index < N_NODES:
            raise ProtocolError(f"secure scoring runs on three nodes, got index {index}")
        self.index = index
        self.config = config
        self._keypair = keypair or KeyPair.generate()
        self._updates: dict[tuple[int, int], Share] = {}
        self._holdouts: dict[tuple[int, int], Share] = {}
        self._rounds: dict[int, _Round] = {}
        self.last_traffic = Traffic()
        """Node-to-node bytes of the last :meth:`score` run."""

    @property
    def public_key(self) -> bytes:
        """The node's X25519 public key."""
        return self._keypair.public_bytes

    def receive_update(self, sealed: SealedInput, *, round_id: int, client_id: int) -> None:
        """Open and keep this node's share of a custodian's parameters (once per round)."""
        key = (round_id, client_id)
        if key in self._updates:
            raise ProtocolError(f"client {client_id} already uploaded in round {round_id}")
        self._updates[key] = open_input(
            sealed, node=self.index, keypair=self._keypair, aad=update_aad(round_id, client_id)
        )

    def receive_holdout(self, sealed: SealedInput, *, round_id: int, validator_id: int) -> None:
        """Open and keep this node's share of a validator's prepared holdout."""
        key = (round_id, validator_id)
        if key in self._holdouts:
            raise ProtocolError(f"validator {validator_id} already shared in round {round_id}")
        self._holdouts[key] = open_input(
            sealed,
            node=self.index,
            keypair=self._keypair,
            aad=holdout_aad(round_id, validator_id),
        )

    def begin_round(
        self,
        *,
        round_id: int,
        base: LogisticModel,
        clients: Sequence[int],
        node_public_keys: Mapping[int, bytes],
        num_samples: Sequence[int] | None = None,
    ) -> None:
        """Form the shares of Δ_k = θ_k − θ_0 for ``clients`` (in this order)."""
        missing = [k for k in clients if (round_id, k) not in self._updates]
        if missing or not clients:
            raise ProtocolError(f"node {self.index} has no scoring upload from clients {missing}")
        shares = [self._updates[(round_id, k)] for k in clients]
        width = base.params.shape[0]
        if any(s.shape != (1, width) for s in shares):
            raise ProtocolError(f"scoring uploads must hold {width} parameters")
        stacked = Share(
            node=self.index,
            first=np.concatenate([s.first for s in shares], axis=1),
            second=np.concatenate([s.second for s in shares], axis=1),
        )
        theta0 = r128.encode(
            np.tile(base.params, (len(clients), 1)),
            self.config.frac_bits,
            limit=self.config.max_param,
        )
        deltas = stacked.add_public(r128.neg(theta0))
        weighting = self.config.scoring.coalition_weighting
        if weighting == "samples" and (num_samples is None or len(num_samples) != len(clients)):
            raise ProtocolError("sample weighting needs one sample count per client")
        weights = (
            np.asarray(num_samples, dtype=np.float64)
            if weighting == "samples" and num_samples is not None
            else np.ones(len(clients))
        )
        engine = ThreePartyNode(
            index=self.index,
            keypair=self._keypair,
            node_public_keys=dict(node_public_keys),
            session=b"flai/mpc/scoring/round" + struct.pack(">Q", round_id),
        )
        self._rounds[round_id] = _Round(
            base=base,
            clients=tuple(clients),
            weights=weights,
            deltas=deltas,
            engine=engine,
            node_public_keys=dict(node_public_keys),
        )

    def _round(self, round_id: int) -> _Round:
        if round_id not in self._rounds:
            raise ProtocolError(f"node {self.index} has not begun round {round_id}")
        return self._rounds[round_id]

    def _gram(self, rnd: _Round) -> np.ndarray:
        """This node's additive part of the Gram matrix ΔΔᵀ (scale 2f, exact)."""
        if rnd.gram is None:
            transposed = rnd.deltas.map(lambda a: np.ascontiguousarray(a.transpose(0, 2, 1)))
            rnd.gram = ThreePartyNode.cross(rnd.deltas, transposed, r128.matmul)
        return rnd.gram

    def open_norms(self, *, round_id: int) -> PublicPart:
        """Masked part of ‖Δ_k‖² for every client of the round (scale 2f)."""
        rnd = self._round(round_id)
        gram = self._gram(rnd)
        diag = np.ascontiguousarray(np.diagonal(gram, axis1=1, axis2=2))
        part = rnd.engine.open_part(diag)
        return PublicPart(
            node=self.index, what="norms", payload=r128.pack(part), count=len(rnd.clients)
        )

    def open_cosines(
        self, *, round_id: int, players: Sequence[int], targets: Sequence[int]
    ) -> PublicPart:
        """Masked parts of ⟨Δ_k, Σ_{l≠k} a_l Δ_l⟩ and ‖Σ_{l≠k} a_l Δ_l‖² for ``targets``.

        ``players`` are the accepted clients (indices into the round's clients) and
        ``targets`` positions within ``players``; l ranges over the other players (over all
        of them when there is only one, as in the plaintext). Sample counts a_l are
        integers, so both values are exact integers at scale 2f; the cosine
        num / √(‖Δ_k‖²·den) does not depend on the scale or on Σa.
        """
        rnd = self._round(round_id)
        gram = self._gram(rnd)
        K = len(rnd.clients)
        if any(not 0 <= p < K for p in players) or any(not 0 <= t < len(players) for t in targets):
            raise ProtocolError(f"players {list(players)} / targets {list(targets)} out of range")
        a = np.rint(rnd.weights).astype(np.int64)
        values = []
        for t in targets:
            others = np.zeros(K, dtype=np.int64)
            for p in players:
                others[p] = a[p]
            if len(players) > 1:
                others[players[t]] = 0
            row = r128.from_ints(others)  # (2, K)
            num = r128.sum_axis(r128.mul(gram[:, players[t], :], row), axis=0)
            inner = r128.matmul(gram, row[:, :, None])[:, :, 0]  # G·a
            den = r128.sum_axis(r128.mul(inner, row), axis=0)
            values.extend([num, den])
        stacked = np.stack(values, axis=1) if values else r128.zeros((0,))
        part = rnd.engine.open_part(stacked)
        return PublicPart(
            node=self.index, what="cosines", payload=r128.pack(part), count=2 * len(targets)
        )

    def score(
        self,
        *,
        round_id: int,
        validator_id: int,
        players: Sequence[int],
        validator_public: bytes,
        est: Estimator,
    ) -> Generator[Outbox, Mapping[int, bytes], bytes]:
        """This node's side of one validator's scoring; returns its sealed output.

        ``players`` are the accepted clients (indices into the round's clients) the game is
        played over, in the order of ``est``.
        """
        rnd = self._round(round_id)
        key = (round_id, validator_id)
        if key not in self._holdouts:
            raise ProtocolError(f"node {self.index} has no holdout of validator {validator_id}")
        holdout = self._holdouts[key]
        n = holdout.shape[0] // 2
        K = len(players)
        if est.A.shape[1] != K:
            raise ProtocolError(f"estimator for {est.A.shape[1]} players, {K} given")
        f, F = self.config.frac_bits, self.config.coeff_bits
        engine = ThreePartyNode(
            index=self.index,
            keypair=self._keypair,
            node_public_keys=rnd.node_public_keys,
            session=b"flai/mpc/scoring/validator" + struct.pack(">QQ", round_id, validator_id),
            rotation=validator_id,
        )
        idx = list(players)
        deltas_t = rnd.deltas.map(lambda a: np.ascontiguousarray(a[:, idx, :].transpose(0, 2, 1)))
        # 1. [ũ; l] = [H̃; G̃]·Δ, truncated to f bits
        z1 = ThreePartyNode.cross(holdout, deltas_t, r128.matmul)  # 2n × K
        moments = yield from engine.reshare_truncated(z1, f)
        u = moments.map(lambda a: np.ascontiguousarray(a[:, :n, :].transpose(0, 2, 1)))
        lin = moments.map(lambda a: np.ascontiguousarray(a[:, n:, :].transpose(0, 2, 1)))
        # 2. φ_{r,i} = −Σ_j A_rj l_ji − ½ Σ_jl B_rjl u_ji u_li, at 2f + F, truncated by f + F
        R = est.rows
        a_pub = r128.from_ints(np.rint(-est.A * 2.0**F).astype(np.int64))
        b_pub = r128.from_ints(np.rint(-0.5 * est.B.reshape(R * K, K) * 2.0**F).astype(np.int64))
        v = u.map(lambda c: r128.matmul(b_pub, c).reshape(2, R, K, n))  # V_r = B_r u
        u_b = u.map(lambda c: c[:, None, :, :])
        quad = r128.sum_axis(ThreePartyNode.cross(u_b, v), axis=1)  # (R, n) additive
        linear = r128.matmul(a_pub, ThreePartyNode.additive(lin))
        z2 = r128.add(quad, r128.shift_left(linear, f))
        phi = yield from engine.reshare_truncated(z2, f + F)
        # 3. S = Σ_i φ (scale f), W = n Σ_i φ² − S² (scale 2f): local, opened to the validator
        sums = phi.map(lambda c: r128.sum_axis(c, axis=1))
        sq = r128.sum_axis(ThreePartyNode.cross(phi, phi), axis=1)
        sq = r128.mul(sq, r128.from_ints(np.full(R, n, dtype=np.int64)))
        w = r128.sub(sq, ThreePartyNode.cross(sums, sums))[:, est.shapley]
        out = np.concatenate([ThreePartyNode.additive(sums), w], axis=1)
        part = engine.open_part(out)
        self.last_traffic = engine.channels.traffic
        return seal(
            r128.pack(part),
            validator_public,
            aad=output_aad(round_id, validator_id, self.index),
        )

    def consistency_part(
        self,
        *,
        round_id: int,
        aggregation: Mapping[int, NodeShare],
        challenge: bytes,
        ring_bits: int,
        checks: int = 40,
    ) -> PublicPart:
        """Masked part of ⟨ρ_i, (θ_k mod 2^ℓ) − θ_k^agg⟩ mod 2^ℓ for every client of the round.

        ``aggregation`` maps each client to this node's share of its aggregation upload
        (:meth:`ReplicatedScheme.open`; Z_{2^ℓ}, the same f). Reducing the Z_{2^128}
        components mod 2^ℓ is a sharing of θ_k mod 2^ℓ, so for an honest client every
        opened value is 0 and reveals nothing. For a client whose two uploads differ by
        D ≢ 0, a public ρ drawn after the uploads (``challenge``: e.g. a block hash or the
        hash of all upload envelopes) gives ⟨ρ, D⟩ ≡ 0 with probability ≤ 1/2 (the entry of
        D with the lowest 2-adic valuation, ≤ ℓ − 1), so ``checks`` vectors miss with
        probability ≤ 2^-checks. See :func:`check_consistency`.
        """
        rnd = self._round(round_id)
        if self.config.frac_bits > 63 or not 8 <= ring_bits <= 64:
            raise ProtocolError(f"ring bits {ring_bits} out of range")
        missing = [k for k in rnd.clients if k not in aggregation]
        if missing:
            raise ProtocolError(f"node {self.index} has no aggregation share of {missing}")
        width = rnd.deltas.shape[1]
        rho = r128.from_ints(np.zeros((checks, width), dtype=np.int64))
        rho[0] = _challenge_vectors(challenge, checks, width)
        mask = np.uint64((1 << ring_bits) - 1) if ring_bits < 64 else np.uint64(2**64 - 1)
        theta0 = r128.encode(
            np.tile(rnd.base.params, (len(rnd.clients), 1)),
            self.config.frac_bits,
            limit=self.config.max_param,
        )
        own = ThreePartyNode.additive(rnd.deltas.add_public(theta0))  # component j+1 of θ
        first = (self.index + 1) % N_NODES
        diffs = []
        for i, k in enumerate(rnd.clients):
            agg = aggregation[k]
            if agg.node != self.index or first not in agg.parts or agg.length != width:
                raise ProtocolError(
                    f"aggregation share of client {k} does not fit node {self.index}"
                )
            lifted = np.zeros((2, width), dtype=np.uint64)
            lifted[0] = agg.parts[first] & mask
            diffs.append(r128.sub(own[:, i, :], lifted))
        stacked = np.stack(diffs, axis=1)  # (2, K, d)
        values = r128.matmul(stacked, np.ascontiguousarray(rho.transpose(0, 2, 1)))  # (2, K, m)
        part = rnd.engine.open_part(values.reshape(2, -1))
        part[1] = 0
        part[0] &= mask
        return PublicPart(
            node=self.index,
            what="consistency",
            payload=r128.pack(part),
            count=len(rnd.clients) * checks,
        )

    def forget(self, round_id: int) -> None:
        """Drop every share of ``round_id``."""
        for store in (self._updates, self._holdouts):
            for key in [k for k in store if k[0] == round_id]:
                del store[key]
        self._rounds.pop(round_id, None)


def _challenge_vectors(challenge: bytes, count: int, width: int) -> np.ndarray:
    seed = hkdf(challenge, info=b"flai/mpc/scoring/consistency")
    return expand(seed, count * width, label=b"consistency").reshape(count, width)


def check_consistency(
    parts: Sequence[PublicPart], *, clients: Sequence[int], ring_bits: int, round_id: int
) -> None:
    """Open the consistency values of :meth:`ScoringNode.consistency_part`; all must be 0.

    Raises
    ------
    InconsistentUploadError
        A client whose scoring and aggregation uploads differ (named).
    """
    values = combine_public(parts)
    checks = len(values) // max(len(clients), 1)
    modulus = 1 << ring_bits
    for i, k in enumerate(clients):
        if any(v % modulus for v in values[i * checks : (i + 1) * checks]):
            raise InconsistentUploadError(client=k, round_id=round_id)
