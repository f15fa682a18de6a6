"""The ring Z_{2^ℓ} on numpy ``uint64`` arrays, and compact serialisation of its elements.

Because 2^ℓ divides 2^64, numpy's wrapping ``uint64`` addition and multiplication are exact
ring operations for every ℓ ≤ 64; a value is reduced (masked to ℓ bits) only when it is
serialised, compared or decoded. Additive and replicated secret sharing work over any ring
(Cramer, Damgård, Ishai, TCC 2005), which is why the sMPC layer uses Z_{2^ℓ} rather than a
prime field for bulk data: there is no modular reduction on the hot path.

ℓ must be a multiple of 4 so that elements serialise to ``ℓ/8`` bytes exactly (whole bytes
plus one packed nibble when ℓ ≡ 4 mod 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flai.mpc.errors import ProtocolError

__all__ = ["Ring"]


@dataclass(frozen=True)
class Ring:
    """Z_{2^bits} with ``bits`` in {8, 12, ..., 64}.

    Attributes
    ----------
    bits
        ℓ, the ring's bit width.
    """

    bits: int = 64

    def __post_init__(self) -> None:
        if not 8 <= self.bits <= 64 or self.bits % 4:
            raise ValueError(f"ring bits must be a multiple of 4 in [8, 64], got {self.bits}")

    @property
    def modulus(self) -> int:
        """2^ℓ as a Python integer."""
        return 1 << self.bits

    @property
    def mask(self) -> np.uint64:
        """2^ℓ − 1 as a ``uint64`` scalar."""
        return np.uint64(self.modulus - 1)

    @property
    def bytes_per_element(self) -> float:
        """Serialised size of one element in bytes (ℓ / 8)."""
        return self.bits / 8

    def reduce(self, a: np.ndarray) -> np.ndarray:
        """Return ``a mod 2^ℓ`` (a new array)."""
        a = np.asarray(a, dtype=np.uint64)
        return a & self.mask if self.bits < 64 else a.copy()

    def to_signed(self, a: np.ndarray) -> np.ndarray:
        """Interpret elements as two's-complement integers in [−2^(ℓ−1), 2^(ℓ−1))."""
        a = np.asarray(a, dtype=np.uint64)
        if self.bits == 64:
            return a.view(np.int64).copy()
        half = np.int64(1 << (self.bits - 1))
        return ((a & self.mask).astype(np.int64) ^ half) - half

    def from_signed(self, a: np.ndarray) -> np.ndarray:
        """Map signed integers (``int64``) to their ring representatives."""
        return self.reduce(np.asarray(a, dtype=np.int64).view(np.uint64))

    @property
    def _paired(self) -> bool:
        return self.bits % 8 != 0

    @property
    def _planes(self) -> tuple[tuple[int, int], ...]:
        """(bit offset, width) of each plane of one group value, widths 64/32/16/8, low first."""
        total = 2 * self.bits if self._paired else self.bits
        planes, offset = [], 0
        while offset < total:
            width = next(w for w in (64, 32, 16, 8) if w <= total - offset)
            planes.append((offset, width))
            offset += width
        return tuple(planes)

    def pack(self, a: np.ndarray) -> bytearray:
        """Serialise a 1-D array to exactly :meth:`packed_size` bytes.

        Layout (little-endian, contiguous *planes*, so :meth:`unpack` is a handful of
        whole-array numpy operations): elements are grouped singly when 8 | ℓ, and in pairs
        (x_i, x_{i+h}) with h = ⌈n/2⌉ (x_n = 0 pads an odd n) when ℓ ≡ 4 (mod 8), the group
        value being x_i + 2^ℓ·x_{i+h}. Group values are cut into bit slices of width
        64, 32, 16 or 8 (greedily, lowest bits first), and slice p of every group is stored
        as one array of ``uint{w_p}``. ℓ = 44: a ``uint64`` plane (x_i and the low 20 bits
        of x_{i+h}), a ``uint16`` plane and a ``uint8`` plane, 11 bytes per pair.
        """
        x = np.asarray(a, dtype=np.uint64)
        if x.ndim != 1:
            raise ProtocolError(f"can only pack 1-D arrays, got shape {x.shape}")
        n = len(x)
        out = bytearray(self.packed_size(n))
        groups = (n + 1) // 2 if self._paired else n
        views, offset = [], 0
        for bit_offset, width in self._planes:
            view = np.frombuffer(out, dtype=f"<u{width // 8}", count=groups, offset=offset)
            views.append((bit_offset, view))
            offset += groups * width // 8
        if n == 0:
            return out
        if not self._paired:
            _scatter(x, views)
            return out
        first, second = x[:groups], np.zeros(groups, dtype=np.uint64)
        second[: n - groups] = x[groups:]
        np.bitwise_and(second, self.mask, out=second)
        if views[0][1].dtype.itemsize == 8:  # ℓ > 32: x_i and the low bits of x_{i+h}
            low = views[0][1]
            np.left_shift(second, np.uint64(self.bits), out=low)
            np.bitwise_or(low, first & self.mask, out=low)
            _scatter(second, [(o - self.bits, v) for o, v in views[1:]])
        else:
            value = (first & self.mask) | (second << np.uint64(self.bits))
            _scatter(value, views)
        return out

    def packed_size(self, n: int) -> int:
        """Number of bytes :meth:`pack` produces for ``n`` elements."""
        if self.bits % 8 == 0:
            return n * self.bits // 8
        return (n + 1) // 2 * self.bits // 4

    def unpack(
        self, data: bytes | bytearray | memoryview, n: int, *, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Inverse of :meth:`pack` for ``n`` elements.

        ``out`` is an optional reusable ``uint64`` buffer of at least ``n + 1`` words; the
        result is then a view of it.
        """
        if len(data) != self.packed_size(n):
            raise ProtocolError(
                f"expected {self.packed_size(n)} bytes for {n} elements, got {len(data)}"
            )
        groups = (n + 1) // 2 if self._paired else n
        need = 2 * groups if self._paired else n
        if out is None:
            out = np.empty(need, dtype=np.uint64)
        elif out.dtype != np.uint64 or len(out) < need:
            raise ProtocolError(f"unpack buffer must be uint64 of >= {need} words")
        if n == 0:
            return out[:0]
        planes, offset = [], 0
        for bit_offset, width in self._planes:
            view = np.frombuffer(data, dtype=f"<u{width // 8}", count=groups, offset=offset)
            planes.append((bit_offset, view))
            offset += groups * width // 8
        if not self._paired:
            _assemble(planes, out[:n])
            return out[:n]
        first, second = out[:groups], out[groups : 2 * groups]
        if planes[0][1].dtype.itemsize == 8:  # ℓ > 32: the first plane holds a whole x_i
            value = planes[0][1]
            rest = [(o - self.bits, v) for o, v in planes[1:]]
        else:
            value = np.empty(groups, dtype=np.uint64)
            _assemble(planes, value)
            rest = []
        np.right_shift(value, np.uint64(self.bits), out=second)
        for shift, plane in rest:  # `first` is free until the last step: use it as scratch
            np.left_shift(plane, np.uint64(shift), out=first)
            np.bitwise_or(second, first, out=second)
        np.bitwise_and(value, self.mask, out=first)
        return out[:n]


def _scatter(value: np.ndarray, planes: list[tuple[int, np.ndarray]]) -> None:
    """plane_p = (value >> offset_p) truncated to the plane's width."""
    for offset, plane in planes:
        if offset:
            np.right_shift(value, np.uint64(offset), out=plane, casting="unsafe")
        else:
            np.copyto(plane, value, casting="unsafe")


def _assemble(planes: list[tuple[int, np.ndarray]], dst: np.ndarray) -> None:
    """dst = Σ plane_p << offset_p (planes occupy disjoint bits)."""
    dst[...] = planes[0][1]
    if len(planes) > 1:
        _or_shifted(planes[1:], dst)


def _or_shifted(planes: list[tuple[int, np.ndarray]], dst: np.ndarray) -> None:
    tmp = np.empty_like(dst)
    for offset, plane in planes:
        np.left_shift(plane, np.uint64(offset), out=tmp)
        np.bitwise_or(dst, tmp, out=dst)
