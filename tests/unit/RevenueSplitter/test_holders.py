"""RevenueSplitter: SDT side (eq. 11, accumulator across transfers/mints/burns).

The SBGT side (eq. 10, time-sliced pools) is in test_pools.py.
"""

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
