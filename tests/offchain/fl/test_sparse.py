"""Sparse (CSR) features: data sets, splitting, local training, scoring and a round."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse

from flai.fl import (
    CoalitionGame,
    ConfigError,
    DataError,
    Dataset,
    FeatureMismatchError,
    FreeRider,
    LabelFlipper,
    LogisticModel,
    RoundConfig,
    SplitConfig,
    Standardizer,
    TrainConfig,
    exact_shapley,
    federation_from_split,
    hashed_features_dataset,
    run_round,
    split_federated,
    train_local,
)

SIZES = {"num_samples": 4000, "num_features": 5000, "vocabulary": 1000, "informative": 200}


@pytest.fixture(scope="module")
def hashed() -> Dataset:
    return hashed_features_dataset(**SIZES, seed=1)


def test_hashed_dataset_is_deterministic_sparse_and_balanced(hashed):
    again = hashed_features_dataset(**SIZES, seed=1)
    other = hashed_features_dataset(**SIZES, seed=2)
    assert hashed.is_sparse and hashed.X.shape == (4000, 5000)
    assert (hashed.X != again.X).nnz == 0 and np.array_equal(hashed.y, again.y)
    assert (hashed.X != other.X).nnz > 0
    assert np.diff(hashed.X.indptr).max() <= 60  # at most 60 tokens per row
    counts = np.abs(hashed.X.data) * np.sqrt(60)  # ±(times drawn)/√60, collisions added
    assert np.all(np.abs(counts - np.rint(counts)) < 1e-9) and counts.max() >= 2
    assert 0.3 < hashed.y.mean() < 0.7
    with pytest.raises(ConfigError, match="num_features must be >= 1, got 0"):
        hashed_features_dataset(num_samples=10, num_features=0)
    with pytest.raises(ConfigError, match=r"informative must lie in \[0, 10\], got 11"):
        hashed_features_dataset(num_samples=10, num_features=10, vocabulary=10, informative=11)


def test_sparse_dataset_is_canonical_read_only_csr():
    coo = sparse.coo_array(([1.0, 2.0, 3.0], ([0, 0, 1], [2, 2, 0])), shape=(2, 4))
    data = Dataset(X=coo, y=[0, 1], name="site")
    assert isinstance(data.X, sparse.csr_array) and data.X.has_canonical_format
    assert data.X[[0]].toarray().tolist() == [[0.0, 0.0, 3.0, 0.0]]  # duplicates summed
    with pytest.raises(ValueError, match="read-only"):
        data.X.data[0] = 5.0
    assert data.subset([1]).X.toarray().tolist() == [[3.0, 0.0, 0.0, 0.0]]
    with pytest.raises(DataError, match="site: X contains non-finite values"):
        Dataset(X=sparse.csr_array(np.array([[np.nan, 0.0]])), y=[1], name="site")
    with pytest.raises(DataError, match="site: data set is empty"):
        Dataset(X=sparse.csr_array((0, 3)), y=np.zeros(0), name="site")


def test_concat_stacks_rows_and_goes_sparse_when_any_part_is():
    dense = Dataset(X=np.eye(2), y=[0, 1], name="a")
    sparse_part = Dataset(X=sparse.csr_array(np.ones((1, 2))), y=[1], name="b")
    both = Dataset.concat([dense, sparse_part], name="pool")
    assert both.is_sparse and both.X.toarray().tolist() == [[1, 0], [0, 1], [1, 1]]
    assert both.y.tolist() == [0, 1, 1] and both.name == "pool"
    assert not Dataset.concat([dense, dense], name="pool").is_sparse
    with pytest.raises(FeatureMismatchError):
        Dataset.concat([dense, Dataset(X=np.ones((1, 3)), y=[0], name="c")], name="pool")
    with pytest.raises(DataError, match="pool: nothing to concatenate"):
        Dataset.concat([], name="pool")


def test_sparse_split_needs_standardize_off(hashed):
    with pytest.raises(DataError, match=r"standardize=False"):
        split_federated(hashed, SplitConfig(num_custodians=3, seed=0))
    split = split_federated(hashed, SplitConfig(num_custodians=3, standardize=False, seed=0))
    assert split.standardizer.is_identity
    assert all(p.is_sparse for p in (*split.custodians, *split.validators, split.test))
    assert (
        sum(c.num_samples for c in split.custodians)
        + split.validation_pool.num_samples
        + (split.test.num_samples)
        == hashed.num_samples
    )
    with pytest.raises(DataError, match="cannot be centred"):
        Standardizer(mean=np.ones(5000), scale=np.ones(5000)).transform(split.test)


@pytest.mark.parametrize("flip", [False, True])
def test_sparse_training_equals_dense_training(hashed, flip):
    """The lazily regularised CSR path takes the same steps as the dense one."""
    part = hashed.subset(np.arange(300))
    dense = Dataset(X=part.X.toarray(), y=part.y, name="dense")
    start = LogisticModel(params=np.random.default_rng(0).normal(0, 0.1, 5001))
    config = TrainConfig(epochs=3, learning_rate=0.5, batch_size=7, l2=0.05)
    a = train_local(start, part, config, rng=np.random.default_rng(4), flip_labels=flip)
    b = train_local(start, dense, config, rng=np.random.default_rng(4), flip_labels=flip)
    assert_allclose(a.params, b.params, rtol=1e-10, atol=1e-12)
    assert not np.array_equal(a.params, start.params)


def test_sparse_game_equals_dense_game(hashed):
    split = split_federated(hashed, SplitConfig(num_custodians=5, standardize=False, seed=0))
    start = LogisticModel.zeros(5000)
    ups = [
        train_local(start, c, TrainConfig(learning_rate=1.0), rng=np.random.default_rng(k))
        for k, c in enumerate(split.custodians)
    ]
    holdout = split.validators[0]
    dense = Dataset(X=holdout.X.toarray(), y=holdout.y, name="dense")
    a = exact_shapley(CoalitionGame(base=start, updates=ups, holdout=holdout))
    b = exact_shapley(CoalitionGame(base=start, updates=ups, holdout=dense))
    assert_allclose(a.values, b.values, rtol=1e-9, atol=1e-15)


def test_round_on_sparse_features_learns_and_zeroes_the_adversaries(hashed):
    split = split_federated(
        hashed, SplitConfig(num_custodians=6, alpha=1.0, num_validators=2, standardize=False)
    )
    custodians, validators = federation_from_split(
        split, behaviours={5: LabelFlipper(), 4: FreeRider("global")}
    )
    result = run_round(
        custodians=custodians,
        validators=validators,
        global_model=LogisticModel.zeros(5000),
        config=RoundConfig(train=TrainConfig(learning_rate=1.0)),
        test=split.test,
    )
    assert result.outcome("custodian-4").phi == 0.0
    assert result.outcome("custodian-5").phi == 0.0
    assert result.metric > 0.7 and result.test_metric is not None and result.test_metric > 0.7
