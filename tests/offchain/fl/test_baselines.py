"""Each custodian alone and the pooled model; the scenario's learning on SUPPORT."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from flai.fl import (
    BASELINE_STREAM,
    ConfigError,
    Dataset,
    FeatureMismatchError,
    Flag,
    FreeRider,
    LabelFlipper,
    LogisticModel,
    RoundConfig,
    SplitConfig,
    Standardizer,
    TrainConfig,
    baseline_scores,
    federation_from_split,
    load_support2_dataset,
    run_training,
    split_federated,
    train_alone,
    train_central,
    train_local,
)

TRAIN = TrainConfig(epochs=1, learning_rate=0.1, batch_size=16)


def test_alone_with_own_standardizer_is_folded_into_the_federation_space(split5):
    data = split5.custodians[1]
    model = train_alone(data, train=TRAIN, epochs=3, rng=np.random.default_rng(0))
    scaler = Standardizer.fit([data])
    own = train_local(
        LogisticModel.zeros(data.num_features),
        scaler.transform(data),
        TrainConfig(epochs=3, learning_rate=0.1, batch_size=16),
        rng=np.random.default_rng(0),
    )
    # Same logits on any rows: the folded model equals the own-space model after scaling.
    test = split5.test
    assert_allclose(
        model.decision_function(test.X),
        own.decision_function(scaler.transform(test).X),
        rtol=1e-10,
        atol=1e-10,
    )


def test_alone_in_the_federation_space_is_plain_local_training(split5):
    data = split5.custodians[0]
    model = train_alone(
        data, train=TRAIN, epochs=4, rng=np.random.default_rng(5), own_standardizer=False
    )
    expected = train_local(
        LogisticModel.zeros(data.num_features),
        data,
        TrainConfig(epochs=4, learning_rate=0.1, batch_size=16),
        rng=np.random.default_rng(5),
    )
    assert model == expected


def test_central_is_local_training_on_the_pool(split5):
    model = train_central(split5.custodians, train=TRAIN, epochs=2, rng=np.random.default_rng(9))
    expected = train_local(
        LogisticModel.zeros(30),
        split5.training_pool,
        TrainConfig(epochs=2, learning_rate=0.1, batch_size=16),
        rng=np.random.default_rng(9),
    )
    assert model == expected


def test_scores_train_rounds_times_epochs_with_their_own_streams(split5):
    train = TrainConfig(epochs=2, learning_rate=0.05, batch_size=16)
    scores = baseline_scores(split5.custodians, split5.test, train=train, rounds=3, seed=4)
    assert scores.epochs == 6
    assert scores.names == tuple(c.name for c in split5.custodians)
    for k, c in enumerate(split5.custodians):
        alone = train_alone(
            c, train=train, epochs=6, rng=np.random.default_rng([4, BASELINE_STREAM + k])
        )
        assert scores.alone[k] == alone.evaluate(split5.test, "auc")
        assert scores.alone_of(c.name) == scores.alone[k]
    central = train_central(
        split5.custodians,
        train=train,
        epochs=6,
        rng=np.random.default_rng([4, BASELINE_STREAM + len(split5.custodians)]),
    )
    assert scores.central == central.evaluate(split5.test, "auc")
    assert scores.mean_alone == pytest.approx(np.mean(scores.alone))


def test_alone_depends_on_own_rows_only(split5):
    first = baseline_scores(split5.custodians, split5.test, train=TRAIN, rounds=2, seed=1)
    others = list(split5.custodians)
    others[4] = Dataset(X=others[4].X + 5.0, y=1 - others[4].y, name=others[4].name)
    second = baseline_scores(others, split5.test, train=TRAIN, rounds=2, seed=1)
    assert first.alone[:4] == second.alone[:4]
    assert first.alone[4] != second.alone[4]
    assert first.central != second.central


def test_scores_are_deterministic_and_seeded(split5):
    a = baseline_scores(split5.custodians, split5.test, train=TRAIN, rounds=2, seed=3)
    b = baseline_scores(split5.custodians, split5.test, train=TRAIN, rounds=2, seed=3)
    c = baseline_scores(split5.custodians, split5.test, train=TRAIN, rounds=2, seed=8)
    assert a == b
    assert a != c


def test_alone_of_unknown_name_raises(split5):
    scores = baseline_scores(split5.custodians, split5.test, train=TRAIN, rounds=1, seed=0)
    with pytest.raises(KeyError):
        scores.alone_of("nobody")


def test_bad_baseline_input_raises(split5):
    with pytest.raises(ConfigError, match="baselines need at least one custodian"):
        baseline_scores([], split5.test, train=TRAIN, rounds=1, seed=0)
    with pytest.raises(ConfigError, match="rounds must be >= 1, got 0"):
        baseline_scores(split5.custodians, split5.test, train=TRAIN, rounds=0, seed=0)
    with pytest.raises(ConfigError, match="a central baseline needs at least one data set"):
        train_central([], train=TRAIN, epochs=1, rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="epochs must be >= 1, got 0"):
        train_alone(split5.custodians[0], train=TRAIN, epochs=0, rng=np.random.default_rng(0))
    narrow = Dataset(X=split5.test.X[:, :5], y=split5.test.y, name="narrow-test")
    with pytest.raises(FeatureMismatchError) as info:
        baseline_scores(split5.custodians, narrow, train=TRAIN, rounds=1, seed=0)
    assert (info.value.party, info.value.expected, info.value.actual) == ("narrow-test", 30, 5)


# The scenario of configs/scenario.yaml on SUPPORT (the values bench/learning.py prints):
# hospitals of relative sizes 1.2/1.0/0.9/0.8/0.8, the fourth a free-rider, the fifth a
# label-flipper, three validators, label-Dirichlet α = 0.5 keeping those sizes.
SIZES = (1.2, 1.0, 0.9, 0.8, 0.8)
SCENARIO_TRAIN = TrainConfig(epochs=1, learning_rate=0.1, batch_size=64)


@pytest.fixture(scope="module")
def support2() -> Dataset:
    return load_support2_dataset()


def _scenario(support2: Dataset, seed: int):
    split = split_federated(
        support2,
        SplitConfig(
            num_custodians=5,
            alpha=0.5,
            sizes=SIZES,
            partition="dirichlet",
            num_validators=3,
            test_fraction=0.2,
            validation_fraction=0.25,
            seed=seed,
        ),
    )
    custodians, validators = federation_from_split(
        split, behaviours={3: FreeRider(mode="global"), 4: LabelFlipper()}
    )
    result = run_training(
        custodians=custodians,
        validators=validators,
        rounds=5,
        config=RoundConfig(train=SCENARIO_TRAIN, seed=seed),
        test=split.test,
    )
    base = baseline_scores(split.custodians, split.test, train=SCENARIO_TRAIN, rounds=5, seed=seed)
    return split, result, base


def test_support2_scenario_shows_learning(support2):
    """The recommended scenario (seed 10): every figure the report charts."""
    split, result, base = _scenario(support2, seed=10)
    assert min(v.num_samples for v in split.validators) > 700
    test_auc = [r.test_metric for r in result.rounds]
    posted = [r.metric_fixed for r in result.rounds]
    print(
        f"\ntest AUC per round {np.round(test_auc, 4).tolist()}, posted {posted}, "
        f"central {base.central:.4f}, alone {np.round(base.alone, 4).tolist()}"
    )
    # Learning is visible: round 0 below the last round and below central, the last
    # round close to central and above every hospital alone.
    assert test_auc[-1] - test_auc[0] > 0.015
    assert base.central - test_auc[0] > 0.02
    assert abs(base.central - test_auc[-1]) < 0.01
    assert test_auc[-1] > max(base.alone)
    assert test_auc[-1] - base.mean_alone > 0.02
    # The posted metric moves with the model: a different value every round.
    assert len(set(posted)) == 5
    # The adversaries earn nothing in any round; the free-rider is flagged as such.
    for r in result.rounds:
        assert r.outcome("custodian-3").phi == 0.0
        assert r.outcome("custodian-4").phi == 0.0
        assert Flag.FREE_RIDER in r.outcome("custodian-3").flags
        assert not r.kept_previous
        assert sum(r.phi) > 0.0
    assert_array_equal(result.rounds[0].previous.params, np.zeros(56))


def test_support2_scenario_learns_on_average_over_seeds(support2):
    gain, gap, over_alone = [], [], []
    for seed in range(6):
        _, result, base = _scenario(support2, seed=seed)
        first, last = result.rounds[0].test_metric, result.rounds[-1].test_metric
        gain.append(last - first)
        gap.append(base.central - last)
        over_alone.append(last - base.mean_alone)
        assert all(r.outcome("custodian-4").phi == 0.0 for r in result.rounds)
    assert np.mean(gain) > 0.01
    assert min(gain) > 0.0
    assert np.mean(gap) < 0.015
    assert np.mean(over_alone) > 0.02
