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
for), nothing per site. Precision and range: f = 20 fractional bits by default (absolute
error ≤ 2^-21 per site statistic); each site's statistics are limited to
|s| ≤ 2^(ℓ−2−f) / K (≈ 4.4·10^12 / K for ℓ = 64) so that the sum over K sites cannot wrap;
beyond it the site gets :class:`EncodingRangeError` and the query should lower f.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from flai.mpc.encoding import FixedPoint
from flai.mpc.envelope import KeyPair
from flai.mpc.errors import ProtocolError
from flai.mpc.replicated import ReplicatedScheme
from flai.mpc.ring import Ring

__all__ = [
    "AnalyticsConfig",
    "FederatedSummary",
    "secure_correlation",
    "secure_count",
    "secure_describe",
    "secure_mean",
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
    """

    n_nodes: int = 3
    threshold: int = 1
    ring_bits: int = 64
    frac_bits: int = 20

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
) -> np.ndarray:
    """Each site seals its vector to the nodes; nodes add shares; t + 1 nodes reconstruct."""
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
    bound = len(vectors) * (codec.limit + codec.resolution)
    return codec.decode(scheme.reconstruct(partials), bound=bound)


def _first_moments(
    sites: list[np.ndarray], config: AnalyticsConfig, nodes: Iterable[int] | None
) -> tuple[int, np.ndarray]:
    nodes = None if nodes is None else list(nodes)
    stats = [np.concatenate([[len(s)], s.sum(axis=0)]) for s in sites]
    out = _secure_vector_sum(stats, config=config, available_nodes=nodes, query=b"moments-1")
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
    total = _secure_vector_sum(counts, config=cfg, available_nodes=available_nodes, query=b"count")
    return round(float(total[0]))


def secure_sum(
    sites: Sequence[np.ndarray],
    *,
    config: AnalyticsConfig | None = None,
    available_nodes: Iterable[int] | None = None,
) -> np.ndarray:
    """Per-feature total Σ_k Σ_i x_i^{(k)}."""
    cfg = config or AnalyticsConfig()
    sums = [s.sum(axis=0) for s in _as_sites(sites)]
    return _secure_vector_sum(sums, config=cfg, available_nodes=available_nodes, query=b"sum")


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
