"""Balances the suite's own contracts hold are accounted: nothing is stuck silently.

- SDT the financial chamber allocates to the SubDAO hub earns SDT-side revenue (eq. 11) like any
  holder's; anyone moves it into the treasury with `claimSDTRevenue`, also after the SDT left
  the hub through `spendTreasury` (the credit was settled when it left).
- The revenue splitter refuses to hold SDT itself (its share could never be claimed).
(The crowdfund escrow beside the treasury: tests/unit/SubDAO/test_crowdfund.py.)
"""

import brownie
import pytest

from tests.fixtures.subdao import USDC, execute, govern, vote_through
from tests.helpers import custom_error
from tests.unit.TrainingRounds.test_rounds import GOOD, run_to_finalized

WAD = 10**18


@pytest.fixture(scope="module")
def deployed(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    govern(s.technical, [s.rounds], [s.rounds.acceptRound.encode_input(rid)], hospitals[:3], "r1")
    return s


def _deposit(splitter, pay_token, payer, amount):
    pay_token.mint(payer, amount, {"from": payer})
    pay_token.approve(splitter, amount, {"from": payer})
    return splitter.deposit(amount, {"from": payer})


def _allocate_to_hub(s, backers, amount):
    mint = [s.subdao.mintSDT.encode_input(s.subdao, amount)]
    govern(s.financial, [s.subdao], mint, backers, "treasury allocation")
    assert s.sdt.balanceOf(s.subdao) == amount


def test_hub_claims_its_sdt_revenue_into_the_treasury(deployed, backers, pay_token, outsider):
    s = deployed
    _allocate_to_hub(s, backers, 1_000 * WAD)  # half of the 2,000 SDT supply
    _deposit(s.splitter, pay_token, outsider, 1_000 * USDC)
    owed = s.splitter.claimableSDT(s.subdao)
    assert owed == 300 * USDC * 1_000 // 2_000  # SDT side: 30% of the revenue, by balance
    before = pay_token.balanceOf(s.subdao)
    tx = s.subdao.claimSDTRevenue({"from": outsider})
    ev = tx.events["SDTRevenueCollected"]
    assert (ev["splitter"], ev["amount"]) == (s.splitter, owed) and tx.return_value == owed
    assert pay_token.balanceOf(s.subdao) == before + owed
    assert s.splitter.claimableSDT(s.subdao) == 0
    with brownie.reverts(custom_error("SplitterNothingToClaim", s.subdao)):
        s.subdao.claimSDTRevenue({"from": outsider})


def test_hub_credit_survives_the_sdt_leaving(deployed, backers, pay_token, outsider):
    s = deployed
    _allocate_to_hub(s, backers, 1_000 * WAD)
    _deposit(s.splitter, pay_token, outsider, 1_000 * USDC)
    owed = s.splitter.claimableSDT(s.subdao)
    spend = [s.subdao.spendTreasury.encode_input(s.sdt, outsider, 1_000 * WAD)]
    govern(s.financial, [s.subdao], spend, backers, "sell the allocation")
    assert s.sdt.balanceOf(s.subdao) == 0
    assert s.splitter.holder(s.subdao)["credit"] == owed
    before = pay_token.balanceOf(s.subdao)
    assert s.subdao.claimSDTRevenue({"from": outsider}).return_value == owed
    assert pay_token.balanceOf(s.subdao) == before + owed
    # the SDT that left earns for its new holder from now on, not for the hub
    _deposit(s.splitter, pay_token, outsider, 1_000 * USDC)
    assert s.splitter.claimableSDT(s.subdao) == 0
    assert s.splitter.claimableSDT(outsider) == 300 * USDC * 1_000 // 2_000


def test_splitter_refuses_to_hold_sdt(deployed, backers):
    s = deployed
    with brownie.reverts(custom_error("SplitterSDTNotAccepted", s.splitter)):
        s.sdt.transfer(s.splitter, 1, {"from": backers[0]})
    mint = [s.subdao.mintSDT.encode_input(s.splitter, WAD)]
    vote_through(s.financial, [s.subdao], mint, backers, "mint to the splitter")
    with brownie.reverts(custom_error("SplitterSDTNotAccepted", s.splitter)):
        execute(s.financial, [s.subdao], mint, "mint to the splitter", backers[0])
    assert s.sdt.balanceOf(s.splitter) == 0
