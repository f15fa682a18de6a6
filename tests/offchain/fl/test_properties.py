"""Property tests (hypothesis): serialization, fixed point, φ mapping, aggregation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from flai.fl import LogisticModel, phi_to_fixed, scores_to_phi, weighted_average
from flai.fl.model import deserialize_array, serialize_array

SETTINGS = settings(max_examples=40, deadline=None)
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@SETTINGS
@given(arrays(np.float64, array_shapes(min_dims=0, max_dims=3, max_side=5), elements=floats))
def test_serialization_round_trips_bit_exactly(arr):
    raw = serialize_array(arr)
    back = deserialize_array(raw)
    assert back.shape == arr.shape
    assert back.tobytes() == np.ascontiguousarray(arr).tobytes()
    assert serialize_array(back) == raw


@SETTINGS
@given(st.floats(min_value=0.0, max_value=1.0))
def test_phi_to_fixed_is_the_exact_floor(phi):
    fixed = phi_to_fixed(phi)
    assert 0 <= fixed <= 10**18
    assert fixed <= Fraction(phi) * 10**18 < fixed + 1


@SETTINGS
@given(st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=1, max_size=12))
def test_phi_shares_lie_in_unit_interval_and_never_sum_above_one(scores):
    phi = scores_to_phi(scores)
    assert np.all((phi >= 0.0) & (phi <= 1.0))
    assert np.all(phi[np.asarray(scores) <= 0] == 0.0)
    assert sum(Fraction(float(p)) for p in phi) <= 1
    assert sum(phi_to_fixed(float(p)) for p in phi) <= 10**18
    if any(s > 0 for s in scores):
        assert abs(float(phi.sum()) - 1.0) < 1e-12


@SETTINGS
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda k: st.tuples(
            arrays(np.float64, (k, 4), elements=st.floats(-1e6, 1e6)),
            st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k).filter(lambda w: sum(w) > 0),
        )
    )
)
def test_weighted_average_is_a_convex_combination(data):
    params, weights = data
    models = [LogisticModel(params=row) for row in params]
    out = weighted_average(models, weights).params
    used = params[np.asarray(weights) > 0]
    span = np.abs(params).max() * 1e-12 + 1e-12
    assert np.all(out >= used.min(axis=0) - span)
    assert np.all(out <= used.max(axis=0) + span)
