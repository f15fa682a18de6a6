"""SubDAO crowdfund: contributions mint SDT at the RFM rate; goal → Onboarding; missed → refunds."""

import brownie
from brownie import chain

from tests.fixtures.subdao import GOAL, RATE, USDC
from tests.helpers import custom_error

WAD = 10**18
# state bitmaps for SubDAOInvalidState(current, allowed)
CROWDFUNDING, FAILED = 1 << 0, 1 << 5


def _bits(mask: int) -> bytes:
    return mask.to_bytes(32, "big")


def _fund(pay_token, suite, backer, amount):
    pay_token.mint(backer, amount, {"from": backer})
    pay_token.approve(suite.subdao, amount, {"from": backer})
    return suite.subdao.contribute(amount, {"from": backer})


def test_contribute_mints_sdt(suite, pay_token, backers):
    tx = _fund(pay_token, suite, backers[0], 250 * USDC)
    ev = tx.events["Contributed"]
    assert ev["backer"] == backers[0] and ev["paid"] == 250 * USDC
    assert ev["sdtMinted"] == 250 * USDC * RATE // WAD == 250 * WAD
    assert ev["totalRaised"] == 250 * USDC
    assert tx.return_value == 250 * WAD
    assert suite.sdt.balanceOf(backers[0]) == 250 * WAD
    assert suite.sdt.getVotes(backers[0]) == 250 * WAD  # no delegate call needed
    assert pay_token.balanceOf(suite.subdao) == 250 * USDC
    assert [int(x) for x in suite.subdao.contributionOf(backers[0])] == [250 * USDC, 250 * WAD]
    # the mint settled through the suite's splitter (the SDT's hook since creation): the backer's
    # holder record is already non-zero (accumulator base 1), so its first claimSDT only updates it
    assert [int(x) for x in suite.splitter.holder(backers[0])] == [0, 1]
    assert [int(x) for x in suite.splitter.holder(backers[1])] == [0, 0]


def test_zero_contribution(suite, backers):
    with brownie.reverts(custom_error("SubDAOZeroContribution")):
        suite.subdao.contribute(0, {"from": backers[0]})


def test_late_contribution(suite, pay_token, backers, crowdfund_deadline):
    pay_token.mint(backers[0], USDC, {"from": backers[0]})
    pay_token.approve(suite.subdao, USDC, {"from": backers[0]})
    chain.sleep(crowdfund_deadline - chain.time() + 10)
    chain.mine()
    try:
        suite.subdao.contribute(USDC, {"from": backers[0]})
        raise AssertionError("late contribution did not revert")
    except brownie.exceptions.VirtualMachineError as exc:
        assert exc.revert_msg.startswith(f"SubDAOCrowdfundClosed: {crowdfund_deadline}, ")


def test_close_before_goal_or_deadline(suite, pay_token, backers, crowdfund_deadline):
    _fund(pay_token, suite, backers[0], 10 * USDC)
    with brownie.reverts(custom_error("SubDAOCrowdfundOpen", 10 * USDC, GOAL, crowdfund_deadline)):
        suite.subdao.closeCrowdfund({"from": backers[0]})


def test_goal_reached_moves_to_onboarding(suite, pay_token, backers):
    _fund(pay_token, suite, backers[0], 600 * USDC)
    _fund(pay_token, suite, backers[1], 400 * USDC)
    tx = suite.subdao.closeCrowdfund({"from": backers[2]})
    assert tx.events["StateChanged"]["previous"] == 0 and tx.events["StateChanged"]["next"] == 1
    assert suite.subdao.state() == 1
    # no more contributions, no refunds
    with brownie.reverts(custom_error("SubDAOInvalidState", 1, _bits(CROWDFUNDING))):
        suite.subdao.contribute(USDC, {"from": backers[0]})
    with brownie.reverts(custom_error("SubDAOInvalidState", 1, _bits(FAILED))):
        suite.subdao.refund({"from": backers[0]})


def test_missed_goal_refunds_in_full(suite, pay_token, backers, crowdfund_deadline):
    _fund(pay_token, suite, backers[0], 300 * USDC)
    _fund(pay_token, suite, backers[1], 7 * USDC)
    chain.sleep(crowdfund_deadline - chain.time() + 10)
    chain.mine()
    tx = suite.subdao.closeCrowdfund({"from": backers[2]})
    assert tx.events["StateChanged"]["next"] == 5  # Failed
    tx = suite.subdao.refund({"from": backers[0]})
    ev = tx.events["Refunded"]
    assert (
        ev["backer"] == backers[0] and ev["amount"] == 300 * USDC and ev["sdtBurned"] == 300 * WAD
    )
    assert pay_token.balanceOf(backers[0]) == 300 * USDC
    assert suite.sdt.balanceOf(backers[0]) == 0
    with brownie.reverts(custom_error("SubDAONothingToRefund", backers[0])):
        suite.subdao.refund({"from": backers[0]})
    suite.subdao.refund({"from": backers[1]})
    assert pay_token.balanceOf(suite.subdao) == 0
    assert suite.sdt.totalSupply() == 0


def test_refund_closes_failed_crowdfund_lazily(suite, pay_token, backers, crowdfund_deadline):
    _fund(pay_token, suite, backers[0], 5 * USDC)
    with brownie.reverts(custom_error("SubDAOInvalidState", 0, _bits(FAILED))):
        suite.subdao.refund({"from": backers[0]})
    chain.sleep(crowdfund_deadline - chain.time() + 10)
    chain.mine()
    tx = suite.subdao.refund({"from": backers[0]})
    assert tx.events["StateChanged"]["next"] == 5
    assert tx.events["Refunded"]["amount"] == 5 * USDC


def test_treasury_only_by_financial_chamber(suite, backers):
    with brownie.reverts(custom_error("SubDAOUnauthorized", backers[0])):
        suite.subdao.spendTreasury(suite.sdt, backers[0], 1, {"from": backers[0]})


def test_escrow_cannot_be_spent_while_refundable(suite, pay_token, backers, outsider):
    """SDT holders exist during the crowdfund, but the financial chamber cannot touch the escrow."""
    from tests.fixtures.subdao import execute, vote_through

    _fund(pay_token, suite, backers[0], 100 * USDC)
    chain.mine()
    spend = [suite.subdao.spendTreasury.encode_input(pay_token, outsider, 100 * USDC)]
    vote_through(suite.financial, [suite.subdao], spend, backers[:1], "drain")
    with brownie.reverts(
        custom_error("SubDAOEscrowLocked", pay_token, 100 * USDC, 100 * USDC, 100 * USDC)
    ):
        execute(suite.financial, [suite.subdao], spend, "drain", backers[0])
    assert pay_token.balanceOf(suite.subdao) == 100 * USDC
    assert suite.subdao.escrowOf() == 100 * USDC


def test_refund_requires_the_sdt_back(suite, pay_token, backers, crowdfund_deadline):
    _fund(pay_token, suite, backers[0], 10 * USDC)
    suite.sdt.transfer(backers[1], 4 * WAD, {"from": backers[0]})
    chain.sleep(crowdfund_deadline - chain.time() + 10)
    chain.mine()
    with brownie.reverts(custom_error("ERC20InsufficientBalance", backers[0], 6 * WAD, 10 * WAD)):
        suite.subdao.refund({"from": backers[0]})
    suite.sdt.transfer(backers[0], 4 * WAD, {"from": backers[1]})
    tx = suite.subdao.refund({"from": backers[0]})
    assert tx.events["Refunded"]["amount"] == 10 * USDC


def test_failed_hub_spends_only_beyond_the_escrow(
    suite, pay_token, backers, outsider, crowdfund_deadline
):
    """While the crowdfund may refund (Crowdfunding, Failed) the escrow is untouchable; what the
    hub holds beyond it (here a splitter treasury release) stays spendable."""
    from tests.fixtures.subdao import execute, vote_through

    s = suite
    paid = [300 * USDC, 200 * USDC, 100 * USDC]
    for b, amount in zip(backers, paid):
        pay_token.mint(b, amount, {"from": b})
        pay_token.approve(s.subdao, amount, {"from": b})
        s.subdao.contribute(amount, {"from": b})
    # revenue arrives while crowdfunding (a donation) and its treasury share reaches the hub
    pay_token.mint(outsider, 1_000 * USDC, {"from": outsider})
    pay_token.approve(s.splitter, 1_000 * USDC, {"from": outsider})
    s.splitter.deposit(1_000 * USDC, {"from": outsider})
    s.splitter.releaseTreasuries({"from": outsider})
    extra = pay_token.balanceOf(s.subdao) - sum(paid)
    # the treasury share and, with no SBGT pool before a version, the SBGT side too
    assert extra == 1_000 * USDC * 1_000 // 10_000 + 1_000 * USDC * 3_000 // 10_000
    chain.sleep(crowdfund_deadline - chain.time() + 10)
    chain.mine()
    s.subdao.refund({"from": backers[2]})  # Failed; 500 USDC of escrow left
    assert s.subdao.escrowOf() == 500 * USDC
    too_much = [s.subdao.spendTreasury.encode_input(pay_token, outsider, extra + 1)]
    vote_through(s.financial, [s.subdao], too_much, backers[:2], "too much")
    with brownie.reverts(
        custom_error("SubDAOEscrowLocked", pay_token, 500 * USDC + extra, 500 * USDC, extra + 1)
    ):
        execute(s.financial, [s.subdao], too_much, "too much", backers[0])
    spend = [s.subdao.spendTreasury.encode_input(pay_token, outsider, extra)]
    vote_through(s.financial, [s.subdao], spend, backers[:2], "the release")
    tx = execute(s.financial, [s.subdao], spend, "the release", backers[0])
    assert tx.events["TreasurySpent"]["amount"] == extra
    for b, amount in zip(backers[:2], paid[:2]):
        assert s.subdao.refund({"from": b}).events["Refunded"]["amount"] == amount
    assert pay_token.balanceOf(s.subdao) == 0 and s.subdao.escrowOf() == 0
