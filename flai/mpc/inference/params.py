"""Parameters of secret-shared inference and the model shared for the session protocol.

:class:`InferenceConfig` fixes the sharing (n nodes, threshold t, ring Z_{2^64}) and the
fixed point of queries and coefficients; both protocols of :mod:`flai.mpc.inference` use
it. :class:`ModelPart` is one node's share of θ = (w, b) at a public scale, made from a
plaintext model by :func:`share_params` or from secure aggregation by
:mod:`flai.mpc.conversion`; :func:`worst_case_logit_bound` is the largest logit a user can
decode at that scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flai.mpc.encoding import FixedPoint
from flai.mpc.errors import EncodingRangeError
from flai.mpc.replicated import NodeShare, ReplicatedScheme
from flai.mpc.ring import Ring

__all__ = [
    "InferenceConfig",
    "ModelPart",
    "share_params",
    "worst_case_logit_bound",
]


@dataclass(frozen=True)
class InferenceConfig:
    """Parameters of secret-shared inference.

    Attributes
    ----------
    n_nodes, threshold
        Replicated sharing among n nodes, private against t, reconstructable by t + 1.
    ring_bits
        ℓ (64: the logit carries 2f fractional bits).
    frac_bits
        f, fractional bits of inputs and coefficients.
    max_abs
        Largest accepted |x_i| and |w_i|.
    """

    n_nodes: int = 3
    threshold: int = 1
    ring_bits: int = 64
    frac_bits: int = 16
    max_abs: float = 1024.0

    @property
    def scheme(self) -> ReplicatedScheme:
        """The replicated sharing scheme."""
        return ReplicatedScheme(
            n_nodes=self.n_nodes, threshold=self.threshold, ring=Ring(self.ring_bits)
        )

    @property
    def fixed_point(self) -> FixedPoint:
        """Codec for inputs and coefficients (f fractional bits)."""
        return FixedPoint(ring=Ring(self.ring_bits), frac_bits=self.frac_bits, max_abs=self.max_abs)

    @property
    def logit_bound(self) -> float:
        """Largest |z| representable at 2f fractional bits with one guard bit."""
        return float(2 ** (self.ring_bits - 3 - 2 * self.frac_bits))


@dataclass(frozen=True)
class ModelPart:
    """One node's shares of the parameters θ = (w, b) at a public scale.

    Attributes
    ----------
    params
        Shares of the integer vector Θ (length d + 1, the intercept last) in Z_{2^64},
        with θ ≈ Θ / ``weight_scale``.
    weight_scale
        2^f for a plaintext model shared with :func:`share_params`; for a model converted
        from secure aggregation, C · 2^(f − s) with C the public weight total and s the
        truncated bits (:mod:`flai.mpc.conversion`).
    """

    params: NodeShare
    weight_scale: float

    @property
    def node(self) -> int:
        """The holding node."""
        return self.params.node

    @property
    def num_features(self) -> int:
        """d (the parameter vector has d + 1 entries)."""
        return self.params.length - 1


def worst_case_logit_bound(*, weight_scale: float, config: InferenceConfig) -> float:
    """Largest |z| the user can decode for a model at ``weight_scale``.

    z̃ = z · weight_scale · 2^f must stay below 2^61 (two guard bits in Z_{2^64}, so that
    differences of two logits never wrap either).
    """
    return float(2**61 / (weight_scale * 2.0**config.frac_bits))


def share_params(
    coef: np.ndarray, intercept: float, *, config: InferenceConfig
) -> dict[int, ModelPart]:
    """Replicated-share a plaintext model for the session protocol (scale 2^f).

    Raises
    ------
    EncodingRangeError
        A coefficient exceeds ``max_abs`` or the worst-case logit Σ|w_i|·max_abs + |b|
        exceeds :func:`worst_case_logit_bound`.
    """
    w = np.asarray(coef, dtype=np.float64).reshape(-1)
    theta = np.append(w, float(intercept))
    scale = 2.0**config.frac_bits
    worst = float(np.sum(np.abs(w)) * config.max_abs + abs(intercept))
    bound = worst_case_logit_bound(weight_scale=scale, config=config)
    if not np.isfinite(worst) or worst > bound:
        raise EncodingRangeError(value=worst, limit=bound, what="worst-case logit")
    shares = config.scheme.share(config.fixed_point.encode(theta), scale_bits=config.frac_bits)
    return {j: ModelPart(params=shares[j], weight_scale=scale) for j in shares}
