"""Validity checks on a submitted model update before it is scored or aggregated.

Three checks run in order — shape, finiteness, L2-norm bound — and each raises its own
:class:`~flai.fl.errors.UpdateCheckError` subclass naming the custodian and the check.
The norm bound applies to the update ``Δ_k = w_k − w_global``, the quantity that
norm-bounding defences clip or reject (Sun et al., "Can You Really Backdoor Federated
Learning?", 2019), which stops boosted model-replacement updates (Bagdasaryan et al., "How
To Backdoor Federated Learning", AISTATS 2020).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flai.fl.errors import ConfigError, UpdateNonFiniteError, UpdateNormError, UpdateShapeError
from flai.fl.model import LogisticModel

__all__ = ["CheckConfig", "check_update", "update_norm"]


@dataclass(frozen=True)
class CheckConfig:
    """Update-check settings.

    Parameters
    ----------
    max_update_norm
        Largest accepted ``‖w_k − w_global‖₂``; ``None`` disables the norm check.
    """

    max_update_norm: float | None = 10.0

    def __post_init__(self) -> None:
        if self.max_update_norm is not None and not self.max_update_norm > 0:
            raise ConfigError(f"max_update_norm must be > 0, got {self.max_update_norm}")


def update_norm(update: LogisticModel, global_model: LogisticModel) -> float:
    """``‖w_k − w_global‖₂``."""
    return float(np.linalg.norm(update.params - global_model.params))


def check_update(
    update: LogisticModel,
    global_model: LogisticModel,
    *,
    custodian: str,
    config: CheckConfig,
) -> float:
    """Run every check on one update and return its update norm.

    Raises
    ------
    UpdateShapeError
        If the parameter vector's shape differs from the global model's.
    UpdateNonFiniteError
        If any parameter is NaN or infinite.
    UpdateNormError
        If ``‖w_k − w_global‖₂`` exceeds ``config.max_update_norm``.
    """
    if update.params.shape != global_model.params.shape:
        raise UpdateShapeError(
            custodian=custodian,
            detail=f"shape {update.params.shape} != global {global_model.params.shape}",
        )
    bad = int(np.count_nonzero(~np.isfinite(update.params)))
    if bad:
        raise UpdateNonFiniteError(custodian=custodian, detail=f"{bad} non-finite parameters")
    norm = update_norm(update, global_model)
    if config.max_update_norm is not None and norm > config.max_update_norm:
        raise UpdateNormError(
            custodian=custodian, detail=f"norm {norm:.6g} > bound {config.max_update_norm:.6g}"
        )
    return norm
