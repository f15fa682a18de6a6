"""Aggregation rules: contribution-weighted FedAvg and classic sample-weighted FedAvg.

Pure numeric functions, apart from any orchestration (the split Flower keeps between
``flwr.server.strategy.aggregate`` and its strategies).

* :func:`phi_weighted_fedavg` is 001 eq. 1 (and eq. 6): ``w ← Σ_k φ_k / Σ_j φ_j · w_k``.
  When ``Σφ = 0`` (no update earned any credit) it returns the previous global model
  unchanged, explicitly, instead of dividing by zero.
* :func:`fedavg` is McMahan et al. (AISTATS 2017): ``w ← Σ_k n_k / n · w_k``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from flai.fl.errors import ConfigError
from flai.fl.model import LogisticModel

__all__ = ["fedavg", "phi_weighted_fedavg", "weighted_average"]

FloatArray = NDArray[np.float64]


def _check_shapes(models: Sequence[LogisticModel]) -> None:
    if not models:
        raise ConfigError("cannot aggregate zero models")
    shapes = {m.params.shape for m in models}
    if len(shapes) != 1:
        raise ConfigError(f"models disagree on shape: {sorted(shapes)}")


def weighted_average(models: Sequence[LogisticModel], weights: Sequence[float]) -> LogisticModel:
    """``Σ_k (a_k / Σa) · w_k`` for non-negative weights with a positive sum.

    Raises
    ------
    ConfigError
        On a length mismatch, negative or non-finite weights, or a zero sum.
    """
    _check_shapes(models)
    a = np.asarray(weights, dtype=np.float64)
    if a.shape != (len(models),):
        raise ConfigError(f"{a.shape[0] if a.ndim else 0} weights for {len(models)} models")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ConfigError("weights must be finite and non-negative")
    total = float(a.sum())
    if total <= 0:
        raise ConfigError("weights sum to zero")
    # accumulate in place rather than stacking a K × d matrix
    out = np.zeros_like(models[0].params)
    for model, share in zip(models, (a / total).tolist(), strict=True):
        if share:
            out += share * model.params
    return LogisticModel(params=out)


def fedavg(models: Sequence[LogisticModel], num_samples: Sequence[int]) -> LogisticModel:
    """Sample-weighted FedAvg (McMahan et al. 2017): ``w ← Σ n_k / n · w_k``."""
    return weighted_average(models, [float(n) for n in num_samples])


def phi_weighted_fedavg(
    models: Sequence[LogisticModel], phi: Sequence[float], *, previous: LogisticModel
) -> tuple[LogisticModel, bool]:
    """Contribution-weighted FedAvg, 001 eq. 1: ``w ← Σ φ_k / Σφ · w_k``.

    Parameters
    ----------
    models
        The accepted updates ``w_k``.
    phi
        Their contribution scores ``φ_k ∈ [0, 1]``.
    previous
        The current global model, kept when ``Σφ = 0``.

    Returns
    -------
    model, kept_previous
        The new global model and whether the ``Σφ = 0`` fallback applied.
    """
    a = np.asarray(phi, dtype=np.float64)
    if a.shape != (len(models),):
        raise ConfigError(f"{a.shape[0] if a.ndim else 0} scores for {len(models)} models")
    if not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a > 1):
        raise ConfigError("phi must be finite and lie in [0, 1]")
    if not models or float(a.sum()) == 0.0:
        return previous, True
    if models[0].params.shape != previous.params.shape:
        raise ConfigError("updates and previous model disagree on shape")
    return weighted_average(models, a.tolist()), False
