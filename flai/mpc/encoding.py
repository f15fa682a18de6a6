"""Fixed-point encoding of real arrays into Z_{2^ℓ}.

A real x is represented by the integer round(x · 2^f) in two's complement modulo 2^ℓ
(Catrina & Saxena, FC 2010; the encoding of SecureML, Mohassel & Zhang, S&P 2017).

Precision and range
-------------------
- Resolution: 2^-f; the encoding error of one value is at most 2^-(f+1).
- Range: |x| ≤ ``limit`` where ``limit`` defaults to 2^(ℓ−2−f) (one guard bit below the
  ring's signed range, so ``round`` can never carry into the sign bit). A tighter
  ``max_abs`` reserves headroom for sums and products computed on the shares.
- Non-finite values and values beyond ``limit`` raise :class:`EncodingRangeError`; nothing
  is ever wrapped silently. A decoded result may be checked against the bound an honest
  computation can reach (``bound=``), which flags wrapped sums of out-of-range inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flai.mpc.errors import EncodingRangeError
from flai.mpc.ring import Ring

__all__ = ["FixedPoint"]


@dataclass(frozen=True)
class FixedPoint:
    """Fixed-point codec with ``frac_bits`` fractional bits in ``ring``.

    Attributes
    ----------
    ring
        The ring Z_{2^ℓ} holding encodings.
    frac_bits
        f, the number of fractional bits.
    max_abs
        Largest accepted |x|; ``None`` means the ring's own limit 2^(ℓ−2−f).
    """

    ring: Ring = field(default_factory=Ring)
    frac_bits: int = 16
    max_abs: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.frac_bits <= self.ring.bits - 4:
            raise ValueError(f"frac_bits {self.frac_bits} does not fit a {self.ring.bits}-bit ring")
        ring_limit = float(2 ** (self.ring.bits - 2 - self.frac_bits))
        if self.max_abs is not None and not 0 < self.max_abs <= ring_limit:
            raise ValueError(f"max_abs {self.max_abs} must be in (0, {ring_limit}]")

    @property
    def scale(self) -> float:
        """2^f."""
        return float(2**self.frac_bits)

    @property
    def resolution(self) -> float:
        """Smallest representable step 2^-f."""
        return 1.0 / self.scale

    @property
    def limit(self) -> float:
        """Largest accepted magnitude."""
        if self.max_abs is not None:
            return float(self.max_abs)
        return float(2 ** (self.ring.bits - 2 - self.frac_bits))

    def encode(self, x: np.ndarray | float) -> np.ndarray:
        """Encode a real array; raise :class:`EncodingRangeError` rather than wrap.

        Returns
        -------
        numpy.ndarray
            ``uint64`` ring elements of the same shape as ``x``.
        """
        arr = np.asarray(x, dtype=np.float64)
        if arr.size:
            if not np.all(np.isfinite(arr)):
                bad = arr[~np.isfinite(arr)].flat[0]
                raise EncodingRangeError(value=float(bad), limit=self.limit)
            peak = float(np.max(np.abs(arr)))
            if peak > self.limit:
                raise EncodingRangeError(value=peak, limit=self.limit)
        ints = np.rint(arr * self.scale).astype(np.int64)
        return self.ring.from_signed(ints)

    def decode(
        self, a: np.ndarray, *, scale_bits: int | None = None, bound: float | None = None
    ) -> np.ndarray:
        """Decode ring elements carrying ``scale_bits`` fractional bits (default f).

        Parameters
        ----------
        a
            ``uint64`` ring elements.
        scale_bits
            Fractional bits of ``a`` (e.g. 2f after a fixed-point product).
        bound
            If given, the largest |value| an honest computation can produce; anything
            beyond it is reported as :class:`EncodingRangeError` (a wrapped result).
        """
        bits = self.frac_bits if scale_bits is None else scale_bits
        signed = self.ring.to_signed(a)
        out = signed.astype(np.float64) / float(2**bits)
        if bound is not None and out.size:
            peak = float(np.max(np.abs(out)))
            if peak > bound:
                raise EncodingRangeError(value=peak, limit=bound, what="decoded result")
        return out
