"""The whole RFM lifecycle on Anvil: the pharma/hospitals scenario of ``configs/breast-cancer.yaml``
run once per module through :func:`flai.pipeline.run_lifecycle` over the port
:func:`flai.chain.open_lifecycle` builds (real contracts, real IPFS node, real FL/sMPC),
then checked against the chain.

The fault test runs the lifecycle script in a real subprocess (``flai run``, handed
this Anvil), kills it with the pipeline's ``FLAI_PIPELINE_FAULT`` hook right after the last
update CID of round 2 is committed (before its record and before any score), reruns it and
compares the final state with the uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import brownie
import numpy as np
import pytest
import yaml
from brownie import web3

from flai.chain import (
    BrownieChainPort,
    ChainError,
    GasMeter,
    MemberStatus,
    RequestStatus,
    RevocationReason,
    Round,
    RoundStatus,
    SubDAOState,
    check_funded,
    lifecycle_roles,
    load_deployment,
    open_lifecycle,
    read_deployment,
)
from flai.chain.runtime import CHAIN_RPC_ENV
from flai.fl import LogisticModel
from flai.pipeline import run_lifecycle
from flai.pipeline.config import load_config, parse_config
from flai.fl.consensus import stake_weighted_median
from flai.pipeline.errors import ConfigError, StorageUnavailableError
from flai.pipeline.revenue import split_revenue
from flai.storage import IpfsHttpStorage, IpfsNode, Storage, import_bytes
from flai.pipeline.model_release import load_model
from tests.offchain.pipeline.approx import assert_same_run

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "breast-cancer.yaml"
WAD = 10**18


def _lifecycle(config, accounts, storage, workdir):
    """The chain side (deploy or find, build the port) then the whole lifecycle."""
    port = open_lifecycle(
        config=config,
        accounts=accounts,
        storage=storage,
        workdir=workdir,
        network=brownie.network.show_active(),
    )
    return run_lifecycle(config=config, port=port, storage=storage, workdir=workdir), port


def _stored(workdir):
    return load_deployment(read_deployment(Path(workdir) / "deployment.json"))


@pytest.fixture(scope="module")
def scenario():
    return load_config(CONFIG)


_WORKDIR: dict[str, Path] = {}
"""The uninterrupted run's workdir (its parties' keys open the sealed models)."""


@pytest.fixture(scope="module")
def run(module_isolation, accounts, scenario, tmp_path_factory):
    """(result, deployment, storage, port) of one uninterrupted lifecycle on this chain."""
    work = tmp_path_factory.mktemp("lifecycle")
    _WORKDIR["run"] = work
    with IpfsNode(repo=work / "ipfs") as node:
        storage = IpfsHttpStorage(address=node.address)
        lifecycle, port = _lifecycle(scenario, list(accounts), storage, work)
        yield lifecycle.to_json(), _stored(work), storage, port
        storage.close()


def _roles(accounts, scenario):
    return lifecycle_roles(scenario, list(accounts))


def test_accepted_version_is_the_sealed_aggregate_refetched_from_ipfs(run, scenario):
    result, d, storage, _ = run
    rounds = d.suite.rounds
    version, _ = d.suite.subdao.modelVersion()
    assert version == scenario.rounds == result["model_version"]
    accepted = [r for r in result["rounds"] if r["phase"] == "accepted"]
    engine_cid = accepted[-1]["aggregate_cid"]
    assert rounds.currentModelCid() == engine_cid == result["model_cid"]
    for r in result["rounds"]:
        cid, metric = rounds.aggregate(r["round_id"])
        assert (cid, metric) == (r["aggregate_cid"], r["metric_fixed"])
        assert rounds.versionRound(r["round_id"]) == r["round_id"]  # one version per round
    data = storage.get(engine_cid)
    assert str(import_bytes(data).cid) == engine_cid  # the CID a Kubo `ipfs add` gives these bytes
    # the accepted model is sealed: a contributor opens it against the committed root
    model = load_model(data, fed=_federation(scenario), reader="st-mary")
    np.testing.assert_allclose(
        model.evaluate(_test_set(scenario, storage), "auc"),
        accepted[-1]["test_auc"],
        rtol=0,
        atol=1e-12,
    )
    assert all(r["update_cids"] for r in result["rounds"])
    for r in result["rounds"]:
        for name, cid in r["update_cids"].items():
            assert storage.has(cid), f"round {r['round_id']}: {name}'s update {cid} not on IPFS"


def _federation(scenario):
    from flai.pipeline.roles import KeyStore
    from flai.pipeline.scenario import build_setting

    return build_setting(scenario, keys=KeyStore(directory=_WORKDIR["run"] / "keys")).federation


def _test_set(scenario, storage):
    import tempfile

    from flai.pipeline.roles import KeyStore
    from flai.pipeline.scenario import build_setting

    with tempfile.TemporaryDirectory() as tmp:
        return build_setting(scenario, keys=KeyStore(directory=tmp)).test


def test_onchain_consensus_equals_offchain_scores_exactly(run, scenario):
    result, d, _, _ = run
    stakes = [v.stake * WAD for v in scenario.validators]
    for r in result["rounds"]:
        accounts_, phi, phi_sum = d.suite.rounds.consensus(r["round_id"])
        rows = [list(r["validator_scores"][v.name]) for v in scenario.validators]
        expected = stake_weighted_median(rows, stakes)
        assert [int(p) for p in phi] == list(expected) == list(r["consensus"])
        assert int(phi_sum) == sum(expected)
        roles = lifecycle_roles(scenario, list(brownie.accounts))
        assert [roles.name_of(a) for a in accounts_] == list(r["submitters"])
        for v in scenario.validators:
            stored = d.suite.rounds.scoresOf(r["round_id"], roles.account(v.name))
            assert [int(s) for s in stored] == list(r["validator_scores"][v.name])


def test_free_rider_near_zero_label_flipper_zero_flagged_and_slashed(run, accounts, scenario):
    result, d, _, _ = run
    roles = _roles(accounts, scenario)
    rounds = d.suite.rounds
    for r in result["rounds"]:
        phi = dict(zip(r["submitters"], r["consensus"]))
        assert phi["rogue-lab"] == 0
        assert phi["free-clinic"] <= WAD // 100  # φ ≈ 0
        assert "poisoner" in r["flags"]["rogue-lab"]
        assert "free_rider" in r["flags"]["free-clinic"]
        version = r["round_id"]
        assert rounds.versionScoreOf(version, roles.account("rogue-lab")) == 0
    # the technical chamber revoked the poisoner for malice: SBGT burned, collateral confiscated
    rogue = roles.account("rogue-lab")
    assert MemberStatus(rounds.contributor(rogue)["status"]) is MemberStatus.REVOKED
    assert d.suite.sbgt.pointsOf(rogue) == 0
    logs = (
        web3.eth.contract(address=rounds.address, abi=rounds.abi)
        .events.ContributorRevoked()
        .get_logs(from_block=d.start_block)
    )
    assert [
        (l["args"]["account"], l["args"]["reason"], l["args"]["collateralSlashed"]) for l in logs
    ] == [(rogue.address, RevocationReason.MALICE, 10 * WAD)]
    assert result["revoked"] == {"rogue-lab": 10 * WAD}
    # honest validators agreed: nobody deviated beyond tolerance
    assert rounds.totalSlashed() == 10 * WAD
    assert all(v["slashed"] == 0 for v in result["validators"].values())


def rounds_share(d, version, acct):
    """φ of ``acct`` in ``version`` as the splitter reads it (``versionShareOf``)."""
    return d.suite.rounds.versionShareOf(version, acct)[0]


def test_claimed_revenue_equals_eq_10_and_11(run, accounts, scenario):
    result, d, _, _ = run
    roles = _roles(accounts, scenario)
    splitter, sdt = d.suite.splitter, d.suite.sdt
    version, _ = d.suite.subdao.modelVersion()
    accounts_, phi, _ = d.suite.rounds.versionScores(version)
    phi_by_name = {roles.name_of(a): int(p) for a, p in zip(accounts_, phi)}
    holders = {n: int(sdt.balanceOf(roles.account(n))) for n in scenario.backers}
    received = int(splitter.totals()[0])
    assert received == result["revenue"]["total"] > 0
    expected = split_revenue(received, shares=scenario.revenue, phi=phi_by_name, sdt=holders)
    dust = len(phi_by_name) + len(holders)  # ≤ 1 wei per party
    claimed = result["revenue"]["claimed"]
    # the parent retired (fork_and_retire) before the claims: every SBGT pool was over
    assert splitter.retired()
    pools = range(1, int(splitter.currentPoolId()) + 1)
    assert len(pools) >= 1
    info = {p: splitter.epochPool(p) for p in pools}
    assert all(info[p]["version"] == version and splitter.poolOver(p) for p in pools)
    assert sum(int(info[p]["amount"]) for p in pools) == expected.sbgt_side
    logs = (
        web3.eth.contract(address=splitter.address, abi=splitter.abi)
        .events.SBGTRevenueClaimed()
        .get_logs(from_block=d.start_block)
    )
    for name, owed in expected.sbgt.items():
        acct = roles.account(name)
        got = sum(int(g["args"]["amount"]) for g in logs if g["args"]["account"] == acct)
        assert got == claimed["sbgt"][name]
        # eq. 10 exactly, pool by pool (φ as the splitter reads it, versionShareOf)
        share = int(rounds_share(d, version, acct))
        exact = {p: int(info[p]["amount"]) * share // int(info[p]["phiSum"]) for p in pools}
        assert got == sum(exact.values())
        assert owed - dust * len(pools) <= got <= owed
        for p in pools:
            assert exact[p] == 0 or splitter.hasClaimedSBGT(p, acct)
            assert splitter.claimableSBGT(p, acct) == 0
    for name, owed in expected.sdt.items():
        assert owed - dust <= claimed["sdt"][name] <= owed
        assert splitter.claimableSDT(roles.account(name)) == 0
    platform, treasury = splitter.accrued()
    assert int(platform) == expected.platform
    assert int(treasury) == expected.treasury


def test_secret_shared_inference_matches_plaintext_and_every_request_was_paid(
    run, accounts, scenario
):
    result, d, _, _ = run
    served = result["inference"]
    assert len(served) == scenario.inference.total >= 50
    probs = np.array([o["probability"] for o in served])
    np.testing.assert_allclose(probs, [o["plaintext"] for o in served], rtol=0, atol=1e-4)
    market = d.marketplace
    by_tier = {}
    for o in served:
        assert RequestStatus(market.requestStatus(o["request_id"])) is RequestStatus.FULFILLED
        by_tier[o["tier"]] = by_tier.get(o["tier"], 0) + 1
    assert by_tier == {
        "external": scenario.inference.external,
        "requester": scenario.inference.requester,
        "member": scenario.inference.member,
    }
    fees = sum(o["fee"] for o in served)
    assert fees == result["revenue"]["total"]
    fa = result["analytics"]
    assert RequestStatus(market.requestStatus(fa["request_id"])) is RequestStatus.FULFILLED
    np.testing.assert_allclose(fa["mean"], result["analytics"]["plaintext_mean"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fa["variance"], result["analytics"]["plaintext_variance"], rtol=1e-4)


def _bad_config(tmp_path, **changes):
    raw = yaml.safe_load(CONFIG.read_text())
    for key, value in changes.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"rounds": None}, "rounds"),
        ({"seed": "eleven"}, "seed"),
        ({"network": "ropsten"}, "network"),
    ],
)
def test_bad_config_names_the_field(tmp_path, changes, field):
    with pytest.raises(ConfigError) as err:
        load_config(_bad_config(tmp_path, **changes))
    assert err.value.field == field
    assert field in str(err.value)


def test_unfunded_account_is_refused_before_any_transaction(accounts, scenario, tmp_path):
    poor = brownie.accounts.add()
    parties = list(accounts)
    parties[3] = poor  # the first hospital
    block, nonce = web3.eth.block_number, accounts[0].nonce
    with pytest.raises(ChainError, match="st-mary") as err:
        open_lifecycle(
            config=scenario,
            accounts=parties,
            storage=None,
            workdir=tmp_path,
            network=brownie.network.show_active(),
        )
    assert "unfunded" in str(err.value)
    assert (web3.eth.block_number, accounts[0].nonce) == (block, nonce)
    check_funded(_roles(accounts, scenario))  # the real parties are funded


def test_unknown_backer_is_refused_before_anything_runs():
    raw = yaml.safe_load(CONFIG.read_text())
    raw["backers"]["nobody"] = 5
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    assert info.value.field == "backers.nobody"


def _lifecycle_subprocess(workdir, fault=None):
    """``flai run scripts/rfm_lifecycle.py`` in a child process, on this suite's chain."""
    env = dict(os.environ)
    env.pop("FLAI_PIPELINE_FAULT", None)
    if fault:
        env["FLAI_PIPELINE_FAULT"] = fault
    env[CHAIN_RPC_ENV] = web3.provider.endpoint_uri
    flai_cli = Path(sys.executable).with_name("flai")
    return subprocess.run(
        [str(flai_cli), "run", "scripts/rfm_lifecycle.py", "main", str(CONFIG), str(workdir)],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_killed_after_commits_before_scores_resumes_without_duplicates(run, scenario, tmp_path):
    result, _, _, _ = run
    work = tmp_path / "work"
    killed = _lifecycle_subprocess(work, fault="kill:effect:round/1/commit/rogue-lab")
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-6000:]
    # the chain holds every update CID of round 2 and no score
    d = _stored(work)
    roles = lifecycle_roles(scenario, list(brownie.accounts))
    assert d.suite.rounds.roundCount() == 2
    assert len(d.suite.rounds.submitters(2)) == len(scenario.hospitals)
    assert all(len(d.suite.rounds.scoresOf(2, roles.account(v))) == 0 for v in roles.validators)

    resumed = _lifecycle_subprocess(work)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = json.loads((work / "report" / "report.json").read_text())
    # no duplicate transaction: the same transactions per step as the uninterrupted run
    assert after["gas_calls"] == result["gas_calls"]
    rounds = d.suite.rounds
    for mine, ref in zip(after["rounds"], result["rounds"]):
        for key in ("round_id", "submitters", "phase", "flags"):
            assert mine[key] == ref[key], key
        # secure scoring truncates on fresh shares: φ and what follows from it agree to ~1e-5
        for key in ("consensus", "aggregate_cid", "metric_fixed"):
            assert_same_run(mine[key], ref[key], path=key)
        logs = (
            web3.eth.contract(address=rounds.address, abi=rounds.abi)
            .events.UpdateCommitted()
            .get_logs(from_block=d.start_block, argument_filters={"roundId": mine["round_id"]})
        )
        assert len(logs) == len(scenario.hospitals)
    # identical final state
    for key in ("model_version", "ranks", "revoked"):
        assert after[key] == result[key], key
    for key in ("model_cid", "points"):
        assert_same_run(after[key], result[key], path=key)
    assert_same_run(after["revenue"]["claimed"], result["revenue"]["claimed"])
    assert after["revenue"]["total"] == result["revenue"]["total"]
    assert rounds.roundCount() == scenario.rounds
    assert d.marketplace.listing(1)["nonce"] == 1  # the FA listing sold exactly one query (nonce)


def test_a_fresh_port_reconciles_every_write_from_chain_state_and_events(run, accounts, scenario):
    """What a resumed orchestrator sees: a new BrownieChainPort (no cache) reads back every
    write of the run from contract state or events."""
    from flai.pipeline.ports import ChainPort, RoundPhase

    result, d, _, _ = run
    port = BrownieChainPort(
        deployment=d,
        roles=_roles(accounts, scenario),
        gas=GasMeter(),
        config=scenario,
        licence_cid="unused",
    )
    assert isinstance(port, ChainPort)
    assert port.round_count() == scenario.rounds
    for r in result["rounds"]:
        rid = r["round_id"]
        assert port.round_phase(rid) is RoundPhase.ACCEPTED
        assert {n: port.update_cid(rid, n) for n in r["submitters"]} == r["update_cids"]
        assert port.aggregate(rid) == (r["aggregate_cid"], r["metric_fixed"])
        assert port.consensus(rid) == (tuple(r["submitters"]), tuple(r["consensus"]))
        for v in scenario.validators:
            assert port.scores_of(rid, v.name) == tuple(r["validator_scores"][v.name])
            assert port.aggregate_vote(rid, v.name) is r["votes"][v.name]
    assert port.round_phase(scenario.rounds + 1) is RoundPhase.NONE
    assert port.model_version() == (result["model_version"], result["model_cid"])
    assert list(port.member_ranks()) == result["ranks"]
    for o in result["inference"][:5]:
        found = port.find_request(user=o["user"], input_cid=o["input_cid"])
        assert (found.request_id, found.fee, found.tier.value, found.output_cid) == (
            o["request_id"],
            o["fee"],
            o["tier"],
            o["output_cid"],
        )
    assert port.find_request(user="external-0", input_cid="bafy-never-requested") is None
    assert port.slashed() == {v.name: 0 for v in scenario.validators}
    assert port.validator_stakes() == {v.name: v.stake * WAD for v in scenario.validators}
    assert port.gas.entries == []  # reads only


def test_a_compute_node_down_does_not_stop_the_round(run, scenario):
    result, d, _, _ = run
    down = scenario.compute.down_in(1)
    assert down == (2,)
    r = result["rounds"][1]
    assert 2 not in r["nodes_used"] and len(r["nodes_used"]) >= scenario.compute.threshold + 1
    assert r["phase"] == "accepted"
    assert Round.from_tuple(d.suite.rounds.round(r["round_id"])).status is RoundStatus.ACCEPTED


def test_a_request_paid_before_a_crash_is_fulfilled_by_a_fresh_port(run, accounts, scenario):
    """Crash between paying and fulfilling: the resumed port rebuilds the request record
    from the ``Requested`` event and fulfils it once; the fee reaches the splitter. (On the
    FA listing: the lifecycle ends by retiring the FL SubDAO, whose listing stops sales.)"""
    _, d, _, _ = run

    def port():
        return BrownieChainPort(
            deployment=d,
            roles=_roles(accounts, scenario),
            gas=GasMeter(),
            config=scenario,
            licence_cid="unused",
        )

    before = d.analytics.splitter.totals()["received"]
    paid = port().request_query(
        user="external-1", query_cid="bafy-crash-test-input", price=scenario.analytics.price
    )
    assert paid.fee == 10 * scenario.analytics.price and paid.output_cid is None
    resumed = port()
    found = resumed.find_request(user="external-1", input_cid="bafy-crash-test-input")
    assert found == paid
    resumed.fulfil(request_id=found.request_id, output_cid="bafy-crash-test-output")
    assert RequestStatus(d.marketplace.requestStatus(found.request_id)) is RequestStatus.FULFILLED
    assert port().request(found.request_id).output_cid == "bafy-crash-test-output"
    assert d.analytics.splitter.totals()["received"] - before == paid.fee
    assert [s for s, _ in resumed.gas.entries] == ["market/fulfil query"]


def test_the_lifecycle_ends_with_a_fork_recording_lineage_and_the_parent_retired(
    run, accounts, scenario
):
    from tests.helpers import custom_error

    result, d, _, port = run
    fork = result["fork"]
    parent = d.suite.subdao
    child = brownie.project.get_loaded_projects()[0].SubDAO.at(fork["child"])
    assert tuple(child.lineage()) == (parent.address, result["model_version"])
    assert fork["parent_model_version"] == result["model_version"]
    assert fork["parent"] == parent.address and fork["domain"] == scenario.rfm.fork_domain
    assert SubDAOState(parent.state()) is SubDAOState.RETIRED and fork["parent_state"] == "Retired"
    assert result["gas_calls"]["technical/fork+retire/execute"] == 1
    lid = port.listing_id()
    with brownie.reverts(custom_error("MarketListingRetired", lid)):
        d.marketplace.requestInference(
            lid,
            "bafy-after-retire",
            10**30,
            {"from": _roles(accounts, scenario).account("external-0")},
        )


class _StopNodeAfterCommits(Storage):
    """Delegating storage that stops the IPFS node at its first call made once every
    hospital's update CID of round ``round_id`` is committed on chain (read from the
    deployment the lifecycle wrote to ``workdir``): the node dies between the commits and
    the validators' fetches, mid-round."""

    def __init__(self, inner: Storage, node: IpfsNode, workdir: Path, round_id: int, n: int):
        self.inner, self.node, self.workdir = inner, node, workdir
        self.round_id, self.n, self.rounds, self.stopped = round_id, n, None, False

    def _maybe_stop(self) -> None:
        if self.stopped:
            return
        if self.rounds is None:
            stored = self.workdir / "deployment.json"
            if not stored.exists():
                return
            suite = _stored(self.workdir).suite  # None while the set-up is under way
            if suite is None:
                return
            self.rounds = suite.rounds
        if (
            self.rounds.roundCount() >= self.round_id
            and len(self.rounds.submitters(self.round_id)) == self.n
        ):
            self.node.stop()
            self.stopped = True

    def put_stream(self, source, *, pin=True):
        self._maybe_stop()
        return self.inner.put_stream(source, pin=pin)

    def get_stream(self, cid) -> Iterator[bytes]:
        self._maybe_stop()
        return self.inner.get_stream(cid)

    def has(self, cid):
        self._maybe_stop()
        return self.inner.has(cid)

    def pin(self, cid):
        self._maybe_stop()
        self.inner.pin(cid)

    def unpin(self, cid):
        self._maybe_stop()
        self.inner.unpin(cid)

    def pins(self):
        self._maybe_stop()
        return self.inner.pins()


def test_ipfs_stopped_mid_round_then_rerun_after_restart_completes(
    run, accounts, scenario, tmp_path
):
    """IPFS node stopped mid-round (round 2's update CIDs committed on chain, no
    score yet) → StorageUnavailableError naming the node's address; restart the node on the
    same repository (new port), rerun with the same workdir → every round accepted, the
    same transactions per step as the uninterrupted run (none posted twice)."""
    result, _, _, _ = run
    repo, work = tmp_path / "ipfs", tmp_path / "work"
    node = IpfsNode(repo=repo).start()
    address = node.address
    client = IpfsHttpStorage(address=address, timeout=5)
    hospitals = len(scenario.hospitals)
    try:
        with pytest.raises(StorageUnavailableError) as info:
            _lifecycle(
                scenario,
                list(accounts),
                _StopNodeAfterCommits(client, node, work, round_id=2, n=hospitals),
                work,
            )
    finally:
        client.close()
        node.stop()
    err = info.value
    assert err.address == address and address in str(err)
    assert err.step.startswith("round/1/")  # round 1 (id 1) done, round id 2 interrupted
    d = _stored(work)
    rounds = d.suite.rounds
    roles = lifecycle_roles(scenario, list(accounts))
    assert rounds.roundCount() == 2 and len(rounds.submitters(2)) == hospitals
    assert all(len(rounds.scoresOf(2, roles.account(v))) == 0 for v in roles.validators)

    restarted = IpfsNode(repo=repo).start()  # same repository, new ephemeral port
    try:
        with IpfsHttpStorage(address=restarted.address, timeout=5) as storage:
            after = _lifecycle(scenario, list(accounts), storage, work)[0].to_json()
    finally:
        restarted.stop()
    assert [r["phase"] for r in after["rounds"]] == ["accepted"] * scenario.rounds
    assert rounds.roundCount() == scenario.rounds
    assert after["gas_calls"] == result["gas_calls"]  # no transaction sent twice
    contract = web3.eth.contract(address=rounds.address, abi=rounds.abi)
    for r in after["rounds"]:
        logs = contract.events.UpdateCommitted().get_logs(
            from_block=d.start_block, argument_filters={"roundId": r["round_id"]}
        )
        assert len(logs) == hospitals
        assert Round.from_tuple(rounds.round(r["round_id"])).status is RoundStatus.ACCEPTED
    for key in ("model_version", "ranks", "revoked"):
        assert after[key] == result[key], key
    # secure scoring truncates on fresh shares: φ and what follows from it agree to ~1e-5
    for key in ("model_cid", "points"):
        assert_same_run(after[key], result[key], path=key)
    assert after["revenue"]["total"] == result["revenue"]["total"]
