"""Fixed-point mapping of φ (1e18) and metrics (1e6) for the chain."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from flai.fl import ConfigError, fixed_to_phi, metric_to_fixed, phi_to_fixed


def test_phi_to_fixed_floors_exactly():
    assert phi_to_fixed(0.0) == 0
    assert phi_to_fixed(1.0) == 10**18
    assert phi_to_fixed(0.5) == 5 * 10**17
    # 0.1 is stored as 0.1000000000000000055511…, 0.3 as 0.2999999999999999888977…
    assert phi_to_fixed(0.1) == 100000000000000005
    assert phi_to_fixed(0.3) == 299999999999999988
    assert metric_to_fixed(0.987654321) == 987654


def test_fixed_shares_never_exceed_the_exact_sum():
    """Flooring loses at most one unit per score and never creates value."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        raw = rng.random(7)
        phi = raw / raw.sum()
        fixed = [phi_to_fixed(float(p)) for p in phi]
        exact = sum(Fraction(float(p)) for p in phi) * 10**18
        assert exact - 7 < sum(fixed) <= exact
        for p, f in zip(phi, fixed, strict=True):
            assert f == math.floor(Fraction(float(p)) * 10**18)


@pytest.mark.parametrize("bad", [-1e-18, 1.0000001, float("nan"), float("inf")])
def test_out_of_range_raises(bad):
    with pytest.raises(ConfigError, match="phi must be a finite value in"):
        phi_to_fixed(bad)


def test_fixed_to_phi_round_trip():
    assert fixed_to_phi(phi_to_fixed(0.25)) == 0.25
    with pytest.raises(ConfigError):
        fixed_to_phi(10**18 + 1)
