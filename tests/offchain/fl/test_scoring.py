"""Contribution scoring: exact and Monte Carlo Shapley, LOO, cosine, φ mapping."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import spearmanr

from flai.fl import (
    CoalitionGame,
    ConfigError,
    FreeRider,
    LabelFlipper,
    LogisticModel,
    ScoringConfig,
    ScoringError,
    SplitConfig,
    TrainConfig,
    composite_phi,
    cosine_similarity_to_aggregate,
    exact_shapley,
    federation_from_split,
    leave_one_out,
    monte_carlo_shapley,
    score_contributions,
    scores_to_phi,
    split_federated,
)

START = LogisticModel.zeros(30)


def _updates(split, behaviours=None, seed=0):
    custodians, _ = federation_from_split(split, behaviours=behaviours)
    return [
        c.behaviour.produce(
            global_model=START,
            data=c.data,
            train=TrainConfig(epochs=1),
            rng=np.random.default_rng([seed, k]),
        )
        for k, c in enumerate(custodians)
    ]


@pytest.fixture(scope="module")
def split10(breast_cancer):
    return split_federated(
        breast_cancer, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=0)
    )


@pytest.mark.parametrize("metric", ["auc", "neg_log_loss", "accuracy"])
def test_exact_shapley_efficiency(split5, metric):
    game = CoalitionGame(
        base=START,
        updates=_updates(split5, {4: LabelFlipper()}),
        holdout=split5.validators[0],
        metric=metric,
    )
    est = exact_shapley(game)
    assert est.evaluations == 2**5
    assert abs(est.values.sum() - (est.v_full - est.v_empty)) <= 1e-9
    assert est.v_full == game.value(0b11111) and est.v_empty == game.value(0)


def test_exact_shapley_matches_permutation_definition(split5):
    """Average marginal over all K! orderings (Shapley 1953) equals the subset formula."""
    ups = _updates(split5, {3: FreeRider("noise", 0.5)})
    game = CoalitionGame(base=START, updates=ups, holdout=split5.validators[0])
    k = game.num_players
    brute = np.zeros(k)
    for perm in itertools.permutations(range(k)):
        mask = 0
        for p in perm:
            before = game.value(mask)
            mask |= 1 << p
            brute[p] += game.value(mask) - before
    brute /= math.factorial(k)
    assert_allclose(exact_shapley(game).values, brute, rtol=0, atol=1e-12)


def test_identical_updates_get_identical_values(split5):
    ups = _updates(split5)
    ups[1] = ups[0]
    est = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=split5.validators[0]))
    assert est.values[0] == pytest.approx(est.values[1], abs=1e-12)


def test_exact_shapley_refuses_large_k(split10):
    game = CoalitionGame(base=START, updates=_updates(split10), holdout=split10.validators[0])
    with pytest.raises(ScoringError, match="exact Shapley is limited to 8 players, got 10"):
        exact_shapley(game, max_players=8)


@pytest.mark.parametrize("behaviours", ["honest", "mixed"])
def test_monte_carlo_k10_agrees_with_exact_on_a_quarter_of_the_budget(split10, behaviours):
    """Spearman(MC, exact) ≥ 0.95 on average over five sampling seeds, ≤ 256 of 1024 evals."""
    adversaries = {9: LabelFlipper(), 8: FreeRider("noise", 0.5), 7: FreeRider("global")}
    ups = _updates(split10, adversaries if behaviours == "mixed" else None)
    holdout = split10.validators[0]
    exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout))
    budget = exact.evaluations // 4
    rhos, evals = [], []
    for seed in range(5):
        game = CoalitionGame(base=START, updates=ups, holdout=holdout)
        mc = monte_carlo_shapley(
            game,
            rng=np.random.default_rng(seed),
            max_evaluations=budget,
            convergence_tolerance=0.0,
        )
        rhos.append(float(spearmanr(exact.values, mc.values).statistic))
        evals.append(mc.evaluations)
    print(
        f"\nK=10 {behaviours} MC vs exact: Spearman {[round(r, 3) for r in rhos]}, "
        f"evaluations {max(evals)}/{exact.evaluations}"
    )
    assert exact.evaluations == 1024
    assert max(evals) <= budget == 256
    assert np.mean(rhos) >= 0.95
    assert min(rhos) >= 0.85


def test_plain_tmc_telescopes_to_efficiency(split5):
    """Without exact extremes every permutation telescopes: Σ SV = v(N) − v(∅)."""
    game = CoalitionGame(base=START, updates=_updates(split5), holdout=split5.validators[0])
    mc = monte_carlo_shapley(
        game,
        rng=np.random.default_rng(0),
        exact_extremes=False,
        truncation_tolerance=0.0,
        max_permutations=30,
    )
    assert mc.permutations == 30
    assert abs(mc.values.sum() - (mc.v_full - mc.v_empty)) <= 1e-12


def test_monte_carlo_is_deterministic_per_seed(split10):
    ups = _updates(split10)
    runs = [
        monte_carlo_shapley(
            CoalitionGame(base=START, updates=ups, holdout=split10.validators[0]),
            rng=np.random.default_rng(s),
        ).values
        for s in (5, 5, 6)
    ]
    assert runs[0].tobytes() == runs[1].tobytes()
    assert runs[0].tobytes() != runs[2].tobytes()


def test_between_round_truncation_returns_zeros(split5):
    ups = [START] * 3  # nobody moves: v(N) = v(∅)
    game = CoalitionGame(base=START, updates=ups, holdout=split5.validators[0])
    mc = monte_carlo_shapley(game, rng=np.random.default_rng(0))
    assert mc.permutations == 0 and mc.evaluations == 2  # only v(∅) and v(N)
    assert np.all(mc.values == 0.0)


def test_leave_one_out_definition(split5):
    game = CoalitionGame(base=START, updates=_updates(split5), holdout=split5.validators[0])
    loo = leave_one_out(game)
    for k in range(5):
        assert loo[k] == game.value(0b11111) - game.value(0b11111 & ~(1 << k))


def test_cosine_similarity_to_aggregate():
    base = LogisticModel.zeros(2)
    ups = [
        LogisticModel(params=[1.0, 0.0, 0.0]),
        LogisticModel(params=[1.0, 0.0, 0.0]),
        LogisticModel(params=[-1.0, 0.0, 0.0]),
        LogisticModel(params=[0.0, 0.0, 0.0]),
    ]
    assert_allclose(
        cosine_similarity_to_aggregate(base, ups, exclude_self=False), [1.0, 1.0, -1.0, 0.0]
    )
    # leave-one-out: the others of update 0 are e1, −e1, 0, which average to zero
    assert_allclose(cosine_similarity_to_aggregate(base, ups), [0.0, 0.0, -1.0, 0.0])
    outlier = [*ups[:2], LogisticModel(params=[-10.0, 0.0, 0.0])]
    assert cosine_similarity_to_aggregate(base, outlier, exclude_self=False)[2] > 0
    assert cosine_similarity_to_aggregate(base, outlier)[2] == -1.0


def test_scores_to_phi_clips_and_normalises():
    assert_allclose(scores_to_phi([0.3, -0.2, 0.1, 0.0]), [0.75, 0.0, 0.25, 0.0])
    assert_allclose(scores_to_phi([0.3, -0.2, 0.1], normalization="max"), [1.0, 0.0, 1 / 3])
    assert np.all(scores_to_phi([-1.0, -2.0]) == 0.0)


def test_composite_score_is_convex_combination():
    out = composite_phi([1.0, 0.0, 1.0], [0.0, 2.0, 2.0], alpha=0.25, beta=0.75)
    assert_allclose(out, [0.25 * 0.5, 0.75 * 0.5, 0.25 * 0.5 + 0.75 * 0.5])
    with pytest.raises(ConfigError, match="sum to 1"):
        composite_phi([1.0], [1.0], alpha=0.5, beta=0.6)


def test_scoring_config_rejects_bad_values():
    with pytest.raises(ConfigError, match="unknown scoring method 'magic'"):
        ScoringConfig(method="magic")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="sum to 1"):
        ScoringConfig(lmv_weight=0.5, gmv_weight=0.6)


def test_game_rejects_mismatched_updates(split5):
    with pytest.raises(ScoringError, match="at least one player"):
        CoalitionGame(base=START, updates=[], holdout=split5.validators[0])
    with pytest.raises(ScoringError, match="update shape"):
        CoalitionGame(base=START, updates=[LogisticModel.zeros(3)], holdout=split5.validators[0])


@pytest.mark.parametrize("budget", [None, 128])
def test_monte_carlo_converges_to_exact(breast_cancer, budget):
    """Stratified TMC is consistent: many permutations approach exact Shapley (K = 7)."""
    split = split_federated(breast_cancer, SplitConfig(num_custodians=7, min_size=5, seed=4))
    ups = _updates(split, {6: LabelFlipper()})
    holdout = split.validators[0]
    exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout))
    mc = monte_carlo_shapley(
        CoalitionGame(base=START, updates=ups, holdout=holdout),
        rng=np.random.default_rng(0),
        max_permutations=3000,
        max_evaluations=budget,
        truncation_tolerance=0.0,
        convergence_tolerance=0.0,
    )
    assert mc.permutations == 3000
    scale = np.abs(exact.values).max()
    assert np.abs(mc.values - exact.values).max() <= 0.02 * scale


def test_per_sample_shapley_gives_values_and_standard_errors(split5):
    game = CoalitionGame(
        base=START, updates=_updates(split5, {4: LabelFlipper()}), holdout=split5.validators[0]
    )
    est = exact_shapley(game)
    assert np.all(est.standard_errors > 0)
    # the flipper's harm is many standard errors from zero
    assert est.values[4] / est.standard_errors[4] < -5
    auc_game = CoalitionGame(
        base=START, updates=_updates(split5), holdout=split5.validators[0], metric="auc"
    )
    assert np.all(exact_shapley(auc_game).standard_errors == 0.0)
    with pytest.raises(ScoringError, match="'auc' has no per-sample decomposition"):
        auc_game.sample_values([0])


def test_monte_carlo_standard_errors_approach_exact(breast_cancer):
    split = split_federated(breast_cancer, SplitConfig(num_custodians=6, min_size=5, seed=2))
    ups = _updates(split)
    holdout = split.validators[0]
    exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout))
    mc = monte_carlo_shapley(
        CoalitionGame(base=START, updates=ups, holdout=holdout),
        rng=np.random.default_rng(0),
        max_permutations=2000,
        truncation_tolerance=0.0,
        convergence_tolerance=0.0,
    )
    assert_allclose(mc.standard_errors, exact.standard_errors, rtol=0.1)


def test_confidence_bound_discounts_uncertain_credit(split5):
    ups = _updates(split5, {4: FreeRider("noise", 0.3)})
    rng = np.random.default_rng(0)
    plain = score_contributions(
        base=START,
        updates=ups,
        holdout=split5.validators[0],
        rng=rng,
        config=ScoringConfig(confidence_z=0.0),
    )
    bounded = score_contributions(
        base=START,
        updates=ups,
        holdout=split5.validators[0],
        rng=rng,
        config=ScoringConfig(confidence_z=2.0),
    )
    assert_allclose(plain.shapley, bounded.shapley)
    lcb = np.clip(bounded.shapley - 2.0 * bounded.estimate.standard_errors, 0, None)
    credited = np.array([not f for f in bounded.flags])
    expected = np.where(credited, lcb, 0.0)
    assert_allclose(bounded.phi, expected / expected.sum(), rtol=1e-12)
    with pytest.raises(ConfigError, match="confidence_z must be >= 0"):
        ScoringConfig(confidence_z=-1.0)


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 3.0, 4.0, 5.0]])
@pytest.mark.parametrize("exclude_self", [True, False])
def test_cosine_equals_the_explicit_aggregate(weights, exclude_self):
    """The scratch-vector algebra gives the cosine to the explicitly formed aggregate."""
    rng = np.random.default_rng(0)
    base = LogisticModel(params=rng.normal(size=41))
    scales = [1.0, 0.5, 2.0, 0.0, 1e-8]
    ups = [LogisticModel(params=base.params + s * rng.normal(size=41)) for s in scales]
    deltas = np.stack([u.params - base.params for u in ups])
    a = np.ones(5) if weights is None else np.asarray(weights)
    expected = []
    for k in range(5):
        w = a.copy()
        if exclude_self:
            w[k] = 0.0
        agg = (w / w.sum()) @ deltas
        denom = np.linalg.norm(deltas[k]) * np.linalg.norm(agg)
        expected.append(deltas[k] @ agg / denom if denom > 0 else 0.0)
    got = cosine_similarity_to_aggregate(base, ups, weights, exclude_self=exclude_self)
    assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert got[3] == 0.0  # a zero update has no direction
