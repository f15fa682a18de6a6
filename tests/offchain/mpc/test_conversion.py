"""Aggregation shares (Z_2^44) → inference shares (Z_2^64) without reconstructing w*."""

import numpy as np
import pytest
from scipy import stats

from flai.mpc import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    EncodingRangeError,
    InferenceConfig,
    MaskedInference,
    NodeShare,
    ProtocolError,
    ShareMismatchError,
    ThresholdError,
    encode_weights,
    reconstruct_aggregate,
)
from flai.mpc.conversion import (
    ConversionPlan,
    LiftDealer,
    convert_aggregate,
    lift_open,
    replicate_partials,
)


def _aggregate(updates, phi, cfg, *, one_copy=True, available=None):
    nodes = [AggregationNode(index=j, config=cfg) for j in range(cfg.n_nodes)]
    keys = {n.index: n.public_key for n in nodes}
    for k, update in enumerate(updates):
        sealed = AggregationClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            update, round_id=0
        )
        for n in nodes:
            n.receive(sealed, round_id=0, client_id=k)
    weights = encode_weights(dict(enumerate(phi)), weight_bits=cfg.weight_bits)
    active = list(range(cfg.n_nodes) if available is None else available)
    plan = cfg.scheme.assign(active) if one_copy else None
    partials = [
        nodes[j].weighted_partial(round_id=0, weights=weights, components=plan[j] if plan else None)
        for j in active
    ]
    return partials, weights, reconstruct_aggregate(cfg, partials, weights)


def _theta(parts, plan, cfg):
    total = cfg.scheme.reconstruct([p.params for p in parts.values()])
    return total.view(np.int64) / plan.weight_scale


@pytest.mark.parametrize("n,t", [(3, 1), (5, 2)])
@pytest.mark.parametrize("shift", [None, 0, 16])
def test_converted_model_is_within_the_stated_bound(n, t, shift):
    rng = np.random.default_rng(40 + n)
    agg = AggregationConfig(n_nodes=n, threshold=t)
    inf = InferenceConfig(n_nodes=n, threshold=t, max_abs=2.0 if shift == 0 else 1024.0)
    updates = np.clip(rng.normal(scale=20.0, size=(8, 31)), -64, 64)
    partials, weights, exact = _aggregate(updates, rng.random(8), agg, available=range(t + 1))
    for _ in range(10):  # fresh tables and carries each time
        parts, plan = convert_aggregate(
            partials, weights, aggregation=agg, inference=inf, shift_bits=shift
        )
        err = np.abs(_theta(parts, plan, inf) - exact)
        assert err.max() <= plan.error_bound
    if shift == 0:
        assert plan.error_bound == 0.0
    if shift is None:
        assert plan.error_bound < 2.0**-20  # s = 8 for d = 30


def test_extreme_aggregates_at_the_honest_bound_lift_correctly():
    agg, inf = AggregationConfig(), InferenceConfig()
    for value in (agg.max_abs, -agg.max_abs):
        updates = np.full((4, 31), value)
        updates[:, ::2] *= -1
        partials, weights, exact = _aggregate(updates, [1.0, 2.0, 3.0, 4.0], agg)
        for _ in range(20):
            parts, plan = convert_aggregate(partials, weights, aggregation=agg, inference=inf)
            assert np.abs(_theta(parts, plan, inf) - exact).max() <= plan.error_bound


def test_inference_on_the_converted_shares_matches_the_plaintext_aggregate():
    rng = np.random.default_rng(41)
    agg, inf = AggregationConfig(), InferenceConfig()
    partials, weights, exact = _aggregate(rng.normal(size=(10, 31)), rng.random(10), agg)
    parts, plan = convert_aggregate(partials, weights, aggregation=agg, inference=inf)
    secure = MaskedInference.from_parts(parts, config=inf)
    user = secure.user(masks=43)
    x = rng.normal(scale=2.0, size=(40, 30))
    z = secure.predict_logit(user, x)
    plain = x @ exact[:-1] + exact[-1]
    bound = (np.abs(x).sum(axis=1) + 1) * plan.error_bound + (np.abs(exact[:-1]).sum() * 2.0**-17)
    assert np.all(np.abs(z - plain) <= bound + 1e-9)
    for subset in ((0, 1), (0, 2), (1, 2)):  # any t + 1 nodes answer on converted shares
        z1 = secure.predict_logit(user, x[0], available_nodes=subset)
        assert abs(z1[0] - z[0]) <= 2 * bound[0]


def test_the_opened_lookup_index_is_independent_of_the_model():
    """What the nodes open (u = H + ρ mod N) has the same law for very different models."""
    agg, inf = AggregationConfig(), InferenceConfig()
    views, top_sums = [], []
    for value in (0.0, 63.0):
        partials, weights, _ = _aggregate(np.full((2, 4000), value), [1.0, 1.0], agg)
        shares = replicate_partials(agg.scheme, partials)
        plan = ConversionPlan.build(
            aggregation=agg,
            inference=InferenceConfig(max_abs=1e-6),
            weights=weights,
            num_features=0,
        )
        tables = LiftDealer(scheme=inf.scheme).deal(plan, 4000)
        masked = [lift_open(shares[j], tables[j], plan=plan) for j in shares]
        views.append(inf.scheme.reconstruct(masked) & np.uint64(plan.table_size - 1))
        top = np.uint64(agg.ring_bits - plan.top_bits)
        mask = agg.scheme.ring.mask  # partials are kept unreduced in uint64
        comps = [
            (shares[1].parts[0] + np.uint64(1 << 43)) & mask,
            shares[0].parts[1] & mask,
            shares[0].parts[2] & mask,
        ]
        top_sums.append(sum(c >> top for c in comps))
    n = plan.table_size
    counts = np.array([np.bincount(v.astype(np.int64), minlength=n) for v in views])
    assert stats.chi2_contingency(counts).pvalue > 1e-6
    assert stats.chisquare(counts[0]).pvalue > 1e-6  # uniform over Z_N
    # negative control: the unmasked index H is far from uniform and the same test says so
    raw = np.bincount(top_sums[0].astype(np.int64), minlength=n)
    assert stats.chisquare(raw).pvalue < 1e-6


def test_plan_checks_configurations_and_weights():
    agg = AggregationConfig()
    with pytest.raises(ProtocolError):
        ConversionPlan.build(
            aggregation=agg,
            inference=InferenceConfig(n_nodes=5, threshold=2),
            weights={0: 1},
            num_features=3,
        )
    with pytest.raises(ProtocolError):
        ConversionPlan.build(
            aggregation=agg, inference=InferenceConfig(), weights={0: 0}, num_features=3
        )
    with pytest.raises(EncodingRangeError):
        ConversionPlan.build(
            aggregation=agg, inference=InferenceConfig(), weights={0: 1 << 22}, num_features=3
        )
    with pytest.raises(EncodingRangeError):
        ConversionPlan.build(
            aggregation=agg,
            inference=InferenceConfig(),
            weights={0: 1 << 16},
            num_features=30,
            shift_bits=0,
        )


def test_replication_needs_every_component_and_agreeing_copies():
    scheme = AggregationConfig().scheme
    shares = scheme.share(np.arange(5, dtype=np.uint64))
    full = replicate_partials(scheme, [shares[0], shares[1]])
    assert all(set(full[j].parts) == set(scheme.held_by(j)) for j in range(3))
    with pytest.raises(ThresholdError):
        replicate_partials(scheme, [NodeShare(node=0, parts={1: shares[0].parts[1]})])
    bad = NodeShare(node=1, parts={2: shares[1].parts[2] + np.uint64(1), 0: shares[1].parts[0]})
    with pytest.raises(ShareMismatchError):
        replicate_partials(scheme, [shares[0], bad])
