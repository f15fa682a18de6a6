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
* :func:`stratified_shapley` (the default Monte Carlo estimator) estimates the size
  strata from sampled coalitions, each serving every player (Stratified SVARM), with a
  closed-form Taylor control variate that leaves only a fourth-order residual to sample;
  it is exact once the budget covers all coalitions, and efficient at any budget.
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

Cost: a coalition model's holdout logits are the weighted mean of its members' logits,
so :class:`CoalitionGame` multiplies the holdout by each update once and evaluates a
batch of ``m`` coalitions from the ``n × K`` logits, whatever the model size ``d``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from flai.fl.data import Dataset
from flai.fl.errors import ConfigError, ScoringError
from flai.fl.metrics import DECOMPOSABLE, Metric, metric_columns, per_sample_columns
from flai.fl.model import LogisticModel

__all__ = [
    "MAX_PLAYERS",
    "CoalitionGame",
    "ShapleyEstimate",
    "default_evaluation_budget",
    "exact_shapley",
    "leave_one_out",
    "monte_carlo_shapley",
    "stratified_shapley",
]

FloatArray = NDArray[np.float64]

MAX_PLAYERS = 63
"""Most players a game holds: coalitions are bitmasks in a signed 64-bit integer."""

_STACK_LIMIT = 1 << 18  # K·(d+1) up to which the updates are stacked for one product


class CoalitionGame:
    """The FL coalition game on one validator's holdout, with cached values.

    Parameters
    ----------
    base
        The current global model; ``v(∅)`` is its metric.
    updates
        The players' models ``w_k`` (at most 63: coalitions are 64-bit masks).
    holdout
        The validator's labelled holdout.
    metric
        Coalition value metric (see :class:`ScoringConfig` for why log-loss is default).
    weights
        Averaging weights ``a_k`` inside a coalition (default uniform).

    Notes
    -----
    The coalition model's logits are linear in its parameters, so
    ``X·w_S + b_S = Σ_{k∈S} a_k (X·w_k + b_k) / Σ_{k∈S} a_k``: the game computes each
    update's holdout logits once (``n × K``, one pass over ``X`` per update) and a batch of
    ``m`` coalitions costs an ``n × K`` by ``K × m`` product, whatever the model size ``d``.
    The game keeps only these logits, never a ``K × d`` copy of the updates.

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
        if len(updates) > MAX_PLAYERS:
            raise ScoringError(
                f"a coalition game has at most {MAX_PLAYERS} players, got {len(updates)}"
            )
        holdout.require_features(base.num_features)
        for u in updates:
            if u.params.shape != base.params.shape:
                raise ScoringError(f"update shape {u.params.shape} != {base.params.shape}")
        a = np.ones(len(updates)) if weights is None else np.asarray(weights, dtype=np.float64)
        if a.shape != (len(updates),) or np.any(a <= 0) or not np.all(np.isfinite(a)):
            raise ScoringError("coalition weights must be positive, one per player")
        self._weights = a
        self._updates = tuple(u.params for u in updates)
        self._base = base.params
        self._base_logits = base.decision_function(holdout.X)
        if len(updates) * base.params.shape[0] <= _STACK_LIMIT:
            params = np.stack(self._updates, axis=1)
            self._logits = np.asarray(holdout.X @ params[:-1] + params[-1], dtype=np.float64)
        else:  # one pass over X per update, no K × d copy
            self._logits = np.empty((holdout.num_samples, len(updates)))
            for k, u in enumerate(updates):
                self._logits[:, k] = u.decision_function(holdout.X)
        self._y = holdout.y
        self._metric: Metric = metric
        self._decomposable = metric in DECOMPOSABLE
        self._index: dict[int, int] = {}
        # the same index as sorted arrays for vectorised look-ups, rebuilt when stale
        self._sorted_masks = np.empty(0, dtype=np.int64)
        self._sorted_cols = np.empty(0, dtype=np.int64)
        self._vals = np.empty(64)
        # per-sample terms, one column per evaluated coalition
        self._terms = np.empty((holdout.num_samples, 64 if self._decomposable else 0))

    @property
    def num_players(self) -> int:
        """``K``."""
        return int(self._logits.shape[1])

    @property
    def num_samples(self) -> int:
        """Holdout size."""
        return int(self._y.shape[0])

    @property
    def metric(self) -> Metric:
        """The coalition value metric."""
        return self._metric

    @property
    def decomposable(self) -> bool:
        """Whether per-sample values (and hence standard errors) are available."""
        return self._decomposable

    @property
    def uniform(self) -> bool:
        """Whether coalitions average their members with equal weights."""
        return bool(np.all(self._weights == self._weights[0]))

    @property
    def evaluations(self) -> int:
        """Distinct coalitions evaluated so far (the cost measure)."""
        return len(self._index)

    @property
    def full(self) -> int:
        """Bitmask of the grand coalition."""
        return (1 << self.num_players) - 1

    @property
    def labels(self) -> NDArray[np.int64]:
        """Holdout labels."""
        return self._y

    @property
    def player_logits(self) -> FloatArray:
        """Each update's holdout logits ``X·w_k + b_k`` (``n × K``, read-only view)."""
        out = self._logits.view()
        out.setflags(write=False)
        return out

    @property
    def base_logits(self) -> FloatArray:
        """The global model's holdout logits, the empty coalition's (read-only view)."""
        out = self._base_logits.view()
        out.setflags(write=False)
        return out

    def membership(self, masks: Sequence[int] | NDArray[np.int64]) -> NDArray[np.bool_]:
        """``m × K`` membership matrix of coalitions given as bitmasks."""
        m = np.asarray(masks, dtype=np.int64).reshape(-1)
        return ((m[:, None] >> np.arange(self.num_players, dtype=np.int64)) & 1).astype(bool)

    def coalition_weights(self, masks: Sequence[int] | NDArray[np.int64]) -> FloatArray:
        """Normalised averaging weights ``a_k/Σ_{j∈S} a_j`` (``m × K``; zero rows for ``∅``)."""
        return self._weights_of(self.membership(masks))

    def _weights_of(self, member: NDArray[np.bool_]) -> FloatArray:
        a = member * self._weights
        total = a.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        a /= total
        return a

    def coalition_params(self, masks: Sequence[int] | NDArray[np.int64]) -> FloatArray:
        """Averaged parameters of each coalition (rows); the base model for ``∅``."""
        weights = self.coalition_weights(masks)
        out = np.zeros((weights.shape[0], self._base.shape[0]))
        for k, params in enumerate(self._updates):
            out += weights[:, k : k + 1] * params
        out[weights.sum(axis=1) == 0] = self._base
        return out

    def coalition_logits(self, masks: Sequence[int] | NDArray[np.int64]) -> FloatArray:
        """Holdout logits of each coalition model (``n × m``), from the per-update logits."""
        return self._logits_of(self.membership(masks))

    def _logits_of(self, member: NDArray[np.bool_]) -> FloatArray:
        logits = np.asarray(self._logits @ self._weights_of(member).T, dtype=np.float64)
        empty = ~member.any(axis=1)
        if np.any(empty):
            logits[:, empty] = self._base_logits[:, None]
        return logits

    def _evaluate(self, masks: NDArray[np.int64], logits: FloatArray | None = None) -> None:
        """Evaluate (uncached, distinct) ``masks``, from their logits when given."""
        if logits is None:
            logits = self.coalition_logits(masks)
        start, count = len(self._index), masks.shape[0]
        if start + count > self._vals.shape[0]:
            cap = max(2 * self._vals.shape[0], start + count)
            self._vals = np.resize(self._vals, cap)
            if self._decomposable:
                terms = np.empty((self.num_samples, cap))
                terms[:, :start] = self._terms[:, :start]
                self._terms = terms
        if self._decomposable:
            block = self._terms[:, start : start + count]
            per_sample_columns(self._metric, self._y, logits, out=block)
            self._vals[start : start + count] = block.mean(axis=0)
        else:
            self._vals[start : start + count] = metric_columns(self._metric, self._y, logits)
        self._index.update(zip(masks.tolist(), range(start, start + count), strict=True))

    def _columns(
        self,
        masks: Sequence[int] | NDArray[np.int64],
        logits: FloatArray | None = None,
        *,
        distinct: bool = False,
    ) -> NDArray[np.int64]:
        """Buffer columns of ``masks``, evaluating the uncached ones in one batch.

        ``logits`` (``n × m``, optional) are the coalitions' logits if already known;
        ``distinct`` promises that ``masks`` has no repeats.
        """
        m = np.asarray(masks, dtype=np.int64).reshape(-1)
        cols = self._lookup(m)
        missing = cols < 0
        n_missing = int(np.count_nonzero(missing))
        if not n_missing:
            return cols
        if n_missing == m.shape[0] and distinct:
            start = len(self._index)
            self._evaluate(m, logits)
            return np.arange(start, start + n_missing)
        fresh, where = np.unique(m[missing], return_index=True)
        todo = np.flatnonzero(missing)[where]
        self._evaluate(fresh, None if logits is None else logits[:, todo])
        cols[missing] = self._lookup(m[missing])
        return cols

    def _lookup(self, m: NDArray[np.int64]) -> NDArray[np.int64]:
        if not self._index:
            return np.full(m.shape[0], -1, dtype=np.int64)
        if self._sorted_masks.shape[0] != len(self._index):  # stale: rebuild once
            keys = np.fromiter(self._index.keys(), dtype=np.int64, count=len(self._index))
            cols = np.fromiter(self._index.values(), dtype=np.int64, count=len(self._index))
            order = np.argsort(keys)
            self._sorted_masks, self._sorted_cols = keys[order], cols[order]
        pos = np.searchsorted(self._sorted_masks, m)
        pos[pos == self._sorted_masks.size] = 0
        return np.where(self._sorted_masks[pos] == m, self._sorted_cols[pos], -1)

    def _apply(
        self, masks: NDArray[np.int64], coef: FloatArray, logits: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray | None]:
        """``vᵀC`` and the per-sample ``TC`` (``n × K``) for distinct ``masks``.

        When the masks are most of the cache, ``C`` is scattered onto every cached column
        instead of gathering the terms (one pass fewer over ``n × m``).
        """
        cols = self._columns(masks, logits, distinct=True)
        count = len(self._index)
        if 2 * cols.shape[0] < count:
            terms = self._terms[:, cols] if self._decomposable else None
            return self._vals[cols] @ coef, (None if terms is None else terms @ coef)
        spread = np.zeros((count, coef.shape[1]))
        spread[cols] = coef
        per_sample = self._terms[:, :count] @ spread if self._decomposable else None
        return self._vals[:count] @ spread, per_sample

    def values(self, masks: Sequence[int] | NDArray[np.int64]) -> FloatArray:
        """``v(S)`` for many coalitions, evaluating the uncached ones in one batch."""
        cols = self._columns(masks)  # may grow the buffer: index it afterwards
        return np.asarray(self._vals[cols], dtype=np.float64)

    def sample_values(self, masks: Sequence[int] | NDArray[np.int64]) -> FloatArray:
        """Per-sample terms of ``v(S)``, ``n × len(masks)`` (decomposable metrics only).

        Raises
        ------
        ScoringError
            If the metric is not a mean of per-sample terms.
        """
        if not self._decomposable:
            raise ScoringError(f"metric {self._metric!r} has no per-sample decomposition")
        cols = self._columns(masks)  # may grow the buffer: index it afterwards
        return np.asarray(self._terms[:, cols], dtype=np.float64)

    def is_cached(self, mask: int) -> bool:
        """Whether ``v(S)`` is already known (evaluating it again is free)."""
        return mask in self._index

    def value(self, mask: int) -> float:
        """``v(S)`` of one coalition (bitmask over players)."""
        col = self._index.get(mask)
        if col is None:
            self._evaluate(np.array([mask], dtype=np.int64))
            col = self._index[mask]
        return float(self._vals[col])


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


def _standard_errors(per_sample: FloatArray) -> FloatArray:
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
    return np.asarray(values, dtype=np.float64), _standard_errors(per_sample)


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
        errors = _standard_errors(per_sample)
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
    singles = np.int64(1) << np.arange(game.num_players, dtype=np.int64)
    return np.asarray(game.value(game.full) - game.values(game.full ^ singles), dtype=np.float64)
