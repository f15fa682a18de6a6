"""Parameters of secure contribution scoring and the truncation failure bound they imply.

Three compute nodes (t = 1) run the protocol of :mod:`flai.mpc.secure_scoring`;
:class:`SecureScoringConfig` holds the plaintext scoring rules it reproduces, the
update-norm bound and the fixed point (f bits for data, F bits for the estimator
coefficients). :func:`truncation_failure_bound` is the probability that any of one
validator's probabilistic truncations fails, from the honest magnitudes these bounds allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from flai.errors import ConfigError
from flai.fl import CheckConfig, ScoringConfig
from flai.mpc.secure_scoring.estimator import Estimator

__all__ = [
    "N_NODES",
    "SecureScoringConfig",
    "truncation_failure_bound",
]

N_NODES = 3
"""Secure scoring runs on three compute nodes."""


@dataclass(frozen=True)
class SecureScoringConfig:
    """Parameters of secure contribution scoring.

    Attributes
    ----------
    scoring
        The plaintext scoring rules reproduced after opening (coalition weighting,
        confidence bound, flags, composite, normalisation, exact-player limit).
    checks
        The update-norm bound, applied to the opened norms before scoring.
    frac_bits
        f, fractional bits of the shared holdout and updates and of every truncated value.
    coeff_bits
        F, fractional bits of the public estimator coefficients A and B.
    max_feature
        Largest accepted |x| of a holdout feature (the validator's encoder refuses more).
    max_param
        Largest accepted |θ| of an update parameter (the custodian's encoder).
    """

    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    checks: CheckConfig = field(default_factory=CheckConfig)
    frac_bits: int = 16
    coeff_bits: int = 20
    max_feature: float = 64.0
    max_param: float = 64.0

    def __post_init__(self) -> None:
        for name in ("frac_bits", "coeff_bits"):
            value = getattr(self, name)
            if not 8 <= value <= 32:
                raise ConfigError(f"must lie in [8, 32], got {value}", field=name)
        for name in ("max_feature", "max_param"):
            value = getattr(self, name)
            if not 0 < value <= 2.0**20:  # NaN refused too
                raise ConfigError(f"must lie in (0, 2^20], got {value}", field=name)
        if self.scoring.metric != "neg_log_loss":
            raise ConfigError(
                f"secure scoring approximates neg_log_loss, not {self.scoring.metric!r}",
                field="scoring.metric",
            )


def truncation_failure_bound(
    *, config: SecureScoringConfig, num_params: int, num_rows: int, est: Estimator
) -> float:
    """Upper bound on the probability that any truncation of one validator's run fails.

    Honest magnitudes: |r_i·Δ| ≤ ‖r_i‖‖Δ‖ ≤ √(d·X² + 1)·N (X = ``max_feature``, N the norm
    bound or, without one, 2·``max_param``·√(d + 1)); |ũ| ≤ that / 2 and |l| ≤ that; a
    per-sample score is at most Σ|A|·|l| + ½Σ|B|·|ũ|². A value below 2^b fails with
    probability ≤ 2^(b + 1 − 128) (SecureML Thm. 1); the bound is the union over all values.
    """
    f, F = config.frac_bits, config.coeff_bits
    norm = config.checks.max_update_norm
    if norm is None:
        norm = 2 * config.max_param * math.sqrt(num_params)
    dot = math.sqrt((num_params - 1) * config.max_feature**2 + 1) * norm
    b1 = math.log2(dot * 2.0 ** (2 * f)) + 1
    per_sample = float(
        np.abs(est.A).sum(axis=1).max() * dot + 0.5 * np.abs(est.B).sum(axis=(1, 2)).max() * dot**2
    )
    b2 = math.log2(per_sample * 2.0 ** (2 * f + F) + 1) + 1
    k = int(est.A.shape[1])
    n1 = 2 * num_rows * k
    n2 = est.rows * num_rows
    return float(n1 * 2.0 ** (b1 + 1 - 128) + n2 * 2.0 ** (b2 + 1 - 128))
