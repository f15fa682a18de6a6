"""Reentrancy: a malicious ERC-20 hands control to a malicious receiver mid-transfer, which tries
to re-enter claim (splitter), refund and fulfil (marketplace). Each attempt must fail and the
attacker must end with exactly its share."""

import pytest
from brownie import chain
from eth_utils import keccak

from tests.fixtures.market import OUTPUT_CID, TIMEOUT, request_record

GUARD = keccak(text="ReentrancyGuardReentrantCall()")[:4]


@pytest.fixture
def retoken(MarketReentrantToken, deployer):
    return MarketReentrantToken.deploy({"from": deployer})


@pytest.fixture
def attacker(MarketAttacker, deployer):
    return MarketAttacker.deploy({"from": deployer})


def _assert_blocked(attacker):
    assert attacker.attempts() == 1
    assert not attacker.lastSucceeded()
    assert bytes(attacker.lastReturn())[:4] == GUARD


def test_reenter_claim_sdt(
    SDT,
    MarketTestSubDAO,
    retoken,
    attacker,
    market_cloner,
    deployer,
    pharma,
    sdt_minter,
    financial_chamber,
    platform_treasury,
    treasury_admin,
    backers,
):
    from flai.chain import deploy_revenue_splitter
    from tests.fixtures.market import EPOCH_LENGTH, SHARES

    impl = SDT.deploy({"from": deployer})
    tx = market_cloner.cloner.clone(
        impl, impl.initialize.encode_input(sdt_minter, 2**96 - 1), {"from": deployer}
    )
    sdt = SDT.at(tx.events["ModuleCloned"]["clone"])
    subdao = MarketTestSubDAO.deploy(pharma, retoken, {"from": deployer})
    subdao.setModule(1, sdt, {"from": deployer})
    subdao.setModule(3, financial_chamber, {"from": deployer})
    splitter = deploy_revenue_splitter(
        deployer=deployer,
        cloner=market_cloner,
        subdao=subdao,
        token=retoken,
        platform_treasury=platform_treasury,
        platform_admin=treasury_admin,
        shares=SHARES,
        epoch_length=EPOCH_LENGTH,
    )
    sdt.setBalanceHook(splitter, {"from": sdt_minter})
    sdt.mint(attacker, 1, {"from": sdt_minter})
    sdt.mint(backers[0], 3, {"from": sdt_minter})
    retoken.mint(deployer, 100_000, {"from": deployer})
    retoken.approve(splitter, 100_000, {"from": deployer})
    splitter.deposit(100_000, {"from": deployer})  # SDT side 30_000: attacker 7_500
    assert splitter.claimableSDT(attacker) == 7_500
    claim = splitter.claimSDT.encode_input()
    attacker.setReentry(splitter, claim, {"from": deployer})
    retoken.setCallbackTarget(attacker, {"from": deployer})
    tx = attacker.act(splitter, claim, {"from": deployer})
    _assert_blocked(attacker)
    assert retoken.balanceOf(attacker) == 7_500
    assert tx.events["SDTRevenueClaimed"]["amount"] == 7_500
    assert splitter.claimableSDT(attacker) == 0 and splitter.claimableSDT(backers[0]) == 22_500


def test_reenter_claim_sbgt(make_market, retoken, attacker, deployer, hospitals):
    subdao, splitter, _ = make_market(retoken)
    subdao.acceptRound(2, [attacker, hospitals[0]], [1, 3], {"from": deployer})  # epoch 2
    retoken.mint(deployer, 100_000, {"from": deployer})
    retoken.approve(splitter, 100_000, {"from": deployer})
    tx = splitter.deposit(100_000, {"from": deployer})  # SBGT pool 1 30_000: attacker 7_500
    assert tx.events["PoolOpened"]["poolId"] == 1 and tx.events["PoolOpened"]["version"] == 2
    subdao.acceptRound(3, [hospitals[0]], [1], {"from": deployer})  # version 3: pool 1 over
    claim = splitter.claimSBGT.encode_input([1])
    attacker.setReentry(splitter, claim, {"from": deployer})
    retoken.setCallbackTarget(attacker, {"from": deployer})
    attacker.act(splitter, claim, {"from": deployer})
    _assert_blocked(attacker)
    assert retoken.balanceOf(attacker) == 7_500
    assert splitter.hasClaimedSBGT(1, attacker) and splitter.claimableSBGT(1, attacker) == 0


def test_reenter_refund(make_market, marketplace, retoken, attacker, deployer):
    _, _, lid = make_market(retoken)
    retoken.mint(attacker, 10_000, {"from": deployer})
    attacker.approveToken(retoken, marketplace, 2**256 - 1, {"from": deployer})
    tx = attacker.act(
        marketplace,
        marketplace.requestInference.encode_input(lid, "cid", 10_000),
        {"from": deployer},
    )
    rid, rec = tx.events["Requested"]["requestId"], request_record(tx)
    chain.sleep(TIMEOUT + 1)
    refund = marketplace.refund.encode_input(rid, rec)
    attacker.setReentry(marketplace, refund, {"from": deployer})
    retoken.setCallbackTarget(attacker, {"from": deployer})
    attacker.act(marketplace, refund, {"from": deployer})
    _assert_blocked(attacker)
    assert retoken.balanceOf(attacker) == 10_000
    assert retoken.balanceOf(marketplace) == 0
    assert marketplace.requestStatus(rid) == 3


def test_reenter_fulfil(
    make_market, marketplace, retoken, attacker, deployer, technical_chamber, outsider
):
    _, splitter, lid = make_market(retoken)
    marketplace.setOperator(lid, attacker, {"from": technical_chamber})
    retoken.mint(outsider, 20_000, {"from": deployer})
    retoken.approve(marketplace, 2**256 - 1, {"from": outsider})
    tx = marketplace.requestInference(lid, "cid", 10_000, {"from": outsider})
    rid, rec = tx.events["Requested"]["requestId"], request_record(tx)
    fulfil = marketplace.fulfil.encode_input(rid, rec, OUTPUT_CID)
    attacker.setReentry(marketplace, fulfil, {"from": deployer})
    retoken.setCallbackTarget(attacker, {"from": deployer})
    tx = attacker.act(marketplace, fulfil, {"from": deployer})
    _assert_blocked(attacker)
    assert tx.events["RevenueReceived"]["amount"] == 10_000
    assert retoken.balanceOf(splitter) == 10_000 and retoken.balanceOf(marketplace) == 0
    assert retoken.balanceOf(attacker) == 0
