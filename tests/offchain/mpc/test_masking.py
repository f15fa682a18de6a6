"""Pairwise masking (Bonawitz et al. 2017) with dropout recovery."""

import numpy as np
import pytest

from flai.mpc import (
    EncodingRangeError,
    EnvelopeError,
    MaskingClient,
    MaskingConfig,
    MaskingServer,
    ProtocolError,
    ThresholdError,
)


def _setup(n_clients, threshold, **kw):
    cfg = MaskingConfig(threshold=threshold, **kw)
    clients = [MaskingClient(client_id=i, config=cfg) for i in range(n_clients)]
    server = MaskingServer(config=cfg)
    roster = server.collect_keys([c.advertise() for c in clients])
    inbox = server.route({c.client_id: c.share_keys(roster) for c in clients})
    for c in clients:
        c.receive_shares(inbox.get(c.client_id, {}))
    return cfg, clients, server


def test_masks_cancel_without_dropouts():
    cfg, clients, server = _setup(4, 1)
    x = np.random.default_rng(0).normal(scale=100, size=(4, 64))
    masked = [c.masked_input(x[c.client_id]) for c in clients]
    for c, y in zip(clients, masked):
        server.collect_masked(c.client_id, y)
        assert not np.array_equal(y, cfg.fixed_point.encode(x[c.client_id]))
    responses = [c.unmask(survivors=server.survivors, dropped=server.dropped) for c in clients]
    np.testing.assert_allclose(server.aggregate(responses), x.sum(axis=0), atol=4 * 2.0**-17)


def test_client_dropping_after_key_sharing_is_recovered():
    _, clients, server = _setup(5, 2)
    x = np.random.default_rng(1).uniform(-1000, 1000, size=(5, 33))
    for c in clients:
        if c.client_id != 3:  # client 3 drops before its masked input arrives
            server.collect_masked(c.client_id, c.masked_input(x[c.client_id]))
    assert server.dropped == {3}
    survivors = [c for c in clients if c.client_id != 3]
    responses = [
        c.unmask(survivors=server.survivors, dropped=server.dropped) for c in survivors[:3]
    ]
    expected = x[[0, 1, 2, 4]].sum(axis=0)
    np.testing.assert_allclose(server.aggregate(responses), expected, atol=4 * 2.0**-17)


def test_two_dropouts_and_exactly_t_plus_one_responses():
    _, clients, server = _setup(6, 2)
    x = np.random.default_rng(2).normal(size=(6, 10))
    for c in clients[:4]:
        server.collect_masked(c.client_id, c.masked_input(x[c.client_id]))
    responses = [c.unmask(survivors=server.survivors, dropped=server.dropped) for c in clients[1:4]]
    np.testing.assert_allclose(server.aggregate(responses), x[:4].sum(axis=0), atol=4 * 2.0**-17)


def test_t_responses_fail_loudly():
    _, clients, server = _setup(5, 2)
    for c in clients[:4]:
        server.collect_masked(c.client_id, c.masked_input(np.ones(3)))
    responses = [c.unmask(survivors=server.survivors, dropped=server.dropped) for c in clients[:2]]
    with pytest.raises(ThresholdError) as info:
        server.aggregate(responses)
    assert (info.value.available, info.value.required) == (2, 3)


def test_too_few_survivors_to_unmask():
    _, clients, server = _setup(4, 2)
    for c in clients[:2]:
        server.collect_masked(c.client_id, c.masked_input(np.ones(3)))
    with pytest.raises(ThresholdError):
        clients[0].unmask(survivors=server.survivors, dropped=server.dropped)


def test_client_never_reveals_both_secrets_of_one_peer():
    _, clients, _ = _setup(4, 1)
    clients[0].unmask(survivors={0, 1, 2, 3}, dropped=set())
    with pytest.raises(ProtocolError):
        clients[0].unmask(survivors={0, 1, 2}, dropped={3})  # would reveal client 3's key too
    with pytest.raises(ProtocolError):
        clients[1].unmask(survivors={0, 1}, dropped={2})  # not a partition of the roster


def test_shares_are_sealed_to_their_recipient():
    cfg = MaskingConfig(threshold=1)
    clients = [MaskingClient(client_id=i, config=cfg) for i in range(3)]
    roster = MaskingServer(config=cfg).collect_keys([c.advertise() for c in clients])
    outgoing = clients[0].share_keys(roster)
    clients[2].share_keys(roster)
    with pytest.raises(EnvelopeError):
        clients[2].receive_shares({0: outgoing[1]})  # server misroutes 0->1 to client 2


def test_out_of_range_input_raises():
    _, clients, _ = _setup(3, 1, max_abs=10.0)
    with pytest.raises(EncodingRangeError):
        clients[0].masked_input(np.array([11.0]))


def test_duplicate_or_unknown_masked_inputs_are_refused():
    _, clients, server = _setup(3, 1)
    y = clients[0].masked_input(np.ones(2))
    server.collect_masked(0, y)
    with pytest.raises(ProtocolError):
        server.collect_masked(0, y)
    with pytest.raises(ProtocolError):
        server.collect_masked(9, y)


def test_client_missing_round_one_is_left_out_of_the_masks():
    cfg = MaskingConfig(threshold=1)
    clients = [MaskingClient(client_id=i, config=cfg) for i in range(4)]
    server = MaskingServer(config=cfg)
    roster = server.collect_keys([c.advertise() for c in clients])
    # Client 2 advertised keys but never sent its round-1 shares.
    inbox = server.route({c.client_id: c.share_keys(roster) for c in clients if c.client_id != 2})
    for c in clients:
        if c.client_id != 2:
            c.receive_shares(inbox.get(c.client_id, {}))
    assert server.shared == {0, 1, 3} and clients[0].peers == {0, 1, 3}
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    for c in (clients[0], clients[1], clients[3]):
        server.collect_masked(c.client_id, c.masked_input(x[c.client_id]))
    responses = [c.unmask(survivors=server.survivors, dropped=server.dropped) for c in clients[:2]]
    np.testing.assert_allclose(server.aggregate(responses), x[[0, 1, 3]].sum(axis=0), atol=1e-4)
    with pytest.raises(ProtocolError):
        server.collect_masked(2, np.zeros(3, dtype=np.uint64))


def test_keys_are_shared_once_and_only_from_roster_members():
    cfg = MaskingConfig(threshold=1)
    clients = [MaskingClient(client_id=i, config=cfg) for i in range(3)]
    server = MaskingServer(config=cfg)
    roster = server.collect_keys([c.advertise() for c in clients])
    clients[0].share_keys(roster)
    with pytest.raises(ProtocolError):
        clients[0].share_keys(roster)
    with pytest.raises(ProtocolError):
        server.route({7: {}, 0: {}})
    with pytest.raises(ThresholdError):
        server.route({0: {}})
