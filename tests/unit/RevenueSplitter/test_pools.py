"""RevenueSplitter SBGT side: time-sliced pools paid by φ (001 eq. 10, §3.4, §8.1).

A pool covers one model version and at most ``epochLength`` seconds of revenue; it is over
(claimable, dust sweepable) once its end time passed, its version was superseded or the
SubDAO retired.
"""

import brownie
import pytest
from brownie import chain

from tests.fixtures.market import EPOCH_LENGTH, SHARES, plain
from tests.helpers import custom_error

WAD = 10**18
PHI = [5 * 10**17, 3 * 10**17, 2 * 10**17]


@pytest.fixture
def payer(splitter, usd, backers):
    p = backers[0]
    usd.mint(p, 10**9 * WAD, {"from": p})
    usd.approve(splitter, 2**256 - 1, {"from": p})
    return p


@pytest.fixture
def scored(tsubdao, hospitals, deployer):
    """Model version 1 (inference epoch 1) with φ = 0.5, 0.3, 0.2 for three hospitals."""
    tsubdao.acceptRound(7, hospitals[:3], PHI, {"from": deployer})
    return hospitals[:3]


def _opened(tx, pool_id, version, epoch, phi_sum):
    ev = tx.events["PoolOpened"]
    assert plain(ev.values()) == plain(
        [pool_id, version, epoch, phi_sum, tx.timestamp + EPOCH_LENGTH]
    )
    return tx.timestamp + EPOCH_LENGTH


def test_zero_epoch_length_is_rejected(
    RevenueSplitter, market_cloner, tsubdao, usd, platform_treasury, treasury_admin, deployer
):
    impl = market_cloner.splitter_impl
    data = impl.initialize.encode_input(
        tsubdao, usd, platform_treasury, treasury_admin, SHARES.as_tuple(), 0
    )
    with brownie.reverts(custom_error("SplitterInvalidEpochLength", 0)):
        market_cloner.cloner.clone(impl, data, {"from": deployer})


def test_pool_opens_on_first_scored_deposit_and_ends_with_the_version(
    splitter, payer, scored, usd, tsubdao, deployer, hospitals
):
    assert splitter.epochLength() == EPOCH_LENGTH and splitter.currentPoolId() == 0
    tx = splitter.deposit(100_000, {"from": payer})
    ends = _opened(tx, 1, 1, 1, 10**18)
    ev = tx.events["RevenueReceived"]
    assert (ev["epoch"], ev["poolId"], ev["toSBGT"]) == (1, 1, 30_000)
    assert plain(splitter.epochPool(1)) == (30_000, 1, 10**18, ends, False)
    assert splitter.currentPoolId() == 1
    # the pool's mask is written when it opens: every member index unclaimed
    assert splitter.unclaimedMask(1) == 2**256 - 1
    assert [splitter.claimableSBGT(1, h) for h in scored] == [15_000, 9_000, 6_000]
    # open pool: claims and sweeps revert with its end time, nothing is listed as claimable
    assert not splitter.poolOver(1)
    with brownie.reverts(custom_error("SplitterPoolOpen", 1, ends)):
        splitter.claimSBGT([1], {"from": scored[1]})
    with brownie.reverts(custom_error("SplitterPoolOpen", 1, ends)):
        splitter.sweepEpochDust(1, {"from": scored[1]})
    assert plain(splitter.claimablePools(scored[1], 1, 1)) == ((), 0)
    tx = splitter.deposit(10_001, {"from": payer})  # SBGT 3_000 into the same pool
    assert tx.events["RevenueReceived"]["poolId"] == 1 and "PoolOpened" not in tx.events
    assert splitter.claimableSBGT(1, scored[1]) == 9_900
    tsubdao.acceptRound(8, scored, [1, 1, 1], {"from": deployer})  # version 2: pool 1 over
    assert splitter.poolOver(1)
    assert plain(splitter.claimablePools(scored[1], 0, 99)) == ((1,), 9_900)
    tx = splitter.claimSBGT([1], {"from": scored[1]})
    assert plain(tx.events["SBGTRevenueClaimed"].values()) == plain([scored[1], 1, 9_900])
    assert tx.return_value == 9_900 and usd.balanceOf(scored[1]) == 9_900
    assert splitter.hasClaimedSBGT(1, scored[1]) and not splitter.hasClaimedSBGT(1, scored[0])
    assert splitter.claimableSBGT(1, scored[1]) == 0
    assert splitter.unclaimedMask(1) == 2**256 - 1 - 2  # member index 1 cleared
    assert plain(splitter.claimablePools(scored[1], 1, 1)) == ((), 0)
    with brownie.reverts(custom_error("SplitterNothingToClaim", scored[1])):
        splitter.claimSBGT([1, 1], {"from": scored[1]})  # claimed once, duplicates skipped
    with brownie.reverts(custom_error("SplitterNothingToClaim", hospitals[4])):
        splitter.claimSBGT([1], {"from": hospitals[4]})  # no φ in version 1
    # new revenue opens pool 2 for version 2 (new inference epoch); pool 1 stays final
    tx = splitter.deposit(10_000, {"from": payer})
    ends2 = _opened(tx, 2, 2, 2, 3)
    assert tx.events["RevenueReceived"]["poolId"] == 2
    assert splitter.epochPool(1)["amount"] == 33_000
    with brownie.reverts(custom_error("SplitterPoolOpen", 2, ends2)):
        splitter.claimSBGT([1, 2], {"from": scored[0]})  # pool 2 is open
    with brownie.reverts(custom_error("SplitterUnknownPool", 9, 2)):
        splitter.claimSBGT([1, 9], {"from": scored[0]})
    with brownie.reverts(custom_error("SplitterUnknownPool", 0, 2)):
        splitter.claimSBGT([0], {"from": scored[0]})
    tx = splitter.claimSBGT([1], {"from": scored[0]})
    assert tx.return_value == 16_500
    assert plain(tx.events["SBGTRevenueClaimed"].values()) == plain([scored[0], 1, 16_500])


def test_pool_rolls_over_by_time_within_one_version(splitter, payer, scored, usd, tsubdao):
    tx = splitter.deposit(100_000, {"from": payer})  # pool 1: SBGT 30_000
    ends1 = _opened(tx, 1, 1, 1, 10**18)
    chain.sleep(EPOCH_LENGTH // 2)
    tx = splitter.deposit(1_000, {"from": payer})  # before the end: same pool, SBGT 300
    assert tx.timestamp < ends1 and tx.events["RevenueReceived"]["poolId"] == 1
    with brownie.reverts(custom_error("SplitterPoolOpen", 1, ends1)):
        splitter.claimSBGT([1], {"from": scored[0]})
    chain.sleep(EPOCH_LENGTH)
    chain.mine()
    # the end time passed: pool 1 is claimable without a new version or a new deposit
    assert splitter.poolOver(1) and splitter.currentPoolId() == 1
    assert plain(splitter.claimablePools(scored[2], 1, 5)) == ((1,), 6_060)
    tx = splitter.claimSBGT([1], {"from": scored[2]})
    assert plain(tx.events["SBGTRevenueClaimed"].values()) == plain([scored[2], 1, 6_060])
    # the next SBGT-side deposit opens pool 2 for the same version (epoch unchanged)
    tx = splitter.deposit(50_000, {"from": payer})  # SBGT 15_000
    ends2 = _opened(tx, 2, 1, 1, 10**18)
    assert (
        tx.events["RevenueReceived"]["poolId"] == 2 and tx.events["RevenueReceived"]["epoch"] == 1
    )
    assert splitter.epochPool(1)["amount"] == 30_300 and splitter.epochPool(2)["amount"] == 15_000
    with brownie.reverts(custom_error("SplitterPoolOpen", 2, ends2)):
        splitter.claimSBGT([2], {"from": scored[0]})
    chain.sleep(EPOCH_LENGTH + 1)
    tx = splitter.deposit(20_000, {"from": payer})  # pool 3, SBGT 6_000
    _opened(tx, 3, 1, 1, 10**18)
    assert splitter.poolOver(2) and not splitter.poolOver(3)
    # several finished pools in one claim, each eq. 10 exact
    assert plain(splitter.claimablePools(scored[0], 1, 3)) == ((1, 2), 15_150 + 7_500)
    tx = splitter.claimSBGT([1, 2], {"from": scored[0]})
    assert [plain(e.values()) for e in tx.events["SBGTRevenueClaimed"]] == [
        plain([scored[0], 1, 15_150]),
        plain([scored[0], 2, 7_500]),
    ]
    assert usd.balanceOf(scored[0]) == 22_650 and tx.return_value == 22_650
    # scored[2] claimed pool 1 before: only pool 2 is paid, pool 1 is skipped
    tx = splitter.claimSBGT([1, 2], {"from": scored[2]})
    assert tx.return_value == 3_000 and len(tx.events["SBGTRevenueClaimed"]) == 1
    assert usd.balanceOf(scored[2]) == 6_060 + 3_000


def test_unscored_version_opens_no_pool(splitter, payer, tsubdao, hospitals, deployer):
    tsubdao.acceptRound(1, hospitals[:2], [0, 0], {"from": deployer})  # Σφ = 0
    tx = splitter.deposit(10_000, {"from": payer})
    ev = tx.events["RevenueReceived"]
    assert (ev["poolId"], ev["toSBGT"], ev["toTreasury"]) == (0, 0, 1_000 + 3_000)
    assert "PoolOpened" not in tx.events and splitter.currentPoolId() == 0
    assert not splitter.poolOver(0)
    with brownie.reverts(custom_error("SplitterUnknownPool", 0, 0)):
        splitter.sweepEpochDust(0, {"from": payer})


def test_retirement_ends_the_last_pool(
    splitter, payer, scored, usd, tsubdao, deployer, outsider, hospitals
):
    tx = splitter.deposit(100_000, {"from": payer})  # pool 1: 30_000
    ends = _opened(tx, 1, 1, 1, 10**18)
    with brownie.reverts(custom_error("SplitterPoolOpen", 1, ends)):
        splitter.claimSBGT([1], {"from": scored[0]})
    with brownie.reverts(custom_error("SplitterUnauthorized", outsider)):
        splitter.onSubDAORetired({"from": outsider})
    tx = tsubdao.retire({"from": deployer})  # SubDAO.retire tells the splitter
    assert "RetirementRecorded" in tx.events and splitter.retired()
    assert splitter.poolOver(1)
    tx = splitter.claimSBGT([1], {"from": scored[0]})
    assert tx.return_value == 15_000 and usd.balanceOf(scored[0]) == 15_000
    # after retirement an SBGT share (a donation) opens no pool: the SubDAO treasury keeps it
    treasury_before = splitter.accrued()[1]
    tx = splitter.deposit(10_000, {"from": payer})
    ev = tx.events["RevenueReceived"]
    assert ev["poolId"] == 0 and ev["toSBGT"] == 0 and ev["toTreasury"] == 1_000 + 3_000
    assert "PoolOpened" not in tx.events and splitter.currentPoolId() == 1
    assert splitter.accrued()[1] == treasury_before + 4_000
    assert splitter.epochPool(1)["amount"] == 30_000
    # the last pool's dust is sweepable once retired (30_000 splits exactly: 0)
    tx = splitter.sweepEpochDust(1, {"from": outsider})
    assert plain(tx.events["EpochDustSwept"].values()) == plain([1, 0])


def test_pool_dust_swept_once_after_pool_ends(
    splitter, payer, tsubdao, deployer, hospitals, outsider
):
    tsubdao.acceptRound(1, hospitals[:3], [1, 1, 1], {"from": deployer})  # version 1, Σφ = 3
    tx = splitter.deposit(10_000, {"from": payer})  # SBGT pool 3_000 -> 1_000 each, no dust
    ends = _opened(tx, 1, 1, 1, 3)
    splitter.deposit(10, {"from": payer})  # SBGT 3 -> pool 3_003 -> 1_001 each, no dust
    splitter.deposit(20, {"from": payer})  # SBGT 6 -> pool 3_009 -> 1_003 each
    splitter.deposit(14, {"from": payer})  # SBGT 4 -> pool 3_013 -> 1_004 each, 1 dust
    with brownie.reverts(custom_error("SplitterPoolOpen", 1, ends)):
        splitter.sweepEpochDust(1, {"from": outsider})
    with brownie.reverts(custom_error("SplitterUnknownPool", 2, 1)):
        splitter.sweepEpochDust(2, {"from": outsider})
    chain.sleep(EPOCH_LENGTH)  # over by time
    chain.mine()
    before = splitter.accrued()[1]
    tx = splitter.sweepEpochDust(1, {"from": outsider})
    assert plain(tx.events["EpochDustSwept"].values()) == plain([1, 1])
    assert splitter.accrued()[1] == before + 1 and splitter.epochPool(1)["dustSwept"]
    assert splitter.claimableSBGT(1, hospitals[0]) == 1_004
    with brownie.reverts(custom_error("SplitterEpochSwept", 1)):
        splitter.sweepEpochDust(1, {"from": outsider})
    # pool 2 (same version, next time slice) keeps its own dust
    tx = splitter.deposit(14, {"from": payer})  # SBGT 4 -> 1 each, 1 dust
    _opened(tx, 2, 1, 1, 3)
    tsubdao.acceptRound(2, hospitals[:2], [1, 1], {"from": deployer})  # version 2: pool 2 over
    tx = splitter.sweepEpochDust(2, {"from": outsider})
    assert plain(tx.events["EpochDustSwept"].values()) == plain([2, 1])
