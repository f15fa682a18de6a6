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


@pytest.mark.parametrize("n,t", SCHEMES)
def test_assign_gives_each_component_to_one_available_holder(n, t):
    scheme = ReplicatedScheme(n_nodes=n, threshold=t)
    for size in range(t + 1, n + 1):
        for available in itertools.combinations(range(n), size):
            plan = scheme.assign(available)
            assert set(plan) == set(available)
            owners = [(c, j) for j, cs in plan.items() for c in cs]
            assert sorted(c for c, _ in owners) == list(range(len(scheme.components)))
            assert all(j in scheme.holders(c) for c, j in owners)
            loads = [len(cs) for cs in plan.values()]
            assert max(loads) - min(loads) <= 1
    for available in itertools.combinations(range(n), t):
        with pytest.raises(ThresholdError):
            scheme.assign(available)


def _sealed_for_nodes(scheme, secrets_, aad=b"ctx"):
    keys = {j: KeyPair.generate() for j in range(scheme.n_nodes)}
    public = {j: k.public_bytes for j, k in keys.items()}
    sealed = [
        scheme.seal(s, public, aad=aad, correction=k % len(scheme.components))
        for k, s in enumerate(secrets_)
    ]
    return keys, sealed


@pytest.mark.parametrize("n,t", [(3, 1), (5, 2)])
def test_combine_equals_open_then_linear_combination(n, t):
    scheme = ReplicatedScheme(n_nodes=n, threshold=t, ring=Ring(44))
    rng = np.random.default_rng(11)
    secrets_ = [scheme.ring.reduce(rng.integers(0, 2**63, 301, dtype=np.uint64)) for _ in range(4)]
    keys, sealed = _sealed_for_nodes(scheme, secrets_)
    coefficients = [3, 0, -2, 1]  # zero is skipped, negative wraps mod 2^ℓ
    for j in range(n):
        opened = [scheme.open(s, node=j, keypair=keys[j], aad=b"ctx") for s in sealed]
        lazy = [scheme.unwrap(s, node=j, keypair=keys[j], aad=b"ctx") for s in sealed]
        want = scheme.linear_combination(opened, coefficients)
        got = scheme.combine(lazy, coefficients)
        assert set(got.parts) == set(scheme.held_by(j))
        for c in got.parts:
            np.testing.assert_array_equal(
                got.parts[c] & scheme.ring.mask, want.parts[c] & scheme.ring.mask
            )
        one = scheme.held_by(j)[:1]
        assert set(scheme.combine(lazy, coefficients, components=one).parts) == set(one)
        foreign = next(c for c in range(len(scheme.components)) if c not in scheme.held_by(j))
        with pytest.raises(ProtocolError):
            scheme.combine(lazy, coefficients, components=[foreign])
        with pytest.raises(ProtocolError):
            scheme.combine(lazy, coefficients[:2])


@pytest.mark.parametrize("n,t", [(3, 1), (5, 2), (7, 3)])
def test_single_copy_partials_from_an_assignment_reconstruct(n, t):
    scheme = ReplicatedScheme(n_nodes=n, threshold=t, ring=Ring(44))
    rng = np.random.default_rng(12)
    secrets_ = [scheme.ring.reduce(rng.integers(0, 2**63, 64, dtype=np.uint64)) for _ in range(3)]
    keys, sealed = _sealed_for_nodes(scheme, secrets_)
    want = scheme.ring.reduce(2 * secrets_[0] + 5 * secrets_[1] + secrets_[2])
    for available in [tuple(range(n)), tuple(range(t + 1)), tuple(range(n - t - 1, n))]:
        plan = scheme.assign(available)
        partials = []
        for j in available:
            lazy = [scheme.unwrap(s, node=j, keypair=keys[j], aad=b"ctx") for s in sealed]
            partials.append(scheme.combine(lazy, [2, 5, 1], components=plan[j]))
        np.testing.assert_array_equal(scheme.reconstruct(partials), want)
        # Leaving out one component's only copy fails loudly instead of returning garbage.
        gap = max(partials, key=lambda p: len(p.parts))
        dropped = next(iter(gap.parts))
        thinned = NodeShare(
            node=gap.node, parts={c: v for c, v in gap.parts.items() if c != dropped}
        )
        with pytest.raises(ThresholdError):
            scheme.reconstruct([thinned if p is gap else p for p in partials])


def test_unwrap_authenticates_before_anything_is_expanded():
    scheme = ReplicatedScheme(n_nodes=3, threshold=1, ring=Ring(44))
    keys, (sealed,) = _sealed_for_nodes(scheme, [np.arange(10, dtype=np.uint64)])
    holder = scheme.holders(sealed.correction)[0]
    body = bytearray(sealed.envelope.body)
    body[-20] ^= 1
    tampered = type(sealed)(
        envelope=type(sealed.envelope)(body=bytes(body), keys=sealed.envelope.keys),
        length=sealed.length,
        scale_bits=sealed.scale_bits,
        correction=sealed.correction,
    )
    with pytest.raises(EnvelopeError):
        scheme.unwrap(tampered, node=holder, keypair=keys[holder], aad=b"ctx")
    with pytest.raises(EnvelopeError):
        scheme.unwrap(sealed, node=holder, keypair=keys[holder], aad=b"other")
    lazy = scheme.unwrap(sealed, node=holder, keypair=keys[holder], aad=b"ctx")
    assert lazy.components == scheme.held_by(holder)
