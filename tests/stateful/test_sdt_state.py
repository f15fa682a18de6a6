"""Stateful: SDT votes follow delegates() through mints, delegation, transfers and refunds.

A real factory-made suite in Crowdfunding (its splitter is the SDT's balance hook). Random
contributions, delegations to address(0), to self and to another account, transfers between
backers and non-backers, a missed goal and refunds. Address(0) means "self" (ISDT), so no unit
is ever delegated to nobody. After every step:
  - Σ getVotes over every account == totalSupply, and each account's votes equal the balances of
    the accounts whose delegates() is that account (the Python model of delegation agrees);
  - delegates() never reports address(0);
  - every holder can transfer its whole balance, and once the crowdfund failed every backer
    that still holds the SDT it was minted can refund (both checked with eth_call).
"""

import brownie
from brownie import chain
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.fixtures.subdao import GOAL, RATE, USDC

WAD = 10**18
ZERO = brownie.ZERO_ADDRESS


def make_machine(suite, pay_token, backers, others, deadline):
    holders = [*backers, *others]
    sdt, hub = suite.sdt, suite.subdao

    class SDTMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            chain.snapshot()
            self.delegate_of = {a: a for a in holders}
            self.minted = {b: 0 for b in backers}
            self.refunded = {b: False for b in backers}
            self.raised = 0
            for b in backers:
                pay_token.mint(b, 10**6 * USDC, {"from": b})
                pay_token.approve(hub, 2**256 - 1, {"from": b})

        def teardown(self):
            chain.revert()

        def _failed(self):
            state = hub.state()
            return state == 5 or (state == 0 and chain.time() > deadline and self.raised < GOAL)

        @rule(who=st.integers(0, len(backers) - 1), amount=st.integers(1, 150 * USDC))
        def contribute(self, who, amount):
            b = backers[who]
            if hub.state() != 0 or chain.time() + 1 > deadline or self.raised + amount >= GOAL:
                return  # the goal stays missed, so every backer can refund later
            if self.refunded[b]:
                return
            tx = hub.contribute(amount, {"from": b})
            self.minted[b] += tx.events["Contributed"]["sdtMinted"]
            self.raised += amount

        def _delegate(self, a, to, expected):
            old = self.delegate_of[a]
            tx = sdt.delegate(to, {"from": a})
            ev = tx.events["DelegateChanged"]
            assert (ev["delegator"], ev["fromDelegate"], ev["toDelegate"]) == (a, old, expected)
            self.delegate_of[a] = expected

        @rule(who=st.integers(0, len(holders) - 1))
        def delegate_to_zero(self, who):
            a = holders[who]
            self._delegate(a, ZERO, a)  # address(0) means "self"

        @rule(who=st.integers(0, len(holders) - 1))
        def delegate_to_self(self, who):
            a = holders[who]
            self._delegate(a, a, a)

        @rule(who=st.integers(0, len(holders) - 1), to=st.integers(0, len(holders) - 1))
        def delegate_to_other(self, who, to):
            self._delegate(holders[who], holders[to], holders[to])

        @rule(
            sender=st.integers(0, len(holders) - 1),
            receiver=st.integers(0, len(holders) - 1),
            fraction=st.integers(1, 4),
        )
        def transfer(self, sender, receiver, fraction):
            a, b = holders[sender], holders[receiver]
            amount = sdt.balanceOf(a) // fraction
            sdt.transfer(b, amount, {"from": a})

        @rule(seconds=st.integers(0, 4 * 86_400))
        def wait(self, seconds):
            chain.sleep(seconds)
            chain.mine()

        @rule(who=st.integers(0, len(backers) - 1))
        def refund(self, who):
            b = backers[who]
            if not self._failed() or self.minted[b] == 0 or self.refunded[b]:
                return
            if sdt.balanceOf(b) < self.minted[b]:
                # hand the SDT back first (ISubDAO.refund): whoever holds it can
                for h in holders:
                    short = self.minted[b] - sdt.balanceOf(b)
                    if short == 0:
                        break
                    if h != b:
                        sdt.transfer(b, min(short, sdt.balanceOf(h)), {"from": h})
            tx = hub.refund({"from": b})
            assert tx.events["Refunded"]["sdtBurned"] == self.minted[b]
            assert tx.events["Refunded"]["amount"] * RATE // WAD == self.minted[b]
            self.refunded[b] = True

        @invariant()
        def votes_follow_delegates(self):
            balances = {a: sdt.balanceOf(a) for a in holders}
            expected = {a: 0 for a in holders}
            for a in holders:
                d = sdt.delegates(a)
                assert d != ZERO and d == self.delegate_of[a]
                expected[d] += balances[a]
            votes = {a: sdt.getVotes(a) for a in holders}
            assert votes == expected
            assert sum(votes.values()) == sdt.totalSupply() == sum(balances.values())

        @invariant()
        def every_holder_can_transfer_and_refund(self):
            for i, a in enumerate(holders):
                balance = sdt.balanceOf(a)
                if balance:
                    assert sdt.transfer.call(holders[i - 1], balance, {"from": a})
            if self._failed():
                for b in backers:
                    if (
                        self.minted[b]
                        and not self.refunded[b]
                        and sdt.balanceOf(b) >= self.minted[b]
                    ):
                        assert hub.refund.call({"from": b}) * RATE // WAD == self.minted[b]

    return SDTMachine


def test_sdt_state(suite, pay_token, backers, hospitals, outsider, crowdfund_deadline):
    run_state_machine_as_test(
        make_machine(suite, pay_token, list(backers), [hospitals[0], outsider], crowdfund_deadline),
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
        ),
    )
