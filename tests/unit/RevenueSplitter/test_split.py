"""RevenueSplitter: the bps split of each deposit, treasuries, shares governance (001 §6.3, 000 §6.5.1)."""

import brownie
import pytest

from tests.fixtures.market import EPOCH_LENGTH, SHARES, plain
from tests.helpers import custom_error

WAD = 10**18


@pytest.fixture
def funded(splitter, usd, backers):
    payer = backers[0]
    usd.mint(payer, 10**6 * WAD, {"from": payer})
    usd.approve(splitter, 2**256 - 1, {"from": payer})
    return payer


def test_deposit_splits_by_bps_and_carries_sdt_side_at_zero_supply(splitter, usd, funded):
    # epoch 0 (no model version yet): the SBGT share has no scores and goes to the SubDAO treasury
    tx = splitter.deposit(1_000_001, {"from": funded})
    ev = tx.events["RevenueReceived"]
    assert ev["from"] == funded and ev["epoch"] == 0 and ev["amount"] == 1_000_001
    assert ev["toPlatform"] == 300_000
    assert ev["toTreasury"] == 100_000 + 300_000
    assert ev["toSBGT"] == 0
    assert ev["toSDT"] == 1_000_001 - 300_000 - 100_000 - 300_000
    assert tx.events["SDTCarried"]["amount"] == ev["toSDT"]
    assert splitter.sdtCarry() == ev["toSDT"]
    assert plain(splitter.accrued()) == (300_000, 400_000)
    assert usd.balanceOf(splitter) == 1_000_001
    assert splitter.firstRevenueAt() == tx.timestamp


def test_carry_reaches_first_holders(splitter, usd, tsdt, sdt_minter, funded, backers):
    splitter.deposit(10_000, {"from": funded})  # 3_000 carried
    tsdt.mint(backers[1], 3 * WAD, {"from": sdt_minter})
    tsdt.mint(backers[2], 1 * WAD, {"from": sdt_minter})
    tx = splitter.distributeCarry({"from": backers[0]})
    assert tx.events["SDTDistributed"]["amount"] == 3_000
    assert tx.events["SDTDistributed"]["supply"] == 4 * WAD
    assert splitter.sdtCarry() == 0
    assert splitter.claimableSDT(backers[1]) == 2_250
    assert splitter.claimableSDT(backers[2]) == 750


def test_distribute_carry_needs_supply_and_carry(splitter, backers):
    with brownie.reverts(custom_error("SplitterZeroRevenue")):
        splitter.distributeCarry({"from": backers[0]})


def test_zero_deposit_reverts(splitter, funded):
    with brownie.reverts(custom_error("SplitterZeroRevenue")):
        splitter.deposit(0, {"from": funded})


def test_tokens_sent_without_deposit_are_not_revenue(splitter, usd, funded, backers):
    usd.mint(splitter, 5_000, {"from": backers[0]})
    tx = splitter.deposit(1_000, {"from": funded})
    assert tx.events["RevenueReceived"]["amount"] == 1_000
    assert splitter.totals()[0] == 1_000


def test_release_treasuries_pays_platform_and_subdao(
    splitter, usd, funded, platform_treasury, tsubdao, outsider
):
    splitter.deposit(10_000, {"from": funded})
    tx = splitter.releaseTreasuries({"from": outsider})
    assert plain(tx.events["TreasuriesReleased"].values()) == (
        platform_treasury.address,
        3_000,
        tsubdao.address,
        4_000,
    )
    assert usd.balanceOf(platform_treasury) == 3_000
    assert usd.balanceOf(tsubdao) == 4_000
    assert plain(splitter.totals()) == (10_000, 3_000, 4_000)
    assert usd.balanceOf(splitter) == 3_000
    with brownie.reverts(custom_error("SplitterNothingToClaim", outsider)):
        splitter.releaseTreasuries({"from": outsider})


def test_subdao_shares_within_platform_bounds(
    splitter, financial_chamber, treasury_admin, outsider
):
    tx = splitter.setSubDAOShares(1_500, 2_000, {"from": financial_chamber})
    assert plain(tx.events["SharesSet"]["shares"]) == (3_000, 1_500, 2_000, 500, 1_500)
    bad = (3_000, 1_600, 2_000, 500, 1_500)
    with brownie.reverts(custom_error("SplitterInvalidShares", bad)):
        splitter.setSubDAOShares(1_600, 2_000, {"from": financial_chamber})
    over = (3_000, 1_000, 6_001, 500, 1_500)
    with brownie.reverts(custom_error("SplitterInvalidShares", over)):
        splitter.setSubDAOShares(1_000, 6_001, {"from": financial_chamber})
    with brownie.reverts(custom_error("SplitterUnauthorized", outsider)):
        splitter.setSubDAOShares(1_000, 1_000, {"from": outsider})
    with brownie.reverts(custom_error("SplitterUnauthorized", financial_chamber)):
        splitter.setPlatformShares(1_000, 0, 2_000, {"from": financial_chamber})


def test_platform_share_capped(splitter, treasury_admin):
    tx = splitter.setPlatformShares(2_000, 1_000, 1_200, {"from": treasury_admin})
    assert plain(tx.events["SharesSet"]["shares"]) == (2_000, 1_000, 3_000, 1_000, 1_200)
    assert plain(splitter.shares()) == (2_000, 1_000, 3_000, 1_000, 1_200)
    cap = splitter.MAX_PLATFORM_BPS()
    assert cap == 5_000
    bad = (5_001, 1_000, 3_000, 1_000, 1_200)
    with brownie.reverts(custom_error("SplitterInvalidShares", bad)):
        splitter.setPlatformShares(5_001, 1_000, 1_200, {"from": treasury_admin})


def test_initialize_only_once(splitter, tsubdao, usd, platform_treasury, outsider):
    with brownie.reverts(custom_error("InvalidInitialization")):
        splitter.initialize(
            tsubdao,
            usd,
            platform_treasury,
            outsider,
            SHARES.as_tuple(),
            EPOCH_LENGTH,
            {"from": outsider},
        )


def test_fee_on_transfer_deposit_accounts_what_arrived(
    TestToken,
    MarketTestSubDAO,
    market_cloner,
    tsdt,
    deployer,
    pharma,
    platform_treasury,
    treasury_admin,
    financial_chamber,
    backers,
):
    from flai.chain import deploy_revenue_splitter

    fee_token = TestToken.deploy("Fee Token", "FEE", 18, 100, 0, {"from": deployer})  # 1% burnt
    s = MarketTestSubDAO.deploy(pharma, fee_token, {"from": deployer})
    s.setModule(1, tsdt, {"from": deployer})
    s.setModule(3, financial_chamber, {"from": deployer})
    sp = deploy_revenue_splitter(
        deployer=deployer,
        cloner=market_cloner,
        subdao=s,
        token=fee_token,
        platform_treasury=platform_treasury,
        platform_admin=treasury_admin,
        shares=SHARES,
        epoch_length=EPOCH_LENGTH,
    )
    fee_token.mint(backers[0], 10_000, {"from": backers[0]})
    fee_token.approve(sp, 10_000, {"from": backers[0]})
    tx = sp.deposit(10_000, {"from": backers[0]})
    assert tx.return_value == 9_900
    assert tx.events["RevenueReceived"]["amount"] == 9_900
    assert fee_token.balanceOf(sp) == 9_900
