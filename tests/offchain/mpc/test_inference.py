"""Secret-shared logistic-regression inference with Beaver triples (001 §5.4)."""

import itertools

import numpy as np
import pytest

from flai.mpc import (
    EncodingRangeError,
    EnvelopeError,
    InferenceClient,
    InferenceConfig,
    InferenceNode,
    KeyPair,
    ProtocolError,
    SecureLogisticRegression,
    ThresholdError,
    TripleDealer,
    share_model,
)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(20)
    return rng.normal(scale=2.0, size=30), -0.7


def test_matches_plaintext_probabilities(model):
    coef, intercept = model
    rng = np.random.default_rng(21)
    queries = np.vstack(
        [rng.normal(scale=3.0, size=(20, 30)), np.zeros((1, 30)), -np.ones((1, 30))]
    )
    secure = SecureLogisticRegression.deploy(coef=coef, intercept=intercept)
    secure.provision_triples(len(queries))

    probs = np.array([secure.predict_proba(q) for q in queries])
    logits = queries @ coef + intercept

    np.testing.assert_allclose(probs, _sigmoid(logits), atol=1e-4, rtol=0)
    assert np.any(logits < 0) and np.any(logits > 0)


def test_logit_precision_at_edge_magnitudes():
    cfg = InferenceConfig()
    d = 4
    coef = np.array([cfg.max_abs, -cfg.max_abs, 2.0**-16, -(2.0**-16)]) / 64
    x = np.array([cfg.max_abs, cfg.max_abs, -cfg.max_abs, 2.0**-16])
    secure = SecureLogisticRegression.deploy(coef=coef, intercept=-1.5, config=cfg)
    secure.provision_triples(2)
    exact = float(x @ coef - 1.5)
    # error: each encoded factor off by ≤ 2^-17, so |Δz| ≤ Σ(|w|+|x|)·2^-17 + tiny
    tol = float(np.sum(np.abs(coef) + np.abs(x))) * 2.0**-17 + 1e-9
    assert abs(secure.predict_logit(x) - exact) <= tol
    assert secure.predict_logit(np.zeros(d)) == pytest.approx(-1.5, abs=2.0**-32)


def test_every_t_plus_one_subset_answers_and_t_fails(model):
    coef, intercept = model
    x = np.linspace(-1, 1, 30)
    for n, t in [(3, 1), (5, 2)]:
        cfg = InferenceConfig(n_nodes=n, threshold=t)
        secure = SecureLogisticRegression.deploy(coef=coef, intercept=intercept, config=cfg)
        subsets = list(itertools.combinations(range(n), t + 1))
        secure.provision_triples(len(subsets) + 1)
        for subset in subsets:
            p = secure.predict_proba(x, available_nodes=subset)
            assert p == pytest.approx(_sigmoid(x @ coef + intercept), abs=1e-4)
        for subset in itertools.combinations(range(n), t):
            with pytest.raises(ThresholdError):
                secure.predict_proba(x, available_nodes=subset)


def test_client_reconstruction_needs_t_plus_one_logit_shares(model):
    coef, intercept = model
    cfg = InferenceConfig()
    shares = share_model(coef, intercept, config=cfg)
    nodes = [InferenceNode(index=j, config=cfg, model=shares[j]) for j in range(3)]
    dealer = TripleDealer(config=cfg)
    dealt = dealer.deal(30)
    for node in nodes:
        node.add_triples([dealt[node.index]])
    client = InferenceClient(config=cfg)
    x = np.ones(30)
    xs = client.share_query(x)
    masked = [node.mask(0, xs[node.index], triple_id=0) for node in nodes]
    eps = cfg.scheme.reconstruct([m[0] for m in masked])
    delta = cfg.scheme.reconstruct([m[1] for m in masked])
    outs = [node.logit(0, triple_id=0, epsilon=eps, delta=delta) for node in nodes]
    assert client.probability(outs[:2]) == pytest.approx(_sigmoid(coef.sum() + intercept), abs=1e-4)
    with pytest.raises(ThresholdError):
        client.probability(outs[:1])


def test_triples_are_single_use_and_exhaustion_is_reported(model):
    coef, intercept = model
    secure = SecureLogisticRegression.deploy(coef=coef, intercept=intercept)
    secure.provision_triples(2)
    x = np.zeros(30)
    secure.predict_proba(x, available_nodes=(0, 1))  # node 2 misses triple 0
    secure.predict_proba(x)  # all nodes on triple 1; node 2 discards its stale triple 0
    assert [n.triples_left for n in secure.nodes] == [0, 0, 0]
    with pytest.raises(ProtocolError):
        secure.predict_proba(x)
    dealt = secure.dealer.deal(30)
    secure.nodes[0].add_triples([dealt[0]])
    with pytest.raises(ProtocolError):
        secure.nodes[0].add_triples([dealt[0]])
    with pytest.raises(ProtocolError):
        secure.nodes[1].add_triples([dealt[0]])


def test_out_of_range_model_and_query_raise():
    cfg = InferenceConfig()
    with pytest.raises(EncodingRangeError):
        share_model(np.full(1000, cfg.max_abs), 0.0, config=cfg)  # worst logit 2^30 > 2^29
    with pytest.raises(EncodingRangeError):
        share_model(np.array([cfg.max_abs * 2]), 0.0, config=cfg)
    secure = SecureLogisticRegression.deploy(coef=np.ones(3), intercept=0.0)
    secure.provision_triples(1)
    with pytest.raises(EncodingRangeError):
        secure.predict_proba(np.array([0.0, cfg.max_abs * 1.5, 0.0]))


def test_query_length_must_match_model():
    secure = SecureLogisticRegression.deploy(coef=np.ones(3), intercept=0.0)
    secure.provision_triples(1)
    with pytest.raises(ProtocolError):
        secure.predict_proba(np.ones(4))


def test_in_memory_and_encrypted_transport_agree_and_outputs_are_sealed(model):
    coef, intercept = model
    secure = SecureLogisticRegression.deploy(coef=coef, intercept=intercept)
    secure.provision_triples(2)
    x = np.linspace(-2, 2, 30)
    assert secure.predict_logit(x, encrypted=True) == pytest.approx(
        secure.predict_logit(x, encrypted=False), abs=2.0**-15
    )
    node, client = secure.nodes[0], InferenceClient(config=secure.config)
    share = client.share_query(x)[0]
    sealed = node.seal_output(share, client_public=client.public_key, query_id=3)
    assert len(client.open_outputs({0: sealed}, query_id=3)[0].parts) == 2
    with pytest.raises(EnvelopeError):
        client.open_outputs({0: sealed}, query_id=4)  # bound to its query
    with pytest.raises(EnvelopeError):
        client.open_outputs({1: sealed}, query_id=3)  # bound to its node
    with pytest.raises(EnvelopeError):
        InferenceClient(config=secure.config).open_outputs({0: sealed}, query_id=3)


def test_client_key_is_a_constructor_parameter_so_a_restart_opens_old_outputs(model):
    coef, intercept = model
    secure = SecureLogisticRegression.deploy(coef=coef, intercept=intercept)
    persistent = KeyPair.generate()
    before = InferenceClient(config=secure.config, keypair=persistent)
    assert before.public_key == persistent.public_bytes
    share = before.share_query(np.ones(30))[0]
    sealed = secure.nodes[0].seal_output(share, client_public=before.public_key, query_id=5)
    after_restart = InferenceClient(config=secure.config, keypair=persistent)
    assert after_restart.open_outputs({0: sealed}, query_id=5)[0].parts.keys() == share.parts.keys()
    with pytest.raises(EnvelopeError):
        InferenceClient(config=secure.config).open_outputs({0: sealed}, query_id=5)
