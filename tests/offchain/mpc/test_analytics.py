"""Secure federated analytics versus numpy on the pooled records (001 eq. 4)."""

import numpy as np
import pytest

from flai.mpc import (
    AnalyticsConfig,
    EncodingRangeError,
    ProtocolError,
    ThresholdError,
    secure_correlation,
    secure_count,
    secure_describe,
    secure_mean,
    secure_sum,
    secure_variance,
)


@pytest.fixture(scope="module")
def sites():
    rng = np.random.default_rng(10)
    cov = np.array([[4.0, 1.5, -0.8], [1.5, 2.0, 0.3], [-0.8, 0.3, 1.0]])
    sizes = [40, 120, 7, 63]
    shifts = [-50.0, 3.0, 10.0, 0.0]
    return [
        rng.multivariate_normal([shift, -2.0, 1e-3], cov, size=m) for m, shift in zip(sizes, shifts)
    ]


def test_count_sum_mean_match_pooled_numpy(sites):
    pooled = np.vstack(sites)
    assert secure_count(sites) == len(pooled) == 230
    np.testing.assert_allclose(secure_sum(sites), pooled.sum(axis=0), atol=1e-5, rtol=0)
    np.testing.assert_allclose(secure_mean(sites), pooled.mean(axis=0), atol=1e-7, rtol=0)


def test_variance_is_equation_4_with_n_minus_1(sites):
    pooled = np.vstack(sites)
    np.testing.assert_allclose(secure_variance(sites), pooled.var(axis=0, ddof=1), rtol=1e-7)
    np.testing.assert_allclose(secure_variance(sites, ddof=0), pooled.var(axis=0), rtol=1e-7)


def test_correlation_matrix_across_sites(sites):
    pooled = np.vstack(sites)
    corr = secure_correlation(sites)
    np.testing.assert_allclose(corr, np.corrcoef(pooled, rowvar=False), atol=1e-7)
    np.testing.assert_allclose(np.diag(corr), 1.0, atol=1e-9)
    np.testing.assert_allclose(corr, corr.T)


def test_describe_with_exactly_t_plus_one_nodes_and_fails_with_t(sites):
    pooled = np.vstack(sites)
    unsuppressed = AnalyticsConfig(min_cohort=0)  # the cohort check needs 2t + 1 nodes
    summary = secure_describe(sites, config=unsuppressed, available_nodes=[1, 2])
    assert summary.count == 230
    np.testing.assert_allclose(summary.mean, pooled.mean(axis=0), atol=1e-7)
    np.testing.assert_allclose(summary.variance, pooled.var(axis=0, ddof=1), rtol=1e-7)
    cfg = AnalyticsConfig(n_nodes=5, threshold=2, min_cohort=0)
    np.testing.assert_allclose(
        secure_mean(sites, config=cfg, available_nodes=[0, 3, 4]), pooled.mean(axis=0), atol=1e-7
    )
    with pytest.raises(ThresholdError):
        secure_mean(sites, config=unsuppressed, available_nodes=[2])
    with pytest.raises(ThresholdError):
        secure_variance(sites, config=cfg, available_nodes=[0, 1])


def test_one_dimensional_sites_negative_and_large_values():
    sites = [np.array([-1e5, -2.5, 3.25]), np.array([1e5 + 0.5]), np.array([-7.0, 0.0])]
    pooled = np.concatenate(sites)
    cfg = AnalyticsConfig(min_cohort=6)
    np.testing.assert_allclose(secure_sum(sites, config=cfg), [pooled.sum()], atol=1e-5)
    np.testing.assert_allclose(secure_variance(sites, config=cfg), [pooled.var(ddof=1)], rtol=1e-9)


def test_range_versus_precision_trade_off_is_explicit():
    sites = [np.array([-2e6, 2e6]), np.array([3.0])]  # Σ(x − μ)² ≈ 8e12 at site 0
    with pytest.raises(EncodingRangeError):  # f = 20: per-site statistics limited to 2^42 / K
        secure_variance(sites, config=AnalyticsConfig(min_cohort=3))
    coarse = AnalyticsConfig(frac_bits=12, min_cohort=3)
    pooled = np.concatenate(sites)
    np.testing.assert_allclose(
        secure_variance(sites, config=coarse), [pooled.var(ddof=1)], rtol=1e-12
    )


def test_statistics_out_of_range_raise():
    cfg = AnalyticsConfig(ring_bits=44, frac_bits=16)
    with pytest.raises(EncodingRangeError):
        secure_sum([np.array([1e8]), np.array([1.0])], config=cfg)
    with pytest.raises(EncodingRangeError):
        secure_sum([np.array([np.inf])])


def test_invalid_inputs_raise():
    with pytest.raises(ProtocolError):
        secure_mean([])
    with pytest.raises(ProtocolError):
        secure_mean([np.ones((2, 3)), np.ones((2, 2))])
    with pytest.raises(ProtocolError):
        secure_variance([np.array([1.0])], config=AnalyticsConfig(min_cohort=1))
