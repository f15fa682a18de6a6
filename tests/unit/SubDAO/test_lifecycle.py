"""SubDAO lifecycle: hooks, retire, fork lineage, module registry, training config."""

import brownie
from brownie import chain, web3

from flai.chain import load_subdao_suite
from tests.fixtures.subdao import DOMAIN, govern, plain, rfm_params
from tests.helpers import bytes32, custom_error

WAD = 10**18
TRAINING, DEPLOYED, RETIRED = 2, 3, 4


def _bits(*states):
    return sum(1 << s for s in states).to_bytes(32, "big")


def _accept_one_round(s, pharma, hospitals, validators, cid="bafyv1"):
    deadline = chain.time() + 600
    rid = s.rounds.openRound("bafyg", deadline, {"from": pharma}).events["RoundOpened"]["roundId"]
    s.rounds.commitUpdate(rid, "u0", {"from": hospitals[0]})
    chain.sleep(700)
    chain.mine()
    for v in validators:
        s.rounds.submitScores(rid, [9 * 10**17], {"from": v})
    s.rounds.finalizeRound(rid, cid, 900_000, {"from": pharma})
    govern(
        s.technical,
        [s.rounds],
        [s.rounds.acceptRound.encode_input(rid)],
        hospitals[:3],
        f"accept {rid}",
    )
    return rid


def test_hooks_only_from_rounds(launched_suite, outsider):
    s = launched_suite
    for fn in (s.subdao.onLaunched, s.subdao.onRoundOpened, s.subdao.onVersionRejected):
        with brownie.reverts(custom_error("SubDAOUnauthorized", outsider)):
            fn({"from": outsider})
    with brownie.reverts(custom_error("SubDAOUnauthorized", outsider)):
        s.subdao.onVersionAccepted(1, {"from": outsider})


def test_training_deployed_cycle(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    assert s.subdao.state() == TRAINING
    _accept_one_round(s, pharma, hospitals, validators)
    assert s.subdao.state() == DEPLOYED
    tx = s.rounds.openRound("bafyv1", chain.time() + 600, {"from": pharma})
    assert (
        tx.events["StateChanged"]["previous"] == DEPLOYED
        and tx.events["StateChanged"]["next"] == TRAINING
    )


def test_retire_stops_new_rounds(launched_suite, pharma, hospitals, outsider):
    s = launched_suite
    with brownie.reverts(custom_error("SubDAOUnauthorized", outsider)):
        s.subdao.retire({"from": outsider})
    tx = govern(s.technical, [s.subdao], [s.subdao.retire.encode_input()], hospitals[:3], "retire")
    assert (
        tx.events["StateChanged"]["previous"] == TRAINING
        and tx.events["StateChanged"]["next"] == RETIRED
    )
    # the revenue splitter learns that the last inference epoch is over
    assert "RetirementRecorded" in tx.events and s.splitter.retired()
    with brownie.reverts(custom_error("SplitterUnauthorized", outsider)):
        s.splitter.onSubDAORetired({"from": outsider})
    with brownie.reverts(custom_error("SubDAOInvalidState", RETIRED, _bits(TRAINING, DEPLOYED))):
        s.rounds.openRound("bafyg", chain.time() + 600, {"from": pharma})
    # whitelisted members get their FLAI back once retired
    tx = s.rounds.withdrawCollateral({"from": hospitals[0]})
    assert tx.events["CollateralWithdrawn"]["amount"] == 10 * WAD


def test_fork_records_lineage(
    launched_suite, subdao_factory, pharma, hospitals, validators, pay_token
):
    s = launched_suite
    _accept_one_round(s, pharma, hospitals, validators)
    child_params = rfm_params(
        pay_token, chain.time() + 86_400, modelClass=bytes32("subtype-classifier")
    )
    with brownie.reverts(custom_error("SubDAOUnauthorized", pharma)):
        s.subdao.fork(child_params, {"from": pharma})
    tx = govern(
        s.technical, [s.subdao], [s.subdao.fork.encode_input(child_params)], hospitals[:3], "fork"
    )
    ev = tx.events["Forked"]
    child_addr = ev["child"]
    assert ev["parentModelVersion"] == 1
    created = tx.events["SubDAOCreated"]
    assert created["subDAO"] == child_addr and created["parent"] == s.subdao
    assert created["parentModelVersion"] == 1 and created["rfmId"] == 1
    child = load_subdao_suite(child_addr)
    assert plain(child.subdao.lineage()) == [s.subdao.address, 1]
    assert child.subdao.requester() == pharma and child.subdao.state() == 0
    f = subdao_factory.factory
    assert f.isSubDAO(child_addr) and f.subDAOOf(1) == s.subdao
    assert child_addr in f.subDAOsByDomain(DOMAIN)
    assert f.subDAOsByModelClass(bytes32("subtype-classifier")) == [child_addr]
    assert plain(s.subdao.lineage()) == [brownie.ZERO_ADDRESS, 0]


def test_module_registry(launched_suite, hospitals, deployer):
    from brownie import RecordingSDTHook

    s = launched_suite
    # the revenue splitter is wired at creation (and is the SDT's hook): a fixed slot
    assert s.subdao.module(5) == s.splitter and s.sdt.balanceHook() == s.splitter
    market = RecordingSDTHook.deploy({"from": deployer})  # any contract stands in for it
    with brownie.reverts(custom_error("SubDAOUnauthorized", hospitals[0])):
        s.subdao.setModule(6, market, {"from": hospitals[0]})
    tx = govern(
        s.technical,
        [s.subdao],
        [s.subdao.setModule.encode_input(6, market)],
        hospitals[:3],
        "marketplace slot",
    )
    assert tx.events["ModuleSet"]["module"] == 6 and tx.events["ModuleSet"]["module_"] == market
    assert s.subdao.module(6) == market
    from tests.fixtures.subdao import execute, vote_through

    for slot in (0, 5, 6):  # core, splitter (fixed since creation), marketplace (set once)
        bad = [s.subdao.setModule.encode_input(slot, market)]
        vote_through(s.technical, [s.subdao], bad, hospitals[:3], f"slot {slot}")
        with brownie.reverts(custom_error("SubDAOModuleLocked", slot)):
            execute(s.technical, [s.subdao], bad, f"slot {slot}", hospitals[0])


def test_training_config(launched_suite, hospitals):
    s = launched_suite
    call = [s.subdao.setTrainingConfig.encode_input(bytes32("OMOP-CDM-5.4"), "bafyhyperparams")]
    assert s.technical.kindOf(call) == 0  # operational
    tx = govern(s.technical, [s.subdao], call, hospitals[:3], "config")
    ev = tx.events["TrainingConfigSet"]
    assert ev["configCid"] == "bafyhyperparams"
    ds, digest = s.subdao.trainingConfig()
    assert ds == "0x" + bytes32("OMOP-CDM-5.4").hex()
    assert digest == "0x" + web3.keccak(text="bafyhyperparams").hex().removeprefix("0x")
