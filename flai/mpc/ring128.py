"""The ring Z_{2^128} on pairs of numpy ``uint64`` arrays.

An element array of shape ``s`` is stored as one ``uint64`` array of shape ``(2, *s)``:
``a[0]`` the low and ``a[1]`` the high 64 bits. Secure contribution scoring multiplies
fixed-point values up to degree four (holdout × update, then squared), which does not fit
Z_{2^64} with useful precision, and its truncations are probabilistic with a failure
probability of about 2^(b + 1 − ℓ) for a b-bit value (Mohassel & Zhang, "SecureML",
S&P 2017, Thm. 1): ℓ = 128 leaves 60+ bits of margin where ℓ = 64 would leave under 20.

Operations are exact modulo 2^128:

- addition carries from the low word (``lo < a_lo`` after wrapping);
- a 64 × 64 → 128-bit product is four 32 × 32 → 64-bit products with their carries;
- a matrix product needs the full 128-bit product only of the low words: it splits them
  into three 22-bit limbs and runs one float64 BLAS product against a block-Toeplitz matrix
  of limbs (every entry a sum of at most 3·128 limb products, < 2^53, so float64 is exact;
  longer inner dimensions are chunked), and adds the wrapping ``uint64`` products of the
  cross terms shifted by 64 bits.
"""

from __future__ import annotations

import numpy as np

from flai.mpc.errors import EncodingRangeError, ProtocolError
from flai.mpc.prg import expand

__all__ = [
    "add",
    "decode",
    "encode",
    "from_ints",
    "matmul",
    "mul",
    "neg",
    "pack",
    "random",
    "shift_left",
    "shift_right",
    "sub",
    "sum_axis",
    "to_ints",
    "unpack",
    "zeros",
]

_M32 = np.uint64(0xFFFFFFFF)


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    """The zero element array of ``shape``."""
    return np.zeros((2, *shape), dtype=np.uint64)


def _check(a: np.ndarray) -> None:
    if a.dtype != np.uint64 or a.ndim < 1 or a.shape[0] != 2:
        raise ProtocolError(f"expected a (2, ...) uint64 array, got {a.dtype} {a.shape}")


def from_ints(values: np.ndarray) -> np.ndarray:
    """Sign-extend ``int64`` values into Z_{2^128}."""
    v = np.asarray(values, dtype=np.int64)
    out = np.empty((2, *v.shape), dtype=np.uint64)
    out[0] = v.view(np.uint64)
    out[1] = np.where(v < 0, np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64(0))
    return out


def to_ints(a: np.ndarray) -> list[int]:
    """Signed Python integers (two's complement over 128 bits) of a flattened element array."""
    _check(a)
    lo = a[0].reshape(-1).tolist()
    hi = a[1].reshape(-1).tolist()
    out = []
    for low, high in zip(lo, hi, strict=True):
        value = (int(high) << 64) | int(low)
        out.append(value - (1 << 128) if value >> 127 else value)
    return out


def encode(x: np.ndarray | float, frac_bits: int, *, limit: float) -> np.ndarray:
    """round(x · 2^f) in Z_{2^128}; raise :class:`EncodingRangeError` beyond ``limit``.

    ``limit`` is the largest accepted |x|; it must keep |x|·2^f below 2^62 so the rounding
    is exact in ``int64``.
    """
    arr = np.asarray(x, dtype=np.float64)
    if limit * 2.0**frac_bits >= 2.0**62:
        raise ProtocolError(f"limit {limit} with {frac_bits} fractional bits exceeds int64")
    if arr.size:
        if not np.all(np.isfinite(arr)):
            bad = arr[~np.isfinite(arr)].flat[0]
            raise EncodingRangeError(value=float(bad), limit=limit)
        peak = float(np.max(np.abs(arr)))
        if peak > limit:
            raise EncodingRangeError(value=peak, limit=limit)
    return from_ints(np.rint(arr * 2.0**frac_bits).astype(np.int64))


def decode(a: np.ndarray, frac_bits: int) -> np.ndarray:
    """Signed reals from elements carrying ``frac_bits`` fractional bits (float64)."""
    _check(a)
    # value = hi·2^64 + lo = (hi + [lo ≥ 2^63])·2^64 + signed(lo): exact for |value| < 2^63
    low = a[0].view(np.int64)
    high = a[1].view(np.int64) + (low < 0)
    value = high.astype(np.float64) * 2.0**64 + low.astype(np.float64)
    return np.asarray(value / 2.0**frac_bits, dtype=np.float64)


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b."""
    lo = a[0] + b[0]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.uint64)
    out[0] = lo
    out[1] = a[1] + b[1] + (lo < a[0])
    return out


def neg(a: np.ndarray) -> np.ndarray:
    """−a (two's complement: invert and add one)."""
    lo = ~a[0] + np.uint64(1)
    out = np.empty_like(a)
    out[0] = lo
    out[1] = ~a[1] + (lo == 0)
    return out


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a − b."""
    lo = a[0] - b[0]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.uint64)
    out[0] = lo
    out[1] = a[1] - b[1] - (a[0] < b[0])
    return out


def _mul_wide(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full 128-bit product of two ``uint64`` arrays as (low, high) words."""
    a0, a1 = a & _M32, a >> np.uint64(32)
    b0, b1 = b & _M32, b >> np.uint64(32)
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> np.uint64(32)) + (p01 & _M32) + (p10 & _M32)
    lo = (p00 & _M32) | (mid << np.uint64(32))
    hi = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))
    return lo, hi


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise a · b (broadcasting over the trailing axes)."""
    lo, hi = _mul_wide(a[0], b[0])
    out = np.empty((2, *lo.shape), dtype=np.uint64)
    out[0] = lo
    out[1] = hi + a[0] * b[1] + a[1] * b[0]
    return out


def shift_left(a: np.ndarray, bits: int) -> np.ndarray:
    """a · 2^bits for 0 ≤ bits < 64."""
    if not 0 <= bits < 64:
        raise ProtocolError(f"shift of {bits} bits out of range")
    if bits == 0:
        return a.copy()
    s = np.uint64(bits)
    out = np.empty_like(a)
    out[0] = a[0] << s
    out[1] = (a[1] << s) | (a[0] >> np.uint64(64 - bits))
    return out


def shift_right(a: np.ndarray, bits: int) -> np.ndarray:
    """Logical ⌊a / 2^bits⌋ of the unsigned representative, for 0 ≤ bits < 64."""
    if not 0 <= bits < 64:
        raise ProtocolError(f"shift of {bits} bits out of range")
    if bits == 0:
        return a.copy()
    s = np.uint64(bits)
    out = np.empty_like(a)
    out[0] = (a[0] >> s) | (a[1] << np.uint64(64 - bits))
    out[1] = a[1] >> s
    return out


def sum_axis(a: np.ndarray, axis: int) -> np.ndarray:
    """Σ along ``axis`` of the element shape (carries via 32-bit halves of the low word)."""
    _check(a)
    if a[0].shape[axis] >= 1 << 32:
        raise ProtocolError("too many terms for a carried sum")
    low = np.sum(a[0] & _M32, axis=axis, dtype=np.uint64)
    high = np.sum(a[0] >> np.uint64(32), axis=axis, dtype=np.uint64)
    top = np.sum(a[1], axis=axis, dtype=np.uint64)
    mid = (low >> np.uint64(32)) + high
    out = np.empty((2, *np.shape(low)), dtype=np.uint64)
    out[0] = (low & _M32) | (mid << np.uint64(32))
    out[1] = top + (mid >> np.uint64(32))
    return out


_LIMB = 22
_LIMB_MASK = np.uint64((1 << _LIMB) - 1)
_CHUNK = 128  # inner-dimension chunk: 3·128·(2^22)² < 2^53, so float64 sums stay exact


def _limbs(word: np.ndarray) -> list[np.ndarray]:
    """The three 22-bit limbs of 64-bit words, lowest first, as float64."""
    return [((word >> np.uint64(_LIMB * k)) & _LIMB_MASK).astype(np.float64) for k in range(3)]


def _wide_matmul(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full 128-bit matrix product of ``uint64`` matrices (inner dimension ≤ 128)."""
    k = a.shape[1]
    m = b.shape[1]
    left = np.concatenate(_limbs(a), axis=1)  # n × 3k: [A_0 | A_1 | A_2]
    b_limbs = _limbs(b)
    toeplitz = np.zeros((3 * k, 5 * m))
    for p in range(3):  # column block s collects Σ_{p+q=s} A_p B_q
        for q in range(3):
            toeplitz[p * k : (p + 1) * k, (p + q) * m : (p + q + 1) * m] = b_limbs[q]
    parts = (left @ toeplitz).astype(np.uint64)  # exact: entries < 3·k·2^44 < 2^53
    lo = np.zeros((a.shape[0], m), dtype=np.uint64)
    hi = np.zeros_like(lo)
    for s in range(5):
        v = parts[:, s * m : (s + 1) * m]
        shift = _LIMB * s
        if shift < 64:
            add_lo = v << np.uint64(shift)
            add_hi = v >> np.uint64(64 - shift) if shift else np.zeros_like(v)
        else:
            add_lo = np.zeros_like(v)
            add_hi = v << np.uint64(shift - 64)
        new_lo = lo + add_lo
        hi += add_hi + (new_lo < lo)
        lo = new_lo
    return lo, hi


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Matrix product of element arrays ``(2, n, k)`` and ``(2, k, m)`` modulo 2^128.

    (a_hi·2^64 + a_lo)(b_hi·2^64 + b_lo) ≡ a_lo b_lo + 2^64 (a_lo b_hi + a_hi b_lo): the
    cross terms are wrapping ``uint64`` products; a_lo b_lo is computed to all 128 bits
    from 22-bit limbs by one float64 BLAS product against a block-Toeplitz matrix (exact,
    since every entry is a sum of fewer than 2^53 / 2^44 limb products), over chunks of the
    inner dimension.
    """
    _check(a)
    _check(b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[2] != b.shape[1]:
        raise ProtocolError(f"cannot multiply element shapes {a.shape[1:]} and {b.shape[1:]}")
    k = a.shape[2]
    lo = np.zeros((a.shape[1], b.shape[2]), dtype=np.uint64)
    hi = np.zeros_like(lo)
    for start in range(0, k, _CHUNK):
        stop = min(start + _CHUNK, k)
        a_lo, a_hi = a[0][:, start:stop], a[1][:, start:stop]
        b_lo, b_hi = b[0][start:stop], b[1][start:stop]
        c_lo, c_hi = _wide_matmul(a_lo, b_lo)
        c_hi += a_lo @ b_hi + a_hi @ b_lo  # wrapping uint64 products
        new_lo = lo + c_lo
        hi += c_hi + (new_lo < lo)
        lo = new_lo
    return np.stack([lo, hi])


def random(seed: bytes, shape: tuple[int, ...], *, label: bytes) -> np.ndarray:
    """Uniform elements of ``shape`` from the AES-CTR stream of ``seed`` under ``label``."""
    size = int(np.prod(shape, dtype=np.int64))
    words = expand(seed, 2 * size, label=label)
    return words.reshape(2, *shape).copy()


def pack(a: np.ndarray) -> bytes:
    """16 bytes per element: the low words then the high words, little-endian."""
    _check(a)
    return a.astype("<u8").tobytes()


def unpack(data: bytes | bytearray | memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`pack` for an element array of ``shape``."""
    size = int(np.prod(shape, dtype=np.int64))
    if len(data) != 16 * size:
        raise ProtocolError(f"expected {16 * size} bytes for shape {shape}, got {len(data)}")
    return np.frombuffer(data, dtype="<u8").astype(np.uint64).reshape(2, *shape)
