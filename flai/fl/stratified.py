"""Stratified Monte Carlo Shapley values with a closed-form Taylor control variate.

:func:`stratified_shapley` (the default Monte Carlo estimator of
:class:`~flai.fl.coalition.CoalitionGame`) estimates the size strata from sampled
coalitions, each serving every player (Stratified SVARM), with a closed-form Taylor
control variate that leaves only a fourth-order residual to sample; it is exact once the
budget covers all coalitions, and efficient at any budget.
:func:`default_evaluation_budget` is its default coalition budget.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from flai.fl.coalition import CoalitionGame
from flai.fl.errors import ConfigError
from flai.fl.metrics import per_sample_columns
from flai.fl.shapley import ShapleyEstimate, holdout_standard_errors

__all__ = [
    "default_evaluation_budget",
    "stratified_shapley",
]

FloatArray = NDArray[np.float64]


@functools.lru_cache(maxsize=256)
def _all_of_size(k_players: int, size: int) -> NDArray[np.int64]:
    """Bitmasks of every coalition of ``size`` players (read-only, cached)."""
    out = _enumerate_size(k_players, size)
    out.setflags(write=False)
    return out


def _enumerate_size(k_players: int, size: int) -> NDArray[np.int64]:
    full = (1 << k_players) - 1
    if size > k_players // 2:
        return np.asarray(full ^ _enumerate_size(k_players, k_players - size), dtype=np.int64)
    if size == 0:
        return np.zeros(1, dtype=np.int64)
    bit = np.int64(1) << np.arange(k_players, dtype=np.int64)
    if size == 1:
        return bit
    if size == 2:
        i, j = np.triu_indices(k_players, 1)
        return np.asarray(bit[i] | bit[j], dtype=np.int64)
    if k_players <= 16:
        masks = np.arange(1 << k_players, dtype=np.int64)
        return masks[np.bitwise_count(masks) == size]
    combos = np.array(list(itertools.combinations(range(k_players), size)), dtype=np.int64)
    return np.asarray(bit[combos].sum(axis=1), dtype=np.int64)


def _window_sample(
    k_players: int,
    sizes: NDArray[np.int64],
    quotas: NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], int]:
    """``quotas[j]`` distinct coalitions of ``sizes[j]`` players each.

    The coalitions are cyclic windows of random permutations: the ``K`` windows of
    length ``s`` of one permutation hold every player in exactly ``s`` of them (a
    balanced design), so each (player, size) stratum gets samples on both sides. Returns
    the masks and the number of permutations drawn.
    """
    bit = np.int64(1) << np.arange(k_players, dtype=np.int64)
    offsets = np.arange(k_players)
    if int(quotas.max()) <= k_players:
        # one permutation per size: its windows are distinct, so no duplicates can arise
        position = rng.permuted(np.tile(offsets, (sizes.shape[0], 1)), axis=1)
        member = (position[:, None, :] - offsets[None, :, None]) % k_players < sizes[:, None, None]
        masks = member @ bit  # [size, window]
        pick = np.argsort(rng.random(masks.shape), axis=1) < quotas[:, None]
        return masks[pick], int(sizes.shape[0])
    out: list[NDArray[np.int64]] = []
    seen = np.empty(0, dtype=np.int64)
    drawn = 0
    while sizes.size:
        group = np.repeat(np.arange(sizes.shape[0]), -(-quotas // k_players))
        drawn += group.shape[0]
        # position[p, i]: where player i stands in permutation p (itself a permutation)
        position = rng.permuted(np.tile(offsets, (group.shape[0], 1)), axis=1)
        member = (position[:, None, :] - offsets[None, :, None]) % k_players < sizes[group][
            :, None, None
        ]
        masks = member.reshape(-1, k_players) @ bit
        # random order within each size (a size's windows are consecutive), then its quota
        window_group = np.repeat(group, k_players)
        order = np.argsort(window_group + rng.random(window_group.shape[0]))
        first = np.searchsorted(window_group[order], np.arange(sizes.shape[0]))
        rank = np.arange(order.shape[0]) - first[window_group[order]]
        take = order[rank < quotas[window_group[order]]]
        picked, picked_group = masks[take], window_group[take]
        unique, index = np.unique(np.concatenate([seen, picked]), return_index=True)
        fresh = index[index >= seen.shape[0]] - seen.shape[0]
        out.append(picked[np.sort(fresh)])
        seen = unique
        quotas = quotas - np.bincount(picked_group[fresh], minlength=sizes.shape[0])
        sizes, quotas = sizes[quotas > 0], quotas[quotas > 0]
    return np.concatenate(out), drawn


def _allocate(total: int, caps: Sequence[int], weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, no bin above its cap (water-filling)."""
    out = [0] * len(caps)
    open_bins = [i for i, c in enumerate(caps) if c > 0]
    left = total
    while left > 0 and open_bins:
        scale = left / sum(weights[i] for i in open_bins)
        share = {i: scale * weights[i] for i in open_bins}
        full = [i for i in open_bins if out[i] + share[i] >= caps[i]]
        if full:
            for i in full:
                left -= caps[i] - out[i]
                out[i] = caps[i]
            open_bins = [i for i in open_bins if i not in full]
            continue
        base = {i: math.floor(share[i]) for i in open_bins}
        spare = left - sum(base.values())
        for i in sorted(open_bins, key=lambda i: base[i] - share[i])[:spare]:
            base[i] += 1
        for i in open_bins:
            out[i] += base[i]
        left = 0
    return out


_TAYLOR_ORDER = 3


def _taylor_surrogate(game: CoalitionGame) -> tuple[FloatArray, FloatArray]:
    """The log-likelihood's Taylor coefficients at the grand coalition's logits.

    Returns ``z̄`` (``n``) and ``c`` (``n × 4``) with ``c[:, j] = ℓ⁽ʲ⁾(z̄)/j!`` for the
    per-sample log-likelihood ``ℓ(z) = log σ(±z)`` (``p = σ(±z̄)``: ``ℓ′ = ±(1 − p)``,
    ``ℓ″ = −p(1 − p)``, ``ℓ‴ = ∓p(1 − p)(1 − 2p)``).
    """
    sign = np.where(game.labels == 1, 1.0, -1.0)
    zbar = game.player_logits.mean(axis=1)
    coef = np.empty((zbar.shape[0], 4))
    ell = per_sample_columns("neg_log_loss", game.labels, zbar[:, None])[:, 0]
    p = np.exp(ell)
    q = p * (1.0 - p)
    coef[:, 0] = ell
    coef[:, 1] = sign * (1.0 - p)
    coef[:, 2] = -0.5 * q
    coef[:, 3] = (-1.0 / 6.0) * sign * q * (1.0 - 2.0 * p)
    return zbar, coef


def _surrogate_apply(
    logits: FloatArray, coef: FloatArray, surrogate: tuple[FloatArray, FloatArray]
) -> FloatArray:
    """``UC`` (``n × K``) for the per-sample surrogate values ``U`` of the coalitions.

    ``u_i(S) = Σ_j c_ij·δ^j`` with ``δ = z_S − z̄`` (``z_∅`` the global model's logits), so
    ``UC = Σ_j c_j ⊙ (Δ^j C)``: one product per order, no ``n × m`` surrogate table.
    """
    zbar, taylor = surrogate
    dev = logits - zbar[:, None]
    power = dev.copy()
    out = taylor[:, :1] * coef.sum(axis=0)
    for j in range(1, _TAYLOR_ORDER + 1):
        if j > 1:
            power *= dev
        out += taylor[:, j : j + 1] * (power @ coef)
    return np.asarray(out, dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _surrogate_matrix(k_players: int) -> FloatArray:
    """``M`` (``13 × 4``): the cubic's coefficients are ``F·M`` for the features ``F`` of
    :func:`_surrogate_shapley`, summed over the sizes ``s = 1 … K−1`` (read-only)."""
    out = np.zeros((13, 4))
    if k_players > 1:
        m = k_players - 1
        s = np.arange(1, k_players, dtype=np.float64)
        p1 = s / m  # P(k ∈ S) for a uniform s-subset S of the M other players
        p2 = s * (s - 1) / (m * (m - 1)) if m > 1 else np.zeros_like(s)  # P(j, k ∈ S)
        p3 = s * (s - 1) * (s - 2) / (m * (m - 1) * (m - 2)) if m > 2 else np.zeros_like(s)
        w = [float(np.sum(1.0 / (s + 1) ** j)) for j in range(4)]  # with p: 1/(s+1)^j
        d = [1.0 / (s + 1) ** j - 1.0 / s**j for j in range(4)]  # with − without
        # E[D + A]/(s+1) − E[A]/s with p1 = a − D
        t1 = {"D": w[1], "p1": float(np.sum(p1 * d[1]))}
        # E[(D + A)²]/(s+1)² − E[A²]/s²
        t2 = {
            "D2": w[2],
            "Dp1": 2 * float(np.sum(p1 / (s + 1) ** 2)),
            "p2": float(np.sum((p1 - p2) * d[2])),
            "p1^2": float(np.sum(p2 * d[2])),
        }
        # E[(D + A)³]/(s+1)³ − E[A³]/s³
        t3 = {
            "D3": w[3],
            "D2p1": 3 * float(np.sum(p1 / (s + 1) ** 3)),
            "Dp2": 3 * float(np.sum((p1 - p2) / (s + 1) ** 3)),
            "Dp1^2": 3 * float(np.sum(p2 / (s + 1) ** 3)),
            "p3": float(np.sum((p1 - 3 * p2 + 2 * p3) * d[3])),
            "p1p2": 3 * float(np.sum((p2 - p3) * d[3])),
            "p1^3": float(np.sum(p3 * d[3])),
        }
        # features: c1, c1·a | c2, c2·a, c2·b, c2·a² | c3, c3·a, c3·b, c3·a², c3·c,
        # c3·ab, c3·a³; columns: powers D⁰ … D³. Expanded with p1 = a − D,
        # p2 = b − D², p3 = c − D³.
        out[0, 1] = t1["D"] - t1["p1"]
        out[1, 0] = t1["p1"]
        out[2, 2] = t2["D2"] - t2["Dp1"] - t2["p2"] + t2["p1^2"]
        out[3, 1] = t2["Dp1"] - 2 * t2["p1^2"]
        out[4, 0] = t2["p2"]
        out[5, 0] = t2["p1^2"]
        out[6, 3] = (
            t3["D3"] - t3["D2p1"] - t3["Dp2"] + t3["Dp1^2"] - t3["p3"] + t3["p1p2"] - t3["p1^3"]
        )
        out[7, 2] = t3["D2p1"] - 2 * t3["Dp1^2"] - t3["p1p2"] + 3 * t3["p1^3"]
        out[8, 1] = t3["Dp2"] - t3["p1p2"]
        out[9, 1] = t3["Dp1^2"] - 3 * t3["p1^3"]
        out[10, 0] = t3["p3"]
        out[11, 0] = t3["p1p2"]
        out[12, 0] = t3["p1^3"]
    out.setflags(write=False)
    return out


def _surrogate_shapley(game: CoalitionGame, surrogate: tuple[FloatArray, FloatArray]) -> FloatArray:
    """Exact per-sample Shapley values (``n × K``) of the surrogate game, in closed form.

    With equal weights the surrogate of a coalition ``S ≠ ∅`` of size ``s`` is
    ``u(S) = Σ_j c_j·(A(S)/s)^j`` with ``D_k = z_k − z̄`` and ``A(S) = Σ_{k∈S} D_k``. For
    player ``p`` and a uniform ``s``-subset ``S`` of the other ``M = K − 1`` players the
    stratum mean ``E[u(S∪p) − u(S)]`` needs the first three moments of ``A``, which for
    sampling without replacement are polynomials in the power sums ``a = ΣD₋ₚ``,
    ``b = ΣD²₋ₚ``, ``c = ΣD³₋ₚ`` with inclusion probabilities ``P₁ = s/M``,
    ``P₂ = s(s−1)/(M(M−1))``, ``P₃ = s(s−1)(s−2)/(M(M−1)(M−2))``:
    ``E[A] = P₁a``, ``E[A²] = P₁b + P₂(a² − b)``,
    ``E[A³] = P₁c + 3P₂(ab − c) + P₃(a³ − 3ab + 2c)``. Summed over sizes, and with
    ``a = ΣD − D_p`` (likewise ``b``, ``c``), each sample's value is a cubic in ``D_p``
    whose coefficients are fixed combinations (:func:`_surrogate_matrix`) of per-sample
    features.
    """
    zbar, c = surrogate
    k_players = game.num_players
    dev = game.player_logits - zbar[:, None]
    base = game.base_logits - zbar
    a = dev.sum(axis=1)
    b = np.einsum("ij,ij->i", dev, dev)
    cc = np.einsum("ij,ij,ij->i", dev, dev, dev)
    ones = np.ones_like(a)
    monomials = np.stack([ones, a, b, a * a, cc, a * b, a * a * a], axis=1)
    features = np.concatenate(
        [c[:, 1:2] * monomials[:, :2], c[:, 2:3] * monomials[:, :4], c[:, 3:4] * monomials],
        axis=1,
    )
    poly = features @ _surrogate_matrix(k_players)
    # size 0: u({p}) − u(∅) = Σ_j c_j D_p^j − u(∅)
    poly[:, 1:] += c[:, 1:]
    poly[:, 0] += c[:, 0] - (c[:, 0] + base * (c[:, 1] + base * (c[:, 2] + base * c[:, 3])))
    out = poly[:, 3:4] * dev
    for j in (2, 1, 0):
        out += poly[:, j : j + 1]
        if j:
            out *= dev
    out /= k_players
    return out


def default_evaluation_budget(k_players: int) -> int:
    """Default coalition budget of :func:`stratified_shapley`: ``max(256, 20K)``.

    On synthetic federations of 20 and 40 custodians (334-sample holdouts, with a
    label-flipper and two free-riders) ``10K`` coalitions already kept the Monte Carlo
    error of every value below 0.15 holdout standard errors; ``20K`` halves that.
    """
    return max(256, 20 * k_players)


def stratified_shapley(
    game: CoalitionGame,
    *,
    rng: np.random.Generator,
    max_evaluations: int | None = None,
    control_variate: bool = True,
) -> ShapleyEstimate:
    """Stratified Monte Carlo Shapley with a closed-form control variate.

    ``SV_k = (1/K) Σ_{s=0}^{K−1} (E[v(S) | |S| = s+1, k ∈ S] − E[v(S) | |S| = s, k ∉ S])``:
    every stratum mean is an average of coalition values, so each evaluated coalition of
    size ``s`` serves all ``K`` players at once (``s`` plus-strata and ``K − s``
    minus-strata; Stratified SVARM, Kolpaczki, Bengs, Muschalik & Hüllermeier,
    "Approximating the Shapley Value without Marginal Contributions", AAAI 2024).

    * Sizes ``0, 1, K−1, K`` (``2K + 2`` coalitions) are always enumerated.
    * The rest of the budget goes to sizes ``2 … K−2``: one balanced pass of ``K``
      coalitions per size when the budget affords it, then a Neyman allocation (in
      proportion to each size's modelled spread, see the code) capped at the number of
      coalitions of the size; a size that reaches its cap is enumerated, so a budget of
      ``2^K`` gives the exact values. Within a size, coalitions are distinct cyclic
      windows of random permutations (every player in and out of them in a fixed
      ratio), or a uniform sample without replacement when the quota is at least half
      the size's coalitions.
    * Control variate (negative log-loss with equal coalition weights): the game ``u(S)``
      of the third-order Taylor expansion of each holdout sample's log-likelihood around
      the grand coalition's logits has Shapley values in closed form
      (:func:`_surrogate_shapley`), so the estimator samples only the residual: ``SV =
      Ŝ(v − u) + SV(u)`` (control variates for Shapley estimation: Goldwasser & Hooker,
      "Stabilizing Estimates of Shapley Values with Control Variates", 2023). The
      residual is fourth order in the updates' disagreement.
    * A stratum without samples on both sides counts as 0 for the residual, or (without
      the control variate) as the player's mean over its sampled strata.
    * Finally the estimate is projected onto ``Σ SV = v(N) − v(∅)`` (efficiency), which
      holds for the true values, so the projection never increases the Euclidean error.

    The estimator is linear in ``v``, so the per-sample values give standard errors.

    Parameters
    ----------
    game
        The coalition game (its cache is shared with any earlier evaluation).
    rng
        Generator for the sampled coalitions; equal seeds give identical results.
    max_evaluations
        Distinct coalitions used (default :func:`default_evaluation_budget`); the
        ``2K + 2`` of the extreme sizes are used whatever the budget.
    control_variate
        Use the Taylor control variate where it applies (log-loss, equal weights).

    Raises
    ------
    ConfigError
        If ``max_evaluations < 1``.
    """
    budget = (
        default_evaluation_budget(game.num_players) if max_evaluations is None else max_evaluations
    )
    if budget < 1:
        raise ConfigError(f"max_evaluations must be >= 1, got {budget}")
    k_players = game.num_players
    full = game.full
    counts = [math.comb(k_players, s) for s in range(k_players + 1)]
    use_cv = control_variate and game.metric == "neg_log_loss" and game.uniform
    extremes = sorted({0, 1, k_players - 1, k_players})
    chosen = [_all_of_size(k_players, s) for s in extremes]
    left = max(budget - sum(counts[s] for s in extremes), 0)
    middle = list(range(2, k_players - 1))
    caps = [counts[s] for s in middle]
    quotas = [0] * len(middle)
    if middle:
        # one balanced pass (K windows) per size first, when the budget affords it
        floor = [min(c, k_players) for c in caps]
        if sum(floor) <= left:
            quotas, left = floor, left - sum(floor)
        # Neyman allocation: the spread of v over coalitions of size s is first order
        # in the updates' disagreement, ∝ √((K−s)/s), and that of the residual v − u
        # fourth order, ∝ ((K−s)/s)²; divided by √(s(K−s)) because a coalition serves s
        # plus- and K − s minus-strata
        neyman = [(k_players - s) ** 1.5 / s**2.5 if use_cv else 1.0 / s for s in middle]
        extra = _allocate(left, [c - q for c, q in zip(caps, quotas, strict=True)], neyman)
        quotas = [q + e for q, e in zip(quotas, extra, strict=True)]
    windows: list[tuple[int, int]] = []
    for s, quota, cap in zip(middle, quotas, caps, strict=True):
        if quota == cap:
            chosen.append(_all_of_size(k_players, s))
        elif 2 * quota >= cap:
            chosen.append(rng.choice(_all_of_size(k_players, s), size=quota, replace=False))
        elif quota > 0:
            windows.append((s, quota))
    permutations = 0
    if windows:
        sizes_w, quotas_w = (np.array(x, dtype=np.int64) for x in zip(*windows, strict=True))
        masks_w, permutations = _window_sample(k_players, sizes_w, quotas_w, rng)
        chosen.append(masks_w)
    masks = np.concatenate(chosen)
    member = game.membership(masks)
    logits = game._logits_of(member)
    coef = _stratified_coefficients(member, masks, full, counts, fill="zero" if use_cv else "mean")
    values, per_sample = game._apply(masks, coef, logits)
    if per_sample is None:
        errors = np.zeros(k_players)
    else:
        if use_cv:
            taylor = _taylor_surrogate(game)
            per_sample -= _surrogate_apply(logits, coef, taylor)
            per_sample += _surrogate_shapley(game, taylor)
            values = per_sample.mean(axis=0)
        errors = holdout_standard_errors(per_sample)
    v_empty, v_full = game.value(0), game.value(full)
    return ShapleyEstimate(
        values=values,
        standard_errors=errors,
        v_empty=v_empty,
        v_full=v_full,
        evaluations=game.evaluations,
        permutations=permutations,
        method="monte_carlo",
    )


def _stratified_coefficients(
    member: NDArray[np.bool_],
    masks: NDArray[np.int64],
    full: int,
    counts: Sequence[int],
    *,
    fill: Literal["zero", "mean"],
) -> FloatArray:
    """``C`` (``m × K``) of the stratified estimator ``SV = vᵀC`` over ``masks``.

    A stratum without samples on both sides counts as 0 (``fill="zero"``, for a residual
    game) or as the mean of the player's sampled strata (``"mean"``).
    """
    k_players = member.shape[1]
    sizes = member.sum(axis=1)
    by_size = sizes[:, None] == np.arange(k_players + 1)
    size_hist = by_size.sum(axis=0)
    inside = member.T.astype(np.float64) @ by_size  # [k, t]: coalitions of size t with k
    # stratum s (0 … K−1) averages coalitions of size s + 1 with k and of size s without
    n_plus = inside[:, 1:]
    n_minus = size_hist[:-1] - inside[:, :-1]
    known = (n_plus > 0) & (n_minus > 0)
    complete = size_hist == np.asarray(counts)
    exact = complete[:-1] & complete[1:]
    weight = known.astype(np.float64)
    sampled = ~exact
    n_sampled = int(sampled.sum())
    if n_sampled and fill == "mean":
        n_known = (known & sampled).sum(axis=1)
        n_missing = n_sampled - n_known
        spread = np.where(n_known > 0, n_missing / np.maximum(n_known, 1), 0.0)
        weight[:, sampled] *= 1.0 + spread[:, None]
        orphan = (n_known == 0) & (n_missing > 0)
        if np.any(orphan):
            weight[np.ix_(orphan, exact)] += (n_missing[orphan] / max(int(exact.sum()), 1))[:, None]
    weight /= k_players
    # per coalition size t: the weight of v(S) for k ∈ S (stratum t − 1) and k ∉ S (t)
    w_in = np.zeros((k_players + 1, k_players))
    np.divide(weight.T, n_plus.T, out=w_in[1:], where=n_plus.T > 0)
    w_out = np.zeros((k_players + 1, k_players))
    np.divide(weight.T, n_minus.T, out=w_out[:-1], where=n_minus.T > 0)
    coef = np.where(member, w_in[sizes], -w_out[sizes])
    # efficiency: Σ_k SV_k = v(N) − v(∅)
    target = (masks == full).astype(np.float64) - (masks == 0)
    target -= coef.sum(axis=1)
    target /= k_players
    coef += target[:, None]
    return coef
