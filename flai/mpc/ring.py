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

    def pack(self, a: np.ndarray) -> bytes:
        """Serialise a 1-D array to exactly :meth:`packed_size` bytes (little-endian).

        Whole-byte widths keep the low ℓ/8 bytes of each word; for ℓ ≡ 4 (mod 8) two
        elements share ℓ/4 bytes (even element in the low ℓ bits, odd element above it).
        """
        a = np.ascontiguousarray(np.asarray(a, dtype=np.uint64) & self.mask, dtype="<u8")
        if a.ndim != 1:
            raise ProtocolError(f"can only pack 1-D arrays, got shape {a.shape}")
        if self.bits == 64:
            return a.tobytes()
        if self.bits % 8 == 0:
            return np.ascontiguousarray(
                a.view(np.uint8).reshape(-1, 8)[:, : self.bits // 8]
            ).tobytes()
        if len(a) % 2:
            a = np.append(a, np.uint64(0))
        even, odd = a[0::2], a[1::2]
        group = self.bits // 4
        low = (even | (odd << np.uint64(self.bits))).astype("<u8", copy=False)
        out = np.empty((len(even), group), dtype=np.uint8)
        out[:, : min(group, 8)] = low.view(np.uint8).reshape(-1, 8)[:, : min(group, 8)]
        if group > 8:
            high = (odd >> np.uint64(64 - self.bits)).astype("<u8", copy=False)
            out[:, 8:] = high.view(np.uint8).reshape(-1, 8)[:, : group - 8]
        return out.tobytes()

    def packed_size(self, n: int) -> int:
        """Number of bytes :meth:`pack` produces for ``n`` elements."""
        if self.bits % 8 == 0:
            return n * self.bits // 8
        return (n + 1) // 2 * self.bits // 4

    def unpack(self, data: bytes, n: int, *, out: np.ndarray | None = None) -> np.ndarray:
        """Inverse of :meth:`pack` for ``n`` elements (strided 8-byte window reads).

        ``out`` is an optional reusable ``uint64`` buffer of at least ``n + 1`` words; the
        result is then a view of it.
        """
        if len(data) != self.packed_size(n):
            raise ProtocolError(
                f"expected {self.packed_size(n)} bytes for {n} elements, got {len(data)}"
            )
        if self.bits == 64:
            return np.frombuffer(data, dtype="<u8").astype(np.uint64)
        if n == 0:
            return np.zeros(0, dtype=np.uint64)
        # Read each element as an unaligned 8-byte window of the packed bytes; windows that
        # would run past the end (the last few groups) are read from a small padded copy.
        if self.bits % 8 == 0:
            width, groups, per_group = self.bits // 8, n, 1
        else:
            width, groups, per_group = self.bits // 4, (n + 1) // 2, 2
        if out is None:
            out = np.empty(groups * per_group, dtype=np.uint64)
        elif out.dtype != np.uint64 or len(out) < groups * per_group:
            raise ProtocolError(f"unpack buffer must be uint64 of >= {groups * per_group} words")
        high_offset = self.bits // 8 if per_group == 2 else 0
        safe = max(0, min(groups, (len(data) - 8 - high_offset) // width + 1))
        tail = bytes(data[safe * width :]) + bytes(16)
        for buffer, start, count in ((data, 0, safe), (tail, safe, groups - safe)):
            if count == 0:
                continue
            sl = slice(start * per_group, (start + count) * per_group, per_group)
            low = np.ndarray((count,), dtype="<u8", buffer=buffer, strides=(width,))
            np.bitwise_and(low, self.mask, out=out[sl])
            if per_group == 2:
                high = np.ndarray(
                    (count,), dtype="<u8", buffer=buffer, offset=high_offset, strides=(width,)
                )
                odd = out[start * 2 + 1 : (start + count) * 2 : 2]
                np.right_shift(high, np.uint64(4), out=odd)
                np.bitwise_and(odd, self.mask, out=odd)
        return out[:n]
