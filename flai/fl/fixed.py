"""Mapping of off-chain floats to the chain's fixed-point integers.

The contracts store contribution scores as ``uint256`` with 18 decimals (``1e18 ≙ 1``,
the ERC-20/WAD convention) and validation metrics with 6 decimals (``1e6 ≙ 1``).
Conversion floors the *exact* binary value of the float (via :class:`fractions.Fraction`),
so it never rounds up: ``phi_to_fixed(φ) ≤ φ·10¹⁸`` and ``K`` scores lose less than
``K`` units in total. Note that float shares ``φ_k = s_k/Σs`` may sum to ``1 + 2⁻⁵²`` in
binary, so their fixed sum can exceed ``10¹⁸`` by a few units; the chain normalises by
``Σφ`` (001 eq. 1) and must not assume ``Σ = 10¹⁸``.
"""

from __future__ import annotations

import math
from fractions import Fraction

from flai.fl.errors import ConfigError

__all__ = ["METRIC_SCALE", "PHI_SCALE", "fixed_to_phi", "metric_to_fixed", "phi_to_fixed"]

PHI_SCALE = 10**18
METRIC_SCALE = 10**6


def _floor_fixed(value: float, scale: int, what: str) -> int:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{what} must be a finite value in [0, 1], got {value!r}")
    return math.floor(Fraction(value) * scale)


def phi_to_fixed(phi: float) -> int:
    """``⌊φ · 10¹⁸⌋`` for ``φ ∈ [0, 1]``, exact (no float rounding).

    Raises
    ------
    ConfigError
        If ``φ`` is not a finite number in ``[0, 1]``.
    """
    return _floor_fixed(float(phi), PHI_SCALE, "phi")


def fixed_to_phi(value: int) -> float:
    """Nearest float to ``value / 10¹⁸``."""
    if not 0 <= value <= PHI_SCALE:
        raise ConfigError(f"fixed phi must lie in [0, {PHI_SCALE}], got {value}")
    return value / PHI_SCALE


def metric_to_fixed(metric: float) -> int:
    """``⌊m · 10⁶⌋`` for a metric ``m ∈ [0, 1]`` such as AUC or accuracy."""
    return _floor_fixed(float(metric), METRIC_SCALE, "metric")
