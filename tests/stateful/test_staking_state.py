"""Stateful test of SuperDAOStaking (hypothesis rule-based state machine on Anvil).

Conservation law: FLAI held by the staking contract == Σ stakes + fees not yet swept, under
random stake / unstake / transfer / direct-donation / sweep / credential sequences, with a
Python model of every stake and of the pending fees. Also: each account's votes are its
stake plus its credentials, and the total of credentials matches the model.

brownie 1.22's ``state_machine`` helper cannot be used here: its mypyc-compiled
``_BrownieStateMachine`` rejects the subclass it generates ("_BrownieStateMachine object
expected; got BrownieStateMachine"). The machine below is a plain hypothesis
``RuleBasedStateMachine`` doing what the helper does: brownie strategies, and the chain
reverted to the test's snapshot at the start of every example.
"""

import brownie
from brownie import chain
from brownie.test import strategy
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.helpers import custom_error

WAD = 10**18
UNIT = 10**17

st_actor = strategy("uint8", max_value=4)
st_flai = strategy(
    "uint256", max_value=1_000
)  # whole FLAI; ~10% of first stakes are below the 100 minimum
st_percent = strategy(
    "uint256", max_value=110
)  # unstake: share of the current stake (> 100: too much)
st_units = strategy("uint256", max_value=6_000)
st_action = strategy("uint8", max_value=4)  # transfer, donate, sweep, grant, revoke


def make_machine(flai, staking, actors, timelock):
    class StakingStateMachine(RuleBasedStateMachine):
        def __init__(self):
            chain.revert()  # back to the test's snapshot: every example starts clean
            super().__init__()
            self.stakes = {a: 0 for a in actors}
            self.credentials = {a: 0 for a in actors}
            self.pending = staking.pendingFees()
            self.minimum = staking.minimumStake()
            self.fee_bps = staking.exitFeeBps()

        @rule(actor=st_actor, flai_amount=st_flai)
        def stake(self, actor, flai_amount):
            account, amount = actors[actor], flai_amount * WAD
            new_stake = self.stakes[account] + amount
            if amount == 0:
                with brownie.reverts(custom_error("StakingZeroAmount")):
                    staking.stake(amount, {"from": account})
            elif new_stake < self.minimum:
                with brownie.reverts(custom_error("StakingBelowMinimum", new_stake, self.minimum)):
                    staking.stake(amount, {"from": account})
            else:
                tx = staking.stake(amount, {"from": account})
                assert tx.events["Staked"]["newStake"] == new_stake
                self.stakes[account] = new_stake

        @rule(actor=st_actor, percent=st_percent)
        def unstake(self, actor, percent):
            account = actors[actor]
            available = self.stakes[account]
            amount = available * percent // 100 if available else percent * WAD
            remaining = available - amount
            if amount == 0:
                with brownie.reverts(custom_error("StakingZeroAmount")):
                    staking.unstake(amount, {"from": account})
            elif amount > available:
                with brownie.reverts(
                    custom_error("StakingInsufficientStake", account, available, amount)
                ):
                    staking.unstake(amount, {"from": account})
            elif 0 < remaining < self.minimum:
                with brownie.reverts(custom_error("StakingBelowMinimum", remaining, self.minimum)):
                    staking.unstake(amount, {"from": account})
            else:
                fee = amount * self.fee_bps // 10_000
                tx = staking.unstake(amount, {"from": account})
                assert tx.events["Unstaked"]["fee"] == fee
                self.stakes[account] = remaining
                self.pending += fee

        @rule(action=st_action, actor=st_actor, other=st_actor, units=st_units)
        def perturb(self, action, actor, other, units):
            """Everything that is not a stake or an unstake, in one rule so that hypothesis'
            rule choice keeps stake/unstake frequent."""
            account = actors[actor]
            if action == 0:  # FLAI changes hands between holders
                amount = min(units * UNIT, flai.balanceOf(account))
                flai.transfer(actors[other], amount, {"from": account})
            elif (
                action == 1
            ):  # FLAI sent to the contract directly: nobody's stake, swept like a fee
                amount = min(units * UNIT // 10, flai.balanceOf(account))
                flai.transfer(staking, amount, {"from": account})
                self.pending += amount
            elif action == 2:
                self._sweep()
            elif action == 3:
                credits = units % 500 * UNIT + UNIT
                tx = staking.grantCredentials(account, credits, {"from": timelock})
                self.credentials[account] += credits
                assert (
                    tx.events["CredentialsGranted"]["newCredentials"] == self.credentials[account]
                )
            else:
                revoked = min(units * UNIT, self.credentials[account])
                if revoked:
                    staking.revokeCredentials(account, revoked, {"from": timelock})
                    self.credentials[account] -= revoked

        def _sweep(self):
            if self.pending == 0:
                with brownie.reverts(custom_error("StakingNothingToSweep")):
                    staking.sweepFees({"from": actors[0]})
            else:
                tx = staking.sweepFees({"from": actors[0]})
                assert tx.events["FeesSwept"]["amount"] == self.pending
                self.pending = 0

        @invariant()
        def flai_held_is_stakes_plus_unswept_fees(self):
            assert flai.balanceOf(staking) == sum(self.stakes.values()) + self.pending
            assert staking.pendingFees() == self.pending

        @invariant()
        def accounts_match_model(self):
            """stakeOf == model stake and votes == stake + credentials, for every actor."""
            for account in actors:
                assert staking.stakeOf(account) == self.stakes[account]
                assert staking.getVotes(account) == self.stakes[account] + self.credentials[account]
            assert staking.totalStaked() == sum(self.stakes.values())
            assert staking.totalCredentials() == sum(self.credentials.values())

    return StakingStateMachine


def test_staking_conservation(flai, staking, members, hospital_a, as_timelock):
    machine = make_machine(flai, staking, [*members, hospital_a], as_timelock)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
        ),
    )
