"""Replicated secret sharing (RSS) over Z_{2^ℓ} with threshold t among n compute nodes.

Construction (Ito, Saito, Nishizeki 1987; Cramer, Damgård, Ishai, TCC 2005). The secret x
is split additively into one component per t-subset T of nodes,
x = Σ_T r_T (mod 2^ℓ), and component r_T is given to every node *not* in T. Hence

- any t nodes miss the component of their own subset, which is uniform, so their view is
  independent of x (privacy against t colluders);
- any t + 1 nodes jointly hold every component and reconstruct x;
- the round survives n − t − 1 unavailable nodes, and t < n/2 (001 §5.5) keeps enough
  honest nodes to reconstruct. For n = 3, t = 1 there are 3 components, each node holds 2.

Linear functions with public coefficients (weighted sums, adding public constants) are
computed by each node on its components with no interaction. Because every component is
held by n − t nodes, reconstruction cross-checks the copies and reports a node that sent a
different value (:class:`ShareMismatchError`).

Seed-compressed upload: all components but one (the *correction*) are AES-CTR streams of
fresh 32-byte seeds (:mod:`flai.mpc.prg`); the correction x − Σ PRG(seeds) is encrypted
once (:func:`flai.mpc.envelope.seal_for_many`) for the n − t nodes that hold it, and each
node receives the seeds of its components in its key envelope. A client therefore uploads
ℓ/8 bytes per element plus a few hundred bytes of keys, whatever n is.

Nodes can defer all bulk work: :meth:`ReplicatedScheme.unwrap` only opens a node's key
envelope and authenticates the body, and :meth:`ReplicatedScheme.combine` later expands or
decrypts each client's component into one scratch buffer while accumulating a weighted sum.
:meth:`ReplicatedScheme.assign` lets each component be computed by a single available
holder (no cross-check, n − t times less work) instead of by all of its holders.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from flai.mpc.envelope import KeyPair, MultiEnvelope, open_body, open_key_for, seal_for_many
from flai.mpc.errors import ProtocolError, ShareMismatchError, ThresholdError
from flai.mpc.prg import SEED_BYTES, expand, random_seed
from flai.mpc.ring import Ring

__all__ = [
    "NodeShare",
    "OpenedUpload",
    "ReplicatedScheme",
    "SealedShares",
]


@dataclass(frozen=True)
class NodeShare:
    """What one node holds of one shared vector.

    Attributes
    ----------
    node
        The holding node's index in ``range(n)``.
    parts
        Component index → ``uint64`` array (its additive component r_T).
    scale_bits
        Fractional bits of the shared fixed-point value (bookkeeping for decoding).
    """

    node: int
    parts: Mapping[int, np.ndarray]
    scale_bits: int = 0

    @property
    def length(self) -> int:
        """Vector length."""
        return len(next(iter(self.parts.values())))


@dataclass(frozen=True)
class SealedShares:
    """A client's seed-compressed, encrypted upload of one shared vector.

    Attributes
    ----------
    envelope
        Body: the packed correction component, readable by its n − t holders; key
        envelopes: per node, the data key (holders only) and the seeds of its components.
    length
        Vector length.
    scale_bits
        Fractional bits of the shared value.
    correction
        Index of the component sent explicitly (the others are seeded).
    """

    envelope: MultiEnvelope
    length: int
    scale_bits: int
    correction: int

    @property
    def upload_bytes(self) -> int:
        """Bytes the client sends (body plus every key envelope)."""
        return self.envelope.size


@dataclass(frozen=True)
class OpenedUpload:
    """One node's authenticated, not yet expanded part of a client upload.

    Produced by :meth:`ReplicatedScheme.unwrap`: the key envelope is open and the body has
    passed this node's one-time MAC, but nothing is expanded or decrypted yet, so it costs
    a few hundred bytes plus a reference to the received body. :meth:`ReplicatedScheme.combine`
    expands components straight into a reusable scratch buffer when the weights are known.

    Attributes
    ----------
    node
        The holding node.
    length, scale_bits, correction
        As in :class:`SealedShares`.
    seeds
        Seeded component held by this node → its 32-byte PRG seed.
    envelope, data_key, context
        The received envelope, its data key (``None`` unless this node holds the
        correction) and the associated data the body was sealed with.
    extra
        Bytes the client addressed to this node beyond its seeds (see ``node_extras`` of
        :meth:`ReplicatedScheme.seal`), authenticated with the key envelope.
    """

    node: int
    length: int
    scale_bits: int
    correction: int
    seeds: Mapping[int, bytes]
    envelope: MultiEnvelope
    data_key: bytes | None
    context: bytes
    extra: bytes = b""

    @property
    def components(self) -> tuple[int, ...]:
        """Components this node holds of the upload."""
        held = set(self.seeds) | ({self.correction} if self.data_key is not None else set())
        return tuple(sorted(held))


@dataclass(frozen=True)
class ReplicatedScheme:
    """(t, n) replicated secret sharing over ``ring``.

    Attributes
    ----------
    n_nodes
        n, the number of compute nodes.
    threshold
        t, the largest coalition that learns nothing; t + 1 nodes reconstruct. Must satisfy
        1 ≤ t < n/2.
    ring
        Z_{2^ℓ}.
    """

    n_nodes: int = 3
    threshold: int = 1
    ring: Ring = field(default_factory=Ring)

    def __post_init__(self) -> None:
        if not 1 <= self.threshold or 2 * self.threshold >= self.n_nodes:
            raise ValueError(
                f"need 1 <= t < n/2 (001 §5.5), got t={self.threshold}, n={self.n_nodes}"
            )
        if len(self.components) > 64:
            raise ValueError(f"C({self.n_nodes},{self.threshold}) components is too many for RSS")

    @cached_property
    def components(self) -> tuple[frozenset[int], ...]:
        """The excluded t-subsets T, one per additive component, in lexicographic order."""
        return tuple(
            frozenset(c) for c in itertools.combinations(range(self.n_nodes), self.threshold)
        )

    def holders(self, component: int) -> tuple[int, ...]:
        """Nodes holding ``component`` (those not in its subset)."""
        excluded = self.components[component]
        return tuple(j for j in range(self.n_nodes) if j not in excluded)

    def held_by(self, node: int) -> tuple[int, ...]:
        """Components held by ``node``."""
        self._check_node(node)
        return tuple(c for c, excl in enumerate(self.components) if node not in excl)

    def _check_node(self, node: int) -> None:
        if not 0 <= node < self.n_nodes:
            raise ProtocolError(f"unknown node {node} (n = {self.n_nodes})")

    # ---------------------------------------------------------------- sharing
    def share(self, secret: np.ndarray, *, scale_bits: int = 0) -> dict[int, NodeShare]:
        """Share a ``uint64`` vector (flattened); every component but the last is a PRG stream."""
        x = np.asarray(secret, dtype=np.uint64).reshape(-1)
        components = self._split(x, correction=len(self.components) - 1, seeds=None)
        return {
            j: NodeShare(
                node=j, parts={c: components[c] for c in self.held_by(j)}, scale_bits=scale_bits
            )
            for j in range(self.n_nodes)
        }

    def _split(
        self, x: np.ndarray, *, correction: int, seeds: Mapping[int, bytes] | None
    ) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        corr = x.copy()
        for c in range(len(self.components)):
            if c == correction:
                continue
            seed = seeds[c] if seeds is not None else random_seed()
            out[c] = expand(seed, len(x), label=_component_label(c))
            corr -= out[c]
        out[correction] = self.ring.reduce(corr)
        return out

    def seal(
        self,
        secret: np.ndarray,
        node_public_keys: Mapping[int, bytes],
        *,
        aad: bytes,
        scale_bits: int = 0,
        correction: int | None = None,
        node_extras: Callable[[Mapping[int, np.ndarray]], Mapping[int, bytes]] | None = None,
    ) -> SealedShares:
        """Share ``secret`` and encrypt each node's part for upload.

        Parameters
        ----------
        secret
            ``uint64`` vector (already fixed-point encoded).
        node_public_keys
            Node index → X25519 public key, for all n nodes.
        aad
            Context bound into every ciphertext (round id, client id, tensor name): a
            share cannot be replayed into another context.
        scale_bits
            Fractional bits of the encoded secret.
        correction
            Which component to send explicitly (rotate it across clients to balance the
            nodes' PRG work); defaults to the last one.
        node_extras
            Optional function of the components (index → the ``uint64`` array exactly as
            :meth:`combine` uses it) returning per-node bytes to append to that node's key
            envelope, e.g. the linear check digests of :mod:`flai.mpc.verify`.
        """
        if set(node_public_keys) != set(range(self.n_nodes)):
            raise ProtocolError(f"need public keys for nodes 0..{self.n_nodes - 1}")
        x = np.asarray(secret, dtype=np.uint64).reshape(-1)
        corr_index = len(self.components) - 1 if correction is None else correction
        if not 0 <= corr_index < len(self.components):
            raise ProtocolError(f"correction component {corr_index} out of range")
        seeds = {c: random_seed() for c in range(len(self.components)) if c != corr_index}
        components = self._split(x, correction=corr_index, seeds=seeds)
        context = _context(aad, len(x), scale_bits, corr_index)
        appended = node_extras(components) if node_extras is not None else {}
        extras = {
            j: b"".join(seeds[c] for c in self.held_by(j) if c != corr_index) + appended.get(j, b"")
            for j in range(self.n_nodes)
        }
        envelope = seal_for_many(
            self.ring.pack(components[corr_index]),
            dict(node_public_keys),
            aad=context,
            readers=self.holders(corr_index),
            extras=extras,
        )
        return SealedShares(
            envelope=envelope, length=len(x), scale_bits=scale_bits, correction=corr_index
        )

    def open(
        self,
        sealed: SealedShares,
        *,
        node: int,
        keypair: KeyPair,
        aad: bytes,
        allocate: Callable[[int], np.ndarray] | None = None,
    ) -> NodeShare:
        """Decrypt and expand ``node``'s part of a client upload.

        ``allocate(n)``, if given, supplies a reusable ``uint64`` buffer of at least n + 2
        words for each component (see :class:`~flai.mpc.secure_aggregation.AggregationNode`).

        Raises
        ------
        EnvelopeError
            Wrong key, tampering, or an upload made for another context (``aad``).
        """
        opened = self.unwrap(sealed, node=node, keypair=keypair, aad=aad)
        parts: dict[int, np.ndarray] = {}
        body: bytearray | None = None
        for c in opened.components:
            buffer = allocate(opened.length) if allocate else None
            if buffer is None:
                buffer = np.empty(opened.length + 2, dtype=np.uint64)
            if c == opened.correction and body is None:
                body = bytearray(self.ring.packed_size(opened.length))
            parts[c] = self._component(opened, c, out=buffer, body=body)
        return NodeShare(node=node, parts=parts, scale_bits=opened.scale_bits)

    def unwrap(
        self, sealed: SealedShares, *, node: int, keypair: KeyPair, aad: bytes
    ) -> OpenedUpload:
        """Open ``node``'s key envelope and authenticate the body; expand nothing yet.

        Raises
        ------
        EnvelopeError
            Wrong key, tampering, or an upload made for another context (``aad``).
        """
        self._check_node(node)
        if not 0 <= sealed.correction < len(self.components):
            raise ProtocolError(f"correction component {sealed.correction} out of range")
        context = _context(aad, sealed.length, sealed.scale_bits, sealed.correction)
        reader = node in self.holders(sealed.correction)
        data_key, seed_bytes = open_key_for(
            sealed.envelope, node, keypair, aad=context, reader=reader
        )
        seeded = [c for c in self.held_by(node) if c != sealed.correction]
        if len(seed_bytes) < SEED_BYTES * len(seeded):
            raise ProtocolError(f"node {node} expected {len(seeded)} seeds")
        if reader and data_key is None:
            raise ProtocolError(f"node {node} holds the correction but got no data key")
        seeds = {c: seed_bytes[i * SEED_BYTES : (i + 1) * SEED_BYTES] for i, c in enumerate(seeded)}
        return OpenedUpload(
            node=node,
            length=sealed.length,
            scale_bits=sealed.scale_bits,
            correction=sealed.correction,
            seeds=seeds,
            envelope=sealed.envelope,
            data_key=data_key,
            context=context,
            extra=bytes(seed_bytes[SEED_BYTES * len(seeded) :]),
        )

    def _component(
        self, opened: OpenedUpload, component: int, *, out: np.ndarray, body: bytearray | None
    ) -> np.ndarray:
        """Write component ``component`` of ``opened`` into ``out`` (n + 2 words) and return it.

        A seeded component is its PRG stream; the correction is decrypted into ``body`` (a
        buffer of the packed size) and unpacked.
        """
        if component in opened.seeds:
            seed = opened.seeds[component]
            return expand(seed, opened.length, label=_component_label(component), out=out)
        if component != opened.correction or opened.data_key is None:
            raise ProtocolError(f"node {opened.node} does not hold component {component}")
        assert body is not None
        payload = open_body(opened.envelope, opened.data_key, aad=opened.context, out=body)
        return self.ring.unpack(payload, opened.length, out=out)

    def combine(
        self,
        uploads: Sequence[OpenedUpload],
        coefficients: Sequence[int] | np.ndarray,
        *,
        components: Iterable[int] | None = None,
        scratch: np.ndarray | None = None,
        body: bytearray | None = None,
    ) -> NodeShare:
        """Σ_k c_k · upload_k for one node, expanding each component only when it is needed.

        The fused form of :meth:`open` followed by :meth:`linear_combination`: each
        client's component is generated (PRG) or decrypted and unpacked into one reusable
        scratch buffer, scaled and added, so no per-client vector is ever stored.

        Parameters
        ----------
        uploads
            This node's :class:`OpenedUpload` of every client, all of one length.
        coefficients
            Public integer weights (negative ones wrap mod 2^ℓ).
        components
            Which held components to compute (default: all this node holds). With one
            component per node (see :meth:`assign`) each component is computed once
            instead of n − t times; reconstruction then has no copies to cross-check.
        scratch, body
            Optional reusable buffers: ``uint64`` of at least n + 2 words, and a
            ``bytearray`` of the packed size of n elements (for decrypted corrections).
            Fresh memory costs a page fault per 4 KiB on first write, which on the
            reference VM is as slow as the arithmetic itself.
        """
        if not uploads or len(uploads) != len(coefficients):
            raise ProtocolError("need one coefficient per upload")
        node, length = uploads[0].node, uploads[0].length
        if any(u.node != node or u.length != length for u in uploads):
            raise ProtocolError("combine mixes uploads of different nodes or lengths")
        held = self.held_by(node)
        wanted = held if components is None else tuple(sorted(set(components)))
        if not set(wanted) <= set(held):
            raise ProtocolError(f"node {node} does not hold components {sorted(wanted)}")
        coeffs = np.asarray(coefficients).astype(np.int64).view(np.uint64)
        if scratch is None:
            scratch = np.empty(length + 2, dtype=np.uint64)
        elif scratch.dtype != np.uint64 or len(scratch) < length + 2:
            raise ProtocolError(f"scratch must be uint64 of >= {length + 2} words")
        if body is not None and len(body) != self.ring.packed_size(length):
            raise ProtocolError(f"body buffer must be {self.ring.packed_size(length)} bytes")
        parts: dict[int, np.ndarray] = {}
        for c in wanted:
            acc: np.ndarray | None = None
            for upload, coeff in zip(uploads, coeffs, strict=True):
                if coeff == 0:
                    continue
                if c == upload.correction and body is None:
                    body = bytearray(self.ring.packed_size(length))
                vec = self._component(upload, c, out=scratch, body=body)
                if acc is None:  # the first term initialises the (fresh) accumulator
                    acc = np.multiply(vec, coeff)
                elif coeff == 1:
                    np.add(acc, vec, out=acc)
                else:
                    np.multiply(vec, coeff, out=vec)
                    np.add(acc, vec, out=acc)
            parts[c] = np.zeros(length, dtype=np.uint64) if acc is None else acc
        return NodeShare(node=node, parts=parts, scale_bits=uploads[0].scale_bits)

    def assign(self, available: Iterable[int] | None = None) -> dict[int, tuple[int, ...]]:
        """Give every component to exactly one available holder, balancing the load.

        With all n nodes available and n = 3, t = 1 each node computes one component.
        Any t + 1 available nodes cover every component (a t-subset cannot contain them).

        Raises
        ------
        ThresholdError
            Fewer than t + 1 distinct available nodes.
        """
        nodes = sorted(set(range(self.n_nodes) if available is None else available))
        for j in nodes:
            self._check_node(j)
        if len(nodes) < self.threshold + 1:
            raise ThresholdError(
                available=len(nodes), required=self.threshold + 1, what="compute nodes"
            )
        load = dict.fromkeys(nodes, 0)
        owner: dict[int, int] = {}
        for c in range(len(self.components)):
            holders = [j for j in self.holders(c) if j in load]
            owner[c] = min(holders, key=lambda j: (load[j], (j - c) % self.n_nodes))
            load[owner[c]] += 1
        moved = True
        while moved:  # local moves to a less loaded holder; Σ load² strictly decreases
            moved = False
            for c, j in owner.items():
                lighter = [h for h in self.holders(c) if h in load and load[h] + 1 < load[j]]
                if lighter:
                    target = min(lighter, key=lambda h: load[h])
                    load[j], load[target], owner[c] = load[j] - 1, load[target] + 1, target
                    moved = True
        return {j: tuple(c for c in sorted(owner) if owner[c] == j) for j in nodes}

    # ---------------------------------------------------------- reconstruction
    def reconstruct(self, shares: Iterable[NodeShare], *, verify: bool = True) -> np.ndarray:
        """Recombine the shares of at least t + 1 distinct nodes.

        Shares may carry only some of a node's components (see :meth:`assign`); every
        component needs at least one copy, and copies present twice are cross-checked.

        Raises
        ------
        ThresholdError
            Fewer than t + 1 nodes, or no share carries some component.
        ShareMismatchError
            ``verify`` and two nodes hold different copies of a component.
        """
        by_node: dict[int, NodeShare] = {}
        for s in shares:
            self._check_node(s.node)
            by_node[s.node] = s
        if len(by_node) < self.threshold + 1:
            raise ThresholdError(
                available=len(by_node), required=self.threshold + 1, what="compute nodes"
            )
        total: np.ndarray | None = None
        for c in range(len(self.components)):
            copies = [
                (j, by_node[j].parts[c])
                for j in self.holders(c)
                if j in by_node and c in by_node[j].parts
            ]
            if not copies:
                raise ThresholdError(
                    available=0, required=1, what=f"partials carrying component {c}"
                )
            first_node, value = copies[0]
            if verify:
                for j, other in copies[1:]:
                    diff = np.bitwise_xor(other, value)
                    if np.any(np.bitwise_and(diff, self.ring.mask, out=diff)):
                        raise ShareMismatchError(component=c, parties=(first_node, j))
            if total is None:
                total = np.array(value, dtype=np.uint64)
            else:
                np.add(total, value, out=total)
        assert total is not None
        if self.ring.bits < 64:
            np.bitwise_and(total, self.ring.mask, out=total)
        return total

    # --------------------------------------------------- local linear algebra
    def linear_combination(
        self, shares: Sequence[NodeShare], coefficients: Sequence[int] | np.ndarray
    ) -> NodeShare:
        """Σ_k c_k · share_k on one node's shares (public integer coefficients)."""
        if not shares or len(shares) != len(coefficients):
            raise ProtocolError("need one coefficient per share")
        node = shares[0].node
        if any(s.node != node for s in shares):
            raise ProtocolError("linear_combination mixes shares of different nodes")
        coeffs = np.asarray(coefficients).astype(np.int64).view(np.uint64)
        parts: dict[int, np.ndarray] = {}
        for c in self.held_by(node):
            acc = np.zeros(shares[0].length, dtype=np.uint64)
            tmp = np.empty_like(acc)
            for k, s in enumerate(shares):
                np.multiply(s.parts[c], coeffs[k], out=tmp)
                np.add(acc, tmp, out=acc)
            parts[c] = acc
        return NodeShare(node=node, parts=parts, scale_bits=shares[0].scale_bits)

    def add(self, a: NodeShare, b: NodeShare) -> NodeShare:
        """Share of the sum (same node, same scale)."""
        _same(a, b)
        return NodeShare(
            node=a.node,
            parts={c: a.parts[c] + b.parts[c] for c in a.parts},
            scale_bits=a.scale_bits,
        )

    def add_public(self, a: NodeShare, constant: np.ndarray) -> NodeShare:
        """Share of ``x + constant``: the constant joins component 0 at its holders."""
        k = np.asarray(constant, dtype=np.uint64)
        parts = {c: (v + k if c == 0 else v) for c, v in a.parts.items()}
        return NodeShare(node=a.node, parts=parts, scale_bits=a.scale_bits)


def _same(a: NodeShare, b: NodeShare) -> None:
    if a.node != b.node or a.scale_bits != b.scale_bits or set(a.parts) != set(b.parts):
        raise ProtocolError("shares of different nodes or scales cannot be combined")


def _component_label(component: int) -> bytes:
    return b"rss-component-" + struct.pack(">I", component)


def _context(aad: bytes, length: int, scale_bits: int, correction: int) -> bytes:
    # v2: planar packing and the GCM-path PRG (v1 uploads fail authentication, loudly).
    return b"flai/mpc/rss/v2" + struct.pack(">QII", length, scale_bits, correction) + aad
