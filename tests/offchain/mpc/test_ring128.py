"""Z_{2^128} on uint64 pairs versus Python integers modulo 2^128."""

import secrets

import numpy as np
import pytest

from flai.mpc import EncodingRangeError, ProtocolError
from flai.mpc import ring128 as r128

MOD = 1 << 128


def _random(shape):
    values = [secrets.randbits(128) for _ in range(int(np.prod(shape)))]
    out = np.empty((2, *shape), dtype=np.uint64)
    out[0] = np.array([v & (2**64 - 1) for v in values], dtype=np.uint64).reshape(shape)
    out[1] = np.array([v >> 64 for v in values], dtype=np.uint64).reshape(shape)
    return out, np.array(values, dtype=object).reshape(shape)


def _value(a):
    ints = [(int(h) << 64) | int(lo) for lo, h in zip(a[0].ravel(), a[1].ravel(), strict=True)]
    return np.array(ints, dtype=object).reshape(a.shape[1:])


def test_add_sub_neg_mul_shift_are_exact_mod_2_128():
    a, av = _random((6, 9))
    b, bv = _random((6, 9))
    assert (_value(r128.add(a, b)) == (av + bv) % MOD).all()
    assert (_value(r128.sub(a, b)) == (av - bv) % MOD).all()
    assert (_value(r128.neg(a)) == (-av) % MOD).all()
    assert (_value(r128.mul(a, b)) == (av * bv) % MOD).all()
    assert (_value(r128.shift_right(a, 37)) == av >> 37).all()
    assert (_value(r128.shift_left(a, 37)) == (av << 37) % MOD).all()
    assert (_value(r128.sum_axis(a, 0)) == av.sum(axis=0) % MOD).all()
    assert (_value(r128.sum_axis(a, 1)) == av.sum(axis=1) % MOD).all()


def test_carries_at_the_word_boundary():
    top = r128.from_ints(np.array([-1, -1]))  # 2^128 − 1
    one = r128.from_ints(np.array([1, 2**62]))
    assert r128.to_ints(r128.add(top, one)) == [0, 2**62 - 1]
    assert r128.to_ints(r128.mul(top, top)) == [1, 1]
    assert r128.to_ints(r128.sub(r128.zeros((1,)), r128.from_ints(np.array([1])))) == [-1]


@pytest.mark.parametrize("inner", [1, 31, 128, 129, 300])
def test_matmul_is_exact_including_chunked_inner_dimensions(inner):
    a, av = _random((4, inner))
    b, bv = _random((inner, 3))
    assert (_value(r128.matmul(a, b)) == av.dot(bv) % MOD).all()


def test_encode_decode_round_trip_and_range_errors():
    x = np.array([-3.5, 2.25, 1e6, -1e-5, 0.0])
    enc = r128.encode(x, 16, limit=1e7)
    np.testing.assert_allclose(r128.decode(enc, 16), x, atol=2**-17)
    assert r128.to_ints(enc)[:3] == [-229376, 147456, 65536000000]
    with pytest.raises(EncodingRangeError):
        r128.encode(np.array([1.0, 11.0]), 16, limit=10.0)
    with pytest.raises(EncodingRangeError):
        r128.encode(np.array([np.nan]), 16, limit=10.0)


def test_decode_of_a_product_scale_and_negative_values_is_exact():
    values = r128.from_ints(np.array([-(2**62), 2**62 - 1, -7]))
    assert r128.decode(values, 0).tolist() == [-(2.0**62), 2.0**62 - 1, -7.0]


def test_pack_unpack_and_prg_streams():
    a, _ = _random((3, 5))
    assert np.array_equal(r128.unpack(r128.pack(a), (3, 5)), a)
    with pytest.raises(ProtocolError):
        r128.unpack(r128.pack(a), (3, 4))
    seed = secrets.token_bytes(32)
    first = r128.random(seed, (10,), label=b"x")
    assert np.array_equal(first, r128.random(seed, (10,), label=b"x"))
    assert not np.array_equal(first, r128.random(seed, (10,), label=b"y"))


def test_shape_errors_are_protocol_errors():
    a, _ = _random((2, 3))
    with pytest.raises(ProtocolError):
        r128.matmul(a, a)
    with pytest.raises(ProtocolError):
        r128.shift_right(a, 64)
    with pytest.raises(ProtocolError):
        r128.matmul(np.zeros((3, 2, 2), dtype=np.uint64), a)
