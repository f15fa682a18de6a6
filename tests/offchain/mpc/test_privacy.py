"""Privacy: t nodes' shares (or one masked vector) do not depend on the secret.

Two-sample Kolmogorov–Smirnov and chi-square tests compare the view of a t-coalition for
two very different secrets. A negative control shows the same tests reject a leaky
sharing, so they can fail. Significance 1e-6 keeps false alarms negligible.
"""

import numpy as np
import pytest
from scipy import stats

from flai.mpc import (
    AggregationConfig,
    FixedPoint,
    MaskingClient,
    MaskingConfig,
    MaskingServer,
    ReplicatedScheme,
    Ring,
)

ALPHA = 1e-6
SAMPLES = 4000


def _coalition_view(scheme, secret_value, coalition, samples=SAMPLES):
    """Share a length-``samples`` vector of one repeated secret; return the coalition's parts."""
    secret = np.full(samples, secret_value, dtype=np.uint64)
    shares = scheme.share(secret)
    return {(j, c): shares[j].parts[c] for j in coalition for c in shares[j].parts}


def _top_bits(a, ring, bits=4):
    return (np.asarray(a, dtype=np.uint64) & ring.mask) >> np.uint64(ring.bits - bits)


def _same_distribution(a, b, ring):
    ua = (np.asarray(a) & ring.mask).astype(np.float64) / ring.modulus
    ub = (np.asarray(b) & ring.mask).astype(np.float64) / ring.modulus
    ks = stats.ks_2samp(ua, ub).pvalue
    table = np.array(
        [
            np.bincount(_top_bits(a, ring).astype(np.int64), minlength=16),
            np.bincount(_top_bits(b, ring).astype(np.int64), minlength=16),
        ]
    )
    table = table[:, table.sum(axis=0) > 0]  # drop bins empty in both samples
    chi = stats.chi2_contingency(table).pvalue if table.shape[1] > 1 else 1.0
    return ks, chi


@pytest.mark.parametrize("n,t,coalition", [(3, 1, (0,)), (3, 1, (2,)), (5, 2, (0, 4))])
def test_t_node_view_is_independent_of_the_secret(n, t, coalition):
    scheme = ReplicatedScheme(n_nodes=n, threshold=t, ring=Ring(44))
    codec = FixedPoint(ring=scheme.ring, frac_bits=16)
    view_a = _coalition_view(scheme, codec.encode(0.0), coalition)
    view_b = _coalition_view(scheme, codec.encode(-123.456), coalition)
    for key in view_a:
        ks, chi = _same_distribution(view_a[key], view_b[key], scheme.ring)
        assert ks > ALPHA and chi > ALPHA, key
    # The coalition's joint view: the sum of everything it holds is uniform too.
    sum_a = sum(view_a.values()) & scheme.ring.mask
    sum_b = sum(view_b.values()) & scheme.ring.mask
    ks, chi = _same_distribution(sum_a, sum_b, scheme.ring)
    assert ks > ALPHA and chi > ALPHA


def test_negative_control_detects_a_leaky_sharing():
    ring = Ring(44)
    codec = FixedPoint(ring=ring, frac_bits=16)
    noise = np.frombuffer(
        np.random.default_rng(0).bytes(8 * SAMPLES), dtype=np.uint64
    ) >> np.uint64(40)
    leaky_a = ring.reduce(codec.encode(0.0) + noise)  # "share" = secret + small noise
    leaky_b = ring.reduce(codec.encode(-123.456) + noise)
    ks, chi = _same_distribution(leaky_a, leaky_b, ring)
    assert ks < ALPHA and chi < ALPHA


def test_seeding_numpy_does_not_reproduce_shares():
    scheme = AggregationConfig().scheme
    secret = np.arange(32, dtype=np.uint64)
    np.random.seed(42)
    first = scheme.share(secret)
    np.random.seed(42)
    second = scheme.share(secret)
    for j in range(scheme.n_nodes):
        for c in first[j].parts:
            assert not np.array_equal(first[j].parts[c], second[j].parts[c])


def _masked_vector(value, samples):
    cfg = MaskingConfig(threshold=1, ring_bits=44, frac_bits=16, max_abs=1024.0)
    clients = [MaskingClient(client_id=i, config=cfg) for i in range(3)]
    server = MaskingServer(config=cfg)
    roster = server.collect_keys([c.advertise() for c in clients])
    inbox = server.route({c.client_id: c.share_keys(roster) for c in clients})
    for c in clients:
        c.receive_shares(inbox[c.client_id])
    return clients[0].masked_input(np.full(samples, value)), cfg


def test_one_masked_vector_is_independent_of_the_input():
    ya, cfg = _masked_vector(0.0, SAMPLES)
    yb, _ = _masked_vector(999.5, SAMPLES)
    ring = Ring(cfg.ring_bits)
    ks, chi = _same_distribution(ya, yb, ring)
    assert ks > ALPHA and chi > ALPHA
    np.random.seed(7)
    yc, _ = _masked_vector(0.0, 64)
    np.random.seed(7)
    yd, _ = _masked_vector(0.0, 64)
    assert not np.array_equal(yc, yd)
