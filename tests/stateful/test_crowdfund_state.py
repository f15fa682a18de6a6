"""Stateful: crowdfund escrow conservation.

Random contributions (some late), closes, refunds and time jumps. After every step the
SubDAO's payment-token balance equals Σ contributions − Σ refunds, SDT supply equals the SDT
recorded for unrefunded backers, and once the crowdfund failed every backer can refund exactly
what it paid (checked at teardown).
"""

import brownie
from brownie import chain
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.fixtures.subdao import GOAL, RATE, USDC
from tests.helpers import custom_error

WAD = 10**18


def make_machine(suite, pay_token, backers, deadline):
    class CrowdfundMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            chain.snapshot()
            self.paid = {b: 0 for b in backers}
            self.refunded = {b: 0 for b in backers}
            self.contributed = 0
            self.refunds = 0
            for b in backers:
                pay_token.mint(b, 10**6 * USDC, {"from": b})
                pay_token.approve(suite.subdao, 2**256 - 1, {"from": b})
            self.start = {b: pay_token.balanceOf(b) for b in backers}

        def teardown(self):
            try:
                if self.contributed < GOAL and suite.subdao.state() in (0, 5):
                    if chain.time() <= deadline:
                        chain.sleep(deadline - chain.time() + 5)
                        chain.mine()
                    for b in backers:
                        if self.paid[b] and not self.refunded[b]:
                            suite.subdao.refund({"from": b})
                        # a missed goal refunds everyone exactly
                        assert pay_token.balanceOf(b) == self.start[b]
                    assert pay_token.balanceOf(suite.subdao) == 0
                    assert suite.sdt.totalSupply() == 0
            finally:
                chain.revert()

        @rule(who=st.integers(0, 2), amount=st.integers(1, 600 * USDC))
        def contribute(self, who, amount):
            b = backers[who]
            state = suite.subdao.state()
            if state != 0:
                with brownie.reverts(
                    custom_error("SubDAOInvalidState", state, (1).to_bytes(32, "big"))
                ):
                    suite.subdao.contribute(amount, {"from": b})
                return
            if chain.time() + 1 > deadline:
                return  # the late path is unit-tested (timestamp of the next block is not exact)
            tx = suite.subdao.contribute(amount, {"from": b})
            assert tx.events["Contributed"]["sdtMinted"] == amount * RATE // WAD
            self.paid[b] += amount
            self.contributed += amount

        @rule(seconds=st.integers(0, 4 * 86_400))
        def wait(self, seconds):
            chain.sleep(seconds)
            chain.mine()

        @rule(who=st.integers(0, 2))
        def refund(self, who):
            b = backers[who]
            failed = suite.subdao.state() == 5 or (
                suite.subdao.state() == 0 and chain.time() > deadline and self.contributed < GOAL
            )
            if not failed or self.paid[b] == 0 or self.refunded[b]:
                return
            tx = suite.subdao.refund({"from": b})
            assert tx.events["Refunded"]["amount"] == self.paid[b]
            self.refunded[b] = self.paid[b]
            self.refunds += self.paid[b]

        @rule()
        def close(self):
            state = suite.subdao.state()
            if state != 0:
                return
            if self.contributed >= GOAL:
                tx = suite.subdao.closeCrowdfund({"from": backers[0]})
                assert tx.events["StateChanged"]["next"] == 1
            elif chain.time() > deadline:
                tx = suite.subdao.closeCrowdfund({"from": backers[0]})
                assert tx.events["StateChanged"]["next"] == 5

        @invariant()
        def escrow_conserved(self):
            assert pay_token.balanceOf(suite.subdao) == self.contributed - self.refunds
            raised, goal, _, _ = suite.subdao.crowdfund()
            assert raised == self.contributed and goal == GOAL

        @invariant()
        def sdt_matches_unrefunded(self):
            expected = sum(self.paid[b] * RATE // WAD for b in backers if not self.refunded[b])
            assert suite.sdt.totalSupply() == expected

    return CrowdfundMachine


def test_crowdfund_state(suite, pay_token, backers, crowdfund_deadline):
    run_state_machine_as_test(
        make_machine(suite, pay_token, backers, crowdfund_deadline),
        settings=settings(
            max_examples=20,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
        ),
    )
