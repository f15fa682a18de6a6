"""Shapley values of model updates: the coalition game and its estimators.

The cooperative game (001 §3.2, §5.3; 000 §8.2) has the round's accepted updates as
players. The value of a coalition ``S`` is the validator-holdout metric (negative
log-loss by default; AUC, accuracy available) of the averaged coalition model
``w_S = Σ_{k∈S} a_k w_k / Σ_{k∈S} a_k``; the empty coalition is the current global model,
so ``v(N) − v(∅)`` is the round's improvement and Shapley values split it (efficiency).
This is the FL data-valuation game of Song, Tong & Wei, "Profit Allocation for Federated
Learning" (IEEE Big Data 2019) and of Liu et al., "GTG-Shapley: Efficient and Accurate
Participant Contribution Evaluation in Federated Learning" (ACM TIST 2022).

* :func:`exact_shapley` enumerates all ``2^K`` coalitions (vectorised, ``K ≤ 10`` by
  default): ``SV_k = Σ_{S ⊆ N∖k} |S|!(K−|S|−1)!/K! · (v(S∪k) − v(S))``.
* :func:`monte_carlo_shapley` samples permutations with truncation (TMC-Shapley of
  Ghorbani & Zou, "Data Shapley: Equitable Valuation of Data for Machine Learning", ICML
  2019), stratified by coalition size with the cheap extreme strata computed exactly,
  plus GTG-Shapley's between-round truncation, optional guided sampling and a
  convergence test. Coalition values are cached, and the number of *distinct*
  coalitions evaluated is reported as the cost.
* :func:`leave_one_out`: ``v(N) − v(N∖k)``.

With a per-sample metric (log-loss, accuracy) every estimator also returns standard
errors over the holdout: Shapley values are linear in ``v``, so per-sample values give
per-sample Shapley values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flai.fl.data import Dataset
from flai.fl.errors import ConfigError, ScoringError
from flai.fl.metrics import DECOMPOSABLE, Metric, metric_columns, per_sample_columns
from flai.fl.model import LogisticModel

__all__ = [
    "CoalitionGame",
    "ShapleyEstimate",
    "exact_shapley",
    "leave_one_out",
    "monte_carlo_shapley",
]

FloatArray = NDArray[np.float64]


class CoalitionGame:
    """The FL coalition game on one validator's holdout, with cached values.

    Parameters
    ----------
    base
        The current global model; ``v(∅)`` is its metric.
    updates
        The players' models ``w_k``.
    holdout
        The validator's labelled holdout.
    metric
        Coalition value metric (see :class:`ScoringConfig` for why log-loss is default).
    weights
        Averaging weights ``a_k`` inside a coalition (default uniform).

    Notes
    -----
    For metrics that are a mean over holdout samples (log-loss, accuracy) the game keeps
    the per-sample terms too. Shapley values are linear in ``v``, so each estimator also
    yields per-sample Shapley values, whose spread gives a standard error of ``SV_k`` with
    respect to the finite holdout.
    """

    def __init__(
        self,
        *,
        base: LogisticModel,
        updates: Sequence[LogisticModel],
        holdout: Dataset,
        metric: Metric = "neg_log_loss",
        weights: Sequence[float] | None = None,
    ) -> None:
        if not updates:
            raise ScoringError("a coalition game needs at least one player")
        holdout.require_features(base.num_features)
        for u in updates:
            if u.params.shape != base.params.shape:
                raise ScoringError(f"update shape {u.params.shape} != {base.params.shape}")
        self._base = base.params
        self._params = np.stack([u.params for u in updates])
        a = np.ones(len(updates)) if weights is None else np.asarray(weights, dtype=np.float64)
        if a.shape != (len(updates),) or np.any(a <= 0) or not np.all(np.isfinite(a)):
            raise ScoringError("coalition weights must be positive, one per player")
        self._weights = a
        self._X = holdout.X
        self._y = holdout.y
        self._metric: Metric = metric
        self._decomposable = metric in DECOMPOSABLE
        self._cache: dict[int, float] = {}
        self._samples: dict[int, FloatArray] = {}

    @property
    def num_players(self) -> int:
        """``K``."""
        return int(self._params.shape[0])

    @property
    def num_samples(self) -> int:
        """Holdout size."""
        return int(self._y.shape[0])

    @property
    def decomposable(self) -> bool:
        """Whether per-sample values (and hence standard errors) are available."""
        return self._decomposable

    @property
    def evaluations(self) -> int:
        """Distinct coalitions evaluated so far (the cost measure)."""
        return len(self._cache)

    @property
    def full(self) -> int:
        """Bitmask of the grand coalition."""
        return (1 << self.num_players) - 1

    def coalition_params(self, masks: NDArray[np.int64]) -> FloatArray:
        """Averaged parameters of each coalition (rows); the base model for ``∅``."""
        bits = ((masks[:, None] >> np.arange(self.num_players)) & 1).astype(np.float64)
        a = bits * self._weights
        total = a.sum(axis=1, keepdims=True)
        empty = total[:, 0] == 0
        total[empty] = 1.0
        out = (a / total) @ self._params
        out[empty] = self._base
        return np.asarray(out, dtype=np.float64)

    def _evaluate(self, masks: NDArray[np.int64]) -> None:
        params = self.coalition_params(masks)
        logits = self._X @ params[:, :-1].T + params[:, -1]
        if self._decomposable:
            terms = per_sample_columns(self._metric, self._y, logits)
            for j, mask in enumerate(masks.tolist()):
                self._samples[mask] = terms[:, j]
                self._cache[mask] = float(terms[:, j].mean())
        else:
            vals = metric_columns(self._metric, self._y, logits)
            for mask, val in zip(masks.tolist(), vals.tolist(), strict=True):
                self._cache[mask] = val

    def _ensure(self, masks: Sequence[int] | NDArray[np.int64]) -> NDArray[np.int64]:
        m = np.asarray(masks, dtype=np.int64).reshape(-1)
        if m.size:
            missing = np.unique(m[[int(x) not in self._cache for x in m]])
            if missing.size:
                self._evaluate(missing)
        return m

    def values(self, masks: Sequence[int] | NDArray[np.int64]) -> FloatArray:
        """``v(S)`` for many coalitions, evaluating the uncached ones in one batch."""
        m = self._ensure(masks)
        return np.array([self._cache[int(x)] for x in m], dtype=np.float64)

    def sample_values(self, masks: Sequence[int] | NDArray[np.int64]) -> FloatArray:
        """Per-sample terms of ``v(S)``, ``n × len(masks)`` (decomposable metrics only).

        Raises
        ------
        ScoringError
            If the metric is not a mean of per-sample terms.
        """
        if not self._decomposable:
            raise ScoringError(f"metric {self._metric!r} has no per-sample decomposition")
        m = self._ensure(masks)
        return np.stack([self._samples[int(x)] for x in m], axis=1)

    def is_cached(self, mask: int) -> bool:
        """Whether ``v(S)`` is already known (evaluating it again is free)."""
        return mask in self._cache

    def value(self, mask: int) -> float:
        """``v(S)`` of one coalition (bitmask over players)."""
        cached = self._cache.get(mask)
        if cached is None:
            self._evaluate(np.array([mask], dtype=np.int64))
            cached = self._cache[mask]
        return cached


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
        Permutations sampled (0 for the exact method).
    method
        ``"exact"`` or ``"monte_carlo"``.
    """

    values: FloatArray
    standard_errors: FloatArray
    v_empty: float
    v_full: float
    evaluations: int
    permutations: int
    method: str


def _standard_errors(per_sample: FloatArray) -> FloatArray:
    n = per_sample.shape[0]
    if n < 2:
        return np.zeros(per_sample.shape[1])
    return np.asarray(per_sample.std(axis=0, ddof=1) / np.sqrt(n), dtype=np.float64)


def exact_shapley(game: CoalitionGame, *, max_players: int = 10) -> ShapleyEstimate:
    """Exact Shapley values by enumerating all ``2^K`` coalitions.

    Raises
    ------
    ScoringError
        If ``K > max_players`` (the cost is exponential; use Monte Carlo).
    """
    k_players = game.num_players
    if k_players > max_players:
        raise ScoringError(f"exact Shapley is limited to {max_players} players, got {k_players}")
    masks = np.arange(1 << k_players, dtype=np.int64)
    v = game.values(masks)
    sizes = np.array([m.bit_count() for m in range(1 << k_players)], dtype=np.int64)
    fact = [math.factorial(i) for i in range(k_players + 1)]
    coef = np.array(
        [
            fact[s] * fact[k_players - s - 1] / fact[k_players] if s < k_players else 0.0
            for s in range(k_players + 1)
        ]
    )
    values = np.empty(k_players)
    samples = game.sample_values(masks) if game.decomposable else None
    per_sample = np.empty((game.num_samples, k_players)) if samples is not None else None
    for k in range(k_players):
        without = masks[((masks >> k) & 1) == 0]
        c = coef[sizes[without]]
        values[k] = float(np.sum(c * (v[without | (1 << k)] - v[without])))
        if samples is not None and per_sample is not None:
            per_sample[:, k] = (samples[:, without | (1 << k)] - samples[:, without]) @ c
    return ShapleyEstimate(
        values=values,
        standard_errors=(
            _standard_errors(per_sample) if per_sample is not None else np.zeros(k_players)
        ),
        v_empty=float(v[0]),
        v_full=float(v[-1]),
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
    errors = _standard_errors(terms.per_sample(game)) if game.decomposable else np.zeros(k_players)
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
    full = game.full
    v_full = game.value(full)
    return np.array([v_full - game.value(full & ~(1 << k)) for k in range(game.num_players)])
