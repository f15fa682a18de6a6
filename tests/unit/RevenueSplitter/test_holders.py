"""RevenueSplitter: SDT side (eq. 11, accumulator across transfers/mints/burns) and SBGT side (eq. 10)."""

import brownie
import pytest

from tests.fixtures.market import plain
from tests.helpers import custom_error

WAD = 10**18
SCALE = 10**36


@pytest.fixture
def payer(splitter, usd, backers):
    p = backers[0]
    usd.mint(p, 10**9 * WAD, {"from": p})
    usd.approve(splitter, 2**256 - 1, {"from": p})
    return p


@pytest.fixture
def scored(tsubdao, hospitals, deployer):
    """Model version 1 (inference epoch 1) with φ = 0.5, 0.3, 0.2 for three hospitals."""
    tsubdao.acceptRound(7, hospitals[:3], [5 * 10**17, 3 * 10**17, 2 * 10**17], {"from": deployer})
    return hospitals[:3]


def test_sdt_side_follows_balances_through_transfer_mint_burn(
    splitter, tsdt, sdt_minter, payer, backers, usd
):
    a, b = backers[1], backers[2]
    tsdt.mint(a, 3 * WAD, {"from": sdt_minter})
    tsdt.mint(b, 1 * WAD, {"from": sdt_minter})
    splitter.deposit(10_000, {"from": payer})  # SDT side 3_000 over 4 SDT
    assert splitter.claimableSDT(a) == 2_250 and splitter.claimableSDT(b) == 750
    # transfer settles both sides at the old balances first (hook before the balance change)
    tsdt.transfer(b, 2 * WAD, {"from": a})
    assert splitter.holder(a)["credit"] == 2_250
    splitter.deposit(10_000, {"from": payer})  # 3_000 over a=1, b=3
    assert splitter.claimableSDT(a) == 2_250 + 750
    assert splitter.claimableSDT(b) == 750 + 2_250
    tsdt.burn(b, 3 * WAD, {"from": sdt_minter})  # b keeps what it earned
    tsdt.mint(a, 2 * WAD, {"from": sdt_minter})
    splitter.deposit(10_000, {"from": payer})  # 3_000 over a=3 only
    assert splitter.claimableSDT(a) == 6_000
    tx = splitter.claimSDT({"from": b})
    assert plain(tx.events["SDTRevenueClaimed"].values()) == plain([b, 3_000])
    assert usd.balanceOf(b) == 3_000
    assert splitter.claimableSDT(b) == 0
    with brownie.reverts(custom_error("SplitterNothingToClaim", b)):
        splitter.claimSDT({"from": b})


def test_rounding_dust_is_tracked_and_swept(
    splitter, tsdt, sdt_minter, payer, backers, tsubdao, usd
):
    for holder in backers[1:3]:
        tsdt.mint(holder, 1, {"from": sdt_minter})
    tsdt.mint(backers[0], 1, {"from": sdt_minter})  # supply 3 wei
    tx = splitter.deposit(10, {"from": payer})  # SDT side: 10 - 3 - 1 - 3 = 3 -> 1 per wei
    assert tx.events["RevenueReceived"]["toSDT"] == 3
    splitter.deposit(11, {"from": payer})  # 11 - 3 - 1 - 3 = 4 over 3 -> acc += 4e36/3
    assert splitter.dustScaled() == (4 * SCALE) % 3
    assert splitter.claimableSDT(backers[1]) == 1 + 1  # ⌊4/3⌋ + the first 1
    splitter.claimSDT({"from": backers[1]})  # settling floors 4/3 -> 1, 1/3 wei to dust
    assert splitter.dustScaled() == (4 * SCALE) % 3 + (4 * SCALE // 3) % SCALE
    tx = splitter.sweepDust({"from": backers[2]})
    assert tx.events["DustSwept"]["amount"] == 0  # still < 1 wei
    splitter.claimSDT({"from": backers[2]})
    splitter.claimSDT({"from": backers[0]})
    tx = splitter.sweepDust({"from": backers[2]})
    assert tx.events["DustSwept"]["amount"] == 1  # 3 × 1/3 wei + the accumulator remainder
    assert (
        splitter.accrued()[1] == 1 + 3 + 1 + 3 + 1
    )  # treasury + unscored SBGT both deposits + dust


def test_hook_only_from_sdt(splitter, outsider):
    with brownie.reverts(custom_error("SplitterUnauthorized", outsider)):
        splitter.onSDTBalanceChange(outsider, outsider, 1, {"from": outsider})


def test_sbgt_side_by_phi_per_epoch(splitter, payer, scored, usd, tsubdao, deployer, hospitals):
    tx = splitter.deposit(100_000, {"from": payer})
    assert tx.events["RevenueReceived"]["epoch"] == 1
    assert tx.events["RevenueReceived"]["toSBGT"] == 30_000
    pool = splitter.epochPool(1)
    assert (
        pool["pool"] == 30_000
        and pool["version"] == 1
        and pool["phiSum"] == 10**18
        and pool["seen"]
    )
    # the epoch's first SBGT-side deposit wrote the claim mask: every member index unclaimed
    assert splitter.unclaimedMask(1) == 2**256 - 1
    assert [splitter.claimableSBGT(1, h) for h in scored] == [15_000, 9_000, 6_000]
    # the pool is final only once the epoch is over
    with brownie.reverts(custom_error("SplitterEpochOpen", 1, 1)):
        splitter.claimSBGT([1], {"from": scored[1]})
    splitter.deposit(10_001, {"from": payer})  # SBGT 3_000 -> pool 33_000
    assert splitter.claimableSBGT(1, scored[1]) == 9_900
    tsubdao.acceptRound(8, scored, [1, 1, 1], {"from": deployer})  # version 2: epoch 1 over
    tx = splitter.claimSBGT([1], {"from": scored[1]})
    assert plain(tx.events["SBGTRevenueClaimed"].values()) == plain([scored[1], 1, 9_900])
    assert tx.return_value == 9_900 and usd.balanceOf(scored[1]) == 9_900
    assert splitter.hasClaimedSBGT(1, scored[1]) and not splitter.hasClaimedSBGT(1, scored[0])
    assert splitter.claimableSBGT(1, scored[1]) == 0
    assert splitter.unclaimedMask(1) == 2**256 - 1 - 2  # member index 1 cleared
    with brownie.reverts(custom_error("SplitterNothingToClaim", scored[1])):
        splitter.claimSBGT([1, 1], {"from": scored[1]})  # claimed once, duplicates skipped
    with brownie.reverts(custom_error("SplitterNothingToClaim", hospitals[4])):
        splitter.claimSBGT([1], {"from": hospitals[4]})  # no φ in version 1
    # new revenue goes to epoch 2; epoch 1's pool stays final
    tx = splitter.deposit(10_000, {"from": payer})
    assert tx.events["RevenueReceived"]["epoch"] == 2 and splitter.epochPool(1)["pool"] == 33_000
    with brownie.reverts(custom_error("SplitterEpochOpen", 2, 2)):
        splitter.claimSBGT([1, 2], {"from": scored[0]})  # epoch 2 is current
    tx = splitter.claimSBGT([1, 0, 9], {"from": scored[0]})  # unseen/unscored: skipped
    assert tx.return_value == 16_500
    assert plain(tx.events["SBGTRevenueClaimed"].values()) == plain([scored[0], 1, 16_500])


def test_retirement_ends_the_last_epoch(
    splitter, payer, scored, usd, tsubdao, deployer, outsider, hospitals
):
    splitter.deposit(100_000, {"from": payer})  # epoch 1 pool 30_000
    with brownie.reverts(custom_error("SplitterEpochOpen", 1, 1)):
        splitter.claimSBGT([1], {"from": scored[0]})
    with brownie.reverts(custom_error("SplitterUnauthorized", outsider)):
        splitter.onSubDAORetired({"from": outsider})
    tx = tsubdao.retire({"from": deployer})  # SubDAO.retire tells the splitter
    assert "RetirementRecorded" in tx.events and splitter.retired()
    tx = splitter.claimSBGT([1], {"from": scored[0]})
    assert tx.return_value == 15_000 and usd.balanceOf(scored[0]) == 15_000
    # after retirement an SBGT share (a donation) would land in an epoch already claimed from:
    # it goes to the SubDAO treasury instead
    treasury_before = splitter.accrued()[1]
    tx = splitter.deposit(10_000, {"from": payer})
    ev = tx.events["RevenueReceived"]
    assert ev["toSBGT"] == 0 and ev["toTreasury"] == 1_000 + 3_000
    assert splitter.accrued()[1] == treasury_before + 4_000
    assert splitter.epochPool(1)["pool"] == 30_000
    # the last epoch's dust is sweepable once retired (30_000 splits exactly: 0)
    tx = splitter.sweepEpochDust(1, {"from": outsider})
    assert plain(tx.events["EpochDustSwept"].values()) == plain([1, 0])


def test_epoch_dust_swept_once_after_epoch_ends(
    splitter, payer, tsubdao, deployer, hospitals, outsider
):
    tsubdao.acceptRound(1, hospitals[:3], [1, 1, 1], {"from": deployer})  # epoch 1, Σφ = 3
    splitter.deposit(10_000, {"from": payer})  # SBGT pool 3_000 -> 1_000 each, no dust
    splitter.deposit(10, {"from": payer})  # SBGT 3 -> pool 3_003 -> 1_001 each, no dust
    splitter.deposit(20, {"from": payer})  # SBGT 6 -> pool 3_009 -> 1_003 each
    splitter.deposit(14, {"from": payer})  # SBGT 4 -> pool 3_013 -> 1_004 each, 1 dust
    with brownie.reverts(custom_error("SplitterEpochOpen", 1, 1)):
        splitter.sweepEpochDust(1, {"from": outsider})
    tsubdao.acceptRound(2, hospitals[:2], [1, 1], {"from": deployer})  # epoch 2
    before = splitter.accrued()[1]
    tx = splitter.sweepEpochDust(1, {"from": outsider})
    assert plain(tx.events["EpochDustSwept"].values()) == plain([1, 1])
    assert splitter.accrued()[1] == before + 1
    assert splitter.claimableSBGT(1, hospitals[0]) == 1_004
    with brownie.reverts(custom_error("SplitterEpochSwept", 1)):
        splitter.sweepEpochDust(1, {"from": outsider})
