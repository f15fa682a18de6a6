"""Verifiable partials: a compute node's wrong share of the weighted sum is detected.

With one copy per component (:meth:`~flai.mpc.replicated.ReplicatedScheme.assign`) each
share component of Σ_k c_k·w_k is computed by one node, so a wrong partial would go
unnoticed. Recomputing it on a second holder doubles the node work; checking a random
linear combination ⟨r, P_c⟩ on the second holder is cheap (one pass over the partial), but
the reference value Σ_k c_k⟨r, s_{k,c}⟩ needs every client's component again — as much work
as the aggregation. This module moves that reference to the clients, at upload time, under
a key the computing node never sees.

Protocol (one round; n nodes, threshold t; every component has n − t ≥ 2 holders)
    1. Each node j draws a fresh secret *check key* for the round (a 32-byte seed whose
       AES-CTR stream gives m vectors r_j^(1..m) ∈ Z_{2^64}^d) and seals it to each client
       (:func:`seal_check_key`). No other node receives it.
    2. Each client, when it splits w_k into components s_{k,c} (the ``uint64`` words
       :meth:`~flai.mpc.replicated.ReplicatedScheme.combine` accumulates: seeded
       components as raw 64-bit PRG words, the correction reduced mod 2^ℓ), computes for
       every holder j of every component c the digests h^(i)_{k,c,j} = ⟨r_j^(i), s_{k,c}⟩
       mod 2^64 and puts them in node j's key envelope (no extra public-key operation:
       they ride with the seeds). A holder learns nothing from digests of a component it
       already holds.
    3. A node computes its assigned partials P_c = Σ_k c_k s_{k,c} mod 2^64 (the ``uint64``
       accumulator as it is, not reduced mod 2^ℓ) and posts a SHA-256 commitment to them
       (:func:`commit_partial`, 32 bytes per node per round, e.g. on chain) before sending
       them.
    4. For every component, another available holder j (:func:`check_plan`) checks the
       received partial against the commitment and tests ⟨r_j^(i), P_c⟩ = Σ_k c_k h^(i)_{k,c,j}
       for i = 1..m (:func:`check_partial`): m dot products of length d, about 1/K of the
       aggregation work. A failure raises :class:`~flai.mpc.errors.PartialMismatchError`
       naming the node, so the technical chamber can slash it.

Soundness
    Let the node send P' = P + Δ (mod 2^64) with Δ ≢ 0 (mod 2^ℓ) — only those change the
    reconstructed aggregate. Some entry of Δ then has 2-adic valuation v ≤ ℓ − 1, so for r
    uniform and independent of Δ, ⟨r, Δ⟩ is uniform over 2^v·Z_{2^64} and vanishes with
    probability 2^(v − 64) ≤ 2^(ℓ − 65). The computing node never sees the checker's key
    (sealed to clients only) nor digests under it (in the checker's key envelope only), so
    r is independent of Δ, and m keys miss with probability ≤ 2^(m(ℓ − 65)). The ring's
    2-adic weakness (Δ = 2^(ℓ−1)·e_i) is absorbed by hashing in Z_{2^64} ⊃ Z_{2^ℓ}, the
    SPDZ2k idea of slack bits (Cramer et al., CRYPTO 2018): 64 − ℓ slack bits per key.
    ℓ = 44 gives 21 bits per key, so m = 2 keys give 2^-42 ≥ the 2^-40 target
    (:func:`keys_needed`).

Trust and disputes
    Soundness holds against any single deviating node that is not handed a checker's key
    by a client (clients are trusted to follow the protocol, as for their encodings). A
    checker that falsely accuses is caught in a dispute: the accused node's committed
    partial and its inputs for that one component (seeds and correction bodies — one
    component, uniformly random, revealing nothing about any update) let the chamber
    recompute P_c. With fewer than two available holders of a component (a node down for
    n = 3), that component cannot be checked and :func:`check_plan` lists it.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flai.mpc.envelope import KeyPair, open_sealed, seal
from flai.mpc.errors import PartialMismatchError, ProtocolError
from flai.mpc.prg import SEED_BYTES, expand, random_seed
from flai.mpc.replicated import NodeShare, OpenedUpload, ReplicatedScheme

__all__ = [
    "CheckKey",
    "CheckPlan",
    "PartialCommitment",
    "check_partial",
    "check_plan",
    "commit_partial",
    "keys_needed",
    "miss_probability",
    "open_check_key",
    "partial_digests",
    "seal_check_key",
]

_DIGEST = struct.Struct("<Q")
_DOMAIN = b"flai/mpc/verify/v1"


def keys_needed(ring_bits: int, *, security: int = 40) -> int:
    """m, the number of check keys that bound a miss by 2^-security in Z_{2^ℓ}."""
    if not 1 <= ring_bits <= 64:
        raise ProtocolError(f"ring bits must be in [1, 64], got {ring_bits}")
    return math.ceil(security / (65 - ring_bits))


def miss_probability(ring_bits: int, keys: int) -> float:
    """Upper bound 2^(m(ℓ − 65)) on missing a partial that is wrong mod 2^ℓ."""
    return 2.0 ** (keys * (ring_bits - 65))


@dataclass(frozen=True)
class CheckKey:
    """A checker node's secret key for one round.

    Attributes
    ----------
    node
        The checker (the node that generated it).
    round_id
        The round it is valid for.
    seed
        32 secret bytes; the AES-CTR stream under a round label gives the vectors.
    count
        m, the number of independent vectors.
    """

    node: int
    round_id: int
    seed: bytes
    count: int

    @classmethod
    def generate(cls, *, node: int, round_id: int, count: int) -> CheckKey:
        """A fresh key from the OS CSPRNG."""
        if count < 1:
            raise ProtocolError(f"need at least one check vector, got {count}")
        return cls(node=node, round_id=round_id, seed=random_seed(), count=count)

    def vectors(self, length: int) -> np.ndarray:
        """The m × length matrix of key vectors r^(i) (``uint64``)."""
        words = expand(self.seed, self.count * length, label=self._label())
        return words.reshape(self.count, length)

    def _label(self) -> bytes:
        return _DOMAIN + b"/vectors" + struct.pack(">QI", self.round_id, self.node)


def _key_aad(node: int, round_id: int, client_id: int) -> bytes:
    return _DOMAIN + b"/key" + struct.pack(">IQQ", node, round_id, client_id)


def seal_check_key(key: CheckKey, client_public_keys: Mapping[int, bytes]) -> dict[int, bytes]:
    """Seal ``key`` to every client (X25519 envelopes bound to node, round and client)."""
    payload = struct.pack(">I", key.count) + key.seed
    return {
        cid: seal(payload, public, aad=_key_aad(key.node, key.round_id, cid))
        for cid, public in client_public_keys.items()
    }


def open_check_key(
    sealed: bytes, *, client_keypair: KeyPair, node: int, round_id: int, client_id: int
) -> CheckKey:
    """A client opens node ``node``'s check key for ``round_id``.

    Raises
    ------
    EnvelopeError
        Wrong key, tampering, or a key sealed for another node, round or client.
    """
    payload = open_sealed(sealed, client_keypair, aad=_key_aad(node, round_id, client_id))
    if len(payload) != 4 + SEED_BYTES:
        raise ProtocolError(f"malformed check key from node {node}")
    (count,) = struct.unpack(">I", payload[:4])
    return CheckKey(node=node, round_id=round_id, seed=payload[4:], count=count)


def partial_digests(
    scheme: ReplicatedScheme, keys: Mapping[int, CheckKey]
) -> Callable[[Mapping[int, np.ndarray]], dict[int, bytes]]:
    """The ``node_extras`` function a client passes to :meth:`ReplicatedScheme.seal`.

    For every node j with a key and every component c it holds: m little-endian uint64
    digests ⟨r_j^(i), s_c⟩ mod 2^64, components in ascending order.
    """

    def digests(components: Mapping[int, np.ndarray]) -> dict[int, bytes]:
        length = len(next(iter(components.values())))
        out: dict[int, bytes] = {}
        for j, key in keys.items():
            vectors = key.vectors(length)
            blob = bytearray()
            for c in scheme.held_by(j):
                for value in vectors @ components[c]:  # wrapping uint64 dot products
                    blob += _DIGEST.pack(int(value))
            out[j] = bytes(blob)
        return out

    return digests


def _digest_table(
    scheme: ReplicatedScheme, upload: OpenedUpload, count: int
) -> dict[int, np.ndarray]:
    """Component → its m digests, from the bytes the client put in this node's envelope."""
    held = scheme.held_by(upload.node)
    if len(upload.extra) != 8 * count * len(held):
        raise ProtocolError(
            f"node {upload.node} expected {count} check digests per component, "
            f"got {len(upload.extra)} bytes"
        )
    values = np.frombuffer(upload.extra, dtype="<u8").astype(np.uint64).reshape(len(held), count)
    return {c: values[i] for i, c in enumerate(held)}


@dataclass(frozen=True)
class PartialCommitment:
    """A node's binding commitment to its partials of one round (posted before sending).

    Attributes
    ----------
    node
        The committing node.
    round_id
        The round.
    components
        The components the partials cover, ascending.
    digest
        SHA-256 over a domain tag, the round, the node and each component's index and
        little-endian ``uint64`` words.
    """

    node: int
    round_id: int
    components: tuple[int, ...]
    digest: bytes


def _commitment_digest(partial: NodeShare, round_id: int) -> tuple[tuple[int, ...], bytes]:
    comps = tuple(sorted(partial.parts))
    h = hashlib.sha256(
        _DOMAIN + b"/commit" + struct.pack(">QII", round_id, partial.node, len(comps))
    )
    for c in comps:
        part = np.ascontiguousarray(partial.parts[c], dtype="<u8")
        h.update(struct.pack(">IQ", c, part.size))
        h.update(part.data)
    return comps, h.digest()


def commit_partial(partial: NodeShare, *, round_id: int) -> PartialCommitment:
    """The commitment a node posts for its partials of ``round_id``."""
    comps, digest = _commitment_digest(partial, round_id)
    return PartialCommitment(node=partial.node, round_id=round_id, components=comps, digest=digest)


@dataclass(frozen=True)
class CheckPlan:
    """Who checks which component.

    Attributes
    ----------
    checks
        Checker node → ((component, computing node), …).
    unverified
        Components with no second available holder (they cannot be checked).
    """

    checks: Mapping[int, tuple[tuple[int, int], ...]]
    unverified: tuple[int, ...]


def check_plan(
    scheme: ReplicatedScheme,
    assignment: Mapping[int, Sequence[int]],
    available: Iterable[int] | None = None,
) -> CheckPlan:
    """For every component, pick an available holder other than its computing node.

    ``assignment`` is :meth:`ReplicatedScheme.assign`'s node → components. Checkers are
    chosen to balance the number of checks per node.
    """
    nodes = sorted(set(range(scheme.n_nodes) if available is None else available))
    owner = {c: j for j, comps in assignment.items() for c in comps}
    load = dict.fromkeys(nodes, 0)
    checks: dict[int, list[tuple[int, int]]] = {j: [] for j in nodes}
    unverified = []
    for c in sorted(owner):
        candidates = [j for j in scheme.holders(c) if j in load and j != owner[c]]
        if not candidates:
            unverified.append(c)
            continue
        checker = min(candidates, key=lambda j: (load[j], (j - c) % scheme.n_nodes))
        load[checker] += 1
        checks[checker].append((c, owner[c]))
    return CheckPlan(
        checks={j: tuple(v) for j, v in checks.items() if v}, unverified=tuple(unverified)
    )


def check_partial(
    scheme: ReplicatedScheme,
    *,
    partial: NodeShare,
    commitment: PartialCommitment,
    component: int,
    uploads: Sequence[OpenedUpload],
    weights: Sequence[int],
    key: CheckKey,
    key_vectors: np.ndarray | None = None,
) -> None:
    """Check one component of another node's partial as its second holder.

    Parameters
    ----------
    partial, commitment
        The partial received from the computing node and the commitment it posted.
    component
        The component to check (held by the checker, computed by ``partial.node``).
    uploads
        The checker's own :class:`OpenedUpload` of every weighted client, in the order of
        ``weights`` (their ``extra`` carries the client's digests under ``key``).
    weights
        The public integer weights c_k.
    key
        The checker's own key for the round.
    key_vectors
        Optional cached ``key.vectors(d)`` (expanded once per round, off the critical path).

    Raises
    ------
    PartialMismatchError
        The partial does not match its commitment, or fails a check vector; names the node.
    """
    node = partial.node
    if commitment.node != node or commitment.round_id != key.round_id:
        raise ProtocolError(
            f"commitment of node {commitment.node} round {commitment.round_id} does not "
            f"belong to node {node} round {key.round_id}"
        )
    comps, digest = _commitment_digest(partial, key.round_id)
    if comps != commitment.components or digest != commitment.digest:
        raise PartialMismatchError(
            node=node, component=component, round_id=key.round_id, reason="commitment"
        )
    if component not in partial.parts:
        raise ProtocolError(f"node {node}'s partial does not carry component {component}")
    if len(uploads) != len(weights) or not uploads:
        raise ProtocolError("need one upload per weight")
    values = np.asarray(partial.parts[component], dtype=np.uint64)
    vectors = key.vectors(len(values)) if key_vectors is None else key_vectors
    if vectors.shape != (key.count, len(values)):
        raise ProtocolError(f"key vectors of shape {vectors.shape} for a {len(values)}-vector")
    expected = np.zeros(key.count, dtype=np.uint64)
    coeffs = np.asarray(weights).astype(np.int64).view(np.uint64)
    for upload, coeff in zip(uploads, coeffs, strict=True):
        if coeff == 0:
            continue
        expected += coeff * _digest_table(scheme, upload, key.count)[component]
    observed = vectors @ values  # wrapping uint64 dot products
    if not np.array_equal(observed, expected):
        raise PartialMismatchError(
            node=node, component=component, round_id=key.round_id, reason="check vector"
        )
