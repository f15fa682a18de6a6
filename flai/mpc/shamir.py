"""Shamir secret sharing of short secrets over the prime field GF(2^521 − 1).

Shamir, "How to share a secret", CACM 1979. A secret s (≤ 64 bytes, read as an integer
< 2^512 < p) is the constant term of a random polynomial of degree t; party i receives
(i, f(i)). Any t + 1 shares determine s by Lagrange interpolation at 0; any t shares are
uniformly distributed and independent of s. Coefficients come from :func:`secrets.randbelow`.

This is the threshold backup used by pairwise masking (Bonawitz et al., CCS 2017, §4): each
client Shamir-shares its mask-agreement private key and its self-mask seed among the other
clients so the server can remove the masks of clients that drop out. Bulk vectors use
replicated sharing over Z_{2^ℓ} instead (:mod:`flai.mpc.replicated`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flai.mpc.errors import ProtocolError, ShareMismatchError, ThresholdError

__all__ = ["PRIME", "ShamirShare", "combine_secret", "interpolate_at_zero", "split_secret"]

PRIME = 2**521 - 1
"""The Mersenne prime 2^521 − 1 (the field modulus)."""

_MAX_SECRET_BYTES = 64


@dataclass(frozen=True)
class ShamirShare:
    """One point (index, f(index)) of a sharing polynomial; ``index`` ≥ 1."""

    index: int
    value: int


def _evaluate(coefficients: list[int], x: int) -> int:
    acc = 0
    for c in reversed(coefficients):
        acc = (acc * x + c) % PRIME
    return acc


def split_secret(secret: bytes, *, indices: Iterable[int], threshold: int) -> list[ShamirShare]:
    """Share ``secret`` among parties ``indices`` with a degree-``threshold`` polynomial.

    Parameters
    ----------
    secret
        At most 64 bytes.
    indices
        Distinct evaluation points ≥ 1, one per receiving party.
    threshold
        t: any t shares reveal nothing, any t + 1 reconstruct.
    """
    points = list(indices)
    if len(secret) > _MAX_SECRET_BYTES:
        raise ProtocolError(f"secret of {len(secret)} bytes exceeds {_MAX_SECRET_BYTES}")
    if len(set(points)) != len(points) or any(not 1 <= i < PRIME for i in points):
        raise ProtocolError(f"share indices must be distinct and ≥ 1, got {points}")
    if not 0 <= threshold < len(points):
        raise ThresholdError(available=len(points), required=threshold + 1, what="parties")
    coefficients = [int.from_bytes(secret, "big")] + [
        secrets.randbelow(PRIME) for _ in range(threshold)
    ]
    return [ShamirShare(index=i, value=_evaluate(coefficients, i)) for i in points]


def interpolate_at_zero(shares: list[ShamirShare]) -> int:
    """Lagrange interpolation at 0 of the polynomial through ``shares``."""
    total = 0
    for j, sj in enumerate(shares):
        num, den = 1, 1
        for m, sm in enumerate(shares):
            if m != j:
                num = num * sm.index % PRIME
                den = den * (sm.index - sj.index) % PRIME
        total = (total + sj.value * num * pow(den, -1, PRIME)) % PRIME
    return total


def combine_secret(shares: Iterable[ShamirShare], *, threshold: int, length: int) -> bytes:
    """Reconstruct a ``length``-byte secret from at least ``threshold + 1`` shares.

    Extra shares beyond t + 1 are checked against the interpolated polynomial; a share
    that does not lie on it raises :class:`ShareMismatchError`.
    """
    unique: dict[int, ShamirShare] = {}
    for share in shares:
        if share.index in unique and unique[share.index].value != share.value:
            raise ShareMismatchError(component=share.index, parties=(share.index,))
        unique[share.index] = share
    points = sorted(unique.values(), key=lambda s: s.index)
    if len(points) < threshold + 1:
        raise ThresholdError(available=len(points), required=threshold + 1)
    basis = points[: threshold + 1]
    secret = interpolate_at_zero(basis)
    for extra in points[threshold + 1 :]:
        if interpolate_at_zero(basis[1:] + [extra]) != secret:
            raise ShareMismatchError(component=extra.index, parties=tuple(s.index for s in points))
    if secret >= 1 << (8 * length):
        raise ShareMismatchError(component=0, parties=tuple(s.index for s in points))
    return secret.to_bytes(length, "big")
