"""Three-party replicated sharing: multiplication, truncation, openings and channels."""

import numpy as np
import pytest

from flai.mpc import EnvelopeError, KeyPair, ProtocolError
from flai.mpc import ring128 as r128
from flai.mpc.channel import ChannelSet
from flai.mpc.rss3 import (
    ThreePartyNode,
    Timing,
    combine_additive,
    open_input,
    reconstruct,
    run,
    seal_input,
)

F = 16


@pytest.fixture()
def parties():
    keys = [KeyPair.generate() for _ in range(3)]
    public = {j: k.public_bytes for j, k in enumerate(keys)}
    nodes = [
        ThreePartyNode(index=j, keypair=keys[j], node_public_keys=public, session=b"test")
        for j in range(3)
    ]
    return keys, public, nodes


def _share(value, keys, public, aad=b"in", correction=2):
    sealed = seal_input(value, public, aad=aad, correction=correction)
    return [open_input(sealed, node=j, keypair=keys[j], aad=aad) for j in range(3)]


def test_input_sharing_reconstructs_from_any_two_nodes(parties):
    keys, public, _ = parties
    x = r128.from_ints(np.arange(-5, 7).reshape(3, 4))
    for correction in range(3):
        shares = _share(x, keys, public, correction=correction)
        for pair in ((0, 1), (1, 2), (0, 2)):
            assert np.array_equal(reconstruct([shares[j] for j in pair]), x)


def test_one_nodes_share_is_fresh_randomness(parties):
    keys, public, _ = parties
    x = r128.from_ints(np.zeros(64, dtype=np.int64))
    a = _share(x, keys, public)[0]
    b = _share(x, keys, public)[0]
    assert not np.array_equal(a.first, b.first) and not np.array_equal(a.second, b.second)
    bits = np.unpackbits(a.first.view(np.uint8))
    assert 0.45 < bits.mean() < 0.55


def test_input_for_another_context_does_not_open(parties):
    keys, public, _ = parties
    sealed = seal_input(r128.from_ints(np.arange(4)), public, aad=b"round-1")
    with pytest.raises(EnvelopeError):
        open_input(sealed, node=0, keypair=keys[0], aad=b"round-2")


def test_exact_products_matrix_products_and_openings(parties):
    keys, public, nodes = parties
    rng = np.random.default_rng(0)
    xi = rng.integers(-(2**40), 2**40, size=(5, 7))
    yi = rng.integers(-(2**40), 2**40, size=(7, 3))
    xs = _share(r128.from_ints(xi), keys, public, aad=b"x")
    ys = _share(r128.from_ints(yi), keys, public, aad=b"y", correction=0)
    expected = [int(v) for v in (xi.astype(object).dot(yi.astype(object))).ravel()]

    def prog(j):
        product = yield from nodes[j].reshare(ThreePartyNode.cross(xs[j], ys[j], r128.matmul))
        square = yield from nodes[j].reshare(ThreePartyNode.cross(product, product))
        part = nodes[j].open_part(ThreePartyNode.cross(product, product))
        return product, square, part

    out = run([prog(j) for j in range(3)])
    assert r128.to_ints(reconstruct([o[0] for o in out])) == expected
    squares = [(v * v + 2**127) % 2**128 - 2**127 for v in expected]
    assert r128.to_ints(reconstruct([o[1] for o in out])) == squares
    assert r128.to_ints(combine_additive([o[2] for o in out])) == squares


@pytest.mark.parametrize("rotation", [0, 1, 2])
def test_truncation_is_within_one_unit_for_every_role_rotation(parties, rotation):
    keys, public, _ = parties
    nodes = [
        ThreePartyNode(
            index=j, keypair=keys[j], node_public_keys=public, session=b"t", rotation=rotation
        )
        for j in range(3)
    ]
    rng = np.random.default_rng(1)
    x = rng.normal(scale=50.0, size=(400,))
    y = rng.normal(scale=50.0, size=(400,))
    xs = _share(r128.encode(x, F, limit=1e4), keys, public, aad=b"x")
    ys = _share(r128.encode(y, F, limit=1e4), keys, public, aad=b"y")

    def prog(j):
        return (yield from nodes[j].reshare_truncated(ThreePartyNode.cross(xs[j], ys[j]), F))

    out = run([prog(j) for j in range(3)])
    got = np.array(r128.to_ints(reconstruct(out)))
    exact = np.array(r128.to_ints(r128.encode(x, F, limit=1e4)), dtype=object) * np.array(
        r128.to_ints(r128.encode(y, F, limit=1e4)), dtype=object
    )
    floor = np.array([v >> F for v in exact])
    assert set(np.unique(got - floor)) <= {0, 1}
    assert np.any(got < 0) and np.any(got > 0)
    helper = (2 + rotation) % 3
    received = [n.channels.traffic.total_received for n in nodes]
    assert received[helper] == max(received) and received[(helper + 2) % 3] == 0


def test_timing_records_each_round_for_every_node(parties):
    keys, public, nodes = parties
    xs = _share(r128.from_ints(np.arange(8)), keys, public)
    timing = Timing(rounds=[])

    def prog(j):
        return (yield from nodes[j].truncate(xs[j], 2))

    out = run([prog(j) for j in range(3)], timing=timing)
    got = r128.to_ints(reconstruct(out))
    assert all(g - (v >> 2) in (0, 1) for g, v in zip(got, range(8), strict=True))
    assert len(timing.rounds) == 3 and all(len(r) == 3 for r in timing.rounds)
    assert timing.parallel <= timing.serial


def test_protocols_of_different_lengths_are_refused(parties):
    keys, public, nodes = parties
    xs = _share(r128.from_ints(np.arange(4)), keys, public)

    def short(j):
        if j == 0:
            return xs[j]
        yield {}
        return xs[j]

    with pytest.raises(ProtocolError):
        run([short(j) for j in range(3)])


def test_channels_refuse_tampering_replay_and_another_session():
    keys = [KeyPair.generate() for _ in range(2)]
    a = ChannelSet(index=0, keypair=keys[0], peers={1: keys[1].public_bytes}, session=b"s")
    b = ChannelSet(index=1, keypair=keys[1], peers={0: keys[0].public_bytes}, session=b"s")
    other = ChannelSet(index=1, keypair=keys[1], peers={0: keys[0].public_bytes}, session=b"t")
    assert a.seed(1, b"x") == b.seed(0, b"x") != other.seed(0, b"x")
    blob = a.seal(1, b"hello", label=b"m")
    with pytest.raises(EnvelopeError):
        other.open(0, blob, label=b"m")
    tampered = bytearray(blob)
    tampered[0] ^= 1
    with pytest.raises(EnvelopeError):
        b.open(0, bytes(tampered), label=b"m")
    assert b.open(0, blob, label=b"m") == b"hello"
    with pytest.raises(EnvelopeError):  # replayed: the counter moved on
        b.open(0, blob, label=b"m")
    assert a.traffic.total_sent == b.traffic.total_received == len(blob)
