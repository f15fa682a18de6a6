"""The coalition game and the stratified Monte Carlo estimator with its control variate."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import log_expit
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
    default_evaluation_budget,
    exact_shapley,
    federation_from_split,
    leave_one_out,
    score_contributions,
    split_federated,
    stratified_shapley,
)
from flai.fl.metrics import neg_log_loss_columns, per_sample_columns

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


def _mixed(k):
    return {k - 1: LabelFlipper(), k - 2: FreeRider("noise", 0.5), k - 3: FreeRider("global")}


@pytest.fixture(scope="module")
def split6(breast_cancer):
    return split_federated(
        breast_cancer, SplitConfig(num_custodians=6, alpha=0.5, min_size=5, seed=1)
    )


@pytest.mark.parametrize("metric", ["neg_log_loss", "accuracy", "auc"])
@pytest.mark.parametrize("control_variate", [True, False])
def test_stratified_equals_exact_when_the_budget_covers_every_coalition(
    split6, metric, control_variate
):
    """With all 2^K coalitions the strata are complete: the estimate is exact, and with the
    control variate on that holds only if the surrogate's closed-form values are right."""
    ups = _updates(split6, _mixed(6))
    holdout = split6.validators[0]
    exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout, metric=metric))
    est = stratified_shapley(
        CoalitionGame(base=START, updates=ups, holdout=holdout, metric=metric),
        rng=np.random.default_rng(0),
        max_evaluations=2**6,
        control_variate=control_variate,
    )
    assert est.evaluations == 2**6
    assert_allclose(est.values, exact.values, rtol=0, atol=1e-14)
    assert_allclose(est.standard_errors, exact.standard_errors, rtol=1e-9, atol=1e-15)


def test_exactness_with_sample_weighted_coalitions(split6):
    """Unequal coalition weights: no control variate applies, the strata still complete."""
    ups = _updates(split6)
    holdout = split6.validators[0]
    weights = [float(c.num_samples) for c in split6.custodians]
    exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout, weights=weights))
    est = stratified_shapley(
        CoalitionGame(base=START, updates=ups, holdout=holdout, weights=weights),
        rng=np.random.default_rng(0),
        max_evaluations=64,
    )
    assert_allclose(est.values, exact.values, rtol=0, atol=1e-14)


@pytest.mark.parametrize("budget", [14, 30, 40])
@pytest.mark.parametrize("control_variate", [True, False])
def test_stratified_is_efficient_at_any_budget(split6, budget, control_variate):
    """Σ SV = v(N) − v(∅) holds exactly (the estimate is projected onto it)."""
    est = stratified_shapley(
        CoalitionGame(
            base=START, updates=_updates(split6, _mixed(6)), holdout=split6.validators[0]
        ),
        rng=np.random.default_rng(3),
        max_evaluations=budget,
        control_variate=control_variate,
    )
    assert abs(est.values.sum() - (est.v_full - est.v_empty)) <= 1e-12


def test_exact_shapley_is_efficient_and_symmetric_at_k10(breast_cancer):
    split = split_federated(
        breast_cancer, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=0)
    )
    ups = _updates(split, _mixed(10))
    ups[1] = ups[0]
    est = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=split.validators[0]))
    assert abs(est.values.sum() - (est.v_full - est.v_empty)) <= 1e-12
    assert est.values[0] == pytest.approx(est.values[1], abs=1e-15)


def test_stratified_uses_its_budget_and_always_the_extreme_sizes(breast_cancer):
    split = split_federated(
        breast_cancer, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=0)
    )
    ups = _updates(split)
    holdout = split.validators[0]
    for budget, used in ((1, 22), (22, 22), (64, 64), (300, 300)):
        game = CoalitionGame(base=START, updates=ups, holdout=holdout)
        est = stratified_shapley(game, rng=np.random.default_rng(0), max_evaluations=budget)
        assert est.evaluations == used
        for k in range(10):  # v({k}) and v(N∖k) are among them
            assert game.is_cached(1 << k) and game.is_cached(game.full & ~(1 << k))
    assert default_evaluation_budget(10) == 256 and default_evaluation_budget(40) == 800


def test_stratified_is_deterministic_per_seed(breast_cancer):
    split = split_federated(
        breast_cancer, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=2)
    )
    ups = _updates(split, _mixed(10))
    runs = [
        stratified_shapley(
            CoalitionGame(base=START, updates=ups, holdout=split.validators[0]),
            rng=np.random.default_rng(s),
            max_evaluations=128,
        )
        for s in (5, 5, 6)
    ]
    assert runs[0].values.tobytes() == runs[1].values.tobytes()
    assert runs[0].standard_errors.tobytes() == runs[1].standard_errors.tobytes()
    assert runs[0].values.tobytes() != runs[2].values.tobytes()


@pytest.mark.parametrize("scenario", ["honest", "mixed"])
def test_stratified_k10_ranks_like_exact_on_a_sixteenth_of_the_budget(breast_cancer, scenario):
    """Spearman(stratified, exact) ≥ 0.95 on every one of 8 federations, 64 of 1,024 evals."""
    rhos = []
    for seed in range(8):
        split = split_federated(
            breast_cancer, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=seed)
        )
        ups = _updates(split, _mixed(10) if scenario == "mixed" else None, seed=seed)
        holdout = split.validators[0]
        exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout))
        est = stratified_shapley(
            CoalitionGame(base=START, updates=ups, holdout=holdout),
            rng=np.random.default_rng(seed),
            max_evaluations=64,
        )
        assert est.evaluations == 64
        rhos.append(float(spearmanr(exact.values, est.values).statistic))
    print(f"\nK=10 {scenario} stratified(64) vs exact: {[round(r, 3) for r in rhos]}")
    assert min(rhos) >= 0.95


def test_control_variate_reduces_the_error(breast_cancer):
    errors = {True: [], False: []}
    for seed in range(4):
        split = split_federated(
            breast_cancer, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=seed)
        )
        ups = _updates(split, _mixed(10), seed=seed)
        holdout = split.validators[0]
        exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout)).values
        for cv in (True, False):
            est = stratified_shapley(
                CoalitionGame(base=START, updates=ups, holdout=holdout),
                rng=np.random.default_rng(seed),
                max_evaluations=128,
                control_variate=cv,
            )
            errors[cv].append(np.abs(est.values - exact).max() / np.abs(exact).max())
    assert np.mean(errors[True]) < 0.2 * np.mean(errors[False])


def test_stratified_standard_errors_track_exact(breast_cancer):
    split = split_federated(
        breast_cancer, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=0)
    )
    ups = _updates(split, _mixed(10))
    holdout = split.validators[0]
    exact = exact_shapley(CoalitionGame(base=START, updates=ups, holdout=holdout))
    est = stratified_shapley(
        CoalitionGame(base=START, updates=ups, holdout=holdout),
        rng=np.random.default_rng(0),
        max_evaluations=256,
    )
    assert_allclose(est.standard_errors, exact.standard_errors, rtol=0.05)


def test_stratified_after_exact_reuses_the_cache(split6):
    game = CoalitionGame(base=START, updates=_updates(split6), holdout=split6.validators[0])
    exact = exact_shapley(game)
    est = stratified_shapley(game, rng=np.random.default_rng(0), max_evaluations=40)
    assert est.evaluations == 64  # every coalition it used was cached
    assert abs(est.values.sum() - (exact.v_full - exact.v_empty)) <= 1e-12
    assert_allclose(est.values, exact.values, rtol=0.05)


def test_bad_budget_and_estimator_raise(split6):
    game = CoalitionGame(base=START, updates=_updates(split6), holdout=split6.validators[0])
    with pytest.raises(ConfigError, match="max_evaluations must be >= 1, got 0"):
        stratified_shapley(game, rng=np.random.default_rng(0), max_evaluations=0)
    with pytest.raises(ConfigError, match="unknown Monte Carlo estimator 'magic'"):
        ScoringConfig(mc_estimator="magic")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="mc_max_evaluations must be >= 1, got 0"):
        ScoringConfig(mc_max_evaluations=0)


def test_game_caps_players_at_63(split6):
    update = LogisticModel.zeros(30)
    with pytest.raises(ScoringError, match="at most 63 players, got 64"):
        CoalitionGame(base=START, updates=[update] * 64, holdout=split6.validators[0])


def test_game_logits_are_linear_in_the_coalition(split6):
    """v(S) from the per-update logits equals v(S) of the explicitly averaged model."""
    ups = _updates(split6, _mixed(6))
    holdout = split6.validators[0]
    game = CoalitionGame(base=START, updates=ups, holdout=holdout)
    masks = np.array([0, 1, 0b101, 0b111111, 0b011010])
    for mask, params in zip(masks, game.coalition_params(masks), strict=True):
        model = LogisticModel(params=params)
        assert game.value(int(mask)) == pytest.approx(
            model.evaluate(holdout, "neg_log_loss"), abs=1e-14
        )
    assert_allclose(leave_one_out(game), game.value(63) - game.values(63 ^ (1 << np.arange(6))))


@pytest.mark.parametrize("estimator", ["stratified", "permutation"])
def test_scoring_with_either_estimator_flags_the_adversaries(breast_cancer, estimator):
    split = split_federated(
        breast_cancer, SplitConfig(num_custodians=12, alpha=1.0, min_size=5, seed=0)
    )
    ups = _updates(split, _mixed(12))
    scores = score_contributions(
        base=START,
        updates=ups,
        holdout=split.validators[0],
        config=ScoringConfig(mc_estimator=estimator),  # type: ignore[arg-type]
        rng=np.random.default_rng(0),
    )
    assert scores.estimate.method == "monte_carlo"
    assert scores.phi[9] == scores.phi[10] == scores.phi[11] == 0.0
    assert scores.phi[:9].min() > 0 and scores.phi.sum() == pytest.approx(1.0)


def test_log_likelihood_matches_scipy_at_every_scale():
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(0, 3, (40, 5)), [[800.0, -800.0, 0.0, 1e-12, -40.0]]])
    y = rng.integers(0, 2, scores.shape[0])
    sign = np.where(y == 1, 1.0, -1.0)[:, None]
    expected = log_expit(sign * scores)
    assert_allclose(per_sample_columns("neg_log_loss", y, scores), expected, rtol=1e-14, atol=0)
    assert_allclose(neg_log_loss_columns(y, scores), expected.mean(axis=0), rtol=1e-14)
