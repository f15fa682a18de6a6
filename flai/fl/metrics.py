"""Evaluation metrics for binary classifiers, vectorised over many models at once.

Contribution scoring evaluates hundreds of coalition models on the same holdout, so
:func:`roc_auc_columns` scores a whole matrix of decision values in one call. AUC uses the
Mann–Whitney statistic with average ranks for ties (Hanley & McNeil, "The meaning and use
of the area under a ROC curve", Radiology 1982), which equals scikit-learn's
``roc_auc_score`` exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from flai.fl.errors import ConfigError, DataError

__all__ = [
    "DECOMPOSABLE",
    "Metric",
    "accuracy_columns",
    "metric_columns",
    "neg_log_loss_columns",
    "per_sample_columns",
    "roc_auc",
    "roc_auc_columns",
]

Metric = Literal["auc", "accuracy", "neg_log_loss"]
FloatArray = NDArray[np.float64]


def roc_auc_columns(y: NDArray[np.int64], scores: FloatArray) -> FloatArray:
    """AUC of every column of ``scores`` (``n × m``) against labels ``y``.

    Raises
    ------
    DataError
        If ``y`` holds a single class (AUC is undefined).
    """
    n_pos = int(np.count_nonzero(y))
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise DataError("AUC needs both classes in the evaluation set")
    ranks = rankdata(scores, axis=0)
    rank_sum = ranks[y == 1].sum(axis=0)
    return np.asarray((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg), dtype=np.float64)


def roc_auc(y: NDArray[np.int64], scores: FloatArray) -> float:
    """AUC of one score vector."""
    return float(roc_auc_columns(y, np.asarray(scores, dtype=np.float64)[:, None])[0])


def accuracy_columns(y: NDArray[np.int64], scores: FloatArray) -> FloatArray:
    """Accuracy at decision value 0 (probability 0.5) for every column."""
    return np.asarray(((scores > 0.0) == (y[:, None] == 1)).mean(axis=0), dtype=np.float64)


def _log_likelihood(
    y: NDArray[np.int64], scores: FloatArray, out: FloatArray | None = None
) -> FloatArray:
    """``log σ(±z)`` per entry (``+`` for label 1), as ``min(t, 0) − log1p(e^{−|t|})``.

    Equal to :func:`scipy.special.log_expit` within an ulp of the result, computed in
    place on one temporary (the scoring hot path evaluates it on ``n × m`` coalition
    logits), into ``out`` when given.
    """
    t = np.where(y[:, None] == 1, scores, -scores)
    out = np.abs(t, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    np.minimum(t, 0.0, out=t)
    np.subtract(t, out, out=out)
    return out


def neg_log_loss_columns(y: NDArray[np.int64], scores: FloatArray) -> FloatArray:
    """Negative mean cross-entropy (higher is better) of decision values per column."""
    return np.asarray(_log_likelihood(y, scores).mean(axis=0), dtype=np.float64)


_METRICS: dict[str, Callable[[NDArray[np.int64], FloatArray], FloatArray]] = {
    "auc": roc_auc_columns,
    "accuracy": accuracy_columns,
    "neg_log_loss": neg_log_loss_columns,
}


def metric_columns(metric: Metric, y: NDArray[np.int64], scores: FloatArray) -> FloatArray:
    """Dispatch to the named metric; ``scores`` are decision values (logits)."""
    try:
        fn = _METRICS[metric]
    except KeyError:
        raise ConfigError(f"unknown metric {metric!r}; choose from {sorted(_METRICS)}") from None
    return fn(y, scores)


DECOMPOSABLE: frozenset[str] = frozenset({"accuracy", "neg_log_loss"})
"""Metrics that are a mean of per-sample terms (AUC is a pairwise statistic, it is not)."""


def per_sample_columns(
    metric: Metric, y: NDArray[np.int64], scores: FloatArray, out: FloatArray | None = None
) -> FloatArray:
    """Per-sample terms (``n × m``) whose column means are the metric, for decomposable ones.

    ``out`` (``n × m`` float64), when given, receives the terms.

    Raises
    ------
    ConfigError
        If the metric is not a mean of per-sample terms.
    """
    if metric == "neg_log_loss":
        return _log_likelihood(y, scores, out)
    if metric == "accuracy":
        hits = (scores > 0.0) == (y[:, None] == 1)
        if out is None:
            return np.asarray(hits, dtype=np.float64)
        out[...] = hits
        return out
    raise ConfigError(f"metric {metric!r} is not a mean of per-sample terms")
