"""Fixed-point encoding and ring serialisation."""

import numpy as np
import pytest

from flai.mpc import EncodingRangeError, FixedPoint, ProtocolError, Ring


@pytest.mark.parametrize("bits,frac", [(44, 16), (64, 16), (64, 24), (32, 8)])
def test_round_trip_within_half_resolution_including_negatives_and_edges(bits, frac):
    codec = FixedPoint(ring=Ring(bits), frac_bits=frac)
    limit = codec.limit
    x = np.array(
        [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.123456789,
            -3.75,
            limit,
            -limit,
            codec.resolution,
            -codec.resolution,
            codec.resolution / 3,
            limit / 3,
        ]
    )

    decoded = codec.decode(codec.encode(x))

    np.testing.assert_allclose(decoded, x, rtol=0, atol=codec.resolution / 2)
    assert decoded[6] == limit and decoded[7] == -limit


def test_negative_values_use_twos_complement():
    codec = FixedPoint(ring=Ring(44), frac_bits=16)
    assert int(codec.encode(-1.0)) == 2**44 - 2**16
    assert int(codec.encode(1.0)) == 2**16


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_raise(bad):
    codec = FixedPoint()
    with pytest.raises(EncodingRangeError):
        codec.encode(np.array([1.0, bad]))


def test_out_of_range_raises_with_values():
    codec = FixedPoint(ring=Ring(44), frac_bits=16, max_abs=64.0)
    with pytest.raises(EncodingRangeError) as info:
        codec.encode(np.array([3.0, -64.5]))
    assert info.value.value == 64.5 and info.value.limit == 64.0
    codec.encode(np.array([64.0, -64.0]))  # the bound itself is accepted


def test_default_limit_keeps_a_guard_bit_so_nothing_wraps():
    codec = FixedPoint(ring=Ring(64), frac_bits=16)
    assert codec.limit == 2.0**46
    with pytest.raises(EncodingRangeError):
        codec.encode(2.0**46 * 1.0001)
    assert codec.decode(codec.encode(-(2.0**46)))[()] == -(2.0**46)


def test_decode_bound_flags_wrapped_results():
    codec = FixedPoint(ring=Ring(44), frac_bits=16)
    wrapped = np.array([2**42], dtype=np.uint64)
    with pytest.raises(EncodingRangeError):
        codec.decode(wrapped, bound=100.0)


def test_invalid_configurations_are_rejected():
    with pytest.raises(ValueError):
        Ring(42)
    with pytest.raises(ValueError):
        FixedPoint(ring=Ring(16), frac_bits=14)
    with pytest.raises(ValueError):
        FixedPoint(ring=Ring(44), frac_bits=16, max_abs=2.0**30)


@pytest.mark.parametrize("bits", list(range(8, 65, 4)))
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 9, 16, 17, 1001])
def test_pack_is_exact_and_compact(bits, n):
    ring = Ring(bits)
    words = np.frombuffer(np.random.default_rng(bits * 1000 + n).bytes(8 * n), dtype=np.uint64)
    a = ring.reduce(words)

    packed = ring.pack(a)

    assert len(packed) == ring.packed_size(n) <= (n * bits + 7) // 8 + bits // 8
    np.testing.assert_array_equal(ring.unpack(packed, n), a)


def test_pack_layout_for_44_bits_is_three_contiguous_planes():
    """Wire layout: pairs (x_i, x_{i+h}), h = ceil(n/2), as uint64 | uint16 | uint8 planes."""
    ring = Ring(44)
    x = np.array([1, 2**44 - 1, 3, 2**43 + 5, 7], dtype=np.uint64)  # n = 5, h = 3, x_5 = 0
    packed = bytes(ring.pack(x))
    assert len(packed) == 3 * 11
    pairs = [(int(x[i]), int(x[i + 3]) if i + 3 < 5 else 0) for i in range(3)]
    values = [a + (b << 44) for a, b in pairs]
    low = np.frombuffer(packed[:24], dtype="<u8")
    mid = np.frombuffer(packed[24:30], dtype="<u2")
    high = np.frombuffer(packed[30:], dtype="<u1")
    assert [int(v) for v in low] == [v % 2**64 for v in values]
    assert [int(v) for v in mid] == [(v >> 64) % 2**16 for v in values]
    assert [int(v) for v in high] == [v >> 80 for v in values]


def test_unpack_rejects_wrong_length():
    with pytest.raises(ProtocolError):
        Ring(44).unpack(b"\x00" * 10, 3)
