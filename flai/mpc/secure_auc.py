"""The acceptance metric on shares: AUC of a secret-shared model on a secret-shared holdout.

A validator shares its holdout with the compute nodes (features as masked inference
queries, :meth:`~flai.mpc.inference.user.InferenceUser.query`; labels as replicated shares).
The nodes compute the logits [z̃_i] of the secret-shared model on every row
(:meth:`~flai.mpc.inference.node.MaskedInferenceNode.evaluate_shared`) and keep them shared;
this module turns them into the AUC without opening a logit, a label or the model.

AUC with ties counted one half (what :func:`flai.fl.roc_auc` and scikit-learn compute) is
a rank statistic (Mann–Whitney): with 2·rank_i = Σ_{j≠i} (1 + [z_j < z_i] − [z_i < z_j]),

    AUC = (U / 2 − P(P − 1) / 2) / (P · N),    U = Σ_i y_i · 2·rank_i,

for P positives and N negatives. The nodes compute every comparison on shares, sum the
ranks locally, multiply by the shared labels with one Beaver product per row and open U
**to the validator only** (sealed over its session). The validator knows P and N, so it
learns its AUC and nothing else; the nodes learn nothing (every value they open is
masked by fresh dealer randomness). The result equals the plaintext AUC of the
fixed-point logits exactly; versus float logits it differs only for pairs of rows whose
logits are within the encoding error of each other.

Comparison [a < b] = MSB(a − b) for |a − b| < 2^63, with the dealer's edaBits (a random
R shared both in Z_{2^64} and bitwise; Escudero et al., CRYPTO 2020): the nodes open
U = (a − b) + R, and MSB(a − b) = MSB(U) ⊕ MSB(R) ⊕ [U mod 2^63 < R mod 2^63]. The last
bit is a comparison of a public with a bitwise-shared 63-bit value: generate and
propagate bits g = r ∧ ¬u, p = ¬(r ⊕ u) combined by a Kogge–Stone prefix inside each
64-bit word, six rounds of boolean Beaver ANDs (11 word ANDs). A daBit (a random bit
shared in both worlds) converts the result to Z_{2^64} with one more opening. All pairs
are compared in parallel: 8 openings in total, then 1 for the Beaver products.

Cost: n(n − 1) comparisons for n holdout rows (89,700 for 300 rows); the dealer deals
about 37 words per comparison per component (edaBit 2, AND triples 33, daBit 2).

Trust: as for inference — a trusted dealer that colludes with no node, semi-honest nodes,
at most t colluding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flai.mpc.errors import ProtocolError, ShareMismatchError, ThresholdError
from flai.mpc.inference.deployment import MaskedInference
from flai.mpc.inference.user import InferenceUser
from flai.mpc.prg import random_words
from flai.mpc.replicated import NodeShare, ReplicatedScheme

__all__ = [
    "AucDealer",
    "MessageLog",
    "auc_from_rank_sum",
    "holdout_auc",
    "secure_less_than",
    "secure_rank_sum",
]

_LOW63 = np.uint64((1 << 63) - 1)
_ONE = np.uint64(1)


def _xor_share(scheme: ReplicatedScheme, x: np.ndarray) -> dict[int, NodeShare]:
    """Replicated XOR-sharing of ``uint64`` words (components combine by XOR)."""
    m = len(scheme.components)
    comps = [random_words(len(x)) for _ in range(m - 1)]
    last = np.array(x, dtype=np.uint64, copy=True)
    for v in comps:
        np.bitwise_xor(last, v, out=last)
    comps.append(last)
    return {
        j: NodeShare(node=j, parts={c: comps[c] for c in scheme.held_by(j)})
        for j in range(scheme.n_nodes)
    }


def _xor_open(scheme: ReplicatedScheme, shares: Sequence[NodeShare]) -> np.ndarray:
    """XOR-reconstruct from at least t + 1 nodes, cross-checking copies."""
    by_node = {s.node: s for s in shares}
    if len(by_node) < scheme.threshold + 1:
        raise ThresholdError(
            available=len(by_node), required=scheme.threshold + 1, what="compute nodes"
        )
    total: np.ndarray | None = None
    for c in range(len(scheme.components)):
        copies = [(j, by_node[j].parts[c]) for j in scheme.holders(c) if j in by_node]
        if not copies:
            raise ThresholdError(available=0, required=1, what=f"shares carrying component {c}")
        first, value = copies[0]
        for j, other in copies[1:]:
            if not np.array_equal(other, value):
                raise ShareMismatchError(component=c, parties=(first, j))
        total = value.copy() if total is None else np.bitwise_xor(total, value, out=total)
    assert total is not None
    return total


@dataclass(frozen=True)
class _AndTriple:
    a: NodeShare
    b: NodeShare
    c: NodeShare


@dataclass(frozen=True)
class _EdaBit:
    arith: NodeShare
    bits: NodeShare


@dataclass(frozen=True)
class _DaBit:
    bit: NodeShare
    arith: NodeShare


@dataclass(frozen=True)
class _MulTriple:
    a: NodeShare
    b: NodeShare
    c: NodeShare


class AucDealer:
    """Trusted dealer of the comparison and product material (see the module docstring)."""

    def __init__(self, *, scheme: ReplicatedScheme) -> None:
        if scheme.ring.bits != 64:
            raise ProtocolError("secure comparison runs in Z_2^64")
        self._scheme = scheme
        self.words_dealt = 0

    def _count(self, words: int) -> None:
        self.words_dealt += words * len(self._scheme.components)

    def and_triples(self, length: int) -> dict[int, _AndTriple]:
        """Boolean Beaver triples of ``length`` words (c = a ∧ b bitwise)."""
        a, b = random_words(length), random_words(length)
        sa, sb, sc = (_xor_share(self._scheme, v) for v in (a, b, a & b))
        self._count(3 * length)
        return {j: _AndTriple(a=sa[j], b=sb[j], c=sc[j]) for j in sa}

    def edabits(self, length: int) -> dict[int, _EdaBit]:
        """Random R shared in Z_{2^64} and bitwise."""
        r = random_words(length)
        arith, bits = self._scheme.share(r), _xor_share(self._scheme, r)
        self._count(2 * length)
        return {j: _EdaBit(arith=arith[j], bits=bits[j]) for j in arith}

    def dabits(self, length: int) -> dict[int, _DaBit]:
        """Random bits shared in bit 0 of XOR-shared words and in Z_{2^64}."""
        rho = random_words(length) & _ONE
        bit, arith = _xor_share(self._scheme, rho), self._scheme.share(rho)
        self._count(2 * length)
        return {j: _DaBit(bit=bit[j], arith=arith[j]) for j in bit}

    def mult_triples(self, length: int) -> dict[int, _MulTriple]:
        """Arithmetic Beaver triples in Z_{2^64}."""
        a, b = random_words(length), random_words(length)
        sa, sb, sc = (self._scheme.share(v) for v in (a, b, a * b))
        self._count(3 * length)
        return {j: _MulTriple(a=sa[j], b=sb[j], c=sc[j]) for j in sa}


def _map(share: NodeShare, fn: Callable[[int, np.ndarray], np.ndarray]) -> NodeShare:
    return NodeShare(node=share.node, parts={c: fn(c, v) for c, v in share.parts.items()})


class MessageLog:
    """What the nodes exchanged: openings (communication rounds) and words sent in total."""

    def __init__(self) -> None:
        self.openings = 0
        self.words = 0


def _and(
    scheme: ReplicatedScheme,
    pairs: Mapping[int, tuple[tuple[NodeShare, NodeShare], ...]],
    dealer: AucDealer,
    log: MessageLog,
) -> dict[int, tuple[NodeShare, ...]]:
    """Several boolean ANDs in one round: for each node, pairs (x, y) → x ∧ y."""
    nodes = sorted(pairs)
    k = len(pairs[nodes[0]])
    length = pairs[nodes[0]][0][0].length
    triples = dealer.and_triples(k * length)
    opened_e, opened_f = [], []
    for j in nodes:
        t = triples[j]
        e = {c: np.concatenate([p[0].parts[c] for p in pairs[j]]) ^ t.a.parts[c] for c in t.a.parts}
        f = {c: np.concatenate([p[1].parts[c] for p in pairs[j]]) ^ t.b.parts[c] for c in t.b.parts}
        opened_e.append(NodeShare(node=j, parts=e))
        opened_f.append(NodeShare(node=j, parts=f))
    e_pub, f_pub = _xor_open(scheme, opened_e), _xor_open(scheme, opened_f)
    ef = e_pub & f_pub
    log.openings += 1
    log.words += 2 * k * length * len(nodes)
    out = {}
    for j in nodes:
        t = triples[j]
        z = {}
        for c in t.c.parts:
            v = t.c.parts[c] ^ (e_pub & t.b.parts[c]) ^ (f_pub & t.a.parts[c])
            z[c] = v ^ ef if c == 0 else v
        out[j] = tuple(
            NodeShare(node=j, parts={c: v[i * length : (i + 1) * length] for c, v in z.items()})
            for i in range(k)
        )
    return out


def secure_less_than(
    scheme: ReplicatedScheme,
    differences: Mapping[int, NodeShare],
    *,
    dealer: AucDealer,
    log: MessageLog | None = None,
) -> dict[int, NodeShare]:
    """Shares in Z_{2^64} of [v < 0] = MSB(v) for each shared v (|v| < 2^63).

    ``differences`` maps each participating node (at least t + 1) to its share of the
    vector v; the result maps each to its share of the 0/1 vector.
    """
    log = log or MessageLog()
    nodes = sorted(differences)
    length = differences[nodes[0]].length
    eda = dealer.edabits(length)
    # 1. open U = v + R
    masked = [
        NodeShare(
            node=j, parts={c: v + eda[j].arith.parts[c] for c, v in differences[j].parts.items()}
        )
        for j in nodes
    ]
    u = scheme.reconstruct(masked)
    log.openings += 1
    log.words += length * len(nodes)
    u_low, u_msb = u & _LOW63, u >> np.uint64(63)
    not_u = ~u_low & _LOW63
    # 2. generate / propagate bits of [u_low < r_low] (local: u is public)
    g = {j: _map(eda[j].bits, lambda c, v: v & not_u) for j in nodes}
    p = {
        j: _map(eda[j].bits, lambda c, v: (v & _LOW63) ^ not_u if c == 0 else v & _LOW63)
        for j in nodes
    }
    # 3. Kogge–Stone prefix towards bit 62
    shift = 1
    while shift < 63:
        last = shift * 2 >= 63
        s = np.uint64(shift)

        def shifted(share: NodeShare, s: np.uint64 = s) -> NodeShare:
            return _map(share, lambda c, v: (v << s) & _LOW63)

        pairs = {
            j: ((p[j], shifted(g[j])),) + (() if last else ((p[j], shifted(p[j])),)) for j in nodes
        }
        products = _and(scheme, pairs, dealer, log)
        for j in nodes:
            pg = products[j][0]
            g[j] = NodeShare(node=j, parts={c: g[j].parts[c] ^ pg.parts[c] for c in g[j].parts})
            if not last:
                p[j] = products[j][1]
        shift *= 2
    # 4. β = bit62(G) ⊕ msb(R) ⊕ msb(U), as a bit in XOR shares
    beta = {
        j: NodeShare(
            node=j,
            parts={
                c: (
                    (g[j].parts[c] >> np.uint64(62))
                    ^ (eda[j].bits.parts[c] >> np.uint64(63))
                    ^ (u_msb if c == 0 else 0)
                )
                & _ONE
                for c in g[j].parts
            },
        )
        for j in nodes
    }
    # 5. bit injection with a daBit: open e = β ⊕ ρ, [β] = e + (1 − 2e)[ρ]
    da = dealer.dabits(length)
    e = _xor_open(
        scheme,
        [
            NodeShare(
                node=j, parts={c: beta[j].parts[c] ^ da[j].bit.parts[c] for c in beta[j].parts}
            )
            for j in nodes
        ],
    )
    log.openings += 1
    log.words += length * len(nodes)
    sign = np.uint64(1) - np.uint64(2) * e  # 1 − 2e mod 2^64
    return {
        j: NodeShare(
            node=j,
            parts={c: (v * sign + e if c == 0 else v * sign) for c, v in da[j].arith.parts.items()},
        )
        for j in nodes
    }


def secure_rank_sum(
    scheme: ReplicatedScheme,
    logits: Mapping[int, NodeShare],
    labels: Mapping[int, NodeShare],
    *,
    dealer: AucDealer,
    log: MessageLog | None = None,
) -> dict[int, NodeShare]:
    """Each node's share of U = Σ_i y_i · 2·rank_i (see the module docstring).

    Parameters
    ----------
    logits
        Node → its share of the n logits z̃ (Z_{2^64}); at least t + 1 nodes.
    labels
        Node → its share of the n labels (0 or 1) in Z_{2^64}.

    Returns
    -------
    dict
        Node → its share of U (length 1), to be sealed to the validator.
    """
    log = log or MessageLog()
    nodes = sorted(logits)
    if sorted(labels) != nodes:
        raise ProtocolError("logit and label shares must come from the same nodes")
    n = logits[nodes[0]].length
    if n < 2 or labels[nodes[0]].length != n:
        raise ProtocolError(f"need at least two rows with one label each, got {n}")
    iu, ju = np.triu_indices(n, 1)
    diffs = {
        j: NodeShare(
            node=j,
            parts={
                c: np.concatenate([v[iu] - v[ju], v[ju] - v[iu]])
                for c, v in logits[j].parts.items()
            },
        )
        for j in nodes
    }
    lt = secure_less_than(scheme, diffs, dealer=dealer, log=log)
    pairs = len(iu)
    ranks = {}
    for j in nodes:
        parts = {}
        for c, v in lt[j].parts.items():
            s = v[pairs:] - v[:pairs]  # [z_j < z_i] − [z_i < z_j] for i < j
            r = np.zeros(n, dtype=np.uint64)
            np.add.at(r, iu, s)
            np.subtract.at(r, ju, s)
            parts[c] = r + np.uint64(n - 1) if c == 0 else r
        ranks[j] = NodeShare(node=j, parts=parts)
    triple = dealer.mult_triples(n)
    e = scheme.reconstruct(
        [
            NodeShare(
                node=j,
                parts={c: labels[j].parts[c] - triple[j].a.parts[c] for c in labels[j].parts},
            )
            for j in nodes
        ]
    )
    f = scheme.reconstruct(
        [
            NodeShare(
                node=j, parts={c: ranks[j].parts[c] - triple[j].b.parts[c] for c in ranks[j].parts}
            )
            for j in nodes
        ]
    )
    log.openings += 1
    log.words += 2 * n * len(nodes)
    out = {}
    for j in nodes:
        t = triple[j]
        parts = {}
        for c in t.c.parts:
            prod = t.c.parts[c] + e * t.b.parts[c] + f * t.a.parts[c]
            if c == 0:
                prod = prod + e * f
            parts[c] = prod.sum(dtype=np.uint64, keepdims=True)
        out[j] = NodeShare(node=j, parts=parts)
    return out


def auc_from_rank_sum(rank_sum: int, *, positives: int, negatives: int) -> float:
    """Validator side: the AUC from the opened U and its own class counts.

    Raises
    ------
    ProtocolError
        A class is empty (AUC undefined) or U is outside the range a holdout can give.
    """
    if positives < 1 or negatives < 1:
        raise ProtocolError(
            f"AUC needs both classes, got {positives} positives, {negatives} negatives"
        )
    n = positives + negatives
    u = int(rank_sum) % 2**64
    if u > 2 * positives * (n - 1):
        raise ProtocolError(f"rank sum {u} is outside what {n} rows can produce")
    return (u / 2 - positives * (positives - 1) / 2) / (positives * negatives)


def holdout_auc(
    deployment: MaskedInference,
    validator: InferenceUser,
    features: np.ndarray,
    labels: np.ndarray,
    *,
    dealer: AucDealer | None = None,
    available_nodes: Iterable[int] | None = None,
    log: MessageLog | None = None,
) -> float:
    """The whole metric path in-process: the validator's AUC of the shared model.

    The validator sends its features as masked queries and its labels as shares over
    its sessions; the nodes keep the logits shared, compute U on shares and seal their
    shares of U to the validator, who alone reconstructs it and computes the AUC.

    Raises
    ------
    ProtocolError
        Labels other than 0/1, a single class, or a features/labels length mismatch.
    """
    y = np.asarray(labels).reshape(-1)
    if not np.isin(y, (0, 1)).all():
        raise ProtocolError("holdout labels must be 0 or 1")
    x = np.atleast_2d(np.asarray(features, dtype=np.float64))
    if len(x) != len(y):
        raise ProtocolError(f"{len(x)} holdout rows but {len(y)} labels")
    positives = int(y.sum())
    if positives in (0, len(y)):
        raise ProtocolError("AUC needs both classes in the holdout")
    cfg = deployment.config
    active = sorted(range(cfg.n_nodes) if available_nodes is None else set(available_nodes))
    if len(active) < cfg.threshold + 1:
        raise ThresholdError(
            available=len(active), required=cfg.threshold + 1, what="compute nodes"
        )
    if validator.masks_left < len(x):
        deployment.provision(validator, len(x) - validator.masks_left)
    _, sealed_x = validator.query(x, nodes=active)
    counter, sealed_y = validator.share_values(y.astype(np.uint64), nodes=active)
    logits, shared_labels, sessions = {}, {}, {}
    for j in active:
        node = deployment.nodes[j]
        sessions[j], _, logits[j] = node.evaluate_shared(sealed_x[j])
        _, _, shared_labels[j] = node.receive_shares(sealed_y[j])
    rank_sum = secure_rank_sum(
        cfg.scheme,
        logits,
        shared_labels,
        dealer=dealer or AucDealer(scheme=cfg.scheme),
        log=log,
    )
    replies = {
        j: deployment.nodes[j].reply(sessions[j], rank_sum[j], counter=counter) for j in active
    }
    u = int(validator.open_reply(counter, replies)[0])
    return auc_from_rank_sum(u, positives=positives, negatives=len(y) - positives)
