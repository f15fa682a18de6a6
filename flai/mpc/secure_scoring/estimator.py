"""The public, linear estimator of secure scoring: Shapley coefficients A and B.

Shapley values are linear in v: SV_k = Σ_S M_{S,k} v(S). With the Taylor utility of
:mod:`flai.mpc.secure_scoring`, every per-sample Shapley value is
φ_{k,i} = −Σ_j A_{kj} l_{j,i} − ½ Σ_{j,l} B_{kjl} u_{j,i} u_{l,i} with public A = Mᵀα and
B = Mᵀ(α ⊗ α). For uniform coalition weights A and B have a closed form for any K
(O(K²)); for sample weights they are enumerated up to ``exact_max_players`` and sampled
over public random permutations beyond. Plain numpy on public values, no shares.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from flai.fl import ScoringConfig
from flai.mpc.errors import ProtocolError

__all__ = [
    "Estimator",
    "estimator",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Estimator:
    """Public coefficients of the scores as functions of the per-sample moments.

    Row r of the output is Σ_j A[r, j] l_j + Σ_{j,l} B[r, j, l] u_j u_l (mean over samples,
    with the sign of v). Rows: ``shapley`` (K), then ``lmv`` (K, optional), then ``grand``
    (v(N) − v(∅), optional).
    """

    A: FloatArray
    B: FloatArray
    shapley: slice
    lmv: slice | None
    grand: int | None
    exact: bool

    @property
    def rows(self) -> int:
        """Number of output rows."""
        return int(self.A.shape[0])


def _shapley_weights(k_players: int) -> list[Fraction]:
    """w(s) = s!(K − s − 1)!/K! for s = 0 … K − 1."""
    f = [math.factorial(i) for i in range(k_players + 1)]
    return [Fraction(f[s] * f[k_players - s - 1], f[k_players]) for s in range(k_players)]


def _uniform_exact(k_players: int) -> tuple[FloatArray, FloatArray]:
    """Closed-form A, B of exact Shapley for α_{S,j} = 1/|S| (any K, O(K) sums).

    With v(S) = (1/s) Σ_{j∈S} l_j + (1/s²) Σ_{j,l∈S} H_{jl}, SV_k sums w(s)·(v(S ∪ k) − v(S))
    over S ⊆ N∖k; an entry counts the coalitions of each size in which j (and l) appear.
    """
    K = k_players
    w = _shapley_weights(K)
    comb = math.comb

    def total(terms: Sequence[tuple[int, Fraction]]) -> float:
        return float(sum((Fraction(c) * t for c, t in terms), Fraction(0)))

    a_self = total([(comb(K - 1, s), w[s] / (s + 1)) for s in range(K)])
    a_other = total(
        [(comb(K - 2, s - 1), w[s] * (Fraction(1, s + 1) - Fraction(1, s))) for s in range(1, K)]
    )
    b_kkk = total([(comb(K - 1, s), w[s] / (s + 1) ** 2) for s in range(K)])
    b_kkl = total([(comb(K - 2, s - 1), w[s] / (s + 1) ** 2) for s in range(1, K)])
    diff = [Fraction(1, (s + 1) ** 2) - (Fraction(1, s**2) if s else 0) for s in range(K)]
    b_kjj = total([(comb(K - 2, s - 1), w[s] * diff[s]) for s in range(1, K)])
    b_kjl = total([(comb(K - 3, s - 2), w[s] * diff[s]) for s in range(2, K)]) if K >= 3 else 0.0
    A = np.full((K, K), a_other)
    np.fill_diagonal(A, a_self)
    B = np.full((K, K, K), b_kjl)
    for k in range(K):
        B[k, k, :] = b_kkl
        B[k, :, k] = b_kkl
        for j in range(K):
            if j != k:
                B[k, j, j] = b_kjj
        B[k, k, k] = b_kkk
    return A, B


def _alphas(masks: NDArray[np.int64], weights: FloatArray) -> FloatArray:
    bits = ((masks[:, None] >> np.arange(len(weights))) & 1).astype(np.float64)
    a = bits * weights
    total = a.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return np.asarray(a / total, dtype=np.float64)


def _enumerated_exact(weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A, B of exact Shapley by enumerating the 2^K coalitions (any public weights)."""
    K = len(weights)
    masks = np.arange(1 << K, dtype=np.int64)
    sizes = np.array([int(m).bit_count() for m in masks])
    w = [float(x) for x in _shapley_weights(K)]
    M = np.zeros((1 << K, K))
    for k in range(K):
        has = ((masks >> k) & 1).astype(bool)
        M[:, k] = np.where(
            has,
            [w[s - 1] if s >= 1 else 0.0 for s in sizes],
            [-w[s] if s < K else 0.0 for s in sizes],
        )
    alpha = _alphas(masks, weights)
    A = M.T @ alpha
    B = np.einsum("sk,sj,sl->kjl", M, alpha, alpha)
    return np.asarray(A), np.asarray(B)


def _sampled(
    weights: FloatArray, permutations: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """A, B of permutation-sampling Shapley over ``permutations`` public permutations."""
    K = len(weights)
    A = np.zeros((K, K))
    B = np.zeros((K, K, K))
    for _ in range(permutations):
        perm = rng.permutation(K)
        prefix = np.zeros((K + 1, K))
        for p in range(1, K + 1):
            members = perm[:p]
            prefix[p, members] = weights[members] / weights[members].sum()
        outer = np.einsum("pj,pl->pjl", prefix, prefix)
        A[perm] += prefix[1:] - prefix[:-1]
        B[perm] += outer[1:] - outer[:-1]
    return A / permutations, B / permutations


def estimator(
    *,
    num_players: int,
    config: ScoringConfig,
    num_samples: Sequence[int] | None = None,
    rng: np.random.Generator | None = None,
) -> Estimator:
    """The public estimator rows for ``num_players`` accepted updates.

    Exact whenever the coefficients are computable: always for uniform weighting, up to
    ``config.exact_max_players`` for sample weighting; beyond that, permutation sampling
    with ``config.mc_max_permutations`` public permutations drawn from ``rng`` (the
    plaintext's truncated, adaptive sampling needs coalition values, which stay secret).
    """
    K = num_players
    if K < 1:
        raise ProtocolError("scoring needs at least one accepted update")
    if config.coalition_weighting == "samples":
        if num_samples is None or len(num_samples) != K or min(num_samples) <= 0:
            raise ProtocolError("sample weighting needs a positive sample count per update")
        weights = np.asarray(num_samples, dtype=np.float64)
    else:
        weights = np.ones(K)
    exact = True
    if config.coalition_weighting == "uniform":
        A, B = _uniform_exact(K)
    elif K <= config.exact_max_players:
        A, B = _enumerated_exact(weights)
    else:
        if rng is None:
            raise ProtocolError("sampled Shapley needs a public generator")
        A, B = _sampled(weights, config.mc_max_permutations, rng)
        exact = False
    rows_a, rows_b = [A], [B]
    lmv: slice | None = None
    if config.lmv_weight > 0:
        eye = np.eye(K)
        rows_a.append(eye)
        rows_b.append(np.einsum("kj,kl->kjl", eye, eye))
        lmv = slice(K, 2 * K)
    grand: int | None = None
    if not exact:
        full = weights / weights.sum()
        rows_a.append(full[None, :])
        rows_b.append(np.outer(full, full)[None, :, :])
        grand = sum(len(a) for a in rows_a) - 1
    return Estimator(
        A=np.concatenate(rows_a),
        B=np.concatenate(rows_b),
        shapley=slice(0, K),
        lmv=lmv,
        grand=grand,
        exact=exact,
    )
