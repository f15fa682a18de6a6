"""The coalition game of model updates, with cached coalition values.

The cooperative game (001 §3.2, §5.3; 000 §8.2) has the round's accepted updates as
players. The value of a coalition ``S`` is the validator-holdout metric (negative
log-loss by default; AUC, accuracy available) of the averaged coalition model
``w_S = Σ_{k∈S} a_k w_k / Σ_{k∈S} a_k``; the empty coalition is the current global model,
so ``v(N) − v(∅)`` is the round's improvement and Shapley values split it (efficiency).
This is the FL data-valuation game of Song, Tong & Wei, "Profit Allocation for Federated
Learning" (IEEE Big Data 2019) and of Liu et al., "GTG-Shapley: Efficient and Accurate
Participant Contribution Evaluation in Federated Learning" (ACM TIST 2022). Its
estimators are in :mod:`flai.fl.shapley` and :mod:`flai.fl.stratified`.

Cost: a coalition model's holdout logits are the weighted mean of its members' logits,
so :class:`CoalitionGame` multiplies the holdout by each update once and evaluates a
batch of ``m`` coalitions from the ``n × K`` logits, whatever the model size ``d``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from flai.fl.data import Dataset
from flai.fl.errors import ScoringError
from flai.fl.metrics import DECOMPOSABLE, Metric, metric_columns, per_sample_columns
from flai.fl.model import LogisticModel

__all__ = [
    "MAX_PLAYERS",
    "CoalitionGame",
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
