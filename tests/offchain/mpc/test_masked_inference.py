"""Session protocol of secret-shared inference: masked inputs, one message each way."""

import itertools

import numpy as np
import pytest
from scipy import stats

from flai.mpc import (
    EncodingRangeError,
    EnvelopeError,
    InferenceConfig,
    InferenceUser,
    KeyPair,
    MaskDealer,
    MaskedInference,
    MaskedInferenceNode,
    ProtocolError,
    ReplayError,
    SecureChannel,
    ShareMismatchError,
    ThresholdError,
    UserMasks,
    share_params,
)
from flai.mpc.inference.wire import masked_logit_aad, pack_parts, parse_parts

ALPHA = 1e-6


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(30)
    return rng.normal(scale=2.0, size=30), -0.7


def test_logits_match_plaintext_one_row_and_batches(model):
    coef, intercept = model
    rng = np.random.default_rng(31)
    queries = np.vstack([rng.normal(scale=3.0, size=(20, 30)), np.zeros((1, 30))])
    secure = MaskedInference.deploy(coef=coef, intercept=intercept)
    user = secure.user(masks=len(queries) + 6)
    exact = queries @ coef + intercept
    one_by_one = np.array([secure.predict_logit(user, q)[0] for q in queries])
    batch = secure.predict_logit(user, queries[:5])
    tol = (np.abs(coef).sum() + np.abs(queries).sum(axis=1) + 1) * 2.0**-17 + 1e-9
    assert np.all(np.abs(one_by_one - exact) <= tol)
    assert np.all(np.abs(batch - exact[:5]) <= tol[:5])
    assert user.masks_left == 1


def test_intercept_is_exact_at_the_zero_query():
    secure = MaskedInference.deploy(coef=np.array([0.25, -3.0]), intercept=-1.5)
    user = secure.user(masks=1)
    assert secure.predict_logit(user, np.zeros(2))[0] == -1.5


def test_every_t_plus_one_subset_answers_and_t_nodes_do_not(model):
    coef, intercept = model
    x = np.linspace(-1, 1, 30)
    for n, t in [(3, 1), (5, 2)]:
        cfg = InferenceConfig(n_nodes=n, threshold=t)
        secure = MaskedInference.deploy(coef=coef, intercept=intercept, config=cfg)
        subsets = list(itertools.combinations(range(n), t + 1))
        user = secure.user(masks=len(subsets))
        for subset in subsets:
            z = secure.predict_logit(user, x, available_nodes=subset)[0]
            assert z == pytest.approx(x @ coef + intercept, abs=1e-3)
        for subset in itertools.combinations(range(n), t):
            with pytest.raises(ThresholdError):
                secure.predict_logit(user, x, available_nodes=subset)
        # the user itself refuses to reconstruct from t answers
        user2 = secure.user(masks=1)
        query_id, sealed = user2.query(x)
        answers = {j: secure.nodes[j].evaluate(sealed[j]) for j in range(t)}
        with pytest.raises(ThresholdError):
            user2.logits(query_id, answers)


def test_a_replayed_query_is_refused(model):
    coef, intercept = model
    secure = MaskedInference.deploy(coef=coef, intercept=intercept)
    user = secure.user(masks=2)
    _query_id, sealed = user.query(np.ones(30))
    secure.nodes[0].evaluate(sealed[0])
    with pytest.raises(ReplayError) as info:
        secure.nodes[0].evaluate(sealed[0])
    assert info.value.what == "session message"


def test_a_mask_is_spent_once_even_under_a_fresh_counter(model):
    coef, intercept = model
    secure = MaskedInference.deploy(coef=coef, intercept=intercept)
    user = secure.user()
    clear, parts = secure.dealer.issue(user=user.public_key, count=1)
    for node in secure.nodes:
        node.add_masks(parts[node.index])
    user.add_masks(clear)
    user.add_masks(clear)  # the same masks twice: the second query would reuse mask 0
    secure.predict_logit(user, np.ones(30))
    with pytest.raises(ReplayError) as info:
        secure.predict_logit(user, -np.ones(30))
    assert (info.value.what, info.value.counter) == ("input mask", clear.first)
    with pytest.raises(ReplayError):
        secure.nodes[0].add_masks(parts[0])  # mask ids dealt twice


def test_masks_are_bound_to_the_user_they_were_issued_to(model):
    coef, intercept = model
    secure = MaskedInference.deploy(coef=coef, intercept=intercept)
    alice, bob = secure.user(masks=1), secure.user()
    stolen = alice._batches[0]
    with pytest.raises(ProtocolError):
        bob.add_masks(stolen)
    bob.add_masks(UserMasks(user=bob.public_key, first=stolen.first, masks=stolen.masks))
    with pytest.raises(ProtocolError, match="another user"):
        secure.predict_logit(bob, np.ones(30))
    assert secure.predict_logit(alice, np.ones(30))[0] == pytest.approx(
        coef.sum() + intercept, abs=1e-3
    )


def test_queries_answers_and_sessions_are_bound_to_their_model_and_node(model):
    coef, intercept = model
    cfg = InferenceConfig()
    keys = {j: KeyPair.generate() for j in range(3)}
    parts = share_params(coef, intercept, config=cfg)
    v1 = MaskedInference.from_parts(parts, config=cfg, model_id=b"v1", keypairs=keys)
    v2 = MaskedInference.from_parts(parts, config=cfg, model_id=b"v2", keypairs=keys)
    user = v1.user(masks=2)
    with pytest.raises(EnvelopeError):  # a v1 session is not a v2 session
        v2.nodes[0].accept(user.connect([0])[0])
    user = v1.user(masks=2)
    query_id, sealed = user.query(np.ones(30))
    answers = {j: v1.nodes[j].evaluate(sealed[j]) for j in range(3)}
    swapped = {0: answers[1], 1: answers[0], 2: answers[2]}
    with pytest.raises(EnvelopeError):
        user.logits(query_id, swapped)  # an answer is bound to the node that sent it
    assert user.logits(query_id, answers)[0] == pytest.approx(coef.sum() + intercept, abs=1e-3)
    with pytest.raises(ProtocolError):
        user.logits(query_id, answers)  # no longer pending
    stranger = KeyPair.generate()
    channel, _hello = SecureChannel.initiate(own=stranger, peer_public=keys[0].public_bytes)
    with pytest.raises(ProtocolError, match="no session"):
        v1.nodes[0].evaluate(channel.seal(b"x" * 16, counter=0))


def test_bad_queries_raise_named_errors(model):
    coef, intercept = model
    cfg = InferenceConfig()
    secure = MaskedInference.deploy(coef=coef, intercept=intercept, config=cfg)
    user = secure.user(masks=1)
    with pytest.raises(EncodingRangeError):
        user.query(np.full(30, cfg.max_abs * 2))
    with pytest.raises(EncodingRangeError):
        user.query(np.full(30, np.nan))
    with pytest.raises(ProtocolError):
        user.query(np.ones(31))
    user.query(np.ones(30))
    with pytest.raises(ProtocolError, match="masks"):
        user.query(np.ones(30))  # none left
    with pytest.raises(EncodingRangeError):
        share_params(np.full(1000, cfg.max_abs), 0.0, config=cfg)


def test_offline_phase_errors():
    cfg = InferenceConfig()
    parts = share_params(np.ones(3), 0.0, config=cfg)
    node = MaskedInferenceNode(index=0, config=cfg, model=parts[0], keypair=KeyPair.generate())
    dealer = MaskDealer(config=cfg, length=4)
    _, masks = dealer.issue(user=bytes(32), count=2)
    with pytest.raises(ProtocolError, match="offset"):
        node.add_masks(masks[0])
    with pytest.raises(ProtocolError):
        MaskedInferenceNode(index=1, config=cfg, model=parts[0], keypair=KeyPair.generate())
    with pytest.raises(ProtocolError):
        node.set_offset(np.zeros(5, dtype=np.uint64))
    with pytest.raises(ProtocolError):
        dealer.issue(user=bytes(32), count=0)
    with pytest.raises(ProtocolError):
        UserMasks.from_bytes(b"junk")


def test_mask_blob_round_trip():
    dealer = MaskDealer(config=InferenceConfig(), length=4)
    clear, _ = dealer.issue(user=bytes(range(32)), count=3)
    again = UserMasks.from_bytes(clear.to_bytes())
    assert again.user == clear.user and again.first == clear.first
    np.testing.assert_array_equal(again.masks, clear.masks)
    with pytest.raises(ProtocolError):
        UserMasks.from_bytes(clear.to_bytes()[:-1])


def test_a_node_that_alters_its_copy_is_caught_at_reconstruction(model):
    coef, intercept = model
    secure = MaskedInference.deploy(coef=coef, intercept=intercept)
    user = secure.user(masks=1)
    query_id, sealed = user.query(np.ones(30))
    answers = {j: secure.nodes[j].evaluate(sealed[j]) for j in range(3)}
    # node 2 (holding components 0 and 1) answers with an altered copy of component 0
    lie = parse_parts(2, _open_raw(user, secure, 2, answers[2]), 1)
    lie.parts[0][0] += np.uint64(1)
    channel = secure.nodes[2].session(SecureChannel.session_of(answers[2]))
    forged = channel.seal(pack_parts(lie), counter=query_id, aad=masked_logit_aad(b"", 2))
    with pytest.raises(ShareMismatchError):
        user.logits(query_id, {0: answers[0], 1: answers[1], 2: forged})


def _open_raw(user, secure, j, message):
    """Decrypt a node's answer with a copy of the user's channel (test instrumentation)."""
    copy = SecureChannel.from_bytes(user.channel(j).to_bytes())
    return copy.open(message, aad=masked_logit_aad(secure.model_id, j))[1]


def _same_distribution(a, b):
    ua, ub = a.astype(np.float64) / 2.0**64, b.astype(np.float64) / 2.0**64
    ks = stats.ks_2samp(ua, ub).pvalue
    table = np.array([np.bincount(v >> np.uint64(60), minlength=16) for v in (a, b)])
    table = table[:, table.sum(axis=0) > 0]  # drop bins empty in both samples
    return ks, stats.chi2_contingency(table).pvalue


def test_what_a_node_and_the_user_see_does_not_depend_on_the_secrets():
    """ε (seen by every node) and the answer components (seen by the user) are uniform."""
    rows = 3000
    views = {}
    for label, coef, x in [
        ("a", np.zeros(4), np.zeros(4)),
        ("b", np.full(4, 50.0), np.full(4, -900.0)),
    ]:
        secure = MaskedInference.deploy(coef=coef, intercept=0.0)
        user = secure.user(masks=rows)
        _query_id, sealed = user.query(np.tile(x, (rows, 1)))
        node = secure.nodes[0]
        copy = SecureChannel.from_bytes(
            node.session(SecureChannel.session_of(sealed[0])).to_bytes()
        )
        body = copy.open(sealed[0], aad=b"query")[1]
        eps = np.frombuffer(body, dtype="<u8", offset=16).reshape(rows, 5)
        answer = node.evaluate(sealed[0])
        parts = parse_parts(0, _open_raw(user, secure, 0, answer), rows).parts
        views[label] = (
            eps[:, 0].astype(np.uint64),
            eps[:, 4].astype(np.uint64),
            parts[1],
            parts[2],
        )
    for a, b in zip(views["a"], views["b"], strict=True):
        ks, chi = _same_distribution(np.asarray(a), np.asarray(b))
        assert ks > ALPHA and chi > ALPHA
    # negative control: the same tests separate a visibly leaky "mask"
    leak_a = np.arange(rows, dtype=np.uint64) << np.uint64(40)
    ks, chi = _same_distribution(leak_a, leak_a + (np.uint64(1) << np.uint64(62)))
    assert ks < ALPHA and chi < ALPHA


def test_user_key_is_a_constructor_parameter():
    secure = MaskedInference.deploy(coef=np.ones(3), intercept=0.0)
    key = KeyPair.generate()
    user = secure.user(key, masks=1)
    assert user.public_key == key.public_bytes
    with pytest.raises(ProtocolError):
        InferenceUser(
            config=secure.config,
            keypair=key,
            node_public_keys={0: bytes(32)},
            weight_scale=1.0,
            num_features=3,
        )


def test_shared_values_and_replies_travel_over_the_sessions():
    secure = MaskedInference.deploy(coef=np.ones(3), intercept=0.0)
    user = secure.user()
    values = np.array([3, 1, 4, 1, 5], dtype=np.uint64)
    counter, sealed = user.share_values(values)
    got, sessions = {}, {}
    for node in secure.nodes:
        sessions[node.index], seen, got[node.index] = node.receive_shares(sealed[node.index])
        assert seen == counter
    np.testing.assert_array_equal(secure.config.scheme.reconstruct(got.values()), values)
    with pytest.raises(ReplayError):
        secure.nodes[0].receive_shares(sealed[0])

    def replies(at):
        return {n.index: n.reply(sessions[n.index], got[n.index], counter=at) for n in secure.nodes}

    np.testing.assert_array_equal(user.open_reply(counter, replies(counter)), values)
    with pytest.raises(ProtocolError, match="expected"):
        user.open_reply(counter, replies(counter + 7))
