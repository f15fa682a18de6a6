"""Secret-shared logistic-regression inference (001 §5.4, eq. 8).

The model θ = (w, b) stays replicated-shared among the n compute nodes and a model user
learns only the logit z = w·x + b of its own query; the nodes see neither θ, x nor z.
Two protocols are provided.

**Session protocol** (:class:`InferenceUser`, :class:`MaskedInferenceNode`,
:class:`MaskDealer`; the fast path). It combines SPDZ's input masking (Damgård et al.,
CRYPTO 2012: an input owner holds a random mask r in the clear while the nodes hold [r],
and publishes x − r) with a Beaver multiplication whose model-side opening is done once
per model, which is possible because θ is fixed (as SecureML, Mohassel & Zhang, S&P 2017,
§4.2, does for a fixed operand):

- Once per model: the dealer deals [b'] for a uniform b'; the nodes open δ = θ − b'
  among themselves (δ is uniform, so it reveals nothing about θ).
- Offline, per query slot: the dealer draws a mask r (length d + 1), gives r to one user
  and deals [r] and [r·b'] to the nodes, bound to that user and to a single-use mask id.
  Each node turns them into a share of r·θ = δ·r + r·b' locally and keeps one scalar per
  component.
- Online: the user encodes x̃ = (x, 1) at f fractional bits and sends ε = x̃ − r to every
  node over its session (:class:`~flai.mpc.session.SecureChannel`: AES-256-GCM under a
  key agreed once per session, a counter per query). Each node computes its share
  [z̃] = ε·[θ] + [r·θ] with no interaction with the other nodes and returns it over the
  session. The user reconstructs z̃ = x̃·θ from any t + 1 nodes and divides by the public
  scale. ε is uniform because r is, so the nodes learn nothing about x; the returned
  components are a fresh random sharing of z̃ (the dealer's [r·b'] components are
  uniform), so the user learns z̃ only.

One message to each node and one back per query; the only public-key work is at session
set-up. Replay of a query (its session counter) or of a mask id is refused with
:class:`~flai.mpc.errors.ReplayError`; a mask is bound to the user it was issued to.

**One-shot protocol** (:class:`InferenceClient`, :class:`InferenceNode`,
:class:`TripleDealer`, :class:`SecureLogisticRegression`), for a user without a session:
the query is a sealed, seed-compressed replicated upload (:meth:`ReplicatedScheme.seal`,
fresh ephemeral X25519 keys) and the nodes multiply with a Beaver triple (Beaver,
CRYPTO 1991):

1. A triple ([a], [b'], [c]) with c = a ⊙ b' (vectors of length d, uniform in Z_{2^64}) is
   taken from the dealer's pool; every triple is used once.
2. The nodes open ε = x − a and δ = w − b' (uniform, so they reveal nothing).
3. Each node computes [x ⊙ w] = [c] + ε ⊙ [b'] + δ ⊙ [a] + ε ⊙ δ (the public term joins
   component 0) and then [z] = Σ_i [x_i w_i] + [b], all locally.
4. Each node seals its logit share to the client's X25519 key; the client reconstructs z
   from any t + 1 nodes.

Where the sigmoid runs: **client-side**. σ is a bijection, so revealing z to the client
reveals exactly what revealing σ(z) would; computing σ in MPC would cost a polynomial or
piecewise approximation for no privacy gain. The nodes never see z.

Fixed point: x carries f fractional bits and θ a public scale (2^f when a plaintext model
is shared, the aggregation's scale when the model comes from secure aggregation, see
:mod:`flai.mpc.conversion`), so z carries their product and is decoded by the user without
any truncation protocol. The ring is Z_{2^64}: the worst case Σ|θ_i|·max_abs must stay
below 2^61 at that scale (:func:`share_model`, :func:`share_params` check it) and queries
are rejected beyond ``max_abs``.

Trust assumptions (stated plainly):

- **Dealer**: masks and triples come from a trusted dealer that generates them with the
  OS CSPRNG; it must not collude with any node (knowing r or a, and b', it could unmask x
  and θ from what the nodes see). Replacing it with OT/HE-based preprocessing or a
  3-party multiplication (ABY3) is future work.
- **Nodes**: semi-honest, at most t collude; copies of a component are cross-checked at
  reconstruction, which catches a node that reports an altered copy while another holder
  answers, but this is not a malicious-security guarantee.
- **Output**: only the user that reconstructs learns z.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from flai.mpc.encoding import FixedPoint
from flai.mpc.envelope import KeyPair, open_sealed, seal
from flai.mpc.errors import EncodingRangeError, ProtocolError, ReplayError, ThresholdError
from flai.mpc.prg import random_words
from flai.mpc.replicated import NodeShare, ReplicatedScheme, SealedShares
from flai.mpc.ring import Ring
from flai.mpc.session import SecureChannel

__all__ = [
    "InferenceClient",
    "InferenceConfig",
    "InferenceNode",
    "InferenceUser",
    "MaskDealer",
    "MaskedInference",
    "MaskedInferenceNode",
    "ModelPart",
    "ModelShare",
    "NodeMasks",
    "SecureLogisticRegression",
    "TripleDealer",
    "TripleShare",
    "UserMasks",
    "open_offsets",
    "share_model",
    "share_params",
    "worst_case_logit_bound",
]


@dataclass(frozen=True)
class InferenceConfig:
    """Parameters of secret-shared inference.

    Attributes
    ----------
    n_nodes, threshold
        Replicated sharing among n nodes, private against t, reconstructable by t + 1.
    ring_bits
        ℓ (64: the logit carries 2f fractional bits).
    frac_bits
        f, fractional bits of inputs and coefficients.
    max_abs
        Largest accepted |x_i| and |w_i|.
    """

    n_nodes: int = 3
    threshold: int = 1
    ring_bits: int = 64
    frac_bits: int = 16
    max_abs: float = 1024.0

    @property
    def scheme(self) -> ReplicatedScheme:
        """The replicated sharing scheme."""
        return ReplicatedScheme(
            n_nodes=self.n_nodes, threshold=self.threshold, ring=Ring(self.ring_bits)
        )

    @property
    def fixed_point(self) -> FixedPoint:
        """Codec for inputs and coefficients (f fractional bits)."""
        return FixedPoint(ring=Ring(self.ring_bits), frac_bits=self.frac_bits, max_abs=self.max_abs)

    @property
    def logit_bound(self) -> float:
        """Largest |z| representable at 2f fractional bits with one guard bit."""
        return float(2 ** (self.ring_bits - 3 - 2 * self.frac_bits))


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
    """Trusted dealer of Beaver triples (see the module's trust assumptions)."""

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


# ------------------------------------------------------------------ session protocol

_CONTEXT = b"flai/mpc/inference/session/v1"
_MASK_FORMAT = b"flai/mpc/inference/masks/v1"


def _session_context(model_id: bytes) -> bytes:
    return _CONTEXT + struct.pack(">I", len(model_id)) + model_id


def _masked_query_aad(model_id: bytes) -> bytes:
    return b"query" + model_id


def _masked_logit_aad(model_id: bytes, node: int) -> bytes:
    return b"logit" + struct.pack(">I", node) + model_id


@dataclass(frozen=True)
class ModelPart:
    """One node's shares of the parameters θ = (w, b) at a public scale.

    Attributes
    ----------
    params
        Shares of the integer vector Θ (length d + 1, the intercept last) in Z_{2^64},
        with θ ≈ Θ / ``weight_scale``.
    weight_scale
        2^f for a plaintext model shared with :func:`share_params`; for a model converted
        from secure aggregation, C · 2^(f − s) with C the public weight total and s the
        truncated bits (:mod:`flai.mpc.conversion`).
    """

    params: NodeShare
    weight_scale: float

    @property
    def node(self) -> int:
        """The holding node."""
        return self.params.node

    @property
    def num_features(self) -> int:
        """d (the parameter vector has d + 1 entries)."""
        return self.params.length - 1


def worst_case_logit_bound(*, weight_scale: float, config: InferenceConfig) -> float:
    """Largest |z| the user can decode for a model at ``weight_scale``.

    z̃ = z · weight_scale · 2^f must stay below 2^61 (two guard bits in Z_{2^64}, so that
    differences of two logits never wrap either).
    """
    return float(2**61 / (weight_scale * 2.0**config.frac_bits))


def share_params(
    coef: np.ndarray, intercept: float, *, config: InferenceConfig
) -> dict[int, ModelPart]:
    """Replicated-share a plaintext model for the session protocol (scale 2^f).

    Raises
    ------
    EncodingRangeError
        A coefficient exceeds ``max_abs`` or the worst-case logit Σ|w_i|·max_abs + |b|
        exceeds :func:`worst_case_logit_bound`.
    """
    w = np.asarray(coef, dtype=np.float64).reshape(-1)
    theta = np.append(w, float(intercept))
    scale = 2.0**config.frac_bits
    worst = float(np.sum(np.abs(w)) * config.max_abs + abs(intercept))
    bound = worst_case_logit_bound(weight_scale=scale, config=config)
    if not np.isfinite(worst) or worst > bound:
        raise EncodingRangeError(value=worst, limit=bound, what="worst-case logit")
    shares = config.scheme.share(config.fixed_point.encode(theta), scale_bits=config.frac_bits)
    return {j: ModelPart(params=shares[j], weight_scale=scale) for j in shares}


@dataclass(frozen=True)
class UserMasks:
    """Input masks issued to one user: row k is the mask of mask id ``first + k``.

    Attributes
    ----------
    user
        The user's static X25519 public key (only its sessions may spend these masks).
    first
        Mask id of the first row.
    masks
        ``uint64`` array of shape (count, d + 1).
    """

    user: bytes
    first: int
    masks: np.ndarray

    @property
    def count(self) -> int:
        """Number of masks."""
        return int(self.masks.shape[0])

    def to_bytes(self) -> bytes:
        """Wire form (secret: send it sealed to the user, e.g. with :func:`seal`)."""
        rows, width = self.masks.shape
        return (
            _MASK_FORMAT
            + self.user
            + struct.pack(">QII", self.first, rows, width)
            + np.ascontiguousarray(self.masks, dtype="<u8").tobytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> UserMasks:
        """Inverse of :meth:`to_bytes`; raise :class:`ProtocolError` on a malformed blob."""
        head = len(_MASK_FORMAT) + 32 + 16
        if len(data) < head or not data.startswith(_MASK_FORMAT):
            raise ProtocolError("not a FLAI mask blob")
        user = data[len(_MASK_FORMAT) : len(_MASK_FORMAT) + 32]
        first, rows, width = struct.unpack_from(">QII", data, len(_MASK_FORMAT) + 32)
        if len(data) != head + 8 * rows * width:
            raise ProtocolError(f"mask blob of {rows}x{width} masks has {len(data)} bytes")
        masks = np.frombuffer(data, dtype="<u8", offset=head).reshape(rows, width)
        return cls(user=user, first=first, masks=masks.astype(np.uint64))


@dataclass(frozen=True)
class NodeMasks:
    """One node's part of an issued mask batch.

    Attributes
    ----------
    user, first, count
        As in :class:`UserMasks`.
    r
        This node's shares of the masks, flattened row by row (count · (d + 1)).
    rb
        This node's shares of r_k · b' for each mask (count).
    """

    user: bytes
    first: int
    count: int
    r: NodeShare
    rb: NodeShare


class MaskDealer:
    """Trusted dealer of the session protocol's correlated randomness for one model.

    It keeps b' for the model's lifetime and must not collude with any node (see the
    module's trust assumptions).

    Parameters
    ----------
    config
        Sharing parameters.
    length
        d + 1, the model's parameter count.
    """

    def __init__(self, *, config: InferenceConfig, length: int) -> None:
        if length < 2:
            raise ProtocolError(f"a model has at least one feature and an intercept, got {length}")
        self._scheme = config.scheme
        self.length = length
        self._b = random_words(length)
        self._next = 0

    def offsets(self) -> dict[int, NodeShare]:
        """Every node's share of b' (dealt once per model; see :meth:`MaskedInferenceNode.offset`)."""
        return self._scheme.share(self._b)

    def issue(self, *, user: bytes, count: int) -> tuple[UserMasks, dict[int, NodeMasks]]:
        """Draw ``count`` fresh masks for ``user``: its clear masks and each node's part."""
        if count < 1:
            raise ProtocolError(f"mask count must be positive, got {count}")
        if len(user) != 32:
            raise ProtocolError(f"user key must be 32 bytes, got {len(user)}")
        r = random_words(count * self.length).reshape(count, self.length)
        rb = (r * self._b).sum(axis=1, dtype=np.uint64)
        shares_r, shares_rb = self._scheme.share(r.reshape(-1)), self._scheme.share(rb)
        first, self._next = self._next, self._next + count
        nodes = {
            j: NodeMasks(user=user, first=first, count=count, r=shares_r[j], rb=shares_rb[j])
            for j in range(self._scheme.n_nodes)
        }
        return UserMasks(user=user, first=first, masks=r), nodes


def _pack_parts(share: NodeShare) -> bytes:
    rows = share.length
    return struct.pack(">IB", rows, len(share.parts)) + b"".join(
        struct.pack(">B", c) + np.asarray(v, dtype="<u8").tobytes()
        for c, v in sorted(share.parts.items())
    )


def _parse_parts(node: int, body: bytes, rows: int | None) -> NodeShare:
    if len(body) < 5:
        raise ProtocolError(f"malformed share message from node {node}")
    got_rows, n_parts = struct.unpack_from(">IB", body)
    if (rows is not None and got_rows != rows) or len(body) != 5 + n_parts * (1 + 8 * got_rows):
        raise ProtocolError(f"malformed share message from node {node}")
    parts, off = {}, 5
    for _ in range(n_parts):
        c = body[off]
        parts[c] = np.frombuffer(body, dtype="<u8", count=got_rows, offset=off + 1).astype(
            np.uint64
        )
        off += 1 + 8 * got_rows
    return NodeShare(node=node, parts=parts)


@dataclass
class _MaskBatch:
    user: bytes
    first: int
    values: dict[int, np.ndarray]  # component -> share of r_k·θ per mask
    used: np.ndarray


class MaskedInferenceNode:
    """A compute node of the session protocol: model share, mask store and sessions.

    Parameters
    ----------
    index
        The node's index in ``range(n)``.
    config
        Sharing parameters.
    model
        This node's :class:`ModelPart`.
    keypair
        The node's static X25519 key (users open sessions to its public key).
    model_id
        Public identifier of the model version, bound into every session and message so
        a query for one version is never evaluated against another.
    """

    def __init__(
        self,
        *,
        index: int,
        config: InferenceConfig,
        model: ModelPart,
        keypair: KeyPair,
        model_id: bytes = b"",
    ) -> None:
        if model.node != index:
            raise ProtocolError(f"model share of node {model.node} given to node {index}")
        self.index = index
        self.config = config
        self.model_id = model_id
        self._scheme = config.scheme
        self._model = model
        self._theta = {
            c: np.ascontiguousarray(v, dtype=np.uint64) for c, v in model.params.parts.items()
        }
        self._length = model.params.length
        self._keypair = keypair
        self._delta: np.ndarray | None = None
        self._sessions: dict[bytes, SecureChannel] = {}
        self._batches: dict[int, _MaskBatch] = {}
        self._firsts: list[int] = []
        self._query_aad = _masked_query_aad(model_id)
        self._logit_aad = _masked_logit_aad(model_id, index)

    @property
    def public_key(self) -> bytes:
        """The node's static X25519 public key."""
        return self._keypair.public_bytes

    @property
    def weight_scale(self) -> float:
        """The model's public scale."""
        return self._model.weight_scale

    # ------------------------------------------------------------------ offline
    def offset(self, b_share: NodeShare) -> NodeShare:
        """This node's share of δ = θ − b' (to be opened among the nodes once per model)."""
        if b_share.node != self.index or b_share.length != self._length:
            raise ProtocolError(f"offset share for node {b_share.node} given to node {self.index}")
        return NodeShare(
            node=self.index, parts={c: self._theta[c] - b_share.parts[c] for c in self._theta}
        )

    def set_offset(self, delta: np.ndarray) -> None:
        """Store the opened δ = θ − b'."""
        d = np.asarray(delta, dtype=np.uint64).reshape(-1)
        if d.shape[0] != self._length:
            raise ProtocolError(f"offset of length {d.shape[0]} for a model of {self._length}")
        self._delta = d

    def add_masks(self, masks: NodeMasks) -> None:
        """Store a mask batch as one share of r_k·θ = δ·r_k + r_k·b' per mask.

        Raises
        ------
        ProtocolError
            No δ yet, a share for another node, or mask ids dealt twice.
        """
        if self._delta is None:
            raise ProtocolError(f"node {self.index} has no model offset; open δ first")
        if masks.r.node != self.index or masks.rb.node != self.index:
            raise ProtocolError(f"mask shares for node {masks.r.node} given to node {self.index}")
        if masks.r.length != masks.count * self._length or masks.rb.length != masks.count:
            raise ProtocolError("mask batch has the wrong size for this model")
        pos = bisect.bisect_right(self._firsts, masks.first)
        previous = self._batches.get(self._firsts[pos - 1]) if pos else None
        following = self._firsts[pos] if pos < len(self._firsts) else None
        if (previous is not None and previous.first + len(previous.used) > masks.first) or (
            following is not None and following < masks.first + masks.count
        ):
            raise ReplayError(what="input mask", counter=masks.first)
        values = {
            c: masks.r.parts[c].reshape(masks.count, self._length) @ self._delta + masks.rb.parts[c]
            for c in self._theta
        }
        self._batches[masks.first] = _MaskBatch(
            user=masks.user, first=masks.first, values=values, used=np.zeros(masks.count, bool)
        )
        self._firsts.insert(pos, masks.first)

    @property
    def masks_left(self) -> int:
        """Unspent masks in this node's store."""
        return int(sum(len(b.used) - int(b.used.sum()) for b in self._batches.values()))

    # ------------------------------------------------------------------- online
    def accept(self, hello: bytes) -> bytes:
        """Accept a user's session; return its id.

        Raises
        ------
        EnvelopeError
            A hello that does not authenticate (wrong node key or model, forged).
        """
        channel = SecureChannel.accept(
            hello, own=self._keypair, context=_session_context(self.model_id)
        )
        self._sessions[channel.session_id] = channel
        return channel.session_id

    def _take_masks(self, user: bytes, first: int, rows: int) -> tuple[_MaskBatch, slice]:
        pos = bisect.bisect_right(self._firsts, first)
        batch = self._batches.get(self._firsts[pos - 1]) if pos else None
        if batch is None or first + rows > batch.first + len(batch.used):
            raise ProtocolError(f"node {self.index} has no masks {first}..{first + rows - 1}")
        if batch.user != user:
            raise ProtocolError(f"masks {first}.. were issued to another user")
        window = slice(first - batch.first, first - batch.first + rows)
        if batch.used[window].any():
            raise ReplayError(what="input mask", counter=first)
        batch.used[window] = True
        return batch, window

    def _shares_of(self, message: bytes) -> tuple[SecureChannel, int, dict[int, np.ndarray]]:
        sid = SecureChannel.session_of(message)
        channel = self._sessions.get(sid)
        if channel is None:
            raise ProtocolError(f"node {self.index} has no session {sid.hex()}")
        counter, body = channel.open(message, aad=self._query_aad)
        if len(body) < 16:
            raise ProtocolError("malformed masked query")
        first, rows, width = struct.unpack_from(">QII", body)
        if width != self._length or len(body) != 16 + 8 * rows * width or rows == 0:
            raise ProtocolError(f"query of {rows}x{width} for a model of {self._length} parameters")
        eps = np.frombuffer(body, dtype="<u8", offset=16).reshape(rows, width)
        batch, window = self._take_masks(channel.peer_public, first, rows)
        out = {c: eps @ theta + batch.values[c][window] for c, theta in self._theta.items()}
        return channel, counter, out

    def evaluate(self, message: bytes) -> bytes:
        """Answer a sealed query: this node's shares of z̃ = x̃·Θ, sealed over the session.

        Raises
        ------
        EnvelopeError
            A message that does not authenticate for its session and this model.
        ReplayError
            A session counter or a mask id seen before.
        ProtocolError
            An unknown session, a query of the wrong width, or masks not issued to the
            session's user.
        """
        channel, counter, parts = self._shares_of(message)
        body = _pack_parts(NodeShare(node=self.index, parts=parts))
        return channel.seal(body, counter=counter, aad=self._logit_aad)

    def evaluate_shared(self, message: bytes) -> tuple[bytes, int, NodeShare]:
        """Evaluate a sealed query and keep the result shared (e.g. logits of a holdout).

        Returns
        -------
        tuple
            ``(session id, counter, this node's share of z̃ per row)``; the scale of z̃ is
            ``weight_scale · 2^f``.
        """
        channel, counter, parts = self._shares_of(message)
        return channel.session_id, counter, NodeShare(node=self.index, parts=parts)

    def receive_shares(self, message: bytes) -> tuple[bytes, int, NodeShare]:
        """Open a vector a user shared with :meth:`InferenceUser.share_values`.

        Returns
        -------
        tuple
            ``(session id, counter, this node's share)``.
        """
        sid = SecureChannel.session_of(message)
        channel = self.session(sid)
        counter, body = channel.open(message, aad=b"shares" + self.model_id)
        return sid, counter, _parse_parts(self.index, body, None)

    def reply(self, session_id: bytes, share: NodeShare, *, counter: int) -> bytes:
        """Seal this node's share of a result to the session's user (message ``counter``)."""
        return self.session(session_id).seal(
            _pack_parts(share), counter=counter, aad=b"result" + self._logit_aad
        )

    def session(self, session_id: bytes) -> SecureChannel:
        """The channel of an accepted session (to seal other results to its user)."""
        if session_id not in self._sessions:
            raise ProtocolError(f"node {self.index} has no session {session_id.hex()}")
        return self._sessions[session_id]


class InferenceUser:
    """A model user of the session protocol.

    Parameters
    ----------
    config
        Sharing parameters (x is encoded at f fractional bits within ``max_abs``).
    keypair
        The user's static X25519 key: its identity towards the nodes and the key the
        dealer seals its masks to.
    node_public_keys
        Node index → the node's static X25519 public key.
    weight_scale, num_features
        The model's public scale and d (from the model version's public description).
    model_id
        Public identifier of the model version (as given to the nodes).
    """

    def __init__(
        self,
        *,
        config: InferenceConfig,
        keypair: KeyPair,
        node_public_keys: Mapping[int, bytes],
        weight_scale: float,
        num_features: int,
        model_id: bytes = b"",
    ) -> None:
        if set(node_public_keys) != set(range(config.n_nodes)):
            raise ProtocolError(f"need public keys for nodes 0..{config.n_nodes - 1}")
        self.config = config
        self.model_id = model_id
        self.weight_scale = float(weight_scale)
        self.num_features = num_features
        self._scheme = config.scheme
        self._codec = config.fixed_point
        self._keypair = keypair
        self._keys = dict(node_public_keys)
        self._channels: dict[int, SecureChannel] = {}
        self._batches: list[UserMasks] = []
        self._cursor = 0  # rows of the first batch already spent
        self._next_query = 0
        self._pending: dict[int, int] = {}
        self._query_aad = _masked_query_aad(model_id)
        self._bound = worst_case_logit_bound(weight_scale=self.weight_scale, config=config)
        self._one = np.uint64(1 << config.frac_bits)

    @property
    def public_key(self) -> bytes:
        """The user's static X25519 public key."""
        return self._keypair.public_bytes

    def connect(self, nodes: Iterable[int] | None = None) -> dict[int, bytes]:
        """Open a session to each node; return the hello to send to each."""
        hellos = {}
        for j in range(self.config.n_nodes) if nodes is None else nodes:
            channel, hello = SecureChannel.initiate(
                own=self._keypair,
                peer_public=self._keys[j],
                context=_session_context(self.model_id),
            )
            self._channels[j] = channel
            hellos[j] = hello.to_bytes()
        return hellos

    def channel(self, node: int) -> SecureChannel:
        """The session with ``node`` (e.g. to save it with :meth:`SecureChannel.to_bytes`)."""
        if node not in self._channels:
            raise ProtocolError(f"no session with node {node}; call connect first")
        return self._channels[node]

    def add_masks(self, masks: UserMasks) -> None:
        """Keep masks issued to this user (in the order they are spent)."""
        if masks.user != self.public_key:
            raise ProtocolError("masks were issued to another user")
        if masks.masks.shape[1] != self.num_features + 1:
            raise ProtocolError(
                f"masks of width {masks.masks.shape[1]} for d = {self.num_features}"
            )
        self._batches.append(masks)

    @property
    def masks_left(self) -> int:
        """Unspent masks."""
        return sum(b.count for b in self._batches) - self._cursor

    def _take(self, rows: int) -> tuple[int, np.ndarray]:
        while self._batches and self._cursor >= self._batches[0].count:
            self._batches.pop(0)
            self._cursor = 0
        if not self._batches or self._batches[0].count - self._cursor < rows:
            raise ProtocolError(f"need {rows} unspent masks in one batch; ask the dealer for more")
        batch = self._batches[0]
        r = batch.masks[self._cursor : self._cursor + rows]
        first = batch.first + self._cursor
        self._cursor += rows
        return first, r

    def query(
        self, x: np.ndarray, *, nodes: Iterable[int] | None = None
    ) -> tuple[int, dict[int, bytes]]:
        """Encode, mask and seal a query (one row, or a batch of rows) for each node.

        Returns
        -------
        tuple
            ``(query id, node → sealed message)``; pass the nodes' answers to :meth:`logits`.

        Raises
        ------
        EncodingRangeError
            A feature beyond ``max_abs`` or not finite.
        ProtocolError
            A wrong number of features, no session, or too few masks left.
        """
        rows_x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        rows, d = rows_x.shape
        if d != self.num_features:
            raise ProtocolError(f"query has {d} features, the model {self.num_features}")
        targets = list(range(self.config.n_nodes) if nodes is None else nodes)
        missing = [j for j in targets if j not in self._channels]
        if missing:
            raise ProtocolError(f"no session with nodes {missing}; call connect first")
        encoded = np.empty((rows, d + 1), dtype=np.uint64)
        encoded[:, :d] = self._codec.encode(rows_x)
        encoded[:, d] = self._one
        first, r = self._take(rows)
        body = struct.pack(">QII", first, rows, d + 1) + (encoded - r).astype("<u8").tobytes()
        query_id = self._next_query
        self._next_query += 1
        self._pending[query_id] = rows
        sealed = {
            j: self._channels[j].seal(body, counter=query_id, aad=self._query_aad) for j in targets
        }
        return query_id, sealed

    def logits(self, query_id: int, responses: Mapping[int, bytes]) -> np.ndarray:
        """Open the nodes' answers to query ``query_id`` and reconstruct z per row.

        Raises
        ------
        EnvelopeError
            An answer that does not authenticate (another node, query or model).
        ThresholdError
            Answers from fewer than t + 1 nodes.
        ShareMismatchError
            Two nodes returned different copies of one component.
        EncodingRangeError
            A logit beyond what an in-range model and query can produce.
        """
        if query_id not in self._pending:
            raise ProtocolError(f"query {query_id} is not pending")
        rows = self._pending[query_id]
        shares = []
        for j, message in responses.items():
            counter, body = self.channel(j).open(message, aad=_masked_logit_aad(self.model_id, j))
            if counter != query_id:
                raise ProtocolError(f"node {j} answered query {counter}, expected {query_id}")
            shares.append(_parse_parts(j, body, rows))
        total = self._scheme.reconstruct(shares)
        del self._pending[query_id]
        z = total.view(np.int64).astype(np.float64) / (
            self.weight_scale * 2.0**self.config.frac_bits
        )
        peak = float(np.max(np.abs(z)))
        if peak > self._bound:
            raise EncodingRangeError(value=peak, limit=self._bound, what="decoded logit")
        return z

    def share_values(
        self, values: np.ndarray, *, nodes: Iterable[int] | None = None
    ) -> tuple[int, dict[int, bytes]]:
        """Replicated-share a ``uint64`` vector (e.g. holdout labels) and seal each node's part.

        Returns
        -------
        tuple
            ``(message counter, node → sealed message)``; the counter is also the one a
            node's :meth:`MaskedInferenceNode.reply` about these values should use.
        """
        shares = self._scheme.share(np.asarray(values, dtype=np.uint64).reshape(-1))
        targets = list(range(self.config.n_nodes) if nodes is None else nodes)
        counter = self._next_query
        self._next_query += 1
        aad = b"shares" + self.model_id
        sealed = {
            j: self.channel(j).seal(_pack_parts(shares[j]), counter=counter, aad=aad)
            for j in targets
        }
        return counter, sealed

    def open_reply(self, counter: int, responses: Mapping[int, bytes]) -> np.ndarray:
        """Reconstruct a result the nodes sealed with :meth:`MaskedInferenceNode.reply`."""
        shares = []
        for j, message in responses.items():
            got, body = self.channel(j).open(
                message, aad=b"result" + _masked_logit_aad(self.model_id, j)
            )
            if got != counter:
                raise ProtocolError(f"node {j} replied to message {got}, expected {counter}")
            shares.append(_parse_parts(j, body, None))
        return self._scheme.reconstruct(shares)

    def probabilities(self, query_id: int, responses: Mapping[int, bytes]) -> np.ndarray:
        """σ(z) per row, applied by the user."""
        return 1.0 / (1.0 + np.exp(-self.logits(query_id, responses)))


def open_offsets(
    nodes: Sequence[MaskedInferenceNode], dealer: MaskDealer, *, scheme: ReplicatedScheme
) -> np.ndarray:
    """Once per model: deal [b'], open δ = θ − b' among ``nodes`` and give it to each."""
    b_shares = dealer.offsets()
    delta = scheme.reconstruct([n.offset(b_shares[n.index]) for n in nodes])
    for n in nodes:
        n.set_offset(delta)
    return delta


@dataclass
class MaskedInference:
    """In-process deployment of the session protocol: nodes, dealer, users."""

    config: InferenceConfig
    nodes: Sequence[MaskedInferenceNode]
    dealer: MaskDealer
    weight_scale: float
    num_features: int
    model_id: bytes = b""

    @classmethod
    def from_parts(
        cls,
        parts: Mapping[int, ModelPart],
        *,
        config: InferenceConfig | None = None,
        model_id: bytes = b"",
        keypairs: Mapping[int, KeyPair] | None = None,
    ) -> MaskedInference:
        """Start nodes on already shared parameters (e.g. from :mod:`flai.mpc.conversion`)."""
        cfg = config or InferenceConfig()
        keys = keypairs or {j: KeyPair.generate() for j in range(cfg.n_nodes)}
        nodes = [
            MaskedInferenceNode(
                index=j, config=cfg, model=parts[j], keypair=keys[j], model_id=model_id
            )
            for j in range(cfg.n_nodes)
        ]
        first = parts[0]
        dealer = MaskDealer(config=cfg, length=first.params.length)
        open_offsets(nodes, dealer, scheme=cfg.scheme)
        return cls(
            config=cfg,
            nodes=nodes,
            dealer=dealer,
            weight_scale=first.weight_scale,
            num_features=first.num_features,
            model_id=model_id,
        )

    @classmethod
    def deploy(
        cls, *, coef: np.ndarray, intercept: float, config: InferenceConfig | None = None
    ) -> MaskedInference:
        """Share a plaintext model among fresh nodes (the owner forgets its plaintext)."""
        cfg = config or InferenceConfig()
        return cls.from_parts(share_params(coef, intercept, config=cfg), config=cfg)

    def user(self, keypair: KeyPair | None = None, *, masks: int = 0) -> InferenceUser:
        """A user with sessions to every node and ``masks`` masks issued to it."""
        user = InferenceUser(
            config=self.config,
            keypair=keypair or KeyPair.generate(),
            node_public_keys={n.index: n.public_key for n in self.nodes},
            weight_scale=self.weight_scale,
            num_features=self.num_features,
            model_id=self.model_id,
        )
        for j, hello in user.connect().items():
            self.nodes[j].accept(hello)
        if masks:
            self.provision(user, masks)
        return user

    def provision(self, user: InferenceUser, count: int) -> None:
        """Offline phase: issue ``count`` masks to ``user`` and its parts to every node."""
        clear, parts = self.dealer.issue(user=user.public_key, count=count)
        user.add_masks(clear)
        for node in self.nodes:
            node.add_masks(parts[node.index])

    def predict_logit(
        self, user: InferenceUser, x: np.ndarray, *, available_nodes: Iterable[int] | None = None
    ) -> np.ndarray:
        """The whole online path: seal, evaluate on each available node, open, reconstruct."""
        active = list(range(self.config.n_nodes) if available_nodes is None else available_nodes)
        if len(active) < self.config.threshold + 1:
            raise ThresholdError(
                available=len(active), required=self.config.threshold + 1, what="compute nodes"
            )
        query_id, sealed = user.query(x, nodes=active)
        answers = {j: self.nodes[j].evaluate(sealed[j]) for j in active}
        return user.logits(query_id, answers)
