"""The trust model's claims about a round, each checked on what the party receives.

``docs/trust-model.md`` says what each party sees; these tests inspect the bytes.
"""

from __future__ import annotations

import base64
import json
import struct

import numpy as np
import pytest

from flai.fl import LogisticModel, SerializationError
from flai.mpc import (
    AggregationNode,
    EnvelopeError,
    KeyPair,
    ReleaseBundle,
    ScoringNode,
    open_release,
    open_sealed,
)
from flai.mpc import ring128 as r128
from flai.pipeline import KeyStore, build_setting
from flai.pipeline.codec import decode_bundle
from flai.pipeline.round_flow import _seal_update, _train
from flai.pipeline.scoring import SCORING_NODES, score_on_shares, secure_config


def _plaintext_forms(update: LogisticModel, frac_bits: int) -> list[bytes]:
    """Byte patterns an update would show in plaintext: its serialization, float64
    parameters, their fixed-point encodings (Z_{2^128} and 64-bit), any 4 consecutive
    parameters."""
    params = update.params
    encoded = r128.encode(params.reshape(1, -1), frac_bits, limit=64.0)
    fixed = np.rint(params * 2.0**frac_bits).astype(np.int64)
    forms = [update.to_bytes(), params.astype("<f8").tobytes(), r128.pack(encoded)]
    forms += [params[i : i + 4].astype("<f8").tobytes() for i in range(0, len(params) - 4, 4)]
    forms += [fixed[i : i + 4].astype("<i8").tobytes() for i in range(0, len(params) - 4, 4)]
    forms += [struct.pack(">4d", *params[i : i + 4]) for i in range(0, len(params) - 4, 4)]
    return forms


@pytest.fixture(scope="module")
def round_(scenario, tmp_path_factory):
    keys = KeyStore(directory=tmp_path_factory.mktemp("keys"))
    setting = build_setting(scenario, keys=keys)
    fed = setting.federation
    base = LogisticModel.zeros(30)
    updates = {h.name: _train(fed, h, base, 0) for h in fed.hospitals}
    bundles = {h.name: _seal_update(fed, h, updates[h.name], round_id=3) for h in fed.hospitals}
    outcome = score_on_shares(
        fed,
        t=0,
        round_id=3,
        global_model=base,
        submitters=tuple(bundles),
        bundles=bundles,
        cids={n: f"cid-{n}" for n in bundles},
        step="test",
    )
    return fed, base, updates, bundles, outcome


def test_a_validator_receives_only_its_sealed_scores_never_an_update(round_):
    fed, _, updates, _, outcome = round_
    cfg = secure_config(fed)
    accepted = [n for n in updates if n not in outcome.rejected]
    K = len(accepted)
    forms = [f for u in updates.values() for f in _plaintext_forms(u, cfg.frac_bits)]
    for v in fed.validators:
        view = outcome.validator_view[v.validator_id]
        assert len(view) == SCORING_NODES
        for j, blob in enumerate(view):
            assert not any(f in blob for f in forms)
            # opened with the validator's own key: K Shapley sums and K variance terms,
            # 2K ring elements — nothing of size d + 1 = 31
            aad = b"flai/mpc/scoring/output" + struct.pack(">QQI", 3, fed.validators.index(v), j)
            payload = open_sealed(blob, fed.validator_keys[v.validator_id], aad=aad)
            assert len(payload) == 2 * K * 16
            assert not any(f in payload for f in forms)


def test_public_openings_are_norms_consistency_zeros_and_cosine_statistics(round_):
    fed, base, updates, _, outcome = round_
    cfg = secure_config(fed)
    scale = 2.0 ** (2 * cfg.frac_bits)
    K = len(updates)
    norms = outcome.public[:K]
    for name, opened in zip(updates, norms, strict=True):
        expected = float(np.sum((updates[name].params - base.params) ** 2))
        assert abs(opened / scale - expected) <= 1e-3 * max(expected, 1e-6)
    modulus = 1 << fed.aggregation.ring_bits
    consistency = outcome.public[K : K + 40 * K]
    assert all(v % modulus == 0 for v in consistency)  # honest custodians: all zero
    assert len(outcome.public) - K - 40 * K in (0, 2, 4, 6, 8, 10)  # 2 per borderline update


def test_a_bundle_on_ipfs_holds_no_plaintext_update(round_):
    fed, _, updates, bundles, _ = round_
    cfg = secure_config(fed)
    for name, blob in bundles.items():
        assert not any(f in blob for f in _plaintext_forms(updates[name], cfg.frac_bits))
        bundle = decode_bundle(blob)
        client = fed.hospital(name).index
        # sealed to the compute nodes only: each node's key opens its part, a validator's
        # key opens no part of either sharing
        for n in fed.compute_nodes:
            ScoringNode(index=n.index, config=cfg, keypair=n.keypair).receive_update(
                bundle.for_scoring, round_id=3, client_id=client
            )
            AggregationNode(index=n.index, config=fed.aggregation, keypair=n.keypair).receive(
                bundle.for_nodes, round_id=3, client_id=client
            )
            for v in fed.validators:
                key = fed.validator_keys[v.validator_id]
                with pytest.raises(EnvelopeError):
                    ScoringNode(index=n.index, config=cfg, keypair=key).receive_update(
                        bundle.for_scoring, round_id=3, client_id=client
                    )
                with pytest.raises(EnvelopeError):
                    AggregationNode(index=n.index, config=fed.aggregation, keypair=key).receive(
                        bundle.for_nodes, round_id=3, client_id=client
                    )


def test_no_ipfs_object_of_a_run_holds_an_accepted_model_in_plaintext(scenario, tmp_path):
    from flai.pipeline import run_lifecycle
    from flai.pipeline.model_release import load_model
    from flai.storage import LocalStore
    from tests.offchain.pipeline.conftest import make_ledger

    storage = LocalStore(root=tmp_path / "store")
    ledger = make_ledger(scenario)
    result = run_lifecycle(
        config=scenario, port=ledger, storage=storage, workdir=tmp_path / "work"
    ).to_json()
    fed = build_setting(scenario, keys=KeyStore(directory=tmp_path / "work" / "keys")).federation
    accepted = [r for r in result["rounds"] if r["phase"] == "accepted"]
    assert accepted
    models = [
        load_model(storage.get(r["aggregate_cid"]), fed=fed, reader="charite") for r in accepted
    ]
    forms = [f for m in models for f in _plaintext_forms(m, 16)]
    zeros = LogisticModel.zeros(30)
    for cid in storage.pins():
        blob = storage.get(cid)
        assert not any(f in blob for f in forms), cid
        try:
            decoded = LogisticModel.from_bytes(blob)
        except SerializationError:
            continue
        assert decoded == zeros  # the public starting model is the only plaintext one
    # every reader opens the same committed model; a key outside the whitelist opens nothing
    outsider = KeyPair.generate()
    for r, model in zip(accepted, models, strict=True):
        blob = storage.get(r["aggregate_cid"])
        for reader in ("st-mary", "rogue-lab", "val-eu", "val-asia"):
            assert load_model(blob, fed=fed, reader=reader) == model
        bundle = ReleaseBundle.from_bytes(base64.b64decode(json.loads(blob)["release"]))
        with pytest.raises(EnvelopeError):
            open_release(
                bundle,
                contributor=0,
                keypair=outsider,
                commitment=bundle.commitment(),
                config=fed.aggregation,
            )
