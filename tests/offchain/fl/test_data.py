"""Data loading, non-IID partitioning, standardisation and bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from flai.errors import FlaiError
from flai.fl import (
    ConfigError,
    DataError,
    Dataset,
    FeatureMismatchError,
    FLError,
    SplitConfig,
    dirichlet_partition,
    split_federated,
)


def test_breast_cancer_shape(breast_cancer):
    assert breast_cancer.X.shape == (569, 30)
    assert set(np.unique(breast_cancer.y)) == {0, 1}


def test_split_is_a_partition_of_all_rows(breast_cancer):
    split = split_federated(breast_cancer, SplitConfig(num_custodians=5, num_validators=2, seed=3))
    n_parts = sum(c.num_samples for c in split.custodians)
    n_val = sum(v.num_samples for v in split.validators)
    assert n_parts + n_val + split.test.num_samples == breast_cancer.num_samples
    rows = np.concatenate(split.partition)
    assert len(np.unique(rows)) == len(rows) == n_parts
    assert len(split.validators) == 2
    assert all(c.num_samples >= 10 for c in split.custodians)


def test_split_is_reproducible_and_seed_dependent(breast_cancer):
    a = split_federated(breast_cancer, SplitConfig(num_custodians=5, seed=11))
    b = split_federated(breast_cancer, SplitConfig(num_custodians=5, seed=11))
    c = split_federated(breast_cancer, SplitConfig(num_custodians=5, seed=12))
    for pa, pb in zip(a.partition, b.partition, strict=True):
        assert_array_equal(pa, pb)
    assert_array_equal(a.test.X, b.test.X)
    assert any(
        len(pa) != len(pc) or not np.array_equal(pa, pc)
        for pa, pc in zip(a.partition, c.partition, strict=True)
    )


def test_small_alpha_gives_label_skew(breast_cancer):
    """Dirichlet α = 0.1 concentrates labels far more than α = 100 (Hsu et al. 2019)."""

    def mean_majority_share(alpha: float) -> float:
        split = split_federated(
            breast_cancer, SplitConfig(num_custodians=5, alpha=alpha, min_size=5, seed=1)
        )
        return float(np.mean([max(c.y.mean(), 1 - c.y.mean()) for c in split.custodians]))

    assert mean_majority_share(0.1) > 0.85
    assert mean_majority_share(100.0) < 0.7


def test_standardizer_is_fitted_on_custodians_only(split5):
    pool = split5.training_pool
    assert_allclose(pool.X.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(pool.X.std(axis=0), 1.0, atol=1e-12)
    # The held-out sets are transformed with the custodians' statistics, not their own.
    assert not np.allclose(split5.test.X.mean(axis=0), 0.0, atol=1e-6)


def test_size_partition_follows_relative_sizes(breast_cancer):
    split = split_federated(
        breast_cancer, SplitConfig(num_custodians=3, sizes=(1.0, 2.0, 4.0), min_size=5, seed=0)
    )
    n = [c.num_samples for c in split.custodians]
    assert n[0] < n[1] < n[2]
    assert abs(n[2] / n[0] - 4.0) < 0.2


def test_num_custodians_zero_raises(breast_cancer):
    with pytest.raises(ConfigError, match="num_custodians must be >= 1, got 0"):
        SplitConfig(num_custodians=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.0}, "alpha must be > 0"),
        ({"min_size": 0}, "min_size must be >= 1"),
        ({"test_fraction": 1.0}, "test_fraction must lie in"),
        ({"test_fraction": 0.5, "validation_fraction": 0.5}, "must be < 1"),
        ({"sizes": (1.0, 2.0)}, "sizes has 2 entries for 3 custodians"),
    ],
)
def test_bad_split_config_raises(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SplitConfig(num_custodians=3, **kwargs)


def test_empty_dataset_raises():
    with pytest.raises(DataError, match="custodian-x: data set is empty"):
        Dataset(X=np.zeros((0, 3)), y=np.zeros(0, dtype=int), name="custodian-x")


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros(4), np.zeros(4), "X must be 2-D"),
        (np.zeros((4, 2)), np.zeros(3), "does not match"),
        (np.array([[np.nan, 1.0]]), np.array([1]), "non-finite"),
        (np.zeros((2, 2)), np.array([0, 2]), "labels must be 0 or 1"),
    ],
)
def test_malformed_dataset_raises(X, y, message):
    with pytest.raises(DataError, match=message):
        Dataset(X=X, y=y)


def test_dataset_is_read_only(split5):
    with pytest.raises(ValueError):
        split5.custodians[0].X[0, 0] = 1.0


def test_feature_mismatch_names_party_and_counts(split5):
    with pytest.raises(FeatureMismatchError) as info:
        split5.custodians[0].require_features(12)
    assert (info.value.party, info.value.expected, info.value.actual) == ("custodian-0", 12, 30)
    assert isinstance(info.value, DataError)


def test_dirichlet_impossible_min_size_raises():
    y = np.array([0, 1] * 10)
    with pytest.raises(DataError, match="20 rows cannot give 5 parts of at least 5"):
        dirichlet_partition(y, num_parties=5, alpha=0.5, min_size=5, rng=np.random.default_rng(0))


def test_errors_derive_from_flai_error():
    assert issubclass(DataError, FLError)
    assert issubclass(FLError, FlaiError)


def test_held_out_rows_never_influence_training_data(breast_cancer):
    """Perturbing every test and validation row leaves custodians and scaler unchanged."""
    config = SplitConfig(num_custodians=4, seed=5)
    base = split_federated(breast_cancer, config)
    held_out = np.setdiff1d(np.arange(breast_cancer.num_samples), np.concatenate(base.partition))
    X = breast_cancer.X.copy()
    X[held_out] += 1e3
    shifted = split_federated(Dataset(X=X, y=breast_cancer.y), config)
    assert_array_equal(shifted.standardizer.mean, base.standardizer.mean)
    assert_array_equal(shifted.standardizer.scale, base.standardizer.scale)
    for a, b in zip(base.custodians, shifted.custodians, strict=True):
        assert_array_equal(a.X, b.X)
    assert not np.allclose(shifted.test.X, base.test.X)


def _label_counts(y, parts):
    return np.array([[int(np.sum(y[p] == c)) for c in (0, 1)] for p in parts])


@pytest.mark.parametrize("alpha", [0.1, 0.5, 5.0])
def test_sized_dirichlet_keeps_relative_sizes_and_every_row(alpha):
    y = np.random.default_rng(7).permutation(np.r_[np.zeros(1300), np.ones(700)]).astype(int)
    sizes = (1.2, 1.0, 0.9, 0.8, 0.8)
    parts = dirichlet_partition(
        y, num_parties=5, alpha=alpha, min_size=20, rng=np.random.default_rng(3), sizes=sizes
    )
    rows = np.concatenate(parts)
    assert_array_equal(np.sort(rows), np.arange(len(y)))
    targets = np.asarray(sizes) / sum(sizes) * len(y)
    # Column-wise rounding of a two-class table: each part within C − 1 = 1 row of target.
    assert np.max(np.abs([len(p) for p in parts] - targets)) <= 1.0
    assert_array_equal(_label_counts(y, parts).sum(axis=0), [1300, 700])


def test_sized_dirichlet_skew_grows_as_alpha_shrinks():
    y = np.random.default_rng(1).permutation(np.r_[np.zeros(1000), np.ones(1000)]).astype(int)

    def spread(alpha: float) -> float:
        shares = []
        for seed in range(10):
            parts = dirichlet_partition(
                y,
                num_parties=5,
                alpha=alpha,
                min_size=10,
                rng=np.random.default_rng(seed),
                sizes=(1.2, 1.0, 0.9, 0.8, 0.8),
            )
            shares += [float(y[p].mean()) for p in parts]
        return float(np.std(shares))

    assert spread(0.1) > 0.3
    assert spread(100.0) < 0.05


def test_sized_dirichlet_is_reproducible():
    y = np.array([0, 1, 1, 0, 1] * 60)
    kwargs = {"num_parties": 3, "alpha": 0.5, "min_size": 5, "sizes": (2.0, 1.0, 1.0)}
    a = dirichlet_partition(y, rng=np.random.default_rng(4), **kwargs)
    b = dirichlet_partition(y, rng=np.random.default_rng(4), **kwargs)
    for pa, pb in zip(a, b, strict=True):
        assert_array_equal(pa, pb)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [((1.0, 2.0), "sizes has 2 entries for 3 parts"), ((1.0, 0.0, 1.0), "sizes must be positive")],
)
def test_sized_dirichlet_bad_sizes_raise(sizes, message):
    with pytest.raises(ConfigError, match=message):
        dirichlet_partition(
            np.array([0, 1] * 30),
            num_parties=3,
            alpha=0.5,
            min_size=1,
            rng=np.random.default_rng(0),
            sizes=sizes,
        )


def test_split_with_sizes_and_dirichlet_partition(breast_cancer):
    sizes = (1.2, 1.0, 0.9, 0.8, 0.8)
    config = SplitConfig(
        num_custodians=5, sizes=sizes, partition="dirichlet", alpha=0.3, min_size=5, seed=2
    )
    split = split_federated(breast_cancer, config)
    n = np.array([c.num_samples for c in split.custodians])
    assert np.max(np.abs(n - np.asarray(sizes) / sum(sizes) * n.sum())) <= 1.0
    # Label skew: the parts' positive shares differ far more than IID sampling would give.
    iid = split_federated(breast_cancer, SplitConfig(num_custodians=5, sizes=sizes, seed=2))
    skewed = np.std([c.y.mean() for c in split.custodians])
    mixed = np.std([c.y.mean() for c in iid.custodians])
    assert skewed > 3 * mixed


def test_partition_scheme_defaults_follow_sizes():
    assert SplitConfig(num_custodians=2).partition_scheme == "dirichlet"
    assert SplitConfig(num_custodians=2, sizes=(1.0, 1.0)).partition_scheme == "iid"
    assert SplitConfig(num_custodians=2, partition="iid").partition_scheme == "iid"


def test_iid_partition_without_sizes_is_equal(breast_cancer):
    split = split_federated(
        breast_cancer, SplitConfig(num_custodians=4, partition="iid", min_size=5, seed=0)
    )
    n = [c.num_samples for c in split.custodians]
    assert max(n) - min(n) <= 3


def test_unknown_partition_raises():
    with pytest.raises(ConfigError, match="partition must be 'dirichlet' or 'iid', got 'label'"):
        SplitConfig(num_custodians=2, partition="label")  # type: ignore[arg-type]
