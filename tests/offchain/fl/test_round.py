"""The round driver end to end: accuracy, scoring acceptance, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression

from flai.fl import (
    ConfigError,
    Custodian,
    Dataset,
    FeatureMismatchError,
    Flag,
    FreeRider,
    LabelFlipper,
    LogisticModel,
    RoundConfig,
    ScaledUpdate,
    ScoringConfig,
    SplitConfig,
    TrainConfig,
    Validator,
    default_evaluation_budget,
    federation_from_split,
    metric_to_fixed,
    phi_to_fixed,
    roc_auc,
    run_round,
    run_training,
    split_federated,
    stake_weighted_median,
)
from flai.fl.model import LogisticModel as Model

ZERO = LogisticModel.zeros(30)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_federated_auc_matches_central_baseline(breast_cancer, seed):
    """5 honest non-IID custodians (α = 0.5), 5 rounds: AUC ≥ 0.85 and within 0.01 of central."""
    split = split_federated(breast_cancer, SplitConfig(num_custodians=5, alpha=0.5, seed=seed))
    custodians, validators = federation_from_split(split)
    result = run_training(
        custodians=custodians,
        validators=validators,
        rounds=5,
        config=RoundConfig(seed=seed),
        test=split.test,
    )
    pool = split.training_pool
    central = LogisticRegression(max_iter=5000).fit(pool.X, pool.y)
    central_auc = roc_auc(split.test.y, central.decision_function(split.test.X))
    federated_auc = result.model.evaluate(split.test, "auc")
    print(
        f"\nseed {seed}: federated test AUC {federated_auc:.4f} | central {central_auc:.4f} | "
        f"diff {federated_auc - central_auc:+.4f} | per round "
        + " ".join(f"{r.test_metric:.4f}" for r in result.rounds)
    )
    assert len(result.rounds) == 5
    assert result.rounds[-1].test_metric == federated_auc
    assert federated_auc >= 0.85
    assert abs(federated_auc - central_auc) <= 0.01


def test_free_rider_earns_nothing(split5):
    custodians, validators = federation_from_split(split5, behaviours={4: FreeRider("global")})
    result = run_training(
        custodians=custodians, validators=validators, rounds=5, config=RoundConfig(seed=0)
    )
    for r in result.rounds:
        rider = r.outcome("custodian-4")
        assert rider.phi <= 0.05
        assert Flag.FREE_RIDER in rider.flags
        assert sum(r.phi) == pytest.approx(1.0)


@pytest.mark.parametrize("noise", [0.1, 0.3, 1.0])
def test_noisy_free_rider_earns_nothing(split5, noise):
    custodians, validators = federation_from_split(
        split5, behaviours={4: FreeRider("noise", noise_scale=noise)}
    )
    result = run_training(
        custodians=custodians, validators=validators, rounds=5, config=RoundConfig(seed=0)
    )
    for r in result.rounds:
        assert r.outcome("custodian-4").phi <= 0.05
    assert min(result.rounds[0].phi[:4]) > 0.05


def test_without_the_confidence_bound_lucky_noise_earns_credit(split5):
    """Regression for why ``confidence_z`` defaults to 2: with z = 0, a σ = 0.3 noise
    free-rider's random direction happens to lower the holdout loss in round 3 and is paid."""
    custodians, validators = federation_from_split(
        split5, behaviours={4: FreeRider("noise", noise_scale=0.3)}
    )
    config = RoundConfig(seed=0, scoring=ScoringConfig(confidence_z=0.0))
    result = run_training(custodians=custodians, validators=validators, rounds=5, config=config)
    assert max(r.outcome("custodian-4").phi for r in result.rounds) > 0.05


def test_label_flipper_gets_zero_and_is_flagged(split5):
    custodians, validators = federation_from_split(split5, behaviours={2: LabelFlipper()})
    result = run_training(
        custodians=custodians,
        validators=validators,
        rounds=3,
        config=RoundConfig(seed=0),
        test=split5.test,
    )
    for r in result.rounds:
        flipper = r.outcome("custodian-2")
        assert flipper.phi == 0.0 and flipper.phi_fixed == 0
        assert Flag.POISONER in flipper.flags
        assert flipper.shapley < 0 and flipper.lmv < 0 and flipper.cosine < 0
        assert all(not o.flags for o in r.outcomes if o.custodian_id != "custodian-2")
    assert result.rounds[-1].test_metric > 0.97  # the poison never entered the model


def test_phi_rank_follows_data_size(breast_cancer):
    """Honest custodians of very different sizes: Spearman(φ, n_k) ≥ 0.8 (2CP's pattern)."""
    rhos = []
    for seed in range(3):
        split = split_federated(
            breast_cancer,
            SplitConfig(num_custodians=5, sizes=(1.0, 2.0, 4.0, 8.0, 16.0), min_size=5, seed=seed),
        )
        custodians, validators = federation_from_split(split)
        result = run_round(
            custodians=custodians,
            validators=validators,
            global_model=ZERO,
            config=RoundConfig(seed=seed, train=TrainConfig(epochs=1)),
        )
        sizes = [c.num_samples for c in split.custodians]
        rhos.append(spearmanr(result.phi, sizes).statistic)
    print(f"\nSpearman(phi, data size) per seed: {[round(float(r), 3) for r in rhos]}")
    assert min(rhos) >= 0.8


def test_boosted_update_is_rejected_with_its_check(split5):
    custodians, validators = federation_from_split(split5, behaviours={1: ScaledUpdate(50.0)})
    result = run_round(
        custodians=custodians, validators=validators, global_model=ZERO, config=RoundConfig()
    )
    booster = result.outcome("custodian-1")
    assert not booster.accepted and booster.rejection == "norm"
    assert booster.flags == frozenset({Flag.REJECTED})
    assert booster.phi == 0.0 and booster.update_norm > 10.0
    assert all(o.accepted for o in result.outcomes if o.custodian_id != "custodian-1")


class _Broken:
    """Submits a model with the wrong shape or a NaN, to exercise rejection in a round."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    @property
    def name(self) -> str:
        return f"broken-{self.kind}"

    def produce(self, *, global_model, data, train, rng):
        if self.kind == "shape":
            return Model.zeros(global_model.num_features + 2)
        params = global_model.params.copy()
        params[0] = np.nan
        return Model(params=params)


@pytest.mark.parametrize(("kind", "check"), [("shape", "shape"), ("nan", "finite")])
def test_broken_update_is_rejected_and_round_continues(split5, kind, check):
    custodians, validators = federation_from_split(split5, behaviours={0: _Broken(kind)})
    result = run_round(
        custodians=custodians, validators=validators, global_model=ZERO, config=RoundConfig()
    )
    broken = result.outcome("custodian-0")
    assert (broken.accepted, broken.rejection, broken.phi) == (False, check, 0.0)
    assert Flag.REJECTED in broken.flags
    assert not result.kept_previous and result.metric > 0.95


def test_all_free_riders_keep_previous_model(split5):
    behaviours = {k: FreeRider("global") for k in range(5)}
    custodians, validators = federation_from_split(split5, behaviours=behaviours)
    start = LogisticModel(params=np.full(31, 0.01))
    result = run_round(
        custodians=custodians, validators=validators, global_model=start, config=RoundConfig()
    )
    assert result.kept_previous
    assert result.aggregate == result.previous_bytes == start.to_bytes()
    assert result.phi == (0.0,) * 5


def test_result_carries_chain_ready_numbers(split5):
    custodians, validators = federation_from_split(split5, behaviours={4: LabelFlipper()})
    r = run_round(
        custodians=custodians,
        validators=validators,
        global_model=ZERO,
        config=RoundConfig(),
        test=split5.test,
    )
    assert r.validator_ids == ("validator-0",)
    assert r.validator_phi == (r.phi,)
    assert r.validator_phi_fixed == (r.phi_fixed,)
    assert r.phi_fixed == tuple(phi_to_fixed(p) for p in r.phi)
    assert sum(r.phi_fixed) <= 10**18
    assert r.metric_name == "auc" and r.metric_fixed == metric_to_fixed(r.metric)
    assert r.metric == r.model.evaluate(split5.validators[0], "auc")
    assert r.scoring_method == "exact" and r.coalition_evaluations == 2**5
    assert LogisticModel.from_bytes(r.aggregate) == r.model
    for o, c in zip(r.outcomes, custodians, strict=True):
        assert LogisticModel.from_bytes(o.update).num_features == 30
        assert o.num_samples == c.data.num_samples
    # φ-weighted FedAvg, 001 eq. 1, from the serialized updates
    ups = np.stack([LogisticModel.from_bytes(o.update).params for o in r.outcomes])
    phi = np.array(r.phi)
    np.testing.assert_allclose(r.model.params, phi @ ups / phi.sum(), rtol=1e-12)
    with pytest.raises(AttributeError):
        r.metric = 0.0  # type: ignore[misc]


def test_several_validators_reach_median_consensus(breast_cancer):
    split = split_federated(breast_cancer, SplitConfig(num_custodians=4, num_validators=3, seed=2))
    custodians, validators = federation_from_split(split, behaviours={3: LabelFlipper()})
    r = run_round(
        custodians=custodians, validators=validators, global_model=ZERO, config=RoundConfig()
    )
    per_validator = np.array(r.validator_phi)
    assert per_validator.shape == (3, 4)
    # three equal stakes: the lower stake-weighted median is the middle score
    np.testing.assert_array_equal(np.array(r.phi), np.median(per_validator, axis=0))
    assert r.phi_fixed == stake_weighted_median(r.validator_phi_fixed, [1, 1, 1])
    assert r.coalition_evaluations == 3 * 2**4
    assert Flag.POISONER in r.outcome("custodian-3").flags


@pytest.mark.parametrize("stakes", [(1, 1), (1, 3), (3, 1)])
def test_consensus_is_the_contracts_lower_stake_weighted_median(breast_cancer, stakes):
    """Two validators: equal stakes take the lower score (not the mean); a majority stake
    decides alone; the fixed-point consensus is what TrainingRounds would store."""
    split = split_federated(breast_cancer, SplitConfig(num_custodians=4, num_validators=2, seed=4))
    custodians, plain = federation_from_split(split)
    validators = [
        Validator(validator_id=v.validator_id, holdout=v.holdout, stake=w)
        for v, w in zip(plain, stakes, strict=True)
    ]
    r = run_round(
        custodians=custodians, validators=validators, global_model=ZERO, config=RoundConfig()
    )
    a, b = r.validator_phi_fixed
    assert a != b
    expected = {
        (1, 1): tuple(min(x, y) for x, y in zip(a, b, strict=True)),
        (1, 3): b,
        (3, 1): a,
    }[stakes]
    assert r.phi_fixed == expected == stake_weighted_median([a, b], list(stakes))
    assert r.phi_fixed == tuple(phi_to_fixed(p) for p in r.phi)


def test_a_lazy_validator_does_not_move_the_consensus(breast_cancer):
    split = split_federated(breast_cancer, SplitConfig(num_custodians=4, num_validators=3, seed=2))
    custodians, honest = federation_from_split(split, behaviours={3: LabelFlipper()})
    lazy = [
        *honest[:2],
        Validator(validator_id="lazy", holdout=honest[2].holdout, behaviour="lazy"),
    ]
    r = run_round(custodians=custodians, validators=lazy, global_model=ZERO, config=RoundConfig())
    assert set(r.validator_phi_fixed[2]) == {phi_to_fixed(1 / 4)}
    assert r.outcome("custodian-3").phi == 0.0  # two honest validators of three still decide
    with pytest.raises(ConfigError, match="unknown behaviour 'sleepy'"):
        Validator(validator_id="v", holdout=honest[0].holdout, behaviour="sleepy")


def test_same_seed_gives_identical_bytes_and_phi(split5):
    def run(seed: int):
        custodians, validators = federation_from_split(
            split5, behaviours={3: FreeRider("noise"), 4: LabelFlipper()}
        )
        return run_training(
            custodians=custodians, validators=validators, rounds=3, config=RoundConfig(seed=seed)
        )

    a, b, c = run(7), run(7), run(8)
    for ra, rb in zip(a.rounds, b.rounds, strict=True):
        assert ra.aggregate == rb.aggregate
        assert [o.update for o in ra.outcomes] == [o.update for o in rb.outcomes]
        assert ra.phi == rb.phi and ra.phi_fixed == rb.phi_fixed
    assert a.rounds[-1].aggregate != c.rounds[-1].aggregate


def test_k_zero_raises(split5):
    with pytest.raises(ConfigError, match=r"at least one custodian \(K = 0\)"):
        run_round(
            custodians=[],
            validators=[Validator(validator_id="v", holdout=split5.validators[0])],
            global_model=ZERO,
            config=RoundConfig(),
        )
    with pytest.raises(ConfigError, match=r"K = 0"):
        run_training(custodians=[], validators=[], rounds=1, config=RoundConfig())


def test_no_validator_or_duplicate_ids_raise(split5):
    custodians, validators = federation_from_split(split5)
    with pytest.raises(ConfigError, match="at least one validator"):
        run_round(custodians=custodians, validators=[], global_model=ZERO, config=RoundConfig())
    with pytest.raises(ConfigError, match="custodian ids must be unique"):
        run_round(
            custodians=[custodians[0], custodians[0]],
            validators=validators,
            global_model=ZERO,
            config=RoundConfig(),
        )


def test_mismatched_feature_counts_raise(split5):
    custodians, validators = federation_from_split(split5)
    narrow = Dataset(X=split5.custodians[1].X[:, :29], y=split5.custodians[1].y, name="hospital-z")
    bad = [*custodians[:1], Custodian(custodian_id="hospital-z", data=narrow)]
    with pytest.raises(FeatureMismatchError, match="hospital-z: expected 30 features, got 29"):
        run_round(custodians=bad, validators=validators, global_model=ZERO, config=RoundConfig())
    bad_validator = [
        Validator(
            validator_id="v-narrow",
            holdout=Dataset(
                X=split5.validators[0].X[:, :5], y=split5.validators[0].y, name="v-narrow"
            ),
        )
    ]
    with pytest.raises(FeatureMismatchError, match="v-narrow: expected 30 features, got 5"):
        run_round(
            custodians=custodians,
            validators=bad_validator,
            global_model=ZERO,
            config=RoundConfig(),
        )


def test_empty_custodian_raises():
    from flai.fl import DataError

    with pytest.raises(DataError, match="hospital-q: data set is empty"):
        Custodian(
            custodian_id="hospital-q",
            data=Dataset(X=np.zeros((0, 30)), y=np.zeros(0, dtype=int), name="hospital-q"),
        )


def test_fedavg_aggregation_mode(split5):
    custodians, validators = federation_from_split(split5)
    r = run_round(
        custodians=custodians,
        validators=validators,
        global_model=ZERO,
        config=RoundConfig(aggregation="fedavg"),
    )
    ups = np.stack([LogisticModel.from_bytes(o.update).params for o in r.outcomes])
    n = np.array([o.num_samples for o in r.outcomes], dtype=float)
    np.testing.assert_allclose(r.model.params, n @ ups / n.sum(), rtol=1e-12)
    with pytest.raises(ConfigError, match="unknown aggregation 'median'"):
        RoundConfig(aggregation="median")  # type: ignore[arg-type]


def test_any_dataset_drops_in_and_large_k_uses_monte_carlo():
    """A synthetic data set and K = 12 > 10: the round switches to Monte Carlo Shapley."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=1200, n_features=8, n_informative=5, random_state=3)
    split = split_federated(
        Dataset(X=X, y=y, name="synthetic"),
        SplitConfig(num_custodians=12, alpha=1.0, min_size=10, seed=3),
    )
    custodians, validators = federation_from_split(split, behaviours={11: LabelFlipper()})
    result = run_training(
        custodians=custodians,
        validators=validators,
        rounds=2,
        config=RoundConfig(seed=3),
        test=split.test,
    )
    first = result.rounds[0]
    assert first.scoring_method == "monte_carlo"
    assert first.coalition_evaluations < 2**12
    assert first.outcome("custodian-11").phi == 0.0
    assert Flag.POISONER in first.outcome("custodian-11").flags
    assert result.rounds[-1].test_metric > 0.85


def test_composite_score_in_a_round(split5):
    from flai.fl import ScoringConfig as SC

    custodians, validators = federation_from_split(split5, behaviours={4: LabelFlipper()})
    config = RoundConfig(scoring=SC(lmv_weight=0.3, gmv_weight=0.7))
    r = run_round(custodians=custodians, validators=validators, global_model=ZERO, config=config)
    assert r.outcome("custodian-4").phi == 0.0
    assert all(0.0 < p <= 1.0 for p in r.phi[:4])
    assert sum(r.phi) == pytest.approx(1.0)


def test_forty_custodians_adversaries_end_at_zero():
    """K = 40 under three validators (stratified Monte Carlo): the label-flipper (negative
    Shapley value) and both free-riders get φ = 0; the honest custodians share the round."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=5000, n_features=30, n_informative=10, random_state=0)
    split = split_federated(
        Dataset(X=X, y=y, name="synthetic"),
        SplitConfig(num_custodians=40, alpha=1.0, min_size=5, seed=0, num_validators=3),
    )
    behaviours = {39: LabelFlipper(), 38: FreeRider("noise", 0.5), 37: FreeRider("global")}
    custodians, validators = federation_from_split(split, behaviours=behaviours)
    result = run_round(
        custodians=custodians,
        validators=validators,
        global_model=LogisticModel.zeros(30),
        config=RoundConfig(),
    )
    assert result.scoring_method == "monte_carlo"
    assert result.coalition_evaluations == 3 * default_evaluation_budget(40)
    assert [result.outcome(f"custodian-{k}").phi for k in (37, 38, 39)] == [0.0, 0.0, 0.0]
    assert Flag.FREE_RIDER in result.outcome("custodian-37").flags
    assert result.outcome("custodian-39").shapley < 0
    for row in result.validator_phi:  # every validator pays the honest custodians only
        assert row[37:] == (0.0, 0.0, 0.0) and sum(row[:37]) == pytest.approx(1.0)
    assert sum(result.phi_fixed) <= 10**18
