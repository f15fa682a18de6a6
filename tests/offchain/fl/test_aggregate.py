"""φ-weighted FedAvg (001 eq. 1), sample-weighted FedAvg and the Σφ = 0 fallback."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from flai.fl import ConfigError, LogisticModel, fedavg, phi_weighted_fedavg

MODELS = [LogisticModel(params=np.full(4, float(v))) for v in (1.0, 2.0, 6.0)]
PREVIOUS = LogisticModel(params=np.array([9.0, 9.0, 9.0, 9.0]))


def test_phi_weighted_fedavg_is_eq1():
    phi = [0.5, 0.25, 0.0]
    model, kept = phi_weighted_fedavg(MODELS, phi, previous=PREVIOUS)
    assert not kept
    assert_allclose(model.params, (0.5 * 1 + 0.25 * 2) / 0.75, rtol=1e-15)


def test_phi_weighted_fedavg_is_scale_invariant():
    a, _ = phi_weighted_fedavg(MODELS, [0.2, 0.4, 0.4], previous=PREVIOUS)
    b, _ = phi_weighted_fedavg(MODELS, [0.1, 0.2, 0.2], previous=PREVIOUS)
    assert_allclose(a.params, b.params, rtol=1e-15)
    assert_allclose(a.params, 0.2 * 1 + 0.4 * 2 + 0.4 * 6, rtol=1e-15)


def test_zero_phi_sum_keeps_previous_model():
    model, kept = phi_weighted_fedavg(MODELS, [0.0, 0.0, 0.0], previous=PREVIOUS)
    assert kept
    assert model is PREVIOUS


def test_no_models_keeps_previous_model():
    model, kept = phi_weighted_fedavg([], [], previous=PREVIOUS)
    assert kept and model is PREVIOUS


def test_fedavg_weights_by_samples():
    model = fedavg(MODELS, [10, 30, 60])
    assert_allclose(model.params, 0.1 * 1 + 0.3 * 2 + 0.6 * 6, rtol=1e-15)


@pytest.mark.parametrize(
    ("phi", "message"),
    [
        ([0.5, 0.5], "2 scores for 3 models"),
        ([0.5, -0.1, 0.2], r"phi must be finite and lie in \[0, 1\]"),
        ([0.5, 1.5, 0.2], r"phi must be finite and lie in \[0, 1\]"),
        ([0.5, np.nan, 0.2], r"phi must be finite and lie in \[0, 1\]"),
    ],
)
def test_bad_phi_raises(phi, message):
    with pytest.raises(ConfigError, match=message):
        phi_weighted_fedavg(MODELS, phi, previous=PREVIOUS)


def test_fedavg_rejects_zero_and_mismatched_inputs():
    with pytest.raises(ConfigError, match="weights sum to zero"):
        fedavg(MODELS, [0, 0, 0])
    with pytest.raises(ConfigError, match="cannot aggregate zero models"):
        fedavg([], [])
    with pytest.raises(ConfigError, match="models disagree on shape"):
        fedavg([MODELS[0], LogisticModel.zeros(5)], [1, 1])
