"""Threshold replicated sharing: reconstruction sets, failures, seed-compressed uploads."""

import itertools

import numpy as np
import pytest

from flai.mpc import (
    EnvelopeError,
    FixedPoint,
    KeyPair,
    ProtocolError,
    ReplicatedScheme,
    Ring,
    ShareMismatchError,
    ThresholdError,
)
from flai.mpc.replicated import NodeShare

SCHEMES = [(3, 1), (5, 2), (4, 1), (7, 3)]


def _secret(codec, n=257):
    x = np.linspace(-codec.limit, codec.limit, n)
    return x, codec.encode(x)


@pytest.mark.parametrize("n,t", SCHEMES)
def test_every_t_plus_one_subset_reconstructs(n, t):
    scheme = ReplicatedScheme(n_nodes=n, threshold=t, ring=Ring(44))
    codec = FixedPoint(ring=scheme.ring, frac_bits=16)
    x, encoded = _secret(codec)
    shares = scheme.share(encoded)
    for subset in itertools.combinations(range(n), t + 1):
        out = scheme.reconstruct([shares[j] for j in subset])
        np.testing.assert_array_equal(out, encoded)
    np.testing.assert_allclose(codec.decode(out), x, atol=codec.resolution / 2, rtol=0)


@pytest.mark.parametrize("n,t", SCHEMES)
def test_every_t_subset_fails_loudly(n, t):
    scheme = ReplicatedScheme(n_nodes=n, threshold=t)
    shares = scheme.share(np.arange(5, dtype=np.uint64))
    for subset in itertools.combinations(range(n), t):
        with pytest.raises(ThresholdError) as info:
            scheme.reconstruct([shares[j] for j in subset])
        assert (info.value.available, info.value.required) == (t, t + 1)


def test_structure_matches_the_construction():
    scheme = ReplicatedScheme(n_nodes=3, threshold=1)
    assert scheme.components == (frozenset({0}), frozenset({1}), frozenset({2}))
    assert scheme.held_by(0) == (1, 2) and scheme.holders(0) == (1, 2)
    big = ReplicatedScheme(n_nodes=5, threshold=2)
    assert len(big.components) == 10
    assert all(len(big.holders(c)) == 3 for c in range(10))


@pytest.mark.parametrize("n,t", [(2, 1), (4, 2), (3, 0)])
def test_threshold_must_be_below_half(n, t):
    with pytest.raises(ValueError):
        ReplicatedScheme(n_nodes=n, threshold=t)


def test_tampered_copy_is_reported():
    scheme = ReplicatedScheme(n_nodes=3, threshold=1)
    shares = scheme.share(np.arange(4, dtype=np.uint64))
    bad_parts = dict(shares[2].parts)
    bad_parts[0] = bad_parts[0] + np.uint64(1)
    shares[2] = NodeShare(node=2, parts=bad_parts)
    with pytest.raises(ShareMismatchError) as info:
        scheme.reconstruct(shares.values())
    assert info.value.component == 0 and info.value.parties == (1, 2)


def test_linear_combination_and_public_constant():
    scheme = ReplicatedScheme(n_nodes=3, threshold=1, ring=Ring(44))
    a, b = np.array([1, 2, 3], dtype=np.uint64), np.array([10, 20, 30], dtype=np.uint64)
    sa, sb = scheme.share(a), scheme.share(b)
    combos = [scheme.linear_combination([sa[j], sb[j]], [3, -1]) for j in range(3)]
    assert scheme.reconstruct(combos).tolist() == scheme.ring.reduce(3 * a - b).tolist()
    plus = [scheme.add_public(scheme.add(sa[j], sb[j]), np.uint64(5)) for j in (0, 2)]
    assert scheme.reconstruct(plus).tolist() == [16, 27, 38]
    with pytest.raises(ProtocolError):
        scheme.linear_combination([sa[0], sb[1]], [1, 1])


@pytest.mark.parametrize("n,t", [(3, 1), (5, 2)])
@pytest.mark.parametrize("correction", [0, 1])
def test_sealed_upload_round_trip(n, t, correction):
    scheme = ReplicatedScheme(n_nodes=n, threshold=t, ring=Ring(44))
    keys = {j: KeyPair.generate() for j in range(n)}
    public = {j: k.public_bytes for j, k in keys.items()}
    secret = scheme.ring.reduce(np.arange(1001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))

    sealed = scheme.seal(secret, public, aad=b"ctx", scale_bits=16, correction=correction)
    opened = {j: scheme.open(sealed, node=j, keypair=keys[j], aad=b"ctx") for j in range(n)}

    assert all(s.scale_bits == 16 for s in opened.values())
    for subset in itertools.combinations(range(n), t + 1):
        np.testing.assert_array_equal(scheme.reconstruct([opened[j] for j in subset]), secret)


def test_upload_is_ring_width_plus_small_overhead():
    scheme = ReplicatedScheme(n_nodes=3, threshold=1, ring=Ring(44))
    keys = {j: KeyPair.generate().public_bytes for j in range(3)}
    d = 10_000
    sealed = scheme.seal(np.zeros(d, dtype=np.uint64), keys, aad=b"")
    assert scheme.ring.packed_size(d) == 55_000
    assert 55_000 < sealed.upload_bytes < 55_000 + 600
    assert sealed.upload_bytes / (4 * d) <= 1.5


def test_sealed_upload_is_bound_to_its_context_and_recipient():
    scheme = ReplicatedScheme(n_nodes=3, threshold=1)
    keys = {j: KeyPair.generate() for j in range(3)}
    sealed = scheme.seal(
        np.ones(8, dtype=np.uint64), {j: k.public_bytes for j, k in keys.items()}, aad=b"round-1"
    )
    with pytest.raises(EnvelopeError):
        scheme.open(sealed, node=0, keypair=keys[0], aad=b"round-2")
    with pytest.raises(EnvelopeError):
        scheme.open(sealed, node=0, keypair=keys[1], aad=b"round-1")
    with pytest.raises(ProtocolError):
        scheme.open(sealed, node=5, keypair=keys[0], aad=b"round-1")
    with pytest.raises(ProtocolError):
        scheme.seal(np.ones(2, dtype=np.uint64), {0: keys[0].public_bytes}, aad=b"")
