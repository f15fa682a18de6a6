"""BountyPool: funding, per-round release pool/roundsLeft, φ-weighted claims, slashed inflow,
dust sweep and the unspent-pool return on retirement (000 §3, §4.1; 003 Algorithm 2)."""

import brownie
import pytest

from tests.fixtures.market import STATE_RETIRED, plain
from tests.helpers import custom_error


@pytest.fixture
def funders(bounty_pool, usd, pharma, platform_treasury):
    for f in (pharma, platform_treasury):
        usd.mint(f, 10**9, {"from": f})
        usd.approve(bounty_pool, 2**256 - 1, {"from": f})
    return pharma, platform_treasury


@pytest.fixture
def funded(bounty_pool, funders):
    pharma, _ = funders
    tx = bounty_pool.fund(90_000, 3, {"from": pharma})
    assert plain(tx.events["Funded"].values()) == (pharma.address, 90_000, 90_000, 3)
    return bounty_pool


@pytest.fixture
def round1(tsubdao, deployer, hospitals):
    tsubdao.acceptRound(1, hospitals[:3], [3, 2, 1], {"from": deployer})
    return 1


def test_fund_guards(bounty_pool, funders, outsider):
    with brownie.reverts(custom_error("BountyUnauthorized", outsider)):
        bounty_pool.fund(1, 1, {"from": outsider})
    with brownie.reverts(custom_error("BountyZeroAmount")):
        bounty_pool.fund(0, 1, {"from": funders[0]})


def test_release_pays_round_contributors_by_phi(funded, round1, usd, hospitals, outsider):
    pool = funded
    tx = pool.releaseRound(round1, {"from": outsider})
    assert plain(tx.events["RoundReleased"].values()) == (1, 1, 30_000, 2)
    assert plain(pool.pool()) == (60_000, 2)
    assert [pool.claimable(1, h) for h in hospitals[:3]] == [15_000, 10_000, 5_000]
    tx = pool.claim([1], {"from": hospitals[1]})
    assert plain(tx.events["BountyClaimed"].values()) == (hospitals[1].address, 1, 10_000)
    assert usd.balanceOf(hospitals[1]) == 10_000
    with brownie.reverts(custom_error("BountyNothingToClaim", hospitals[1])):
        pool.claim([1], {"from": hospitals[1]})
    with brownie.reverts(custom_error("BountyRoundReleased", 1)):
        pool.releaseRound(round1, {"from": outsider})


def test_release_needs_an_accepted_scored_round(funded, tsubdao, deployer, hospitals, outsider):
    pool = funded
    with brownie.reverts(custom_error("BountyRoundNotAccepted", 5, 0)):
        pool.releaseRound(5, {"from": outsider})
    tsubdao.acceptRound(2, hospitals[:2], [0, 0], {"from": deployer})
    with brownie.reverts(custom_error("BountyNoScores", 2)):
        pool.releaseRound(2, {"from": outsider})
    tsubdao.acceptRound(3, hospitals[:2], [1, 1], {"from": deployer})
    tsubdao.rejectRound(3, {"from": deployer})
    with brownie.reverts(custom_error("BountyRoundNotAccepted", 3, 4)):
        pool.releaseRound(3, {"from": outsider})


def test_rounds_run_out(bounty_pool, funders, tsubdao, deployer, hospitals, outsider):
    bounty_pool.fund(10, 1, {"from": funders[0]})
    tsubdao.acceptRound(1, hospitals[:1], [1], {"from": deployer})
    tsubdao.acceptRound(2, hospitals[:1], [1], {"from": deployer})
    assert bounty_pool.releaseRound(1, {"from": outsider}).return_value == 10
    with brownie.reverts(custom_error("BountyNoRoundsLeft")):
        bounty_pool.releaseRound(2, {"from": outsider})


def test_slashed_collateral_joins_the_pool(funded, usd, deployer, outsider):
    usd.mint(funded, 1_234, {"from": deployer})  # e.g. TrainingRounds sending a slash
    tx = funded.sync({"from": outsider})
    assert plain(tx.events["SlashInflow"].values()) == (1_234, 91_234)
    assert funded.accounted() == usd.balanceOf(funded)
    with brownie.reverts(custom_error("BountyZeroAmount")):
        funded.sync({"from": outsider})


def test_unsynced_inflow_is_booked_to_the_pool_not_the_next_funder(
    funded, usd, deployer, platform_treasury, pharma
):
    usd.mint(funded, 1_234, {"from": deployer})  # a slash arrives; nobody called sync
    tx = funded.fund(10_000, 0, {"from": platform_treasury})
    assert funded.fundedBy(platform_treasury) == 10_000 and funded.fundedBy(pharma) == 90_000
    assert plain(tx.events["Funded"].values()) == (platform_treasury.address, 10_000, 101_234, 3)
    assert tx.return_value == 10_000
    assert plain(tx.events["SlashInflow"].values()) == (1_234, 91_234)
    assert plain(funded.pool()) == (101_234, 3)
    assert funded.accounted() == usd.balanceOf(funded) == 101_234
    assert plain(funded.totals()) == (101_234, 0, 0)


def test_round_dust_returns_to_pool(funded, tsubdao, deployer, hospitals, outsider):
    tsubdao.acceptRound(1, hospitals[:3], [1, 1, 1], {"from": deployer})
    funded.fund(1, 0, {"from": tsubdao.requester()})  # pool 90_001, 3 rounds -> 30_000 released
    funded.releaseRound(1, {"from": outsider})
    tsubdao.acceptRound(2, hospitals[:3], [1, 1, 1], {"from": deployer})
    funded.releaseRound(2, {"from": outsider})  # 60_001 / 2 = 30_000
    funded.fund(2, 0, {"from": tsubdao.requester()})  # pool 30_003
    tsubdao.acceptRound(3, hospitals[:3], [1, 1, 1], {"from": deployer})
    funded.releaseRound(3, {"from": outsider})  # 30_003 over φ (1, 1, 1): 10_001 each, no dust
    tsubdao.acceptRound(4, hospitals[:3], [2, 2, 3], {"from": deployer})
    funded.fund(10, 1, {"from": tsubdao.requester()})
    funded.releaseRound(4, {"from": outsider})  # 10 over (2, 2, 3): 2 + 2 + 4 = 8, dust 2
    tx = funded.sweepRoundDust(4, {"from": outsider})
    assert plain(tx.events["RoundDustSwept"].values()) == (4, 2)
    assert funded.pool()[0] == 2
    assert funded.roundBounty(4)["dust"] == 2
    assert [funded.claimable(4, h) for h in hospitals[:3]] == [2, 2, 4]
    with brownie.reverts(custom_error("BountyDustSwept", 4)):
        funded.sweepRoundDust(4, {"from": outsider})
    with brownie.reverts(custom_error("BountyUnknownRound", 9)):
        funded.sweepRoundDust(9, {"from": outsider})


def test_unspent_pool_returns_to_funders_on_retirement(
    bounty_pool, funders, tsubdao, deployer, usd, outsider
):
    pharma, treasury = funders
    bounty_pool.fund(20_000, 4, {"from": pharma})
    bounty_pool.fund(10_001, 0, {"from": treasury})
    with brownie.reverts(custom_error("BountyNotRetired", 3)):
        bounty_pool.close({"from": outsider})
    tsubdao.setState(STATE_RETIRED, {"from": deployer})
    tx = bounty_pool.close({"from": outsider})
    # pro rata to funding; the platform treasury takes the rounding remainder
    assert plain(tx.events["Closed"].values()) == (30_001, 20_000 * 30_001 // 30_001, 10_001)
    assert bounty_pool.creditOf(pharma) == 20_000 and bounty_pool.creditOf(treasury) == 10_001
    with brownie.reverts(custom_error("BountyClosed")):
        bounty_pool.close({"from": outsider})
    with brownie.reverts(custom_error("BountyClosed")):
        bounty_pool.fund(1, 1, {"from": pharma})
    before = usd.balanceOf(pharma)
    tx = bounty_pool.withdraw(pharma, {"from": outsider})
    assert plain(tx.events["Withdrawn"].values()) == (pharma.address, 20_000)
    assert usd.balanceOf(pharma) - before == 20_000
    with brownie.reverts(custom_error("BountyNothingToClaim", pharma)):
        bounty_pool.withdraw(pharma, {"from": outsider})
