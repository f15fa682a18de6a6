"""Secure federated analytics: sum, count, mean, variance and correlation (001 §4.2, eq. 4).

Each site computes local sufficient statistics on its own records, fixed-point encodes them
and uploads them as encrypted replicated shares (:meth:`ReplicatedScheme.seal`); the
compute nodes add the shares of all sites locally; any t + 1 nodes reconstruct the
population aggregates only. No site's statistics, let alone records, are revealed.

Variance and correlation follow eq. (4) literally, in two secure rounds:

1. Σ_k n_k and Σ_k Σ_i x_i^{(k)} → N and the global mean μ (published).
2. Each site computes Σ_i (x_i^{(k)} − μ)(x_i^{(k)} − μ)ᵀ (the upper triangle); the
   secure sum over sites, divided by N − 1, is the covariance; its diagonal is σ² of
   eq. (4) and its normalisation is the correlation matrix.

Centering on the published μ avoids the catastrophic cancellation of the one-pass
Σx² − (Σx)²/N formula. What is revealed: N, μ, the pooled covariance (what the query asks
for), nothing per site.

Small-cell suppression: every query carries its cohort count (and, for
:func:`secure_stratified_mean`, one count per agreed stratum) in the shared vector. Before
anything is reconstructed, the nodes compare each shared count with the governed minimum
``min_cohort`` on shares (:mod:`flai.mpc.compare`) and open only the bits
[count < minimum]; if any is set the query is refused with
:class:`~flai.mpc.errors.CohortTooSmallError` (field ``"count"`` or ``"stratum"``, the
minimum and the failing strata) and no aggregate, not even the count, is opened. The
comparison needs 2t + 1 participating nodes; ``min_cohort = 0`` switches it off. Precision and range: f = 20 fractional bits by default (absolute
error ≤ 2^-21 per site statistic); each site's statistics are limited to
|s| ≤ 2^(ℓ−2−f) / K (≈ 4.4·10^12 / K for ℓ = 64) so that the sum over K sites cannot wrap;
beyond it the site gets :class:`EncodingRangeError` and the query should lower f.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flai.mpc.compare import BinaryNode, open_bits
from flai.mpc.encoding import FixedPoint
from flai.mpc.envelope import KeyPair
from flai.mpc.errors import CohortTooSmallError, ProtocolError
from flai.mpc.replicated import NodeShare, ReplicatedScheme
from flai.mpc.ring import Ring
from flai.mpc.rss3 import run_parties

__all__ = [
    "AnalyticsConfig",
    "FederatedSummary",
    "StratifiedMean",
    "secure_correlation",
    "secure_count",
    "secure_describe",
    "secure_mean",
    "secure_stratified_mean",
    "secure_sum",
    "secure_variance",
]


@dataclass(frozen=True)
class AnalyticsConfig:
    """Parameters of secure federated analytics.

    Attributes
    ----------
    n_nodes, threshold
        Replicated sharing among n compute nodes, private against t.
    ring_bits
        ℓ of Z_{2^ℓ}.
    frac_bits
        f, fractional bits of the encoded statistics.
    min_cohort
        Governed minimum cohort size (records in the query, and in each stratum of a
        stratified query); smaller cohorts are refused before anything is opened. 0
        disables suppression.
    """

    n_nodes: int = 3
    threshold: int = 1
    ring_bits: int = 64
    frac_bits: int = 20
    min_cohort: int = 10

    def __post_init__(self) -> None:
        if self.min_cohort < 0:
            raise ValueError(f"min_cohort must be >= 0, got {self.min_cohort}")

    @property
    def scheme(self) -> ReplicatedScheme:
        """The replicated sharing scheme."""
        return ReplicatedScheme(
            n_nodes=self.n_nodes, threshold=self.threshold, ring=Ring(self.ring_bits)
        )

    def codec(self, n_sites: int) -> FixedPoint:
        """Per-site codec whose range leaves room to add ``n_sites`` statistics."""
        limit = 2.0 ** (self.ring_bits - 2 - self.frac_bits) / max(n_sites, 1)
        return FixedPoint(ring=Ring(self.ring_bits), frac_bits=self.frac_bits, max_abs=limit)


@dataclass(frozen=True)
class FederatedSummary:
    """Population statistics over all sites (1-D per-feature arrays, p × p correlation)."""

    count: int
    total: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    correlation: np.ndarray


def _as_sites(sites: Sequence[np.ndarray]) -> list[np.ndarray]:
    if not sites:
        raise ProtocolError("need at least one site")
    out = []
    for k, s in enumerate(sites):
        arr = np.asarray(s, dtype=np.float64)
        arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
        if arr.ndim != 2:
            raise ProtocolError(f"site {k} data must be 1-D or 2-D, got shape {np.shape(s)}")
        out.append(arr)
    widths = {a.shape[1] for a in out}
    if len(widths) != 1:
        raise ProtocolError(f"sites disagree on the number of features: {sorted(widths)}")
    return out


def _secure_vector_sum(
    vectors: Sequence[np.ndarray],
    *,
    config: AnalyticsConfig,
    available_nodes: Iterable[int] | None,
    query: bytes,
    gated: Mapping[int, object] | None = None,
) -> np.ndarray:
    """Each site seals its vector to the nodes; nodes add shares; t + 1 nodes reconstruct.

    ``gated`` maps entries of the summed vector that are cohort counts to their stratum
    (``None`` for the whole cohort); they are compared with ``config.min_cohort`` on shares
    first, and the query is refused before reconstruction if any is smaller.
    """
    scheme = config.scheme
    codec = config.codec(len(vectors))
    keys = [KeyPair.generate() for _ in range(config.n_nodes)]
    public = {j: k.public_bytes for j, k in enumerate(keys)}
    active = list(range(config.n_nodes)) if available_nodes is None else list(available_nodes)
    per_node: dict[int, list] = {j: [] for j in active}
    for site, vec in enumerate(vectors):
        aad = b"flai/mpc/analytics" + struct.pack(">Q", site) + query
        sealed = scheme.seal(codec.encode(vec), public, aad=aad, scale_bits=config.frac_bits)
        for j in active:
            per_node[j].append(scheme.open(sealed, node=j, keypair=keys[j], aad=aad))
    partials = [scheme.linear_combination(per_node[j], [1] * len(vectors)) for j in active]
    if gated and config.min_cohort > 0:
        _cohort_gate(partials, gated, config=config, keys=keys, public=public, query=query)
    bound = len(vectors) * (codec.limit + codec.resolution)
    return codec.decode(scheme.reconstruct(partials), bound=bound)


def _cohort_gate(
    partials: Sequence[NodeShare],
    gated: Mapping[int, object],
    *,
    config: AnalyticsConfig,
    keys: Sequence[KeyPair],
    public: Mapping[int, bytes],
    query: bytes,
) -> None:
    """Open only [count < min_cohort] for each gated entry; refuse the query if any is set."""
    scheme = config.scheme
    indices = sorted(gated)
    threshold = np.full(len(indices), -config.min_cohort * 2**config.frac_bits, dtype=np.int64)
    offset = scheme.ring.from_signed(threshold)
    shifted = {
        p.node: scheme.add_public(
            NodeShare(node=p.node, parts={c: v[indices] for c, v in p.parts.items()}), offset
        )
        for p in partials
    }
    participants = sorted(shifted)
    nodes = {
        j: BinaryNode(
            index=j,
            scheme=scheme,
            keypair=keys[j],
            node_public_keys=public,
            participants=participants,
            session=b"flai/mpc/analytics/cohort" + query,
        )
        for j in participants
    }
    signs = run_parties(
        {j: nodes[j].sign_bits(shifted[j], ring_bits=config.ring_bits) for j in participants}
    )
    below = open_bits(scheme, [(j, signs[j]) for j in participants])
    if not below.any():
        return
    failing = [gated[i] for i, low in zip(indices, below, strict=True) if low]
    if None in failing:
        raise CohortTooSmallError(field="count", minimum=config.min_cohort)
    raise CohortTooSmallError(field="stratum", minimum=config.min_cohort, strata=tuple(failing))


def _first_moments(
    sites: list[np.ndarray], config: AnalyticsConfig, nodes: Iterable[int] | None
) -> tuple[int, np.ndarray]:
    nodes = None if nodes is None else list(nodes)
    stats = [np.concatenate([[len(s)], s.sum(axis=0)]) for s in sites]
    out = _secure_vector_sum(
        stats, config=config, available_nodes=nodes, query=b"moments-1", gated={0: None}
    )
    count = round(float(out[0]))
    return count, out[1:]


def secure_count(
    sites: Sequence[np.ndarray],
    *,
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> int:
    """Total number of records N = Σ n_k."""
    cfg = config or AnalyticsConfig()
    counts = [np.array([len(s)], dtype=np.float64) for s in _as_sites(sites)]
    total = _secure_vector_sum(
        counts, config=cfg, available_nodes=available_nodes, query=b"count", gated={0: None}
    )
    return round(float(total[0]))


def secure_sum(
    sites: Sequence[np.ndarray],
    *,
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> np.ndarray:
    """Per-feature total Σ_k Σ_i x_i^{(k)}."""
    cfg = config or AnalyticsConfig()
    sums = [np.concatenate([[len(s)], s.sum(axis=0)]) for s in _as_sites(sites)]
    out = _secure_vector_sum(
        sums, config=cfg, available_nodes=available_nodes, query=b"sum", gated={0: None}
    )
    return out[1:]


def secure_mean(
    sites: Sequence[np.ndarray],
    *,
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> np.ndarray:
    """Global mean μ = Σ sums / Σ counts (000 §2.2, 001 eq. 4)."""
    cfg = config or AnalyticsConfig()
    count, total = _first_moments(_as_sites(sites), cfg, available_nodes)
    if count == 0:
        raise ProtocolError("no records across sites")
    return total / count


def _centered_products(sites: list[np.ndarray], mean: np.ndarray, config, nodes) -> np.ndarray:
    p = len(mean)
    iu = np.triu_indices(p)
    stats = []
    for s in sites:
        c = s - mean
        stats.append((c.T @ c)[iu])
    upper = _secure_vector_sum(stats, config=config, available_nodes=nodes, query=b"moments-2")
    full = np.zeros((p, p))
    full[iu] = upper
    return full + np.triu(full, 1).T


def secure_variance(
    sites: Sequence[np.ndarray],
    *,
    ddof: int = 1,
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> np.ndarray:
    """Per-feature σ² = Σ (x − μ)² / (N − ddof) (eq. 4 uses ddof = 1), in two secure rounds."""
    cfg = config or AnalyticsConfig()
    data = _as_sites(sites)
    nodes = None if available_nodes is None else list(available_nodes)
    count, total = _first_moments(data, cfg, nodes)
    if count - ddof <= 0:
        raise ProtocolError(f"{count} records are too few for ddof={ddof}")
    mean = total / count
    squares = [((s - mean) ** 2).sum(axis=0) for s in data]
    return _secure_vector_sum(squares, config=cfg, available_nodes=nodes, query=b"variance") / (
        count - ddof
    )


def secure_correlation(
    sites: Sequence[np.ndarray],
    *,
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> np.ndarray:
    """Pearson correlation matrix of the pooled records (p × p), in two secure rounds."""
    return secure_describe(sites, config=config, available_nodes=available_nodes).correlation


def secure_describe(
    sites: Sequence[np.ndarray],
    *,
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> FederatedSummary:
    """Count, sum, mean, variance (ddof = 1) and correlation, in two secure rounds."""
    cfg = config or AnalyticsConfig()
    data = _as_sites(sites)
    nodes = None if available_nodes is None else list(available_nodes)
    count, total = _first_moments(data, cfg, nodes)
    if count < 2:
        raise ProtocolError(f"{count} records are too few for a variance")
    mean = total / count
    cov = _centered_products(data, mean, cfg, nodes) / (count - 1)
    var = np.diag(cov).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(var)
        corr = cov / np.outer(sd, sd)
    return FederatedSummary(count=count, total=total, mean=mean, variance=var, correlation=corr)


@dataclass(frozen=True)
class StratifiedMean:
    """Per-stratum counts and means of a stratified query (levels in the agreed order)."""

    levels: tuple[object, ...]
    counts: tuple[int, ...]
    means: np.ndarray


def secure_stratified_mean(
    sites: Sequence[np.ndarray],
    strata: Sequence[np.ndarray],
    *,
    levels: Sequence[object],
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> StratifiedMean:
    """Per-stratum record count and per-feature mean, one secure round.

    Parameters
    ----------
    sites
        Each site's records (n_k × p).
    strata
        Each site's stratum label per record (length n_k).
    levels
        The strata the query agreed on (public); a record with another label is an error.

    Raises
    ------
    CohortTooSmallError
        The whole cohort (``field="count"``) or some stratum (``field="stratum"``, the
        failing levels in ``strata``) has fewer than ``min_cohort`` records; nothing opened.
    """
    cfg = config or AnalyticsConfig()
    data = _as_sites(sites)
    if len(strata) != len(data):
        raise ProtocolError(f"{len(strata)} label arrays for {len(data)} sites")
    order = list(levels)
    if not order or len(set(order)) != len(order):
        raise ProtocolError(f"levels must be distinct and non-empty, got {order}")
    width = data[0].shape[1]
    stats = []
    for k, (rows, labels) in enumerate(zip(data, strata, strict=True)):
        lab = np.asarray(labels)
        if lab.shape != (len(rows),):
            raise ProtocolError(f"site {k} has {len(rows)} records but {lab.shape} labels")
        unknown = set(lab.tolist()) - set(order)
        if unknown:
            raise ProtocolError(f"site {k} has labels outside the agreed levels: {sorted(unknown)}")
        counts = [float(np.sum(lab == level)) for level in order]
        sums = [rows[lab == level].sum(axis=0) for level in order]
        stats.append(np.concatenate([[len(rows)], counts, *sums]))
    gated: dict[int, object] = {0: None}
    gated.update({1 + i: level for i, level in enumerate(order)})
    out = _secure_vector_sum(
        stats, config=cfg, available_nodes=available_nodes, query=b"stratified-mean", gated=gated
    )
    counts_out = tuple(round(float(c)) for c in out[1 : 1 + len(order)])
    sums_out = out[1 + len(order) :].reshape(len(order), width)
    means = sums_out / np.array(counts_out, dtype=np.float64)[:, None]
    return StratifiedMean(levels=tuple(order), counts=counts_out, means=means)
