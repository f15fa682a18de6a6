"""Secure φ-weighted aggregation on replicated shares versus plaintext eq. (6)."""

import itertools

import numpy as np
import pytest

from flai.mpc import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    EncodingRangeError,
    EnvelopeError,
    ProtocolError,
    ShareMismatchError,
    ThresholdError,
    encode_weights,
    reconstruct_aggregate,
    secure_weighted_average,
)
from flai.mpc.replicated import NodeShare


def _tolerance(cfg, updates):
    """Documented bound: encoding 2^-(f+1) plus weight quantisation 2^-b · Σ|w_k − w̄| / 2."""
    spread = np.sum(np.abs(updates - updates.mean(axis=0)), axis=0)
    return 2.0 ** -(cfg.frac_bits + 1) + 2.0**-cfg.weight_bits * spread / 2 + 1e-12


def _deploy(cfg, updates, round_id=0):
    nodes = [AggregationNode(index=j, config=cfg) for j in range(cfg.n_nodes)]
    keys = {n.index: n.public_key for n in nodes}
    uploads = []
    for k, u in enumerate(updates):
        sealed = AggregationClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            u, round_id=round_id
        )
        uploads.append(sealed)
        for node in nodes:
            node.receive(sealed, round_id=round_id, client_id=k)
    return nodes, uploads


def test_matches_plaintext_weighted_average_with_negative_values():
    rng = np.random.default_rng(1)
    updates = rng.normal(scale=5.0, size=(6, 500))
    phi = rng.random(6)
    cfg = AggregationConfig()

    out = secure_weighted_average(list(updates), list(phi), config=cfg)

    expected = np.average(updates, axis=0, weights=phi)
    assert np.all(np.abs(out - expected) <= _tolerance(cfg, updates))
    assert np.any(out < 0) and np.any(out > 0)


def test_matches_effective_weights_to_encoding_precision():
    rng = np.random.default_rng(2)
    updates = rng.uniform(-64, 64, size=(4, 300))
    phi = [0.1, 0.7, 0.0, 0.35]
    cfg = AggregationConfig()
    weights = encode_weights(dict(enumerate(phi)), weight_bits=cfg.weight_bits)
    c = np.array(list(weights.values()), dtype=np.float64)

    out = secure_weighted_average(list(updates), phi, config=cfg)

    np.testing.assert_allclose(out, c @ updates / c.sum(), atol=2.0 ** -(cfg.frac_bits + 1), rtol=0)


def test_edge_magnitudes_and_multidimensional_updates():
    cfg = AggregationConfig()
    lim, eps = cfg.max_abs, 2.0**-cfg.frac_bits
    updates = [
        np.full((3, 2), lim),
        np.full((3, 2), lim),
        np.array([[eps, -eps], [0, 0], [-lim, lim]]),
    ]
    out = secure_weighted_average(updates, [1.0, 1.0, 0.0], config=cfg)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out, np.full((3, 2), lim), atol=2.0 ** -(cfg.frac_bits + 1), rtol=0)
    neg = secure_weighted_average([np.full(4, -lim)] * 3, [0.2, 0.3, 0.5], config=cfg)
    np.testing.assert_allclose(neg, -lim, atol=2.0**-cfg.frac_bits, rtol=0)
    tiny = secure_weighted_average([np.full(4, eps), np.full(4, -eps)], [1.0, 1.0], config=cfg)
    np.testing.assert_allclose(tiny, 0.0, atol=2.0**-cfg.frac_bits)


def test_out_of_range_update_raises_at_the_client():
    cfg = AggregationConfig()
    nodes = [AggregationNode(index=j, config=cfg) for j in range(3)]
    client = AggregationClient(
        client_id=0, config=cfg, node_public_keys={n.index: n.public_key for n in nodes}
    )
    with pytest.raises(EncodingRangeError):
        client.upload(np.array([0.0, cfg.max_abs * 1.01]), round_id=0)
    with pytest.raises(EncodingRangeError):
        client.upload(np.array([np.nan]), round_id=0)


@pytest.mark.parametrize("n,t", [(3, 1), (5, 2)])
def test_exactly_t_plus_one_nodes_succeed_and_t_fail(n, t):
    cfg = AggregationConfig(n_nodes=n, threshold=t)
    rng = np.random.default_rng(3)
    updates = rng.normal(size=(3, 50))
    phi = {0: 0.5, 1: 0.25, 2: 1.0}
    nodes, _ = _deploy(cfg, updates)
    weights = encode_weights(phi, weight_bits=cfg.weight_bits)
    partials = [node.weighted_partial(round_id=0, weights=weights) for node in nodes]
    expected = np.average(updates, axis=0, weights=list(phi.values()))
    for subset in itertools.combinations(range(n), t + 1):
        out = reconstruct_aggregate(cfg, [partials[j] for j in subset], weights)
        assert np.all(np.abs(out - expected) <= _tolerance(cfg, updates))
    for subset in itertools.combinations(range(n), t):
        with pytest.raises(ThresholdError):
            reconstruct_aggregate(cfg, [partials[j] for j in subset], weights)


def test_upload_size_is_below_one_and_a_half_float32():
    cfg = AggregationConfig()
    _, uploads = _deploy(cfg, np.zeros((2, 20_000)))
    for sealed in uploads:
        assert sealed.upload_bytes <= 1.5 * 4 * 20_000
        assert sealed.upload_bytes >= cfg.ring_bits / 8 * 20_000


def test_wrapped_aggregate_from_a_client_bypassing_its_encoder_is_flagged():
    cfg = AggregationConfig()
    nodes = [AggregationNode(index=j, config=cfg) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    honest = AggregationClient(client_id=0, config=cfg, node_public_keys=keys).upload(
        np.ones(8), round_id=0
    )
    # Arbitrary ring elements that never went through encode() (fixed test data).
    rogue_value = np.random.default_rng(5).integers(0, 2**44, 8, dtype=np.uint64)
    rogue = cfg.scheme.seal(
        rogue_value,
        keys,
        aad=b"flai/mpc/aggregation" + (0).to_bytes(8, "big") + (1).to_bytes(8, "big"),
        scale_bits=cfg.frac_bits,
    )
    for node in nodes:
        node.receive(honest, round_id=0, client_id=0)
        node.receive(rogue, round_id=0, client_id=1)
    weights = encode_weights({0: 1.0, 1: 3.0}, weight_bits=cfg.weight_bits)
    with pytest.raises(EncodingRangeError):
        reconstruct_aggregate(
            cfg, [n.weighted_partial(round_id=0, weights=weights) for n in nodes], weights
        )


def test_node_reporting_an_altered_partial_is_detected():
    cfg = AggregationConfig()
    nodes, _ = _deploy(cfg, np.ones((2, 5)))
    weights = encode_weights({0: 1.0, 1: 2.0}, weight_bits=cfg.weight_bits)
    partials = [n.weighted_partial(round_id=0, weights=weights) for n in nodes]
    altered = dict(partials[0].parts)
    altered[1] = altered[1] + np.uint64(1)
    partials[0] = NodeShare(node=0, parts=altered, scale_bits=partials[0].scale_bits)
    with pytest.raises(ShareMismatchError):
        reconstruct_aggregate(cfg, partials, weights)


def test_replayed_or_misrouted_uploads_are_refused():
    cfg = AggregationConfig()
    nodes, uploads = _deploy(cfg, np.ones((2, 5)), round_id=4)
    with pytest.raises(ProtocolError):
        nodes[0].receive(uploads[0], round_id=4, client_id=0)
    with pytest.raises(EnvelopeError):
        nodes[0].receive(uploads[0], round_id=5, client_id=0)  # replay into another round
    with pytest.raises(EnvelopeError):
        nodes[0].receive(uploads[0], round_id=4, client_id=7)  # claimed by another client
    with pytest.raises(ProtocolError):
        nodes[0].weighted_partial(round_id=4, weights={0: 1, 9: 1})


@pytest.mark.parametrize("phi", [[-0.1, 1.0], [0.0, 0.0], [np.nan, 1.0], [1e-9, 1.0]])
def test_invalid_scores_are_rejected(phi):
    if phi == [1e-9, 1.0]:
        weights = encode_weights(dict(enumerate(phi)), weight_bits=16)
        assert weights == {0: 0, 1: 65536}
        return
    with pytest.raises(ProtocolError):
        encode_weights(dict(enumerate(phi)), weight_bits=16)


def test_config_rejects_parameters_without_headroom():
    with pytest.raises(ValueError):
        AggregationConfig(ring_bits=36, frac_bits=16, weight_bits=16, max_abs=64.0)


def test_consecutive_rounds_reuse_buffers_without_aliasing():
    cfg = AggregationConfig()
    rng = np.random.default_rng(9)
    nodes = [AggregationNode(index=j, config=cfg) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    clients = [AggregationClient(client_id=k, config=cfg, node_public_keys=keys) for k in range(3)]
    weights = encode_weights({0: 1.0, 1: 1.0, 2: 2.0}, weight_bits=cfg.weight_bits)
    results, expected = [], []
    for round_id in range(3):
        updates = rng.normal(size=(3, 64))
        for k, client in enumerate(clients):
            sealed = client.upload(updates[k], round_id=round_id)
            for node in nodes:
                node.receive(sealed, round_id=round_id, client_id=k)
        partials = [n.weighted_partial(round_id=round_id, weights=weights) for n in nodes[:2]]
        for node in nodes:
            node.forget(round_id)  # buffers go back to the pool for the next round
        results.append(partials)
        expected.append(np.average(updates, axis=0, weights=[1.0, 1.0, 2.0]))
    for partials, want in zip(results, expected, strict=True):
        out = reconstruct_aggregate(cfg, partials, weights)
        np.testing.assert_allclose(out, want, atol=2.0**-16)
    with pytest.raises(ProtocolError):
        nodes[0].weighted_partial(round_id=0, weights=weights)


def test_reconstruct_rejects_degenerate_integer_weights():
    cfg = AggregationConfig()
    nodes, _ = _deploy(cfg, np.ones((2, 3)))
    partials = [n.weighted_partial(round_id=0, weights={0: 0, 1: 0}) for n in nodes]
    with pytest.raises(ProtocolError):
        reconstruct_aggregate(cfg, partials, {0: 0, 1: 0})


@pytest.mark.parametrize("n,t", [(3, 1), (5, 2)])
def test_one_copy_per_component_from_any_t_plus_one_nodes(n, t):
    """The fast path: every component computed by one assigned node only."""
    cfg = AggregationConfig(n_nodes=n, threshold=t)
    rng = np.random.default_rng(13)
    updates = rng.normal(scale=3.0, size=(5, 200))
    phi = {k: float(v) for k, v in enumerate(rng.random(5))}
    nodes, _ = _deploy(cfg, updates)
    weights = encode_weights(phi, weight_bits=cfg.weight_bits)
    expected = np.average(updates, axis=0, weights=list(phi.values()))
    for available in [range(n), *itertools.combinations(range(n), t + 1)]:
        plan = cfg.scheme.assign(available)
        partials = [
            nodes[j].weighted_partial(round_id=0, weights=weights, components=plan[j]) for j in plan
        ]
        assert sum(len(p.parts) for p in partials) == len(cfg.scheme.components)
        out = reconstruct_aggregate(cfg, partials, weights)
        assert np.all(np.abs(out - expected) <= _tolerance(cfg, updates))


def test_tampered_upload_body_is_refused_on_receipt_by_its_readers():
    cfg = AggregationConfig()
    nodes = [AggregationNode(index=j, config=cfg) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    sealed = AggregationClient(client_id=0, config=cfg, node_public_keys=keys).upload(
        np.ones(50), round_id=0
    )
    body = bytearray(sealed.envelope.body)
    body[7] ^= 0x80
    tampered = type(sealed)(
        envelope=type(sealed.envelope)(body=bytes(body), keys=sealed.envelope.keys),
        length=sealed.length,
        scale_bits=sealed.scale_bits,
        correction=sealed.correction,
    )
    for j in cfg.scheme.holders(sealed.correction):
        with pytest.raises(EnvelopeError):
            nodes[j].receive(tampered, round_id=0, client_id=0)
        nodes[j].receive(sealed, round_id=0, client_id=0)  # the genuine upload still lands
