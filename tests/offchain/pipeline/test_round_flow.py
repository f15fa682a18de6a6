"""Round-flow details: rejected updates, malformed bundles, replayed bundles, inference nodes."""

from __future__ import annotations

import base64
import copy
import json

import numpy as np
import pytest
import yaml

from flai.fl import LogisticModel, run_round
from flai.mpc import InferenceClient, InferenceConfig, secure_score_round
from flai.pipeline import (
    ChainPort,
    KeyStore,
    ThresholdUnavailableError,
    build_setting,
    parse_config,
    round_flow,
    run_lifecycle,
)
from flai.pipeline.codec import decode_outputs, encode_sealed_shares
from flai.pipeline.inference import SecretSharedService
from flai.pipeline.round_flow import _seal_update, _train
from flai.pipeline.scoring import score_on_shares, secure_config
from flai.storage import LocalStore, canonical_json
from tests.offchain.pipeline.conftest import SCENARIO, make_ledger

ONE = 10**18


@pytest.fixture(scope="module")
def small():
    raw = yaml.safe_load(SCENARIO.read_text())
    raw = copy.deepcopy(raw)
    raw["name"] = "small"
    raw["rounds"] = 1
    raw["hospitals"] = [
        {"name": "a", "size": 1.0},
        {"name": "b", "size": 1.0},
        {"name": "c", "size": 1.0},
        {"name": "booster", "behaviour": "scaled", "size": 1.0},
    ]
    raw["compute"]["offline"] = {}
    raw["training"]["max_update_norm"] = 3.0  # honest updates ≈ 0.6, the booster's ≈ 6
    raw["inference"]["requests"] = {"external": 2, "requester": 1, "member": 1}
    raw["backers"] = {"a": 100}
    return parse_config(raw)


def test_ledger_double_is_a_chain_port(scenario):
    assert isinstance(make_ledger(scenario), ChainPort)


def test_update_failing_a_check_is_rejected_with_phi_zero(small, tmp_path):
    ledger = make_ledger(small)
    result = run_lifecycle(
        config=small, port=ledger, storage=LocalStore(root=tmp_path / "s"), workdir=tmp_path / "w"
    ).to_json()
    rec = result["rounds"][0]
    phi = dict(zip(rec["submitters"], rec["consensus"], strict=True))
    assert phi["booster"] == 0 and "rejected" in rec["flags"]["booster"]
    assert all(phi[n] > 0 for n in ("a", "b", "c"))
    setting = build_setting(small, keys=KeyStore(directory=tmp_path / "w" / "keys"))
    fed = setting.federation
    engine = run_round(
        custodians=[h.custodian for h in fed.hospitals],
        validators=list(fed.validators),  # the pipeline's validators are the engine's
        global_model=LogisticModel.zeros(30),
        config=fed.round_config,
        round_index=0,
    )
    assert engine.outcome("booster").rejection == "norm"
    # the pipeline's validators score exactly what flai.mpc's secure scoring computes on the
    # same updates and holdouts (up to its fixed-point truncation noise)
    base = LogisticModel.zeros(30)
    library = secure_score_round(
        base=base,
        updates=[_train(fed, h, base, 0) for h in fed.hospitals],
        holdouts=[v.holdout for v in fed.validators],
        config=secure_config(fed),
    )
    assert library.accepted == (0, 1, 2)
    for v, scores in zip(fed.validators, library.scores, strict=True):
        posted = np.array(rec["validator_scores"][v.validator_id][:3]) / ONE
        np.testing.assert_allclose(posted, scores.phi, rtol=0, atol=2e-3)


def _bundles(setting, round_id: int):
    fed = setting.federation
    base = LogisticModel.zeros(30)
    return base, {
        h.name: _seal_update(fed, h, _train(fed, h, base, 0), round_id=round_id)
        for h in fed.hospitals
    }


def test_malformed_and_replayed_bundles_are_rejected(small, tmp_path):
    setting = build_setting(small, keys=KeyStore(directory=tmp_path / "keys"))
    fed = setting.federation
    base, bundles = _bundles(setting, round_id=5)
    _, old = _bundles(setting, round_id=4)
    names = tuple(bundles)
    bundles["a"] = b"not a bundle"
    bundles["b"] = old["b"]  # replayed from round 4: the header and associated data differ
    bundles["c"] = bundles["booster"]  # c re-posts someone else's bundle
    got = score_on_shares(
        fed,
        t=0,
        round_id=5,
        global_model=base,
        submitters=names,
        bundles=bundles,
        cids={n: f"cid-{n}" for n in names},
        step="test",
    )
    assert got.rejected == {"a": "bundle", "b": "bundle", "c": "bundle", "booster": "norm"}
    assert all(a.scores == (0, 0, 0, 0) for a in got.assessments)


def _header_lies(blob: bytes, round_id: int) -> bytes:
    """b's bundle with the header of round ``round_id``: it parses, but its shares were
    sealed for another round, so no node can open them."""
    raw = json.loads(blob)
    raw["round_id"] = round_id
    return canonical_json(raw)


def test_replayed_shares_under_a_rewritten_header_do_not_open(small, tmp_path):
    setting = build_setting(small, keys=KeyStore(directory=tmp_path / "keys"))
    base, bundles = _bundles(setting, round_id=5)
    _, old = _bundles(setting, round_id=4)
    bundles["b"] = _header_lies(old["b"], 5)
    got = score_on_shares(
        setting.federation,
        t=0,
        round_id=5,
        global_model=base,
        submitters=tuple(bundles),
        bundles=bundles,
        cids={n: f"cid-{n}" for n in bundles},
        step="test",
    )
    assert got.rejected == {"b": "envelope", "booster": "norm"}
    assert all(a.scores[1] == 0 and a.scores[0] > 0 for a in got.assessments)


def _truncated_shares(blob: bytes) -> bytes:
    raw = json.loads(blob)
    body = base64.b64decode(raw["scoring"]["envelope"]["body"])
    raw["scoring"]["envelope"]["body"] = base64.b64encode(body[: len(body) // 2]).decode()
    return canonical_json(raw)


def _truncated_aggregation_shares(blob: bytes) -> bytes:
    raw = json.loads(blob)
    body = base64.b64decode(raw["nodes"]["envelope"]["body"])
    raw["nodes"]["envelope"]["body"] = base64.b64encode(body[:-5]).decode()
    return canonical_json(raw)


def _keys_as_list(blob: bytes) -> bytes:
    raw = json.loads(blob)
    raw["nodes"]["envelope"]["keys"] = list(raw["nodes"]["envelope"]["keys"].values())
    return canonical_json(raw)


MALFORMED = {
    "five": lambda blob: b"5",
    "empty-list": lambda blob: b"[]",
    "null": lambda blob: b"null",
    "keys-as-list": _keys_as_list,
    "truncated-shares": _truncated_shares,
    "truncated-aggregation-shares": _truncated_aggregation_shares,
    "inconsistent": None,  # set below: scoring shares of another update
}


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_a_committed_malformed_bundle_scores_zero_and_is_flagged(
    small, tmp_path, monkeypatch, shape
):
    honest_seal = round_flow._seal_update

    def seal(fed, hospital, update, *, round_id):
        blob = honest_seal(fed, hospital, update, round_id=round_id)
        if hospital.name != "c":
            return blob
        if shape == "inconsistent":
            # aggregation shares of the real update, scoring shares of a different one
            other = LogisticModel(params=update.params + 0.01)
            raw = json.loads(blob)
            raw["scoring"] = json.loads(honest_seal(fed, hospital, other, round_id=round_id))[
                "scoring"
            ]
            return canonical_json(raw)
        return MALFORMED[shape](blob)

    monkeypatch.setattr(round_flow, "_seal_update", seal)
    ledger = make_ledger(small)
    result = run_lifecycle(
        config=small, port=ledger, storage=LocalStore(root=tmp_path / "s"), workdir=tmp_path / "w"
    ).to_json()
    rec = result["rounds"][0]
    phi = dict(zip(rec["submitters"], rec["consensus"], strict=True))
    assert rec["phase"] == "accepted"
    assert phi["c"] == 0 and "rejected" in rec["flags"]["c"]
    assert all(
        scores[rec["submitters"].index("c")] == 0 for scores in rec["validator_scores"].values()
    )
    assert phi["a"] > 0 and phi["b"] > 0


def test_inference_with_one_node_down_and_below_threshold(small, tmp_path):
    setting = build_setting(small, keys=KeyStore(directory=tmp_path / "keys"))
    rng = np.random.default_rng(1)
    model = LogisticModel(params=rng.normal(size=31))
    config = InferenceConfig()
    service = SecretSharedService(
        model=model, nodes=setting.federation.compute_nodes, config=config
    )
    user = InferenceClient(config=config)
    x = setting.test.X[3]
    for query_id, available in enumerate(([0, 2], [1, 2], [0, 1, 2])):
        sealed = user.seal_query(x, service.public_keys, query_id=query_id)
        blob = service.evaluate(
            encode_sealed_shares(sealed, kind="inference-query"),
            query_id=query_id,
            user_public=user.public_key,
            available=available,
        )
        shares = user.open_outputs(decode_outputs(blob), query_id=query_id)
        assert sorted(s.node for s in shares) == available
        assert abs(user.probability(shares) - model.predict_proba(x[None, :])[0]) < 1e-4
    with pytest.raises(ThresholdUnavailableError) as info:
        service.evaluate(b"", query_id=9, user_public=user.public_key, available=[1])
    assert (info.value.available, info.value.required) == (1, 2)


def test_lazy_validator_is_slashed_and_does_not_move_consensus(small, tmp_path):
    raw_validators = [
        {"name": v.name, "stake": v.stake, "behaviour": "lazy" if i == 2 else "honest"}
        for i, v in enumerate(small.validators)
    ]
    from dataclasses import replace

    from flai.pipeline.config import ValidatorConfig

    lazy = replace(
        small, name="lazy", validators=tuple(ValidatorConfig(**v) for v in raw_validators)
    )
    ledger = make_ledger(lazy)
    result = run_lifecycle(
        config=lazy, port=ledger, storage=LocalStore(root=tmp_path / "s"), workdir=tmp_path / "w"
    ).to_json()
    rec = result["rounds"][0]
    lazy_name = small.validators[2].name
    assert set(rec["validator_scores"][lazy_name]) == {ONE // 4}
    assert ledger.slashed() == {
        v.name: (v.stake * ONE // 10 if v.name == lazy_name else 0) for v in small.validators
    }
    assert result["validators"][lazy_name] == {
        "stake": small.validators[2].stake * ONE - small.validators[2].stake * ONE // 10,
        "slashed": small.validators[2].stake * ONE // 10,
    }
    phi = dict(zip(rec["submitters"], rec["consensus"], strict=True))
    assert phi["booster"] == 0  # two honest validators out of three still decide


def test_ledger_consensus_differing_from_the_local_one_stops_the_round(small, tmp_path):
    from flai.pipeline import ConsensusMismatchError, InMemoryLedger

    class Tampered(InMemoryLedger):
        def consensus(self, round_id):
            subs, phi = super().consensus(round_id)
            return subs, (phi[0] + 1, *phi[1:])

    honest = make_ledger(small)
    ledger = Tampered(
        custodians=small.hospital_names,
        stakes=honest.validator_stakes(),
        requester=small.requester,
        base_price=small.inference.base_price,
    )
    with pytest.raises(ConsensusMismatchError) as info:
        run_lifecycle(
            config=small,
            port=ledger,
            storage=LocalStore(root=tmp_path / "s"),
            workdir=tmp_path / "w",
        )
    assert info.value.round_id == 1
    assert info.value.ledger[0] == info.value.local[0] + 1
    assert ledger.round_phase(1).value == "finalized"  # nothing voted on a wrong consensus


def test_journal_of_another_scenario_is_refused(small, scenario, tmp_path):
    from flai.pipeline import JournalError

    storage = LocalStore(root=tmp_path / "s")
    run_lifecycle(config=small, port=make_ledger(small), storage=storage, workdir=tmp_path / "w")
    with pytest.raises(JournalError, match="written for run 'small:"):
        run_lifecycle(
            config=scenario, port=make_ledger(scenario), storage=storage, workdir=tmp_path / "w"
        )


def _query_with_truncated_body(blob: bytes) -> bytes:
    raw = json.loads(blob)
    body = base64.b64decode(raw["shares"]["envelope"]["body"])
    raw["shares"]["envelope"]["body"] = base64.b64encode(body[:-7]).decode()
    return canonical_json(raw)


def _query_with_keys_as_list(blob: bytes) -> bytes:
    raw = json.loads(blob)
    raw["shares"]["envelope"]["keys"] = list(raw["shares"]["envelope"]["keys"].values())
    return canonical_json(raw)


@pytest.mark.parametrize(
    ("corrupt", "field"),
    [
        (lambda blob: b"5", ""),
        (lambda blob: b'{"format": "flai/pipeline/v1", "kind": "inference-query"}', "format"),
        (lambda blob: b"[]", ""),
        (lambda blob: b"null", ""),
        (lambda blob: b"\xff\xfe", ""),
        (_query_with_keys_as_list, "shares.envelope.keys"),
        (_query_with_truncated_body, "shares.envelope"),
    ],
)
def test_a_malformed_query_is_a_typed_error_naming_the_field(small, tmp_path, corrupt, field):
    from flai.pipeline import MalformedBlobError

    setting = build_setting(small, keys=KeyStore(directory=tmp_path / "keys"))
    model = LogisticModel(params=np.random.default_rng(2).normal(size=31))
    config = InferenceConfig()
    service = SecretSharedService(
        model=model, nodes=setting.federation.compute_nodes, config=config
    )
    user = InferenceClient(config=config)
    sealed = user.seal_query(setting.test.X[0], service.public_keys, query_id=4)
    blob = encode_sealed_shares(sealed, kind="inference-query")
    with pytest.raises(MalformedBlobError) as info:
        service.evaluate(corrupt(blob), query_id=4, user_public=user.public_key, available=[0, 1])
    assert info.value.kind == "inference-query"
    assert info.value.field == field
