"""From secure aggregation to secret-shared inference without reconstructing the model.

Secure aggregation (:mod:`flai.mpc.secure_aggregation`) leaves the nodes with replicated
shares of S = Σ_k c_k · w̃_k in Z_{2^ℓ} (ℓ = 44, w̃_k at f fractional bits, public integer
weights c_k with total C), so w* = S / (C · 2^f). Inference (:mod:`flai.mpc.inference`)
needs shares of an integer vector Θ ≈ w* · scale in Z_{2^64}. A replicated share mod 2^ℓ
is not a share mod 2^64: the components s_c ∈ [0, 2^ℓ) sum over the integers to
T = (S mod 2^ℓ) + k · 2^ℓ for an unknown wrap count k ∈ [0, m) (m components), and k
depends on every component. This module computes k on shares and lifts in one opening.

Method (for m = C(n, t) components; n = 3, t = 1 gives m = 3):

1. Centre: add 2^(ℓ−1) to component 0, so S' = S + 2^(ℓ−1) ∈ [2^(ℓ−1) − B, 2^(ℓ−1) + B)
   for the honest bound |S| ≤ B (the aggregation's ``max_abs``; B ≈ 2^38 by default).
2. Top bits: with q = ⌈log2 m⌉ + 2, each holder takes h_c = ⌊s_c / 2^(ℓ−q)⌋ of each of
   its components. Writing H = Σ_c h_c, H / 2^q underestimates T / 2^ℓ = k + S'/2^ℓ by
   less than m / 2^q ≤ 1/4, and S'/2^ℓ lies within B/2^ℓ of 1/2, so whenever
   B / 2^ℓ + m / 2^q ≤ 1/2 (checked) the wrap count is exactly k = ⌊H / 2^q⌋.
3. Lookup (one opening): ⌊H / 2^q⌋ of the small shared value H ∈ [0, N), N = 2^(q+⌈log2 m⌉),
   is read from a one-time table (Ishai et al., TCC 2013, "one-time truth tables"): the
   dealer draws ρ ∈ Z_N per coordinate, shares it with the same replicated structure, and
   deals replicated shares of the rotated table TBL[u] = ⌊((u − ρ) mod N) / 2^q⌋ in
   Z_{2^64}. The nodes open u = H + ρ mod N (uniform, independent of H) and take their
   shares [k] = [TBL[u]] locally.
4. Lift and truncate locally: Θ = Σ_c ⌊s_c / 2^s⌋ − 2^(ℓ−s) · [k] − 2^(ℓ−1−s) + κ in
   Z_{2^64}, with s shift bits and κ = ⌊m/2⌋ (0 when s = 0). Since
   Σ_c ⌊s_c/2^s⌋ = ⌊T/2^s⌋ − j with j ∈ [0, m) the carry of the dropped low bits,
   Θ = ⌊S / 2^s⌋ − j + κ.

Result: Θ / (C · 2^(f−s)) differs from w* = S / (C · 2^f) by at most
max(κ, m − κ) · 2^(s−f) / C per coordinate (m = 3: 2 · 2^(s−f) / C), deterministically;
the default s is the smallest that keeps the worst-case logit of an in-range query inside
the inference ring (s = 8 for d = 30 and C ≈ 2^16: error ≤ 2^-23 ≈ 1.2e-7). Nothing is
reconstructed: the nodes see u (uniform) and their own components.

A client that bypassed its encoder can push |S| beyond B; the conversion then returns a
wrong model instead of an error (the wrap is not visible on shares). The acceptance
metric, computed on the converted shares (:mod:`flai.mpc.secure_auc`), is what exposes
such a model.

Trust: the table dealer is the inference dealer's role (trusted not to collude with a
node); nodes are semi-honest, at most t collude.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from flai.mpc.errors import EncodingRangeError, ProtocolError, ShareMismatchError, ThresholdError
from flai.mpc.inference.params import InferenceConfig, ModelPart, worst_case_logit_bound
from flai.mpc.prg import random_words
from flai.mpc.replicated import NodeShare, ReplicatedScheme
from flai.mpc.secure_aggregation import AggregationConfig

__all__ = [
    "ConversionPlan",
    "LiftDealer",
    "LiftShare",
    "convert_aggregate",
    "lift_finish",
    "lift_open",
    "replicate_partials",
]


@dataclass(frozen=True)
class ConversionPlan:
    """Public parameters of one conversion (see the module docstring).

    Attributes
    ----------
    ring_bits
        ℓ of the aggregation ring.
    components
        m, the number of replicated components.
    top_bits
        q, top bits of each component that enter the wrap count.
    table_size
        N, the size of the lookup domain.
    shift_bits
        s, low bits dropped by the local truncation.
    total_weight
        C = Σ c_k.
    frac_bits
        f of the aggregated updates.
    """

    ring_bits: int
    components: int
    top_bits: int
    table_size: int
    shift_bits: int
    total_weight: int
    frac_bits: int

    @classmethod
    def build(
        cls,
        *,
        aggregation: AggregationConfig,
        inference: InferenceConfig,
        weights: Mapping[int, int],
        num_features: int,
        shift_bits: int | None = None,
    ) -> ConversionPlan:
        """Choose q, N and s for an aggregate of ``num_features`` + 1 parameters.

        Raises
        ------
        ProtocolError
            The two configurations do not share the node structure, or bad weights.
        EncodingRangeError
            The honest bound B is too close to the ring for the wrap count, or no shift
            keeps the worst-case logit in range.
        """
        if (aggregation.n_nodes, aggregation.threshold) != (inference.n_nodes, inference.threshold):
            raise ProtocolError("aggregation and inference must use the same (n, t)")
        if inference.ring_bits != 64:
            raise ProtocolError(f"inference ring must be Z_2^64, got {inference.ring_bits} bits")
        total = sum(weights.values())
        if total <= 0 or any(c < 0 for c in weights.values()):
            raise ProtocolError(
                f"integer weights must be non-negative with a positive sum: {weights}"
            )
        m = len(aggregation.scheme.components)
        log_m = max(1, math.ceil(math.log2(m)))
        q = log_m + 2
        ell = aggregation.ring_bits
        bound = total * (aggregation.max_abs * 2.0**aggregation.frac_bits + 1)
        if bound / 2.0**ell + m / 2.0**q > 0.5:
            raise EncodingRangeError(
                value=bound,
                limit=(0.5 - m / 2.0**q) * 2.0**ell,
                what="aggregate bound for the lift",
            )
        worst = aggregation.max_abs * (num_features * inference.max_abs + 1)
        if shift_bits is None:
            shift_bits = next(
                (
                    s
                    for s in range(ell)
                    if worst
                    <= worst_case_logit_bound(
                        weight_scale=total * 2.0 ** (aggregation.frac_bits - s), config=inference
                    )
                ),
                ell,
            )
        if not 0 <= shift_bits < ell:
            raise EncodingRangeError(
                value=worst, limit=0.0, what="worst-case logit (no shift fits)"
            )
        limit = worst_case_logit_bound(
            weight_scale=total * 2.0 ** (aggregation.frac_bits - shift_bits), config=inference
        )
        if worst > limit:
            raise EncodingRangeError(value=worst, limit=limit, what="worst-case logit")
        return cls(
            ring_bits=ell,
            components=m,
            top_bits=q,
            table_size=2 ** (q + log_m),
            shift_bits=shift_bits,
            total_weight=total,
            frac_bits=aggregation.frac_bits,
        )

    @property
    def weight_scale(self) -> float:
        """C · 2^(f − s): the converted Θ approximates w* times this."""
        return float(self.total_weight * 2.0 ** (self.frac_bits - self.shift_bits))

    @property
    def bias_correction(self) -> int:
        """κ, added to centre the truncation error."""
        return self.components // 2 if self.shift_bits else 0

    @property
    def error_bound(self) -> float:
        """Largest |Θ / scale − w*| per coordinate."""
        if not self.shift_bits:
            return 0.0
        kappa = self.bias_correction
        units = max(kappa, self.components - kappa)
        return float(units * 2.0 ** (self.shift_bits - self.frac_bits) / self.total_weight)


@dataclass(frozen=True)
class LiftShare:
    """One node's part of the conversion dealer's material.

    Attributes
    ----------
    rho
        Shares of ρ (one per coordinate; components reduced mod N).
    table
        Shares of the rotated tables, flattened coordinate-major (length · N, Z_{2^64}).
    """

    rho: NodeShare
    table: NodeShare


class LiftDealer:
    """Trusted dealer of the lookup tables (see the module docstring)."""

    def __init__(self, *, scheme: ReplicatedScheme) -> None:
        if scheme.ring.bits != 64:
            raise ProtocolError("the lift dealer shares its tables in Z_2^64")
        self._scheme = scheme

    def deal(self, plan: ConversionPlan, length: int) -> dict[int, LiftShare]:
        """Tables for ``length`` coordinates, one :class:`LiftShare` per node."""
        n = plan.table_size
        rho = random_words(length) & np.uint64(n - 1)
        u = np.arange(n, dtype=np.uint64)
        table = ((u[None, :] - rho[:, None]) & np.uint64(n - 1)) >> np.uint64(plan.top_bits)
        rho_shares = self._scheme.share(rho)
        table_shares = self._scheme.share(table.reshape(-1))
        mask = np.uint64(n - 1)
        return {
            j: LiftShare(
                rho=NodeShare(node=j, parts={c: v & mask for c, v in rho_shares[j].parts.items()}),
                table=table_shares[j],
            )
            for j in range(self._scheme.n_nodes)
        }


def _centred(share: NodeShare, plan: ConversionPlan) -> dict[int, np.ndarray]:
    mask = np.uint64((1 << plan.ring_bits) - 1)
    half = np.uint64(1 << (plan.ring_bits - 1))
    return {c: ((v + half) if c == 0 else v) & mask for c, v in share.parts.items()}


def lift_open(share: NodeShare, lift: LiftShare, *, plan: ConversionPlan) -> NodeShare:
    """Step 3's message: this node's components of u = H + ρ (mod N) to open.

    ``share`` is the node's share of S mod 2^ℓ carrying every component the node holds.
    """
    if share.node != lift.rho.node or set(share.parts) != set(lift.rho.parts):
        raise ProtocolError(f"node {share.node} needs every held component of S and its tables")
    top = np.uint64(plan.ring_bits - plan.top_bits)
    mask = np.uint64(plan.table_size - 1)
    parts = {c: ((v >> top) + lift.rho.parts[c]) & mask for c, v in _centred(share, plan).items()}
    return NodeShare(node=share.node, parts=parts)


def lift_finish(
    share: NodeShare, lift: LiftShare, opened: np.ndarray, *, plan: ConversionPlan
) -> ModelPart:
    """Step 4: this node's :class:`ModelPart` of Θ in Z_{2^64}, given the opened u."""
    u = np.asarray(opened, dtype=np.uint64) & np.uint64(plan.table_size - 1)
    length = share.length
    if u.shape != (length,):
        raise ProtocolError(f"opened lookup index has shape {u.shape}, expected ({length},)")
    index = np.arange(length, dtype=np.int64) * plan.table_size + u.astype(np.int64)
    shift = np.uint64(plan.shift_bits)
    wrap = np.uint64(1 << (plan.ring_bits - plan.shift_bits))
    offset = np.uint64(
        (plan.bias_correction - (1 << (plan.ring_bits - 1 - plan.shift_bits))) % 2**64
    )
    parts = {}
    for c, v in _centred(share, plan).items():
        theta = (v >> shift) - wrap * lift.table.parts[c][index]
        parts[c] = theta + offset if c == 0 else theta
    return ModelPart(params=NodeShare(node=share.node, parts=parts), weight_scale=plan.weight_scale)


def replicate_partials(
    scheme: ReplicatedScheme, partials: Iterable[NodeShare], *, nodes: Iterable[int] | None = None
) -> dict[int, NodeShare]:
    """Give every node all the components it holds, copied from whichever partial has them.

    Aggregation with one copy per component (:meth:`ReplicatedScheme.assign`) leaves each
    component at one node; the conversion and later inference by any t + 1 nodes need
    every holder to have it. Each copy goes only to a node that holds that component, so
    no node learns more than its replicated share. Copies present twice must agree.

    Raises
    ------
    ThresholdError
        Some component is in no partial.
    ShareMismatchError
        Two partials carry different copies of one component.
    """
    found: dict[int, np.ndarray] = {}
    source: dict[int, int] = {}
    for p in partials:
        for c, v in p.parts.items():
            if c in found:
                if not np.array_equal(found[c] & scheme.ring.mask, v & scheme.ring.mask):
                    raise ShareMismatchError(component=c, parties=(source[c], p.node))
                continue
            found[c], source[c] = v, p.node
    missing = [c for c in range(len(scheme.components)) if c not in found]
    if missing:
        raise ThresholdError(
            available=0, required=1, what=f"partials carrying components {missing}"
        )
    targets = range(scheme.n_nodes) if nodes is None else nodes
    return {j: NodeShare(node=j, parts={c: found[c] for c in scheme.held_by(j)}) for j in targets}


def convert_aggregate(
    partials: Iterable[NodeShare],
    weights: Mapping[int, int],
    *,
    aggregation: AggregationConfig,
    inference: InferenceConfig,
    shift_bits: int | None = None,
    dealer: LiftDealer | None = None,
) -> tuple[dict[int, ModelPart], ConversionPlan]:
    """Run the conversion in-process for all n nodes and return their model parts.

    Parameters
    ----------
    partials
        The nodes' aggregation partials (Σ c_k [w_k] mod 2^ℓ) covering every component.
    weights
        The public integer weights c_k (:func:`~flai.mpc.secure_aggregation.encode_weights`).
    aggregation, inference
        The two configurations (same n, t).
    shift_bits
        s; default: the smallest that keeps the worst-case logit in range.
    dealer
        The table dealer (a fresh one by default).
    """
    shares = replicate_partials(aggregation.scheme, partials)
    length = next(iter(shares.values())).length
    plan = ConversionPlan.build(
        aggregation=aggregation,
        inference=inference,
        weights=weights,
        num_features=length - 1,
        shift_bits=shift_bits,
    )
    out_scheme = inference.scheme
    tables = (dealer or LiftDealer(scheme=out_scheme)).deal(plan, length)
    masked = [lift_open(shares[j], tables[j], plan=plan) for j in shares]
    opened = out_scheme.reconstruct(masked) & np.uint64(plan.table_size - 1)
    parts = {j: lift_finish(shares[j], tables[j], opened, plan=plan) for j in shares}
    return parts, plan
