"""Secure contribution scoring versus a float reference and the plaintext engine."""

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import spearmanr
from sklearn.datasets import make_classification

from flai.errors import ConfigError
from flai.fl import (
    CheckConfig,
    Dataset,
    Flag,
    FreeRider,
    LabelFlipper,
    LogisticModel,
    RoundConfig,
    ScoringConfig,
    SplitConfig,
    federation_from_split,
    score_contributions,
    split_federated,
)
from flai.mpc import EncodingRangeError, EnvelopeError, KeyPair, ProtocolError
from flai.mpc.rss3 import run
from flai.mpc.secure_scoring.config import SecureScoringConfig, truncation_failure_bound
from flai.mpc.secure_scoring.estimator import estimator
from flai.mpc.secure_scoring.finalize import cosine_requests, finalize_scores
from flai.mpc.secure_scoring.node import ScoringNode, combine_public
from flai.mpc.secure_scoring.parties import OpenedScores, ScoringClient, ScoringValidator
from flai.mpc.secure_scoring.round import secure_score_round


def _taylor_reference(base, updates, holdout, weights):
    """Float SV and SE of the second-order utility, by enumerating every coalition."""
    K = len(updates)
    rows = np.hstack([holdout.X, np.ones((holdout.num_samples, 1))])
    p = expit(rows @ base.params)
    g, h = p - holdout.y, p * (1 - p)
    delta = np.stack([rows @ (u.params - base.params) for u in updates], axis=1)
    per_sample = np.zeros((holdout.num_samples, K))
    for k in range(K):
        others = [j for j in range(K) if j != k]
        for size in range(K):
            coef = math.factorial(size) * math.factorial(K - size - 1) / math.factorial(K)
            for subset in itertools.combinations(others, size):

                def value(members):
                    if not members:
                        return np.zeros(holdout.num_samples)
                    a = np.array([weights[j] for j in members])
                    d = delta[:, list(members)] @ (a / a.sum())
                    return -(g * d + 0.5 * h * d * d)

                per_sample[:, k] += coef * (value((*subset, k)) - value(subset))
    n = holdout.num_samples
    return per_sample.mean(axis=0), per_sample.std(axis=0, ddof=1) / np.sqrt(n)


def _federation(K, seed, n_validators=1):
    X, y = make_classification(
        n_samples=1200, n_features=30, n_informative=10, n_redundant=5, random_state=seed
    )
    split = split_federated(
        Dataset(X=X, y=y),
        SplitConfig(
            num_custodians=K,
            alpha=0.5,
            min_size=10,
            test_fraction=0.2,
            validation_fraction=0.25 * n_validators,
            num_validators=n_validators,
            seed=seed,
        ),
    )
    return split


def _updates(split, behaviours, seed, base=None):
    custodians, validators = federation_from_split(split, behaviours=behaviours)
    base = base or LogisticModel.zeros(30)
    cfg = RoundConfig(seed=seed)
    updates = [
        c.behaviour.produce(
            global_model=base, data=c.data, train=cfg.train, rng=np.random.default_rng([seed, k])
        )
        for k, c in enumerate(custodians)
    ]
    return base, updates, [v.holdout for v in validators], custodians


@pytest.mark.parametrize("K", [1, 2, 3, 5, 7])
def test_closed_form_uniform_coefficients_equal_enumeration(K):
    uniform = estimator(num_players=K, config=ScoringConfig())
    enumerated = estimator(
        num_players=K,
        config=ScoringConfig(coalition_weighting="samples"),
        num_samples=[1] * K,
    )
    np.testing.assert_allclose(uniform.A, enumerated.A, atol=1e-12)
    np.testing.assert_allclose(uniform.B, enumerated.B, atol=1e-12)
    # efficiency: the Shapley rows sum to the grand coalition's coefficients
    np.testing.assert_allclose(uniform.A.sum(axis=0), np.full(K, 1 / K), atol=1e-12)
    np.testing.assert_allclose(uniform.B.sum(axis=0), np.full((K, K), 1 / K**2), atol=1e-12)


def test_sampled_coefficients_converge_to_exact_and_add_a_grand_row():
    weights = [10, 40, 25, 5, 20]
    exact = estimator(
        num_players=5, config=ScoringConfig(coalition_weighting="samples"), num_samples=weights
    )
    cfg = ScoringConfig(
        coalition_weighting="samples", exact_max_players=3, mc_max_permutations=4000
    )
    sampled = estimator(
        num_players=5, config=cfg, num_samples=weights, rng=np.random.default_rng(0)
    )
    assert exact.exact and not sampled.exact and sampled.grand == 5
    np.testing.assert_allclose(sampled.A[:5], exact.A, atol=0.03)
    np.testing.assert_allclose(sampled.B[:5], exact.B, atol=0.03)
    with pytest.raises(ProtocolError):
        estimator(num_players=5, config=cfg, num_samples=weights)  # no public generator


@pytest.mark.parametrize("weighting", ["uniform", "samples"])
def test_secure_values_equal_the_float_taylor_reference(weighting):
    split = _federation(K=4, seed=3)
    base, updates, holdouts, custodians = _updates(split, {}, seed=3)
    counts = [c.data.num_samples for c in custodians]
    cfg = SecureScoringConfig(scoring=ScoringConfig(coalition_weighting=weighting))
    result = secure_score_round(
        base=base, updates=updates, holdouts=holdouts, config=cfg, num_samples=counts
    )
    weights = counts if weighting == "samples" else [1] * 4
    sv, se = _taylor_reference(base, updates, holdouts[0], weights)
    opened = result.opened[0]
    np.testing.assert_allclose(opened.shapley, sv, atol=2e-5)
    np.testing.assert_allclose(opened.standard_errors, se, rtol=1e-3, atol=1e-6)
    assert result.accepted == (0, 1, 2, 3)
    expected_norms = [np.linalg.norm(u.params - base.params) for u in updates]
    np.testing.assert_allclose(result.norms, expected_norms, rtol=1e-4)
    assert result.failure_bound < 2.0**-40


def test_ranks_like_plaintext_and_catches_free_rider_and_label_flipper():
    split = _federation(K=5, seed=0, n_validators=2)
    base, updates, holdouts, _ = _updates(split, {1: FreeRider(), 2: LabelFlipper()}, seed=0)
    result = secure_score_round(base=base, updates=updates, holdouts=holdouts)
    for holdout, secure in zip(holdouts, result.scores, strict=True):
        plain = score_contributions(
            base=base,
            updates=updates,
            holdout=holdout,
            config=ScoringConfig(),
            rng=np.random.default_rng(0),
        )
        assert spearmanr(plain.shapley, secure.shapley)[0] >= 0.9
        assert secure.flags[1] == frozenset({Flag.FREE_RIDER}) == plain.flags[1]
        assert secure.flags[2] == frozenset({Flag.POISONER}) == plain.flags[2]
        assert secure.phi[1] == secure.phi[2] == 0.0
        assert secure.phi.sum() <= 1.0 and secure.phi.sum() > 0.99
        np.testing.assert_allclose(secure.phi, plain.phi, atol=0.05)


def test_a_trained_global_model_is_the_expansion_point():
    split = _federation(K=4, seed=5)
    start, updates, holdouts, _ = _updates(split, {}, seed=5)
    trained = LogisticModel(params=np.mean([u.params for u in updates], axis=0))
    base, updates, holdouts, _ = _updates(split, {3: LabelFlipper()}, seed=6, base=trained)
    result = secure_score_round(base=base, updates=updates, holdouts=holdouts)
    sv, _ = _taylor_reference(base, updates, holdouts[0], [1] * 4)
    np.testing.assert_allclose(result.opened[0].shapley, sv, atol=2e-5)
    assert result.scores[0].flags[3] == frozenset({Flag.POISONER})


def test_norm_check_rejects_before_scoring():
    split = _federation(K=3, seed=1)
    base, updates, holdouts, _ = _updates(split, {}, seed=1)
    far = LogisticModel(params=base.params + 3.0)  # ‖Δ‖ = 3·√31 > 10
    result = secure_score_round(base=base, updates=[*updates, far], holdouts=holdouts)
    assert result.accepted == (0, 1, 2)
    assert result.norms[3] == pytest.approx(3.0 * math.sqrt(31), rel=1e-6)
    assert len(result.scores[0].phi) == 3
    lax = SecureScoringConfig(checks=CheckConfig(max_update_norm=None))
    assert secure_score_round(
        base=base, updates=[*updates, far], holdouts=holdouts, config=lax
    ).accepted == (0, 1, 2, 3)


def test_cosines_are_opened_only_where_a_flag_depends_on_them():
    cfg = ScoringConfig()
    bar = cfg.poison_tolerance + cfg.poison_relative_tolerance * 0.04
    opened = OpenedScores(
        shapley=np.array([0.05, -0.002, -0.5, 0.0]),
        standard_errors=np.zeros(4),
        lmv=None,
        gain=0.04,
        exact=True,
    )
    assert -bar <= -0.002 < -cfg.poison_tolerance
    assert cosine_requests([opened], cfg) == [1]
    norms = [1.0, 1.0, 1.0, 1.0]
    opposed = finalize_scores(opened, norms=norms, cosines={1: -0.9}, config=cfg)
    aligned = finalize_scores(opened, norms=norms, cosines={1: 0.5}, config=cfg)
    assert opposed.flags[1] == frozenset({Flag.POISONER}) and aligned.flags[1] == frozenset()
    assert opposed.flags[2] == frozenset({Flag.POISONER})
    with pytest.raises(ProtocolError):
        finalize_scores(opened, norms=norms, cosines={}, config=cfg)


def test_opened_cosines_equal_plaintext_cosines():
    from flai.fl import cosine_similarity_to_aggregate

    split = _federation(K=4, seed=2)
    base, updates, holdouts, custodians = _updates(split, {}, seed=2)
    cfg = SecureScoringConfig()
    nodes = [ScoringNode(index=j, config=cfg) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    for k, u in enumerate(updates):
        sealed = ScoringClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            u.params, round_id=7
        )
        for n in nodes:
            n.receive_update(sealed, round_id=7, client_id=k)
    counts = [c.data.num_samples for c in custodians]
    for n in nodes:
        n.begin_round(
            round_id=7, base=base, clients=range(4), node_public_keys=keys, num_samples=counts
        )
    norms = combine_public([n.open_norms(round_id=7) for n in nodes])
    parts = [n.open_cosines(round_id=7, players=[0, 1, 3], targets=[0, 1, 2]) for n in nodes]
    values = combine_public(parts)
    cos = [
        v / math.sqrt(values[2 * i + 1] * norms[[0, 1, 3][i]]) for i, v in enumerate(values[::2])
    ]
    subset = [updates[0], updates[1], updates[3]]
    np.testing.assert_allclose(cos, cosine_similarity_to_aggregate(base, subset), atol=1e-6)


def test_lmv_composite_uses_the_opened_standalone_gains():
    split = _federation(K=3, seed=4)
    base, updates, holdouts, _ = _updates(split, {}, seed=4)
    scoring = ScoringConfig(lmv_weight=0.5, gmv_weight=0.5)
    result = secure_score_round(
        base=base, updates=updates, holdouts=holdouts, config=SecureScoringConfig(scoring=scoring)
    )
    plain = score_contributions(
        base=base,
        updates=updates,
        holdout=holdouts[0],
        config=scoring,
        rng=np.random.default_rng(0),
    )
    rows = np.hstack([holdouts[0].X, np.ones((holdouts[0].num_samples, 1))])
    p = expit(rows @ base.params)
    g, h = p - holdouts[0].y, p * (1 - p)
    taylor = [
        np.mean(-(g * d + 0.5 * h * d * d))
        for d in (rows @ (u.params - base.params) for u in updates)
    ]
    np.testing.assert_allclose(result.scores[0].lmv, taylor, atol=2e-5)
    assert spearmanr(result.scores[0].lmv, plain.lmv)[0] == 1.0
    assert spearmanr(result.scores[0].phi, plain.phi)[0] == 1.0


def test_outputs_open_only_for_their_validator_and_round():
    split = _federation(K=3, seed=8)
    base, updates, holdouts, _ = _updates(split, {}, seed=8)
    cfg = SecureScoringConfig()
    nodes = [ScoringNode(index=j, config=cfg) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    for k, u in enumerate(updates):
        sealed = ScoringClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            u.params, round_id=1
        )
        for n in nodes:
            n.receive_update(sealed, round_id=1, client_id=k)
        with pytest.raises(ProtocolError):
            nodes[0].receive_update(sealed, round_id=1, client_id=k)
    for n in nodes:
        n.begin_round(round_id=1, base=base, clients=[0, 1, 2], node_public_keys=keys)
    validator = ScoringValidator(validator_id=0, holdout=holdouts[0], config=cfg)
    stranger = ScoringValidator(validator_id=0, holdout=holdouts[0], config=cfg)
    sealed = validator.share_holdout(base=base, round_id=1, node_public_keys=keys)
    for n in nodes:
        n.receive_holdout(sealed, round_id=1, validator_id=0)
    est = estimator(num_players=3, config=cfg.scoring)
    outputs = run(
        [
            n.score(
                round_id=1,
                validator_id=0,
                players=[0, 1, 2],
                validator_public=validator.public_key,
                est=est,
            )
            for n in nodes
        ]
    )
    sealed_outputs = dict(enumerate(outputs))
    opened = validator.open_outputs(sealed_outputs, round_id=1, est=est)
    sv, _ = _taylor_reference(base, updates, holdouts[0], [1, 1, 1])
    np.testing.assert_allclose(opened.shapley, sv, atol=2e-5)
    with pytest.raises(EnvelopeError):
        stranger.open_outputs(sealed_outputs, round_id=1, est=est)
    with pytest.raises(EnvelopeError):
        validator.open_outputs(sealed_outputs, round_id=2, est=est)
    # what the validator received contains none of the updates' parameters or encodings
    received = b"".join(sealed_outputs.values())
    for u in updates:
        for value in u.params[:5]:
            assert np.float64(value).tobytes() not in received
            encoded = int(round(value * 2**cfg.frac_bits)) % 2**64
            assert encoded.to_bytes(8, "little") not in received


def test_holdout_features_beyond_the_bound_are_refused():
    split = _federation(K=2, seed=9)
    holdout = split.validators[0]
    wild = Dataset(X=holdout.X * 100.0, y=holdout.y, name="wild")
    validator = ScoringValidator(validator_id=0, holdout=wild, config=SecureScoringConfig())
    with pytest.raises(EncodingRangeError) as err:
        validator.prepare(LogisticModel.zeros(30))
    assert "wild" in str(err.value)


def test_failure_bound_grows_with_magnitudes_and_is_negligible_at_defaults():
    est = estimator(num_players=10, config=ScoringConfig())
    cfg = SecureScoringConfig()
    bound = truncation_failure_bound(config=cfg, num_params=31, num_rows=300, est=est)
    assert bound < 2.0**-40
    looser = replace(cfg, max_feature=2.0**16, checks=CheckConfig(max_update_norm=None))
    assert truncation_failure_bound(config=looser, num_params=31, num_rows=300, est=est) > bound


def test_config_refuses_a_metric_it_does_not_approximate():
    with pytest.raises(ConfigError, match="scoring.metric") as info:
        SecureScoringConfig(scoring=ScoringConfig(metric="auc"))
    assert info.value.field == "scoring.metric"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"frac_bits": 7}, "frac_bits"),
        ({"coeff_bits": 33}, "coeff_bits"),
        ({"max_feature": float("nan")}, "max_feature"),
        ({"max_param": 0.0}, "max_param"),
    ],
)
def test_config_names_the_field_out_of_range(changes, field):
    with pytest.raises(ConfigError) as info:
        SecureScoringConfig(**changes)
    assert info.value.field == field


@pytest.mark.parametrize("offset", [None, 1, 2**43, 5 * 2**20])
def test_scoring_and_aggregation_uploads_are_bound_to_one_update(offset):
    """``offset``: what client 1 adds to one encoded parameter of its aggregation upload."""
    from flai.mpc import AggregationConfig
    from flai.mpc.errors import InconsistentUploadError
    from flai.mpc.secure_scoring.node import check_consistency

    split = _federation(K=3, seed=11)
    base, updates, _, _ = _updates(split, {}, seed=11)
    cfg = SecureScoringConfig()
    agg_cfg = AggregationConfig()
    keypairs = [KeyPair.generate() for _ in range(3)]
    nodes = [ScoringNode(index=j, config=cfg, keypair=keypairs[j]) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    aggregation = {j: {} for j in range(3)}
    for k, u in enumerate(updates):
        scored = ScoringClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            u.params, round_id=4
        )
        encoded = agg_cfg.fixed_point.encode(u.params)
        if offset is not None and k == 1:
            encoded[7] = (encoded[7] + np.uint64(offset)) & agg_cfg.scheme.ring.mask
        aad = b"flai/mpc/aggregation" + (4).to_bytes(8, "big") + k.to_bytes(8, "big")
        sealed = agg_cfg.scheme.seal(
            encoded, keys, aad=aad, scale_bits=agg_cfg.frac_bits, correction=k % 3
        )
        for j, n in enumerate(nodes):
            n.receive_update(scored, round_id=4, client_id=k)
            aggregation[j][k] = agg_cfg.scheme.open(sealed, node=j, keypair=keypairs[j], aad=aad)
    for n in nodes:
        n.begin_round(round_id=4, base=base, clients=[0, 1, 2], node_public_keys=keys)
    parts = [
        n.consistency_part(
            round_id=4, aggregation=aggregation[n.index], challenge=b"block-hash", ring_bits=44
        )
        for n in nodes
    ]
    if offset is None:
        check_consistency(parts, clients=[0, 1, 2], ring_bits=44, round_id=4)
    else:
        with pytest.raises(InconsistentUploadError) as err:
            check_consistency(parts, clients=[0, 1, 2], ring_bits=44, round_id=4)
        assert (err.value.client, err.value.round_id) == (1, 4)
