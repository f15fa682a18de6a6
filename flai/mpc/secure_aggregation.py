"""Secure contribution-weighted aggregation on replicated shares (001 §5.2, eq. 6).

Protocol (one round, K clients, n compute nodes, threshold t):

1. Each client fixed-point encodes its update w_k and uploads a seed-compressed,
   encrypted replicated sharing (:meth:`ReplicatedScheme.seal`): ℓ/8 bytes per
   parameter plus a few hundred bytes of key envelopes.
2. Each node opens its key envelope, authenticates the body and keeps its seeds and the
   body; it never sees any w_k.
3. Once the public scores φ_k are known, every node computes
   Σ_k c_k · [w_k] locally, with c_k = round(2^b · φ_k / Σφ) (b = ``weight_bits``),
   expanding each client's components on the fly. Either every node computes all its
   components (reconstruction cross-checks the n − t copies), or each component is
   assigned to one available holder (:meth:`ReplicatedScheme.assign`), which divides the
   nodes' work by n − t.
4. Any t + 1 nodes' partials reconstruct Σ c_k w̃_k, which is divided by Σ c_k · 2^f.

The result is the weighted average with the effective weights c_k / Σ c_k, which differ
from φ_k / Σ φ by at most ~2^-b; per parameter the error versus plaintext eq. (6) is at most
2^-(f+1) + 2^-b · Σ_k |w_k − w̄| / 2 (encoding plus weight quantisation). Only the
aggregate is reconstructed (Build 3); keeping it shared is a matter of not calling
:func:`reconstruct_aggregate` and passing the partials on.

Range: the client rejects |w| > ``max_abs``; with the defaults (ℓ = 44, f = 16, b = 16,
max_abs = 64) honest sums use at most 2^38 of the 2^43 signed range, so a result that
wrapped because a client bypassed its own encoder lands outside the honest range with
probability ≈ 31/32 per coordinate and is reported as :class:`EncodingRangeError`.
Detecting a malicious out-of-range input with certainty needs range proofs, out of scope.

Trust: semi-honest nodes, at most t of which collude; clients are honest-but-curious about
each other. Nodes learn the aggregate only when they reconstruct it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flai.mpc.encoding import FixedPoint
from flai.mpc.envelope import KeyPair
from flai.mpc.errors import EncodingRangeError, ProtocolError
from flai.mpc.replicated import NodeShare, OpenedUpload, ReplicatedScheme, SealedShares
from flai.mpc.ring import Ring
from flai.mpc.verify import (
    CheckKey,
    PartialCommitment,
    check_partial,
    check_plan,
    commit_partial,
    keys_needed,
    open_check_key,
    partial_digests,
    seal_check_key,
)

__all__ = [
    "AggregationClient",
    "AggregationConfig",
    "AggregationNode",
    "encode_weights",
    "reconstruct_aggregate",
    "secure_weighted_average",
    "verified_weighted_average",
]


@dataclass(frozen=True)
class AggregationConfig:
    """Parameters of secure weighted aggregation.

    Attributes
    ----------
    n_nodes, threshold
        Replicated sharing among n nodes, private against t, reconstructable by t + 1.
    ring_bits
        ℓ; 44 bits make the upload 1.375 × a float32 vector.
    frac_bits
        f, fixed-point fractional bits of the updates.
    weight_bits
        b, fractional bits of the normalised public weights.
    max_abs
        Largest accepted |parameter|.
    check_security
        Verifiable partials (:mod:`flai.mpc.verify`): a wrong partial escapes the check
        with probability at most 2^-check_security; it sets the number of check keys.
    """

    n_nodes: int = 3
    threshold: int = 1
    ring_bits: int = 44
    frac_bits: int = 16
    weight_bits: int = 16
    max_abs: float = 64.0
    check_security: int = 40

    def __post_init__(self) -> None:
        needed = self.max_abs * 2.0 ** (self.frac_bits + self.weight_bits)
        if needed * 2 > 2.0 ** (self.ring_bits - 1):
            raise ValueError(
                f"max_abs·2^(f+b) = {needed:.3g} leaves no headroom in a {self.ring_bits}-bit ring"
            )
        FixedPoint(ring=Ring(self.ring_bits), frac_bits=self.frac_bits, max_abs=self.max_abs)

    @property
    def scheme(self) -> ReplicatedScheme:
        """The replicated sharing scheme."""
        return ReplicatedScheme(
            n_nodes=self.n_nodes, threshold=self.threshold, ring=Ring(self.ring_bits)
        )

    @property
    def fixed_point(self) -> FixedPoint:
        """The update codec."""
        return FixedPoint(ring=Ring(self.ring_bits), frac_bits=self.frac_bits, max_abs=self.max_abs)

    @property
    def check_keys(self) -> int:
        """m, the check vectors per checker (:func:`flai.mpc.verify.keys_needed`)."""
        return keys_needed(self.ring_bits, security=self.check_security)


def _aad(round_id: int, client_id: int) -> bytes:
    return b"flai/mpc/aggregation" + struct.pack(">QQ", round_id, client_id)


def encode_weights(phi: Mapping[int, float], *, weight_bits: int) -> dict[int, int]:
    """Quantise public scores to integers c_k = round(2^b · φ_k / Σ φ).

    Raises
    ------
    ProtocolError
        Negative or non-finite scores, or all scores (after rounding) zero.
    """
    values = np.array(list(phi.values()), dtype=np.float64)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ProtocolError(f"scores must be finite and non-negative, got {values.tolist()}")
    total = float(values.sum())
    if total <= 0:
        raise ProtocolError("all contribution scores are zero")
    ints = np.rint(values / total * 2.0**weight_bits).astype(np.int64)
    if int(ints.sum()) == 0:
        raise ProtocolError("scores round to zero weights; raise weight_bits")
    return {k: int(c) for k, c in zip(phi, ints, strict=True)}


class AggregationClient:
    """A data custodian uploading its update as encrypted replicated shares."""

    def __init__(
        self, *, client_id: int, config: AggregationConfig, node_public_keys: Mapping[int, bytes]
    ) -> None:
        self.client_id = client_id
        self.config = config
        self._scheme = config.scheme
        self._codec = config.fixed_point
        self._keys = dict(node_public_keys)

    def upload(
        self,
        update: np.ndarray,
        *,
        round_id: int,
        check_keys: Mapping[int, CheckKey] | None = None,
    ) -> SealedShares:
        """Encode (raising :class:`EncodingRangeError` when out of range) and seal ``update``.

        ``check_keys`` (node → its :class:`~flai.mpc.verify.CheckKey` for the round, opened
        with :func:`~flai.mpc.verify.open_check_key`) adds the digests that let each node
        verify the others' partials; each node's digests travel in its own key envelope.
        """
        encoded = self._codec.encode(np.asarray(update, dtype=np.float64).reshape(-1))
        correction = self.client_id % len(self._scheme.components)
        extras = None
        if check_keys:
            if any(k.round_id != round_id for k in check_keys.values()):
                raise ProtocolError(f"check keys are not all for round {round_id}")
            extras = partial_digests(self._scheme, check_keys)
        return self._scheme.seal(
            encoded,
            self._keys,
            aad=_aad(round_id, self.client_id),
            scale_bits=self.config.frac_bits,
            correction=correction,
            node_extras=extras,
        )


class AggregationNode:
    """A compute node: keeps its authenticated part of each upload and combines them.

    :meth:`receive` only opens the node's key envelope and checks the body's MAC (a few
    hundred bytes of state per upload); the components are expanded, decrypted and
    unpacked in :meth:`weighted_partial`, straight into one reusable scratch buffer, once
    the weights are known. No per-client vector is ever stored. Because of that shared
    scratch buffer, one node object must not run :meth:`weighted_partial` from several
    threads at once.
    """

    def __init__(self, *, index: int, config: AggregationConfig, keypair: KeyPair | None = None):
        self.index = index
        self.config = config
        self._scheme = config.scheme
        self._keypair = keypair or KeyPair.generate()
        self._inbox: dict[tuple[int, int], OpenedUpload] = {}
        self._scratch: dict[int, tuple[np.ndarray, bytearray]] = {}
        self._check: dict[int, tuple[CheckKey, dict[int, np.ndarray]]] = {}

    @property
    def public_key(self) -> bytes:
        """The node's X25519 public key (published, e.g. in its on-chain registration)."""
        return self._keypair.public_bytes

    def receive(self, sealed: SealedShares, *, round_id: int, client_id: int) -> None:
        """Authenticate and keep this node's part of a client upload (a second one is refused).

        Raises
        ------
        EnvelopeError
            Wrong key, a tampered body, or an upload sealed for another round or client.
        """
        key = (round_id, client_id)
        if key in self._inbox:
            raise ProtocolError(f"client {client_id} already uploaded in round {round_id}")
        self._inbox[key] = self._scheme.unwrap(
            sealed, node=self.index, keypair=self._keypair, aad=_aad(round_id, client_id)
        )

    def weighted_partial(
        self,
        *,
        round_id: int,
        weights: Mapping[int, int],
        components: Iterable[int] | None = None,
    ) -> NodeShare:
        """This node's share of Σ_k c_k · w_k for the integer weights of :func:`encode_weights`.

        ``components`` restricts the work to some held components, e.g. this node's entry
        of ``config.scheme.assign(available_nodes)`` so that every component is computed by
        one node only (default: every held component, which lets reconstruction
        cross-check the n − t copies).

        Raises
        ------
        ProtocolError
            A weighted client whose upload this node has not received.
        EnvelopeError
            A correction body whose AES-GCM tag fails although the reader's MAC passed
            (only a malicious client can produce one; it is decrypted only now).
        """
        missing = [k for k in weights if (round_id, k) not in self._inbox]
        if missing:
            raise ProtocolError(f"node {self.index} has no upload from clients {missing}")
        uploads = [self._inbox[(round_id, k)] for k in weights]
        n = uploads[0].length if uploads else 0
        if n not in self._scratch:  # reused across calls and rounds (see combine)
            body = bytearray(self._scheme.ring.packed_size(n))
            self._scratch[n] = (np.empty(n + 2, dtype=np.uint64), body)
        scratch, body = self._scratch[n]
        return self._scheme.combine(
            uploads, list(weights.values()), components=components, scratch=scratch, body=body
        )

    def check_key(self, round_id: int) -> CheckKey:
        """This node's secret check key for ``round_id`` (drawn once; seal it to clients)."""
        if round_id not in self._check:
            key = CheckKey.generate(
                node=self.index, round_id=round_id, count=self.config.check_keys
            )
            self._check[round_id] = (key, {})
        return self._check[round_id][0]

    def prepare_check(self, *, round_id: int, length: int) -> None:
        """Expand the check vectors for ``length`` parameters ahead of the partials."""
        key = self.check_key(round_id)
        vectors = self._check[round_id][1]
        if length not in vectors:
            vectors[length] = key.vectors(length)

    def commit(self, partial: NodeShare, *, round_id: int) -> PartialCommitment:
        """The commitment to post for this node's own partial (see :mod:`flai.mpc.verify`)."""
        if partial.node != self.index:
            raise ProtocolError(f"node {self.index} cannot commit to node {partial.node}'s partial")
        return commit_partial(partial, round_id=round_id)

    def check(
        self,
        partial: NodeShare,
        commitment: PartialCommitment,
        *,
        round_id: int,
        weights: Mapping[int, int],
        components: Iterable[int],
    ) -> None:
        """Verify ``components`` of another node's partial as their second holder.

        Raises
        ------
        PartialMismatchError
            The partial differs from its commitment or fails a check vector (names the node).
        ProtocolError
            This node does not hold a component, or lacks a weighted client's upload.
        """
        key = self.check_key(round_id)
        missing = [k for k in weights if (round_id, k) not in self._inbox]
        if missing:
            raise ProtocolError(f"node {self.index} has no upload from clients {missing}")
        uploads = [self._inbox[(round_id, k)] for k in weights]
        length = partial.length
        self.prepare_check(round_id=round_id, length=length)
        vectors = self._check[round_id][1][length]
        for c in components:
            if self.index not in self._scheme.holders(c):
                raise ProtocolError(f"node {self.index} does not hold component {c}")
            check_partial(
                self._scheme,
                partial=partial,
                commitment=commitment,
                component=c,
                uploads=uploads,
                weights=list(weights.values()),
                key=key,
                key_vectors=vectors,
            )

    def forget(self, round_id: int) -> None:
        """Drop every upload (and the check key) of ``round_id``."""
        for key in [k for k in self._inbox if k[0] == round_id]:
            del self._inbox[key]
        self._check.pop(round_id, None)


def reconstruct_aggregate(
    config: AggregationConfig, partials: Iterable[NodeShare], weights: Mapping[int, int]
) -> np.ndarray:
    """Reconstruct Σ c_k w_k / Σ c_k from at least t + 1 nodes' partials.

    Raises
    ------
    ThresholdError
        Fewer than t + 1 distinct nodes.
    EncodingRangeError
        The result lies outside what in-range inputs can produce (a wrapped sum).
    """
    total_weight = sum(weights.values())
    if total_weight <= 0 or any(c < 0 for c in weights.values()):
        raise ProtocolError(f"integer weights must be non-negative with a positive sum: {weights}")
    if total_weight * (config.max_abs * 2.0**config.frac_bits + 1) >= 2.0 ** (config.ring_bits - 1):
        raise EncodingRangeError(
            value=float(total_weight), limit=2.0**config.weight_bits, what="weight sum"
        )
    summed = config.scheme.reconstruct(partials)  # a fresh array, reduced mod 2^ℓ
    codec = config.fixed_point
    # Two's-complement sign extension in place: shift the sign bit to bit 63 and back.
    spare = np.uint64(64 - config.ring_bits)
    np.left_shift(summed, spare, out=summed)
    signed = summed.view(np.int64)
    np.right_shift(signed, np.int64(64 - config.ring_bits), out=signed)
    bound = config.max_abs + codec.resolution
    if signed.size:
        peak = max(abs(int(signed.max())), abs(int(signed.min()))) / total_weight
        if peak > bound * codec.scale:
            raise EncodingRangeError(value=peak / codec.scale, limit=bound, what="aggregate")
    out = signed.astype(np.float64)
    np.divide(out, float(total_weight) * codec.scale, out=out)
    return out


def secure_weighted_average(
    updates: Sequence[np.ndarray],
    phi: Sequence[float],
    *,
    config: AggregationConfig | None = None,
    available_nodes: Iterable[int] | None = None,
    round_id: int = 0,
) -> np.ndarray:
    """Run the whole protocol in-process and return the φ-weighted average (eq. 6).

    Parameters
    ----------
    updates
        One array per client, all of the same shape.
    phi
        Public non-negative contribution scores.
    available_nodes
        Nodes that take part in the aggregation (default: all); at least t + 1.
    """
    cfg = config or AggregationConfig()
    if len(updates) != len(phi) or not updates:
        raise ProtocolError("need one score per update")
    shape = np.shape(updates[0])
    nodes = [AggregationNode(index=j, config=cfg) for j in range(cfg.n_nodes)]
    keys = {n.index: n.public_key for n in nodes}
    for k, update in enumerate(updates):
        if np.shape(update) != shape:
            raise ProtocolError(f"update {k} has shape {np.shape(update)}, expected {shape}")
        sealed = AggregationClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            update, round_id=round_id
        )
        for node in nodes:
            node.receive(sealed, round_id=round_id, client_id=k)
    weights = encode_weights(dict(enumerate(phi)), weight_bits=cfg.weight_bits)
    active = range(cfg.n_nodes) if available_nodes is None else available_nodes
    partials = [nodes[j].weighted_partial(round_id=round_id, weights=weights) for j in active]
    return reconstruct_aggregate(cfg, partials, weights).reshape(shape)


def verified_weighted_average(
    updates: Sequence[np.ndarray],
    phi: Sequence[float],
    *,
    config: AggregationConfig | None = None,
    round_id: int = 0,
    tamper: Callable[[NodeShare], NodeShare] | None = None,
) -> np.ndarray:
    """The one-copy protocol with verifiable partials, run in-process on all n nodes.

    Every node draws a check key and seals it to each client; clients upload with the
    digests; each component is computed by one node (:meth:`ReplicatedScheme.assign`),
    committed, then checked by another holder (:func:`~flai.mpc.verify.check_plan`);
    only verified partials are reconstructed. ``tamper``, if given, replaces each node's
    partial before that node commits to it (a node that lies consistently: the commitment
    matches, the check vectors must catch it).

    Raises
    ------
    PartialMismatchError
        A node's partial failed verification; the error names the node.
    """
    cfg = config or AggregationConfig()
    if len(updates) != len(phi) or not updates:
        raise ProtocolError("need one score per update")
    shape = np.shape(updates[0])
    nodes = [AggregationNode(index=j, config=cfg) for j in range(cfg.n_nodes)]
    keys = {n.index: n.public_key for n in nodes}
    clients = [KeyPair.generate() for _ in updates]
    sealed_keys = {
        n.index: seal_check_key(
            n.check_key(round_id), dict(enumerate(c.public_bytes for c in clients))
        )
        for n in nodes
    }
    for k, update in enumerate(updates):
        opened = {
            j: open_check_key(
                sealed_keys[j][k], client_keypair=clients[k], node=j, round_id=round_id, client_id=k
            )
            for j in keys
        }
        sealed = AggregationClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            update, round_id=round_id, check_keys=opened
        )
        for node in nodes:
            node.receive(sealed, round_id=round_id, client_id=k)
    weights = encode_weights(dict(enumerate(phi)), weight_bits=cfg.weight_bits)
    owned = cfg.scheme.assign(range(cfg.n_nodes))
    partials = {
        j: nodes[j].weighted_partial(round_id=round_id, weights=weights, components=owned[j])
        for j in owned
    }
    sent = {j: tamper(p) if tamper else p for j, p in partials.items()}
    commitments = {j: nodes[j].commit(p, round_id=round_id) for j, p in sent.items()}
    plan = check_plan(cfg.scheme, owned)
    for checker, items in plan.checks.items():
        for component, owner in items:
            nodes[checker].check(
                sent[owner],
                commitments[owner],
                round_id=round_id,
                weights=weights,
                components=[component],
            )
    return reconstruct_aggregate(cfg, sent.values(), weights).reshape(shape)
