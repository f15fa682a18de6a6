"""Sealed release of the aggregate to the contributors, checked against an on-chain root."""

from dataclasses import replace

import numpy as np
import pytest

from flai.mpc import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    EnvelopeError,
    KeyPair,
    ModelCommitmentError,
    NodeShare,
    ProtocolError,
    ShareMismatchError,
    ThresholdError,
    encode_weights,
    reconstruct_aggregate,
)
from flai.mpc.conversion import replicate_partials
from flai.mpc.release import ReleaseBundle, ReleaseHeader, open_release, seal_release_part

CFG = AggregationConfig()


@pytest.fixture(scope="module")
def aggregate():
    rng = np.random.default_rng(50)
    updates = rng.normal(size=(6, 31))
    nodes = [AggregationNode(index=j, config=CFG) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    for k, u in enumerate(updates):
        sealed = AggregationClient(client_id=k, config=CFG, node_public_keys=keys).upload(
            u, round_id=0
        )
        for n in nodes:
            n.receive(sealed, round_id=0, client_id=k)
    weights = encode_weights(dict(enumerate(rng.random(6))), weight_bits=CFG.weight_bits)
    owned = CFG.scheme.assign(range(3))
    partials = [
        n.weighted_partial(round_id=0, weights=weights, components=owned[n.index]) for n in nodes
    ]
    contributors = {k: KeyPair.generate() for k in range(6)}
    return partials, weights, contributors, reconstruct_aggregate(CFG, partials, weights)


def _release(partials, weights, contributors, *, version=1):
    header = ReleaseHeader.for_aggregate(
        model_id=b"rfm-7", version=version, length=31, config=CFG, weights=weights
    )
    public = {k: c.public_bytes for k, c in contributors.items()}
    parts = {p.node: seal_release_part(p, header=header, contributors=public) for p in partials}
    return ReleaseBundle(header=header, parts=parts)


def test_every_contributor_reconstructs_exactly_the_aggregate(aggregate):
    partials, weights, contributors, exact = aggregate
    bundle = _release(partials, weights, contributors)
    root = bundle.commitment()
    fetched = ReleaseBundle.from_bytes(bundle.to_bytes())  # as from IPFS
    for k, key in contributors.items():
        got = open_release(fetched, contributor=k, keypair=key, commitment=root, config=CFG)
        np.testing.assert_array_equal(got, exact)


def test_the_bundle_carries_no_plaintext_weights(aggregate):
    partials, weights, contributors, exact = aggregate
    blob = _release(partials, weights, contributors).to_bytes()
    for p in partials:
        for v in p.parts.values():
            assert bytes(CFG.scheme.ring.pack(v & CFG.scheme.ring.mask))[:16] not in blob
    assert exact.astype("<f8").tobytes()[:16] not in blob
    assert exact.astype("<f4").tobytes()[:16] not in blob


def test_an_outsider_cannot_open_and_a_wrong_root_is_named(aggregate):
    partials, weights, contributors, _ = aggregate
    bundle = _release(partials, weights, contributors)
    root = bundle.commitment()
    with pytest.raises(EnvelopeError):
        open_release(bundle, contributor=0, keypair=KeyPair.generate(), commitment=root, config=CFG)
    with pytest.raises(EnvelopeError):
        open_release(bundle, contributor=99, keypair=contributors[0], commitment=root, config=CFG)
    other = _release(partials, weights, contributors, version=2).commitment()
    with pytest.raises(ModelCommitmentError) as info:
        open_release(bundle, contributor=0, keypair=contributors[0], commitment=other, config=CFG)
    assert info.value.node is None and "root" in str(info.value)


def test_a_piece_that_differs_from_its_commitment_is_named(aggregate):
    partials, weights, contributors, _ = aggregate
    bundle = _release(partials, weights, contributors)
    # Node 1 swaps its piece for a re-sealed different component but keeps the old hash.
    honest = bundle.parts[1]
    c = next(iter(honest.commitments))
    lying = NodeShare(node=1, parts={c: partials[1].parts[c] + np.uint64(1)})
    public = {k: key.public_bytes for k, key in contributors.items()}
    resealed = seal_release_part(lying, header=bundle.header, contributors=public)
    forged = ReleaseBundle(
        header=bundle.header,
        parts={**bundle.parts, 1: replace(resealed, commitments=honest.commitments)},
    )
    with pytest.raises(ModelCommitmentError) as info:
        open_release(
            forged,
            contributor=2,
            keypair=contributors[2],
            commitment=bundle.commitment(),
            config=CFG,
        )
    assert (info.value.node, info.value.component) == (1, c)


def test_committed_copies_that_disagree_are_refused(aggregate):
    partials, weights, contributors, _ = aggregate
    # Node 0 delivers a wrong copy of component 2, which node 1 delivers too, and commits to it.
    full = replicate_partials(CFG.scheme, partials)
    wrong = NodeShare(node=0, parts={**full[0].parts, 2: full[0].parts[2] + np.uint64(5)})
    bundle = _release([wrong, full[1]], weights, contributors)
    with pytest.raises(ShareMismatchError):
        open_release(
            bundle,
            contributor=0,
            keypair=contributors[0],
            commitment=bundle.commitment(),
            config=CFG,
        )


def test_missing_components_and_malformed_blobs(aggregate):
    partials, weights, contributors, _ = aggregate
    bundle = _release(partials[:1], weights, contributors)
    with pytest.raises(ThresholdError):
        open_release(
            bundle,
            contributor=0,
            keypair=contributors[0],
            commitment=bundle.commitment(),
            config=CFG,
        )
    blob = _release(partials, weights, contributors).to_bytes()
    with pytest.raises(ProtocolError):
        ReleaseBundle.from_bytes(blob[:-3])
    with pytest.raises(ProtocolError):
        ReleaseBundle.from_bytes(blob + b"x")
    with pytest.raises(ProtocolError):
        ReleaseBundle.from_bytes(b"not a release")
    with pytest.raises(ProtocolError):
        seal_release_part(partials[0], header=bundle.header, contributors={})
