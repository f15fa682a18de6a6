"""The acceptance metric on shares: secure comparison, rank sum and the holdout AUC."""

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from flai.fl import roc_auc
from flai.mpc import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    InferenceConfig,
    MaskedInference,
    NodeShare,
    ProtocolError,
    ReplicatedScheme,
    Ring,
    ThresholdError,
    encode_weights,
    reconstruct_aggregate,
)
from flai.mpc.conversion import convert_aggregate
from flai.mpc.secure_auc import (
    AucDealer,
    MessageLog,
    auc_from_rank_sum,
    holdout_auc,
    secure_less_than,
    secure_rank_sum,
)

SCHEME = ReplicatedScheme(ring=Ring(64))


def _signed(values):
    return np.asarray(values, dtype=np.int64).view(np.uint64)


def test_less_than_zero_is_exact_at_the_edges():
    rng = np.random.default_rng(60)
    v = rng.integers(-(2**62), 2**62, size=2000)
    v[:8] = [0, -1, 1, 2**62 - 1, -(2**62), 2**40, -(2**40), 2**63 - 1]
    shares = SCHEME.share(_signed(v))
    for nodes in ((0, 1, 2), (0, 2), (1, 2)):
        out = secure_less_than(
            SCHEME, {j: shares[j] for j in nodes}, dealer=AucDealer(scheme=SCHEME)
        )
        np.testing.assert_array_equal(SCHEME.reconstruct(out.values()), (v < 0).astype(np.uint64))


def test_less_than_with_five_nodes():
    scheme = ReplicatedScheme(n_nodes=5, threshold=2, ring=Ring(64))
    v = np.array([-5, 5, 0, -(2**61), 2**61])
    shares = scheme.share(_signed(v))
    out = secure_less_than(
        scheme, {j: shares[j] for j in (0, 3, 4)}, dealer=AucDealer(scheme=scheme)
    )
    np.testing.assert_array_equal(scheme.reconstruct(out.values()), (v < 0).astype(np.uint64))


def test_what_the_nodes_open_in_a_comparison_is_uniform():
    """Every opened value is masked: U = v + R is uniform whatever v is."""
    seen, leaky = {}, {}
    for label, value in (("zero", 0), ("big", -(2**61))):
        shares = SCHEME.share(_signed(np.full(4000, value)))
        eda = AucDealer(scheme=SCHEME).edabits(4000)
        masked = [
            NodeShare(
                node=j, parts={c: v + eda[j].arith.parts[c] for c, v in shares[j].parts.items()}
            )
            for j in range(3)
        ]
        seen[label] = SCHEME.reconstruct(masked).astype(np.float64) / 2.0**64
        r = SCHEME.reconstruct([eda[j].arith for j in range(3)])
        leaky[label] = (_signed(np.full(4000, value)) + (r >> np.uint64(8))).astype(np.float64)
    assert stats.ks_2samp(seen["zero"], seen["big"]).pvalue > 1e-6
    # negative control: a mask with too little entropy leaks, and the same test says so
    assert stats.ks_2samp(leaky["zero"], leaky["big"]).pvalue < 1e-6


def test_rank_sum_gives_the_plaintext_auc_with_ties():
    rng = np.random.default_rng(61)
    n = 120
    z = rng.integers(-(2**40), 2**40, size=n)
    z[:30] = z[30:60]  # many exact ties, some across classes
    y = rng.integers(0, 2, size=n)
    log = MessageLog()
    out = secure_rank_sum(
        SCHEME,
        SCHEME.share(_signed(z)),
        SCHEME.share(y.astype(np.uint64)),
        dealer=AucDealer(scheme=SCHEME),
        log=log,
    )
    u = int(SCHEME.reconstruct(out.values())[0])
    auc = auc_from_rank_sum(u, positives=int(y.sum()), negatives=int(n - y.sum()))
    assert auc == pytest.approx(roc_auc(y, z.astype(np.float64)), abs=1e-12)
    assert log.openings == 9  # U, six prefix levels, the daBit, the Beaver products


def test_holdout_auc_of_a_secret_model_equals_the_plaintext_auc():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit(X[:269]).transform(X)
    clf = LogisticRegression(max_iter=2000).fit(X[:269], y[:269])
    secure = MaskedInference.deploy(coef=clf.coef_[0], intercept=float(clf.intercept_[0]))
    validator = secure.user()
    holdout, labels = X[269:], y[269:]
    auc = holdout_auc(secure, validator, holdout, labels)
    assert auc == pytest.approx(roc_auc(labels, clf.decision_function(holdout)), abs=1e-9)
    again = holdout_auc(secure, validator, holdout[:80], labels[:80], available_nodes=(0, 2))
    assert again == pytest.approx(roc_auc(labels[:80], clf.decision_function(holdout[:80])))


def test_holdout_auc_on_a_converted_aggregate_ranks_like_plaintext():
    rng = np.random.default_rng(62)
    X = rng.normal(size=(200, 30))
    w_true = rng.normal(size=30)
    y = (X @ w_true + rng.normal(scale=2.0, size=200) > 0).astype(int)
    agg = AggregationConfig()
    nodes = [AggregationNode(index=j, config=agg) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    updates = w_true + rng.normal(scale=0.5, size=(5, 30))
    for k, u in enumerate(np.hstack([updates, np.zeros((5, 1))])):
        sealed = AggregationClient(client_id=k, config=agg, node_public_keys=keys).upload(
            u, round_id=0
        )
        for n in nodes:
            n.receive(sealed, round_id=0, client_id=k)
    weights = encode_weights(dict(enumerate(rng.random(5))), weight_bits=16)
    partials = [n.weighted_partial(round_id=0, weights=weights) for n in nodes]
    exact = reconstruct_aggregate(agg, partials, weights)
    parts, _ = convert_aggregate(partials, weights, aggregation=agg, inference=InferenceConfig())
    secure = MaskedInference.from_parts(parts)
    auc = holdout_auc(secure, secure.user(), X, y)
    assert auc == pytest.approx(roc_auc(y, X @ exact[:-1] + exact[-1]), abs=1e-9)


def test_bad_holdouts_raise_named_errors():
    secure = MaskedInference.deploy(coef=np.ones(3), intercept=0.0)
    v = secure.user()
    x = np.zeros((4, 3))
    with pytest.raises(ProtocolError, match="0 or 1"):
        holdout_auc(secure, v, x, np.array([0, 1, 2, 1]))
    with pytest.raises(ProtocolError, match="both classes"):
        holdout_auc(secure, v, x, np.ones(4))
    with pytest.raises(ProtocolError, match="rows"):
        holdout_auc(secure, v, x, np.array([0, 1, 1]))
    with pytest.raises(ThresholdError):
        holdout_auc(secure, v, x, np.array([0, 1, 1, 0]), available_nodes=(1,))
    with pytest.raises(ProtocolError):
        auc_from_rank_sum(3, positives=0, negatives=4)
    with pytest.raises(ProtocolError):
        auc_from_rank_sum(10**6, positives=2, negatives=2)
