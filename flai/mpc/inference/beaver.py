"""The one-shot inference protocol: a sealed query multiplied with a Beaver triple.

For a user without a session (:mod:`flai.mpc.inference`): the query is a sealed,
seed-compressed replicated upload (:meth:`ReplicatedScheme.seal`, fresh ephemeral X25519
keys) and the nodes multiply with a Beaver triple (Beaver, CRYPTO 1991):

1. A triple ([a], [b'], [c]) with c = a ⊙ b' (vectors of length d, uniform in Z_{2^64}) is
   taken from the dealer's pool; every triple is used once.
2. The nodes open ε = x − a and δ = w − b' (uniform, so they reveal nothing).
3. Each node computes [x ⊙ w] = [c] + ε ⊙ [b'] + δ ⊙ [a] + ε ⊙ δ (the public term joins
   component 0) and then [z] = Σ_i [x_i w_i] + [b], all locally.
4. Each node seals its logit share to the client's X25519 key; the client reconstructs z
   from any t + 1 nodes.

The coefficients carry f fractional bits and the intercept 2f, so z carries 2f and the
client decodes it without truncation; :func:`share_model` refuses a model whose worst-case
logit would leave :attr:`InferenceConfig.logit_bound`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from flai.mpc.encoding import FixedPoint
from flai.mpc.envelope import KeyPair, open_sealed, seal
from flai.mpc.errors import EncodingRangeError, ProtocolError, ThresholdError
from flai.mpc.inference.params import InferenceConfig
from flai.mpc.prg import random_words
from flai.mpc.replicated import NodeShare, SealedShares

__all__ = [
    "InferenceClient",
    "InferenceNode",
    "ModelShare",
    "SecureLogisticRegression",
    "TripleDealer",
    "TripleShare",
    "share_model",
]


@dataclass(frozen=True)
class ModelShare:
    """One node's shares of the coefficients (scale f) and intercept (scale 2f)."""

    coef: NodeShare
    intercept: NodeShare


@dataclass(frozen=True)
class TripleShare:
    """One node's shares of a Beaver triple (a, b', c = a ⊙ b') with identifier ``triple_id``."""

    triple_id: int
    a: NodeShare
    b: NodeShare
    c: NodeShare


def share_model(
    coef: np.ndarray, intercept: float, *, config: InferenceConfig
) -> dict[int, ModelShare]:
    """Replicated-share a logistic model among the compute nodes.

    Raises
    ------
    EncodingRangeError
        A coefficient exceeds ``max_abs`` or the worst-case logit exceeds the ring's range.
    """
    codec = config.fixed_point
    w = np.asarray(coef, dtype=np.float64).reshape(-1)
    worst = float(np.sum(np.abs(w)) * config.max_abs + abs(intercept))
    if not np.isfinite(worst) or worst > config.logit_bound:
        raise EncodingRangeError(value=worst, limit=config.logit_bound, what="worst-case logit")
    scheme = config.scheme
    coef_shares = scheme.share(codec.encode(w), scale_bits=config.frac_bits)
    bias = FixedPoint(ring=codec.ring, frac_bits=2 * config.frac_bits).encode(np.array([intercept]))
    bias_shares = scheme.share(bias, scale_bits=2 * config.frac_bits)
    return {
        j: ModelShare(coef=coef_shares[j], intercept=bias_shares[j]) for j in range(config.n_nodes)
    }


class TripleDealer:
    """Trusted dealer of Beaver triples (see the trust assumptions of :mod:`flai.mpc.inference`)."""

    def __init__(self, *, config: InferenceConfig) -> None:
        self._scheme = config.scheme
        self._ids = count()

    def deal(self, length: int) -> dict[int, TripleShare]:
        """Make one triple of vectors of ``length`` and return each node's shares."""
        a, b = random_words(length), random_words(length)
        c = a * b
        sa, sb, sc = (self._scheme.share(v) for v in (a, b, c))
        triple_id = next(self._ids)
        return {
            j: TripleShare(triple_id=triple_id, a=sa[j], b=sb[j], c=sc[j])
            for j in range(self._scheme.n_nodes)
        }


def _query_aad(query_id: int) -> bytes:
    return b"flai/mpc/inference/query" + struct.pack(">Q", query_id)


def _output_aad(query_id: int, node: int) -> bytes:
    return b"flai/mpc/inference/logit" + struct.pack(">QQ", query_id, node)


class InferenceNode:
    """A compute node holding a model share and a pool of triple shares."""

    def __init__(
        self,
        *,
        index: int,
        config: InferenceConfig,
        model: ModelShare,
        keypair: KeyPair | None = None,
    ) -> None:
        self.index = index
        self._scheme = config.scheme
        self._model = model
        self._keypair = keypair or KeyPair.generate()
        self._triples: dict[int, TripleShare] = {}
        self._used: set[int] = set()
        self._pending: dict[int, tuple[TripleShare, NodeShare]] = {}

    @property
    def public_key(self) -> bytes:
        """X25519 key clients seal their query shares to."""
        return self._keypair.public_bytes

    def open_query(self, sealed: SealedShares, *, query_id: int) -> NodeShare:
        """Decrypt this node's part of a client's sealed query."""
        return self._scheme.open(
            sealed, node=self.index, keypair=self._keypair, aad=_query_aad(query_id)
        )

    def seal_output(self, share: NodeShare, *, client_public: bytes, query_id: int) -> bytes:
        """Seal this node's logit share so that only the querying client can read it."""
        body = struct.pack(">I", share.scale_bits) + b"".join(
            struct.pack(">IQ", c, int(v[0])) for c, v in sorted(share.parts.items())
        )
        return seal(body, client_public, aad=_output_aad(query_id, self.index))

    @property
    def triples_left(self) -> int:
        """Unused triples in this node's pool."""
        return len(self._triples)

    @property
    def next_triple_id(self) -> int | None:
        """Smallest unused triple id in the pool (``None`` when empty)."""
        return min(self._triples) if self._triples else None

    def add_triples(self, triples: Iterable[TripleShare]) -> None:
        """Append dealt triple shares (in dealing order)."""
        for t in triples:
            if t.a.node != self.index:
                raise ProtocolError(f"triple share for node {t.a.node} given to node {self.index}")
            if t.triple_id in self._used or t.triple_id in self._triples:
                raise ProtocolError(f"triple {t.triple_id} dealt twice to node {self.index}")
            self._triples[t.triple_id] = t

    def mask(self, query_id: int, x: NodeShare, *, triple_id: int) -> tuple[NodeShare, NodeShare]:
        """Step 2: consume triple ``triple_id`` and return ([x − a], [w − b']).

        Triples with smaller ids are discarded: the other nodes consumed them while this
        node was unavailable, so they are burned.
        """
        if query_id in self._pending:
            raise ProtocolError(f"query {query_id} already in progress on node {self.index}")
        if triple_id in self._used:
            raise ProtocolError(f"triple {triple_id} already used on node {self.index}")
        if triple_id not in self._triples:
            raise ProtocolError(f"node {self.index} has no Beaver triple {triple_id}")
        for stale in [i for i in self._triples if i < triple_id]:
            self._used.add(stale)
            del self._triples[stale]
        triple = self._triples.pop(triple_id)
        self._used.add(triple_id)
        if x.length != triple.a.length or x.length != self._model.coef.length:
            raise ProtocolError(
                f"query length {x.length} != model length {self._model.coef.length}"
            )
        self._pending[query_id] = (triple, x)
        eps = NodeShare(node=self.index, parts={c: x.parts[c] - triple.a.parts[c] for c in x.parts})
        w = self._model.coef
        delta = NodeShare(
            node=self.index, parts={c: w.parts[c] - triple.b.parts[c] for c in w.parts}
        )
        return eps, delta

    def logit(
        self, query_id: int, *, triple_id: int, epsilon: np.ndarray, delta: np.ndarray
    ) -> NodeShare:
        """Step 3: this node's share of z = w·x + b, given the opened ε and δ."""
        if query_id not in self._pending:
            raise ProtocolError(f"query {query_id} was not masked on node {self.index}")
        triple, _ = self._pending.pop(query_id)
        if triple.triple_id != triple_id:
            raise ProtocolError(
                f"node {self.index} used triple {triple.triple_id}, peers used {triple_id}"
            )
        parts = {}
        for c in triple.c.parts:
            prod = triple.c.parts[c] + epsilon * triple.b.parts[c] + delta * triple.a.parts[c]
            if c == 0:
                prod = prod + epsilon * delta
            parts[c] = prod.sum(dtype=np.uint64, keepdims=True) + self._model.intercept.parts[c]
        return NodeShare(node=self.index, parts=parts, scale_bits=self._model.intercept.scale_bits)


class InferenceClient:
    """A model user of the one-shot protocol: shares its query and reconstructs the answer.

    Parameters
    ----------
    config
        Sharing parameters.
    keypair
        The X25519 key the nodes seal the logit shares to. Pass the user's persistent key
        to open outputs sealed before a restart; by default a fresh key is drawn.
    """

    def __init__(self, *, config: InferenceConfig, keypair: KeyPair | None = None) -> None:
        self.config = config
        self._scheme = config.scheme
        self._codec = config.fixed_point
        self._keypair = keypair or KeyPair.generate()

    @property
    def public_key(self) -> bytes:
        """X25519 key the nodes seal their logit shares to."""
        return self._keypair.public_bytes

    def seal_query(
        self, x: np.ndarray, node_public_keys: Mapping[int, bytes], *, query_id: int
    ) -> SealedShares:
        """Encode, share and encrypt the query for the nodes (one upload)."""
        encoded = self._codec.encode(np.asarray(x, dtype=np.float64).reshape(-1))
        return self._scheme.seal(
            encoded, node_public_keys, aad=_query_aad(query_id), scale_bits=self.config.frac_bits
        )

    def open_outputs(self, sealed: Mapping[int, bytes], *, query_id: int) -> list[NodeShare]:
        """Decrypt the nodes' sealed logit shares."""
        out = []
        for node, envelope in sealed.items():
            body = open_sealed(envelope, self._keypair, aad=_output_aad(query_id, node))
            if len(body) < 4 or (len(body) - 4) % 12:
                raise ProtocolError(f"malformed logit share from node {node}")
            (scale,) = struct.unpack(">I", body[:4])
            parts = {}
            for off in range(4, len(body), 12):
                c, v = struct.unpack(">IQ", body[off : off + 12])
                parts[c] = np.array([v], dtype=np.uint64)
            out.append(NodeShare(node=node, parts=parts, scale_bits=scale))
        return out

    def share_query(self, x: np.ndarray) -> dict[int, NodeShare]:
        """Encode and share the query (one :class:`NodeShare` per node)."""
        encoded = self._codec.encode(np.asarray(x, dtype=np.float64).reshape(-1))
        return self._scheme.share(encoded, scale_bits=self.config.frac_bits)

    def logit(self, shares: Iterable[NodeShare]) -> float:
        """Reconstruct z from at least t + 1 nodes' logit shares."""
        z = self._scheme.reconstruct(shares)
        return float(
            self._codec.decode(
                z, scale_bits=2 * self.config.frac_bits, bound=self.config.logit_bound
            )[0]
        )

    def probability(self, shares: Iterable[NodeShare]) -> float:
        """σ(z), applied client-side."""
        z = self.logit(shares)
        return float(1.0 / (1.0 + np.exp(-z)))


@dataclass
class SecureLogisticRegression:
    """In-process deployment: n inference nodes, a dealer, and a query helper."""

    config: InferenceConfig
    nodes: Sequence[InferenceNode]
    dealer: TripleDealer
    length: int
    _queries: count = field(default_factory=count)

    @classmethod
    def deploy(
        cls, *, coef: np.ndarray, intercept: float, config: InferenceConfig | None = None
    ) -> SecureLogisticRegression:
        """Share the model among fresh nodes (the model owner forgets its plaintext)."""
        cfg = config or InferenceConfig()
        shares = share_model(coef, intercept, config=cfg)
        nodes = [InferenceNode(index=j, config=cfg, model=shares[j]) for j in range(cfg.n_nodes)]
        return cls(
            config=cfg, nodes=nodes, dealer=TripleDealer(config=cfg), length=len(np.ravel(coef))
        )

    def provision_triples(self, n_triples: int) -> None:
        """Have the dealer deal ``n_triples`` triples to every node (offline phase)."""
        for _ in range(n_triples):
            dealt = self.dealer.deal(self.length)
            for node in self.nodes:
                node.add_triples([dealt[node.index]])

    def predict_logit(
        self,
        x: np.ndarray,
        *,
        available_nodes: Iterable[int] | None = None,
        encrypted: bool = True,
    ) -> float:
        """Evaluate z = w·x + b on shares with the ``available_nodes`` (default all).

        With ``encrypted`` (default) the query travels as a sealed, seed-compressed
        upload and each node's logit share comes back sealed to the client's ephemeral
        key, as over an untrusted relay; without it shares are passed in memory.
        """
        client = InferenceClient(config=self.config)
        scheme = self.config.scheme
        query_id = next(self._queries)
        if encrypted:
            keys = {node.index: node.public_key for node in self.nodes}
            sealed_query = client.seal_query(x, keys, query_id=query_id)
        else:
            shares = client.share_query(x)
        active = [
            self.nodes[j]
            for j in (range(self.config.n_nodes) if available_nodes is None else available_nodes)
        ]
        if len(active) < self.config.threshold + 1:
            raise ThresholdError(
                available=len(active), required=self.config.threshold + 1, what="compute nodes"
            )
        heads = [node.next_triple_id for node in active]
        if None in heads:
            raise ProtocolError("Beaver triple pool exhausted; provision more triples")
        triple_id = max(h for h in heads if h is not None)
        if encrypted:
            shares = {n.index: n.open_query(sealed_query, query_id=query_id) for n in active}
        masked = [node.mask(query_id, shares[node.index], triple_id=triple_id) for node in active]
        epsilon = scheme.reconstruct([m[0] for m in masked])
        delta = scheme.reconstruct([m[1] for m in masked])
        outputs = [
            node.logit(query_id, triple_id=triple_id, epsilon=epsilon, delta=delta)
            for node in active
        ]
        if encrypted:
            envelopes = {
                node.index: node.seal_output(
                    out, client_public=client.public_key, query_id=query_id
                )
                for node, out in zip(active, outputs, strict=True)
            }
            outputs = client.open_outputs(envelopes, query_id=query_id)
        return client.logit(outputs)

    def predict_proba(
        self,
        x: np.ndarray,
        *,
        available_nodes: Iterable[int] | None = None,
        encrypted: bool = True,
    ) -> float:
        """σ(w·x + b), with the sigmoid applied by the client."""
        z = self.predict_logit(x, available_nodes=available_nodes, encrypted=encrypted)
        return float(1.0 / (1.0 + np.exp(-z)))
