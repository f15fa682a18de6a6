"""Property tests: encoding and sharing are exact up to the documented resolution."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flai.mpc import AggregationConfig, FixedPoint, ReplicatedScheme, Ring, secure_weighted_average

CFG = AggregationConfig()
values = st.floats(min_value=-CFG.max_abs, max_value=CFG.max_abs, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(values, min_size=1, max_size=20), st.sampled_from([(3, 1), (5, 2)]))
def test_share_reconstruct_round_trip(xs, nt):
    n, t = nt
    scheme = ReplicatedScheme(n_nodes=n, threshold=t, ring=Ring(44))
    codec = FixedPoint(ring=scheme.ring, frac_bits=16, max_abs=CFG.max_abs)
    shares = scheme.share(codec.encode(np.array(xs)))
    out = codec.decode(scheme.reconstruct([shares[j] for j in range(n - t - 1, n)]))
    np.testing.assert_allclose(out, xs, atol=2.0**-17, rtol=0)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.lists(values, min_size=4, max_size=4), min_size=1, max_size=5),
    st.data(),
)
def test_secure_average_is_a_weighted_average_of_the_inputs(updates, data):
    phi = data.draw(st.lists(st.floats(0.01, 1.0), min_size=len(updates), max_size=len(updates)))
    w = np.array(updates)
    out = secure_weighted_average(list(w), phi, config=CFG)
    spread = np.sum(np.abs(w - w.mean(axis=0)), axis=0)
    tol = 2.0**-17 + 2.0**-CFG.weight_bits * spread / 2 + 1e-12
    assert np.all(np.abs(out - np.average(w, axis=0, weights=phi)) <= tol)
    assert np.all(out <= w.max(axis=0) + 2.0**-16) and np.all(out >= w.min(axis=0) - 2.0**-16)
