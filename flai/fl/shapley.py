"""Shapley values of model updates: the estimators over a coalition game.

The game (:class:`~flai.fl.coalition.CoalitionGame`, :mod:`flai.fl.coalition`) values a
coalition of the round's updates by the holdout metric of their averaged model; Shapley
values split ``v(N) − v(∅)`` among the updates (efficiency).

* :func:`exact_shapley` enumerates all ``2^K`` coalitions (vectorised, ``K ≤ 10`` by
  default): ``SV_k = Σ_{S ⊆ N∖k} |S|!(K−|S|−1)!/K! · (v(S∪k) − v(S))``.
* :func:`~flai.fl.stratified.stratified_shapley` (the default Monte Carlo estimator,
  :mod:`flai.fl.stratified`) estimates the size strata from sampled coalitions, each
  serving every player (Stratified SVARM), with a closed-form Taylor control variate.
* :func:`monte_carlo_shapley` samples permutations with truncation (TMC-Shapley of
  Ghorbani & Zou, "Data Shapley: Equitable Valuation of Data for Machine Learning", ICML
  2019), stratified by coalition size with the cheap extreme strata computed exactly,
  plus GTG-Shapley's between-round truncation (Liu et al., "GTG-Shapley: Efficient and
  Accurate Participant Contribution Evaluation in Federated Learning", ACM TIST 2022),
  optional guided sampling and a convergence test. Coalition values are cached, and the
  number of *distinct* coalitions evaluated is reported as the cost.
* :func:`leave_one_out`: ``v(N) − v(N∖k)``.

With a per-sample metric (log-loss, accuracy) every estimator also returns standard
errors over the holdout: Shapley values are linear in ``v``, so per-sample values give
per-sample Shapley values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flai.fl.coalition import CoalitionGame
from flai.fl.errors import ConfigError, ScoringError

__all__ = [
    "ShapleyEstimate",
    "exact_shapley",
    "leave_one_out",
    "monte_carlo_shapley",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ShapleyEstimate:
    """Shapley values with their cost and holdout standard errors.

    Attributes
    ----------
    values
        ``SV_k`` per player.
    standard_errors
        Standard error of each ``SV_k`` over the holdout samples (the spread of the
        per-sample Shapley values over ``√n``); zeros for a non-decomposable metric.
    v_empty, v_full
        ``v(∅)`` and ``v(N)``.
    evaluations
        Distinct coalitions evaluated by the game (including earlier calls on it).
    permutations
        Permutations sampled: by the permutation estimator, or those whose cyclic windows
        the stratified estimator used (0 for the exact method).
    method
        ``"exact"`` or ``"monte_carlo"`` (either Monte Carlo estimator).
    """

    values: FloatArray
    standard_errors: FloatArray
    v_empty: float
    v_full: float
    evaluations: int
    permutations: int
    method: str


def holdout_standard_errors(per_sample: FloatArray) -> FloatArray:
    """Standard error of each column's mean (sample standard deviation over ``√n``)."""
    n = per_sample.shape[0]
    if n < 2:
        return np.zeros(per_sample.shape[1])
    centred = per_sample - per_sample.mean(axis=0)
    return np.asarray(
        np.sqrt(np.einsum("ij,ij->j", centred, centred) / ((n - 1) * n)), dtype=np.float64
    )


def _exact_coefficients(member: NDArray[np.bool_]) -> FloatArray:
    """``C`` (``2^K × K``) with ``SV = vᵀC`` over every coalition (rows of ``member``).

    ``C[S, k] = |S∖k|!(K−|S∖k|−1)!/K!`` with a plus sign if ``k ∈ S``, minus otherwise.
    """
    k_players = member.shape[1]
    sizes = member.sum(axis=1)
    fact = [math.factorial(i) for i in range(k_players + 1)]
    coef = np.array(
        [fact[s] * fact[k_players - s - 1] / fact[k_players] for s in range(k_players)] + [0.0]
    )
    return np.where(member, coef[np.maximum(sizes - 1, 0)][:, None], -coef[sizes][:, None])


def _linear_estimate(
    game: CoalitionGame, masks: NDArray[np.int64], coef: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Values and standard errors of ``SV = vᵀC`` over the (distinct) coalitions ``masks``."""
    values, per_sample = game._apply(masks, coef)
    if per_sample is None:
        return np.asarray(values, dtype=np.float64), np.zeros(game.num_players)
    return np.asarray(values, dtype=np.float64), holdout_standard_errors(per_sample)


def exact_shapley(game: CoalitionGame, *, max_players: int = 10) -> ShapleyEstimate:
    """Exact Shapley values by enumerating all ``2^K`` coalitions.

    All coalitions are evaluated in one batch and ``SV = vᵀC`` with the ``2^K × K``
    coefficient matrix of the subset formula (for the per-sample terms too).

    Raises
    ------
    ScoringError
        If ``K > max_players`` (the cost is exponential; use Monte Carlo).
    """
    k_players = game.num_players
    if k_players > max_players:
        raise ScoringError(f"exact Shapley is limited to {max_players} players, got {k_players}")
    masks = np.arange(1 << k_players, dtype=np.int64)
    coef = _exact_coefficients(game.membership(masks))
    values, errors = _linear_estimate(game, masks, coef)
    return ShapleyEstimate(
        values=values,
        standard_errors=errors,
        v_empty=game.value(0),
        v_full=game.value(game.full),
        evaluations=game.evaluations,
        permutations=0,
        method="exact",
    )


class _Terms:
    """An estimator written as ``SV_k = Σ w · (v(with) − v(without))`` per player.

    Every estimator here is linear in the coalition values, so the same terms give the
    point estimate and the per-sample estimates (for standard errors).
    """

    def __init__(self, k_players: int) -> None:
        self.k = k_players
        self.items: list[dict[tuple[int, int], float]] = [{} for _ in range(k_players)]

    def add(self, player: int, with_mask: int, without_mask: int, weight: float) -> None:
        key = (with_mask, without_mask)
        self.items[player][key] = self.items[player].get(key, 0.0) + weight

    def extend(self, player: int, other: dict[tuple[int, int], float], scale: float) -> None:
        for (a, b), w in other.items():
            self.add(player, a, b, w * scale)

    def values(self, game: CoalitionGame) -> FloatArray:
        out = np.zeros(self.k)
        for k, terms in enumerate(self.items):
            out[k] = sum(w * (game.value(a) - game.value(b)) for (a, b), w in terms.items())
        return out

    def per_sample(self, game: CoalitionGame) -> FloatArray:
        masks = sorted({m for terms in self.items for key in terms for m in key})
        index = {m: j for j, m in enumerate(masks)}
        samples = game.sample_values(masks)
        out = np.zeros((game.num_samples, self.k))
        for k, terms in enumerate(self.items):
            if not terms:
                continue
            pos = np.array([index[a] for a, _ in terms])
            neg = np.array([index[b] for _, b in terms])
            w = np.array(list(terms.values()))
            out[:, k] = (samples[:, pos] - samples[:, neg]) @ w
        return out


def monte_carlo_shapley(
    game: CoalitionGame,
    *,
    rng: np.random.Generator,
    max_permutations: int = 500,
    max_evaluations: int | None = None,
    truncation_tolerance: float = 1e-3,
    round_tolerance: float = 0.0,
    convergence_tolerance: float = 0.05,
    min_permutations: int | None = None,
    guided: bool = False,
    exact_extremes: bool = True,
) -> ShapleyEstimate:
    """Truncated Monte Carlo permutation Shapley (Ghorbani & Zou 2019; Liu et al. 2022).

    ``SV_k = (1/K) Σ_{s=0}^{K−1} E_{|S|=s}[v(S∪k) − v(S)]``: the mean over coalition sizes
    (strata) of the expected marginal. The first and last strata cost ``2K + 2``
    evaluations in total (``v(∅)``, ``v({k})``, ``v(N∖k)``, ``v(N)``), so with
    ``exact_extremes`` they are computed exactly, and when a budget leaves room (at most
    half of it) the second and second-to-last strata too (``K(K−1)`` more). Permutations
    then estimate only the remaining strata, each (player, size) stratum averaged on its
    own and empty strata filled with the player's pooled sampled mean — stratified
    sampling in the sense of Maleki et al. (2013) and Castro et al., "Improving
    polynomial estimation of the Shapley value by stratified random sampling with optimum
    allocation" (Computers & OR 2017). For FL games the first stratum (an update alone
    against the global model) carries most of the value, which is why GTG-Shapley's
    guided sampling helps; computing it exactly helps more.

    Parameters
    ----------
    game
        The coalition game (its cache is shared with any earlier evaluation).
    rng
        Generator for the permutations.
    max_permutations
        Upper bound on sampled permutations.
    max_evaluations
        Budget of distinct coalition evaluations (the extremes are always evaluated); a
        permutation that would exceed it is abandoned and sampling stops.
    truncation_tolerance
        Within-round truncation (TMC): once ``|v(N) − v(prefix)| ≤`` this, the remaining
        players of the permutation get marginal 0 without evaluation.
    round_tolerance
        Between-round truncation (GTG-Shapley): if ``|v(N) − v(∅)| ≤`` this, every value
        is 0 without sampling.
    convergence_tolerance
        Stop once, after each further cycle of ``K`` permutations, the mean absolute
        change of the estimates relative to their mean magnitude is below this.
    min_permutations
        Permutations sampled before convergence is tested (default ``2K``).
    guided
        GTG-Shapley guided sampling: permutation ``t`` starts with player ``t mod K``
        (redundant when ``exact_extremes`` already fixes the first stratum).
    exact_extremes
        Compute the extreme strata exactly (see above).

    Returns
    -------
    ShapleyEstimate
        Without ``exact_extremes`` each permutation's marginals telescope, so
        ``Σ SV = v(N) − v(∅)`` up to the truncation tolerance; with it, efficiency holds
        in expectation.
    """
    if max_permutations < 1:
        raise ConfigError(f"max_permutations must be >= 1, got {max_permutations}")
    k_players = game.num_players
    full = game.full
    v_empty = game.value(0)
    v_full = game.value(full)
    if abs(v_full - v_empty) <= round_tolerance:
        return ShapleyEstimate(
            values=np.zeros(k_players),
            standard_errors=np.zeros(k_players),
            v_empty=v_empty,
            v_full=v_full,
            evaluations=game.evaluations,
            permutations=0,
            method="monte_carlo",
        )
    stratify = exact_extremes and k_players >= 3
    # exact[k]: terms of Σ over the exactly computed strata of player k's stratum means
    exact = _Terms(k_players)
    exact_positions: set[int] = set()
    if stratify:
        game.values(
            [1 << k for k in range(k_players)] + [full & ~(1 << k) for k in range(k_players)]
        )
        for k in range(k_players):
            exact.add(k, 1 << k, 0, 1.0)
            exact.add(k, full, full & ~(1 << k), 1.0)
        exact_positions = {0, k_players - 1}
        pair_cost = k_players * (k_players - 1)
        if (
            k_players >= 6
            and max_evaluations is not None
            and game.evaluations + pair_cost <= max_evaluations // 2
        ):
            pairs = [(i, j) for i in range(k_players) for j in range(i + 1, k_players)]
            game.values([(1 << i) | (1 << j) for i, j in pairs])
            game.values([full & ~((1 << i) | (1 << j)) for i, j in pairs])
            share = 1.0 / (k_players - 1)
            for i, j in pairs:
                both, rest = (1 << i) | (1 << j), full & ~((1 << i) | (1 << j))
                exact.add(i, both, 1 << j, share)
                exact.add(j, both, 1 << i, share)
                exact.add(i, full & ~(1 << j), rest, share)
                exact.add(j, full & ~(1 << i), rest, share)
            exact_positions |= {1, k_players - 2}
    sampled_positions = [p for p in range(k_players) if p not in exact_positions]
    # cells[k][pos]: sampled (with, without) pairs of player k at permutation position pos
    cells: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(k_players)]
    plain = _Terms(k_players)  # un-stratified TMC: every marginal, weight 1 (÷ permutations)
    done = 0
    floor_perms = 2 * k_players if min_permutations is None else min_permutations
    snapshot: FloatArray | None = None

    def build() -> _Terms:
        if not stratify:
            out = _Terms(k_players)
            for k in range(k_players):
                out.extend(k, plain.items[k], 1.0 / max(done, 1))
            return out
        out = _Terms(k_players)
        n_exact = len(exact_positions)
        for k in range(k_players):
            out.extend(k, exact.items[k], 1.0 / k_players)
            pooled = [pair for pos in sampled_positions for pair in cells[k].get(pos, [])]
            empty = 0
            for pos in sampled_positions:
                samples = cells[k].get(pos, [])
                if samples:
                    for a, b in samples:
                        out.add(k, a, b, 1.0 / (k_players * len(samples)))
                else:
                    empty += 1
            if empty and pooled:
                for a, b in pooled:
                    out.add(k, a, b, empty / (k_players * len(pooled)))
            elif empty:
                out.extend(k, exact.items[k], empty / (k_players * n_exact))
        return out

    for t in range(max_permutations):
        perm = rng.permutation(k_players)
        if guided:
            where = int(np.flatnonzero(perm == t % k_players)[0])
            perm[0], perm[where] = perm[where], perm[0]
        steps: list[tuple[int, int, int, int]] = []  # (player, position, with, without)
        mask, prev, aborted = 0, v_empty, False
        for pos, k in enumerate(perm.tolist()):
            if abs(v_full - prev) <= truncation_tolerance:
                break  # truncated: the remaining marginals count as 0
            before = mask
            mask |= 1 << k
            if (
                max_evaluations is not None
                and not game.is_cached(mask)
                and game.evaluations >= max_evaluations
            ):
                aborted = True
                break
            prev = game.value(mask)
            steps.append((k, pos, mask, before))
        if aborted:
            break
        # truncated players still count as samples of their cell, with marginal 0
        reached = {k for k, _, _, _ in steps}
        for pos, k in enumerate(perm.tolist()):
            if k not in reached:
                steps.append((k, pos, 0, 0))
        for k, pos, a, b in steps:
            if stratify:
                if pos in exact_positions:
                    continue
                cells[k].setdefault(pos, []).append((a, b))
            elif a != b:
                plain.add(k, a, b, 1.0)
        done += 1
        if done >= floor_perms and done % k_players == 0 and convergence_tolerance > 0:
            est = build().values(game)
            if snapshot is not None:
                scale = max(float(np.mean(np.abs(est))), 1e-12)
                if float(np.mean(np.abs(est - snapshot))) / scale < convergence_tolerance:
                    break
            snapshot = est
    terms = build()
    values = terms.values(game)
    errors = (
        holdout_standard_errors(terms.per_sample(game))
        if game.decomposable
        else np.zeros(k_players)
    )
    return ShapleyEstimate(
        values=values,
        standard_errors=errors,
        v_empty=v_empty,
        v_full=v_full,
        evaluations=game.evaluations,
        permutations=done,
        method="monte_carlo",
    )


def leave_one_out(game: CoalitionGame) -> FloatArray:
    """``LOO_k = v(N) − v(N∖k)`` (Cook 1977's deletion diagnostic applied to updates)."""
    singles = np.int64(1) << np.arange(game.num_players, dtype=np.int64)
    return np.asarray(game.value(game.full) - game.values(game.full ^ singles), dtype=np.float64)
