"""The step functions behind the step scripts, and fork-and-retire, on Anvil.

One minimal real deployment per module, made by the steps themselves
(:func:`flai.chain.deploy_all`, ``fund_parties``, :func:`flai.chain.submit_rfm`,
:func:`flai.chain.approve_rfm`: protocol and market, RFM approved by the SuperDAO with its
splitter, crowdfund, onboarding, launch — no rounds yet) and recorded in a deployment file,
then each step on it in the order a user would script them: submit another RFM from a spec
file, run one training round through :mod:`flai.pipeline`, serve paid inferences through
the secret-shared model, distribute revenue, fork a subtype child and retire the parent.
Each later stage is a module fixture built on the previous one, so every test can run alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import brownie
import numpy as np
import pytest

from flai.chain import (
    ChainError,
    ConfigError,
    GasMeter,
    RequestStatus,
    RFMParams,
    RFMStatus,
    Round,
    RoundStatus,
    SubDAOState,
    approve_rfm,
    deploy_all,
    distribute_revenue,
    lifecycle_roles,
    read_deployment,
    run_one_round,
    serve_requests,
    step_port,
    step_storage,
    submit_rfm,
    write_deployment,
)
from flai.chain.plumbing import sent_transactions
from flai.chain.steps import fund_parties
from flai.pipeline import load_config, load_rfm_spec, parse_rfm_spec
from tests.helpers import custom_error

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "breast-cancer.yaml"
SPEC = ROOT / "configs" / "steps" / "rfm_spec.json"


@pytest.fixture(scope="module")
def scenario():
    return load_config(CONFIG)


@pytest.fixture(scope="module")
def world(module_isolation, accounts, scenario, tmp_path_factory):
    work = tmp_path_factory.mktemp("steps")
    roles = lifecycle_roles(scenario, list(accounts))
    gas = GasMeter()
    with step_storage(work) as storage:
        d = deploy_all(deployer=roles.deployer, config=scenario)
        fund_parties(deployment=d, roles=roles, config=scenario, gas=gas)
        rfm = submit_rfm(
            deployment=d, roles=roles, spec=scenario.rfm_spec(), storage=storage, gas=gas
        )
        d = approve_rfm(deployment=d, roles=roles, config=scenario, rfm_id=rfm.rfm_id, gas=gas)
        path = write_deployment(
            work / "deployment.json", d.record(network=brownie.network.show_active())
        )
        port = step_port(
            config=scenario, accounts=list(accounts), record=read_deployment(path), gas=GasMeter()
        )
        yield SimpleNamespace(work=work, d=d, roles=roles, port=port, storage=storage, path=path)


@pytest.fixture(scope="module")
def round1(world, scenario):
    return run_one_round(
        config=scenario, port=world.port, storage=world.storage, workdir=world.work
    )


@pytest.fixture(scope="module")
def served(world, scenario, round1):
    return serve_requests(
        config=scenario, port=world.port, storage=world.storage, workdir=world.work, count=4
    )


@pytest.fixture(scope="module")
def distributed(world, scenario, served):
    return distribute_revenue(port=world.port, backers=list(scenario.backers))


@pytest.fixture(scope="module")
def forked(world, scenario, distributed):
    before = len(sent_transactions())
    world.port.fork_and_retire(domain=scenario.rfm.fork_domain)
    return world.port.fork(), sent_transactions()[before:]


def _events(txs, name):
    return [ev for tx in txs for ev in tx.events if ev.name == name]


def test_submit_rfm_stores_the_spec_on_ipfs_and_submits_its_params(world):
    spec = load_rfm_spec(SPEC)
    before = len(sent_transactions())
    out = submit_rfm(
        deployment=world.d, roles=world.roles, spec=spec, storage=world.storage, gas=GasMeter()
    )
    registry = world.d.platform.registry
    assert out.rfm_id == world.d.rfm_id + 1 and out.status is RFMStatus.PENDING
    txs = sent_transactions()[before:]
    ev = _events(txs, "RFMSubmitted")
    assert len(ev) == 1 and ev[0]["rfmId"] == out.rfm_id
    assert ev[0]["requester"] == world.roles.account(world.roles.requester)
    params = RFMParams.from_tuple(registry.getParams(out.rfm_id))
    assert params.spec_cid == out.spec_cid
    assert params.domain == spec.plan.domain and params.model_class == spec.plan.model_class
    assert params.metric_threshold == 850_000
    assert params.price_per_inference == spec.price_per_inference
    assert world.storage.get_json(out.spec_cid)["objective"] == spec.plan.objective
    # idempotent: the same spec is found on chain, nothing is sent again
    again = submit_rfm(
        deployment=world.d, roles=world.roles, spec=spec, storage=world.storage, gas=GasMeter()
    )
    assert again == out and len(sent_transactions()) == before + len(txs)


def test_run_round_accepts_the_aggregate_the_engine_computed(world, round1):
    rounds = world.d.suite.rounds
    assert round1["round_id"] == 1 and round1["phase"] == "accepted"
    assert Round.from_tuple(rounds.round(1)).status is RoundStatus.ACCEPTED
    assert world.port.model_version() == (1, round1["aggregate_cid"])
    assert tuple(rounds.aggregate(1)) == (round1["aggregate_cid"], round1["metric_fixed"])
    logs = world.port.logs(world.d.suite.subdao, "ModelVersionAccepted")
    assert [(int(g["args"]["version"]), int(g["args"]["roundId"])) for g in logs] == [(1, 1)]


def test_serve_inference_pays_and_fulfils_through_the_secret_shared_model(world, served):
    market = world.d.marketplace
    assert len(served) == 4
    np.testing.assert_allclose(
        [o["probability"] for o in served], [o["plaintext"] for o in served], rtol=0, atol=1e-4
    )
    for o in served:
        assert RequestStatus(market.requestStatus(o["request_id"])) is RequestStatus.FULFILLED
        logs = world.port.logs(market, "Fulfilled", requestId=o["request_id"])
        assert [str(g["args"]["outputCid"]) for g in logs] == [o["output_cid"]]
    assert world.d.suite.splitter.totals()["received"] == sum(o["fee"] for o in served)


def test_serve_inference_rerun_sends_nothing(world, scenario, served):
    before = len(sent_transactions())
    again = serve_requests(
        config=scenario, port=world.port, storage=world.storage, workdir=world.work, count=4
    )
    assert [o["request_id"] for o in again] == [o["request_id"] for o in served]
    assert len(sent_transactions()) == before


def test_distribute_revenue_releases_treasuries_and_claims(world, scenario, served, distributed):
    splitter = world.d.suite.splitter
    received, platform_paid, treasury_paid = splitter.totals()
    assert received == sum(o["fee"] for o in served)
    assert tuple(splitter.accrued()) == (0, 0)
    assert distributed["released"] == {"platform": platform_paid, "treasury": treasury_paid}
    assert platform_paid == received * scenario.revenue.platform_bps // 10_000
    # SBGT pool 1 (version 1) is still open: it accrues, claimable once it is over
    assert all(v == 0 for v in distributed["sbgt"].values())
    assert sum(splitter.claimableSBGT(1, world.roles.account(n)) for n in distributed["sbgt"]) > 0
    claimed = sum(distributed["sbgt"].values()) + sum(distributed["sdt"].values())
    assert 0 < claimed <= received - platform_paid - treasury_paid
    for name, amount in distributed["sdt"].items():
        acct = world.roles.account(name)
        assert amount > 0 and splitter.claimableSDT(acct) == 0
    before = len(sent_transactions())
    assert distribute_revenue(port=world.port, backers=list(scenario.backers)) == distributed
    assert len(sent_transactions()) == before


def test_fork_records_lineage_and_the_retired_parent_stops_sales(world, scenario, round1, forked):
    out, txs = forked
    parent = world.d.suite.subdao
    ev = _events(txs, "Forked")
    assert len(ev) == 1 and ev[0]["child"] == out.child and ev[0]["parentModelVersion"] == 1
    child = brownie.project.get_loaded_projects()[0].SubDAO.at(out.child)
    assert tuple(child.lineage()) == (parent.address, 1)
    assert SubDAOState(child.state()) is SubDAOState.CROWDFUNDING  # a new crowdfund
    assert child.rfmId() == world.d.rfm_id
    assert out.parent_model_version == 1 and out.parent == parent.address
    assert SubDAOState(parent.state()) is SubDAOState.RETIRED and out.parent_state == "Retired"
    assert _events(txs, "StateChanged")[-1]["next"] == SubDAOState.RETIRED
    lid = world.port.listing_id()
    user = world.roles.account("external-0")
    with brownie.reverts(custom_error("MarketListingRetired", lid)):
        world.d.marketplace.requestInference(lid, "bafy-after-retire", 10**30, {"from": user})
    assert out.domain == scenario.rfm.fork_domain


def test_retirement_ends_the_pool_and_distribute_pays_the_sbgt_side(world, scenario, forked):
    splitter = world.d.suite.splitter
    assert splitter.retired()
    owed = {
        n: int(splitter.claimableSBGT(1, world.roles.account(n))) for n in world.roles.hospitals
    }
    assert sum(owed.values()) > 0 and splitter.currentPoolId() == 1 and splitter.poolOver(1)
    out = distribute_revenue(port=world.port, backers=list(scenario.backers))
    assert out["sbgt"] == owed  # the claims of pool 1, read back from the events
    assert all(splitter.claimableSBGT(1, world.roles.account(n)) == 0 for n in owed)
    before = len(sent_transactions())
    assert distribute_revenue(port=world.port, backers=list(scenario.backers)) == out
    assert len(sent_transactions()) == before


def test_fork_and_retire_rerun_reconciles_from_chain_and_sends_nothing(world, scenario, forked):
    out, _ = forked
    before = len(sent_transactions())
    world.port.fork_and_retire(domain=scenario.rfm.fork_domain)
    assert world.port.fork() == out
    assert len(sent_transactions()) == before


def test_a_retired_subdao_refuses_a_new_round_before_any_transaction(world, scenario, forked):
    before = len(sent_transactions())
    with pytest.raises(ChainError, match="is Retired: a training round needs"):
        run_one_round(config=scenario, port=world.port, storage=world.storage, workdir=world.work)
    with pytest.raises(ChainError, match="is Retired: paid inference needs"):
        serve_requests(
            config=scenario, port=world.port, storage=world.storage, workdir=world.work, count=1
        )
    assert len(sent_transactions()) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"domain": None}, "domain"),
        ({"min_validators": "three"}, "min_validators"),
        ({"metric_threshold": 85}, "metric_threshold"),
        ({"crowdfund_goal": 0}, "crowdfund_goal"),
        ({"model_class": "x" * 33}, "model_class"),
        ({"quorum_bps": 20_000}, "quorum_bps"),
    ],
)
def test_bad_rfm_spec_names_the_field(change, field):
    spec = json.loads(SPEC.read_text())
    spec.update(change)
    if change.get("domain", 1) is None:
        del spec["domain"]
    with pytest.raises(ConfigError) as info:
        parse_rfm_spec(spec)
    assert info.value.field == field


def test_bad_step_inputs_name_the_problem(world, scenario, tmp_path):
    bad = tmp_path / "spec.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError) as info:
        load_rfm_spec(bad)
    assert info.value.field == "<file>"
    document = json.loads(world.path.read_text())
    del document["market"]["Marketplace"]
    partial = tmp_path / "deployment.json"
    partial.write_text(json.dumps(document))
    with pytest.raises(ConfigError) as info:
        read_deployment(partial)
    assert info.value.field == "market.Marketplace"
    with pytest.raises(ConfigError) as info:
        read_deployment(tmp_path / "absent.json")
    assert info.value.field == "<deployment>"
    before = len(sent_transactions())
    with pytest.raises(ConfigError) as info:
        serve_requests(
            config=scenario, port=world.port, storage=world.storage, workdir=tmp_path, count=0
        )
    assert info.value.field == "count"
    assert len(sent_transactions()) == before
