"""Small-cell suppression: queries on small cohorts are refused before anything is opened."""

import numpy as np
import pytest

from flai.mpc import AnalyticsConfig, ProtocolError, ThresholdError
from flai.mpc.analytics import (
    secure_count,
    secure_describe,
    secure_mean,
    secure_stratified_mean,
    secure_sum,
)
from flai.mpc.compare import BinaryNode, open_bits
from flai.mpc.envelope import KeyPair
from flai.mpc.errors import CohortTooSmallError
from flai.mpc.replicated import ReplicatedScheme
from flai.mpc.ring import Ring
from flai.mpc.rss3 import run_parties


def _sites(sizes, seed=0, width=2):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(m, width)) for m in sizes]


@pytest.fixture()
def reconstructions(monkeypatch):
    """Count every reconstruction (the only way an aggregate is opened)."""
    calls = []
    original = ReplicatedScheme.reconstruct

    def spy(self, shares, **kwargs):
        calls.append(1)
        return original(self, shares, **kwargs)

    monkeypatch.setattr(ReplicatedScheme, "reconstruct", spy)
    return calls


@pytest.mark.parametrize("query", [secure_count, secure_sum, secure_mean, secure_describe])
def test_a_small_cohort_is_refused_before_anything_is_opened(query, reconstructions):
    sites = _sites([3, 4, 2])  # 9 records < 10
    with pytest.raises(CohortTooSmallError) as err:
        query(sites)
    assert (err.value.field, err.value.minimum, err.value.strata) == ("count", 10, ())
    assert "9" not in str(err.value)  # the suppressed count is not disclosed
    assert reconstructions == []


def test_the_minimum_is_inclusive_and_governable():
    sites = _sites([4, 6])  # 10 records
    assert secure_count(sites) == 10
    with pytest.raises(CohortTooSmallError):
        secure_count(sites, config=AnalyticsConfig(min_cohort=11))
    assert secure_count(_sites([1]), config=AnalyticsConfig(min_cohort=0)) == 1
    with pytest.raises(ValueError):
        AnalyticsConfig(min_cohort=-1)


def test_stratified_query_refuses_a_small_stratum_and_names_it(reconstructions):
    sites = _sites([30, 25])
    labels = [np.array(["a"] * 20 + ["b"] * 7 + ["c"] * 3), np.array(["a"] * 20 + ["c"] * 5)]
    with pytest.raises(CohortTooSmallError) as err:
        secure_stratified_mean(sites, labels, levels=["a", "b", "c"])
    assert err.value.field == "stratum"
    assert err.value.strata == ("b", "c")
    assert reconstructions == []


def test_stratified_query_opens_counts_and_means_when_every_stratum_passes():
    sites = _sites([30, 25], seed=3)
    labels = [np.array(["a"] * 18 + ["b"] * 12), np.array(["a"] * 5 + ["b"] * 20)]
    out = secure_stratified_mean(sites, labels, levels=["b", "a"])
    pooled = np.vstack(sites)
    lab = np.concatenate(labels)
    assert out.levels == ("b", "a") and out.counts == (32, 23)
    for i, level in enumerate(out.levels):
        np.testing.assert_allclose(out.means[i], pooled[lab == level].mean(axis=0), atol=1e-6)


def test_stratified_query_rejects_labels_outside_the_agreed_levels():
    sites = _sites([12])
    with pytest.raises(ProtocolError):
        secure_stratified_mean(sites, [np.array(["a"] * 11 + ["z"])], levels=["a"])
    with pytest.raises(ProtocolError):
        secure_stratified_mean(sites, [np.array(["a"] * 12)], levels=["a", "a"])


def test_five_node_scheme_and_the_comparison_quorum():
    sites = _sites([8, 8])
    cfg = AnalyticsConfig(n_nodes=5, threshold=2)
    np.testing.assert_allclose(
        secure_mean(sites, config=cfg), np.vstack(sites).mean(axis=0), atol=1e-6
    )
    with pytest.raises(CohortTooSmallError):
        secure_mean(sites, config=AnalyticsConfig(n_nodes=5, threshold=2, min_cohort=17))
    with pytest.raises(ThresholdError) as err:
        secure_mean(sites, config=cfg, available_nodes=[0, 1, 2, 3])  # 2t + 1 = 5 needed
    assert err.value.required == 5


@pytest.mark.parametrize("n_nodes,threshold,bits", [(3, 1, 64), (3, 1, 44), (5, 2, 64)])
def test_sign_of_shared_values_opens_only_the_sign(n_nodes, threshold, bits):
    scheme = ReplicatedScheme(n_nodes=n_nodes, threshold=threshold, ring=Ring(bits))
    keys = [KeyPair.generate() for _ in range(n_nodes)]
    public = {j: k.public_bytes for j, k in enumerate(keys)}
    values = np.array([-5, 0, 3, -1, 2 ** (bits - 2), -(2 ** (bits - 2)), 7, -7], dtype=np.int64)
    shares = scheme.share(scheme.ring.from_signed(values))
    nodes = {
        j: BinaryNode(
            index=j,
            scheme=scheme,
            keypair=keys[j],
            node_public_keys=public,
            participants=range(n_nodes),
            session=b"sign",
        )
        for j in range(n_nodes)
    }
    signs = run_parties({j: nodes[j].sign_bits(shares[j], ring_bits=bits) for j in nodes})
    assert np.array_equal(open_bits(scheme, list(signs.items())), values < 0)
    for parts in signs.values():  # every other bit was cleared before opening
        assert all(np.all(v <= 1) for v in parts.values())
