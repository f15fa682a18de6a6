"""Stateful conservation test of the BountyPool.

Random funding (requester / platform treasury, new round counts), slashed inflows (synced, or
left for the next funding to book), accepted
rounds with random φ, releases, claims, dust sweeps, retirement + close and withdrawals. After
every step: the pool holds exactly what it accounts for; Σ in == pool + Σ_r (bounty_r − claimed_r
− dust_r) + Σ claimed + Σ credited + Σ withdrawn exactly; every contributor's claimed + claimable
for a round equals ⌊bounty·φ_k/Σφ⌋ (never more); each release is pool/roundsLeft.
"""

import brownie
from brownie import chain
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.fixtures.market import STATE_RETIRED
from tests.helpers import custom_error

AMOUNT = st.integers(1, 10**21)
PHIS = st.lists(st.integers(0, 10**18), min_size=3, max_size=3)


def make_machine(pool, token, subdao, funders, contributors, deployer):
    class BountyMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            chain.snapshot()
            self.total_in = 0
            self.pool_model = 0
            self.rounds_left = 0
            self.funded = {f.address: 0 for f in funders}
            self.rounds = {}  # roundId -> [amount, phi dict, phiSum, dust]
            self.accepted = []  # unreleased accepted round ids
            self.claimed = {}  # (roundId, addr) -> amount
            self.credits = {f.address: 0 for f in funders}
            self.withdrawn = 0
            self.next_round = 0
            self.closed = False
            self.unbooked = 0  # FLAI sent to the pool and not booked yet

        def _book(self):
            """What fund/sync does first with FLAI that arrived without fund."""
            self.total_in += self.unbooked
            if self.closed:
                self.credits[funders[1].address] += self.unbooked
            else:
                self.pool_model += self.unbooked
            self.unbooked = 0

        def teardown(self):
            chain.revert()

        @rule(who=st.integers(0, 1), amount=AMOUNT, rounds=st.integers(0, 5))
        def fund(self, who, amount, rounds):
            f = funders[who]
            if self.closed:
                with brownie.reverts(custom_error("BountyClosed")):
                    pool.fund(amount, rounds, {"from": f})
                return
            tx = pool.fund(amount, rounds, {"from": f})
            assert tx.events["Funded"]["amount"] == amount
            if self.unbooked:
                assert tx.events["SlashInflow"]["amount"] == self.unbooked
            self._book()
            self.total_in += amount
            self.pool_model += amount
            self.funded[f.address] += amount
            if rounds:
                self.rounds_left = rounds

        @rule(amount=AMOUNT)
        def slash_inflow(self, amount):
            token.mint(pool, amount, {"from": deployer})
            self.unbooked += amount
            tx = pool.sync({"from": deployer})
            assert tx.events["SlashInflow"]["amount"] == self.unbooked
            self._book()

        @rule(amount=AMOUNT)
        def unsynced_inflow(self, amount):
            """FLAI arrives without `sync`: the next fund (or sync) books it to the pool."""
            token.mint(pool, amount, {"from": deployer})
            self.unbooked += amount

        @rule(phis=PHIS)
        def accept_round(self, phis):
            self.next_round += 1
            subdao.acceptRound(self.next_round, contributors, list(phis), {"from": deployer})
            phi = {c.address: int(p) for c, p in zip(contributors, phis)}
            self.rounds[self.next_round] = [None, phi, sum(phi.values()), 0]
            self.accepted.append(self.next_round)

        @rule(pick=st.integers(0, 10))
        def release(self, pick):
            if not self.accepted:
                return
            rid = self.accepted[pick % len(self.accepted)]
            phi_sum = self.rounds[rid][2]
            if self.closed:
                err = custom_error("BountyClosed")
            elif self.rounds_left == 0:
                err = custom_error("BountyNoRoundsLeft")
            elif phi_sum == 0:
                err = custom_error("BountyNoScores", rid)
            else:
                err = None
            if err:
                with brownie.reverts(err):
                    pool.releaseRound(rid, {"from": deployer})
                return
            expected = self.pool_model // self.rounds_left
            tx = pool.releaseRound(rid, {"from": deployer})
            assert tx.events["RoundReleased"]["amount"] == expected
            self.pool_model -= expected
            self.rounds_left -= 1
            self.rounds[rid][0] = expected
            self.accepted.remove(rid)

        @rule(who=st.integers(0, 2))
        def claim(self, who):
            c = contributors[who]
            released = [r for r, v in self.rounds.items() if v[0] is not None]
            owed = {r: pool.claimable(r, c) for r in released}
            total = sum(owed.values())
            if total == 0:
                with brownie.reverts(custom_error("BountyNothingToClaim", c)):
                    pool.claim(released, {"from": c})
                return
            before = token.balanceOf(c)
            pool.claim(released, {"from": c})
            assert token.balanceOf(c) - before == total
            for r, v in owed.items():
                self.claimed[(r, c.address)] = self.claimed.get((r, c.address), 0) + v

        @rule(pick=st.integers(0, 10))
        def sweep(self, pick):
            released = [r for r, v in self.rounds.items() if v[0] is not None and v[3] == 0]
            if not released:
                return
            rid = released[pick % len(released)]
            amount, phi, phi_sum, _ = self.rounds[rid]
            dust = amount - sum(amount * p // phi_sum for p in phi.values())
            tx = pool.sweepRoundDust(rid, {"from": deployer})
            assert tx.events["RoundDustSwept"]["amount"] == dust
            self.rounds[rid][3] = dust if dust else -1  # -1: swept, nothing
            if self.closed:
                self.credits[funders[1].address] += dust
            else:
                self.pool_model += dust

        @rule()
        def retire_and_close(self):
            if self.closed:
                return
            subdao.setState(STATE_RETIRED, {"from": deployer})
            total = sum(self.funded.values())
            req = funders[0].address
            to_req = self.pool_model * self.funded[req] // total if total else 0
            tx = pool.close({"from": deployer})
            assert tx.events["Closed"]["toRequester"] == to_req
            self.credits[req] += to_req
            self.credits[funders[1].address] += self.pool_model - to_req
            self.pool_model = 0
            self.rounds_left = 0
            self.closed = True

        @rule(who=st.integers(0, 1))
        def withdraw(self, who):
            f = funders[who]
            owed = self.credits[f.address]
            if owed == 0:
                with brownie.reverts(custom_error("BountyNothingToClaim", f)):
                    pool.withdraw(f, {"from": deployer})
                return
            pool.withdraw(f, {"from": deployer})
            self.credits[f.address] = 0
            self.withdrawn += owed

        @invariant()
        def balance_is_accounted(self):
            assert token.balanceOf(pool) == pool.accounted() + self.unbooked

        @invariant()
        def conservation(self):
            total_in, total_claimed, total_withdrawn = pool.totals()
            assert total_in == self.total_in
            assert tuple(int(x) for x in pool.pool()) == (self.pool_model, self.rounds_left)
            outstanding = 0
            for rid, (amount, phi, phi_sum, dust) in self.rounds.items():
                if amount is None:
                    continue
                b = pool.roundBounty(rid)
                assert b["amount"] == amount and b["dust"] == max(dust, 0)
                got_total = 0
                for c in contributors:
                    got = pool.claimable(rid, c) + self.claimed.get((rid, c.address), 0)
                    assert got == amount * phi[c.address] // phi_sum  # eq. 10 share, never more
                    got_total += got
                assert b["claimed"] == sum(
                    self.claimed.get((rid, c.address), 0) for c in contributors
                )
                outstanding += amount - b["claimed"] - max(dust, 0)
            credits = sum(pool.creditOf(f) for f in funders)
            assert credits == sum(self.credits.values())
            assert total_withdrawn == self.withdrawn
            assert (
                total_in
                == self.pool_model + outstanding + total_claimed + credits + total_withdrawn
            )

    return BountyMachine


def test_bounty_conservation(
    bounty_pool, usd, tsubdao, pharma, platform_treasury, hospitals, deployer
):
    funders = [pharma, platform_treasury]
    for f in funders:
        usd.mint(f, 10**30, {"from": f})
        usd.approve(bounty_pool, 2**256 - 1, {"from": f})
    machine = make_machine(bounty_pool, usd, tsubdao, funders, hospitals[:3], deployer)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
        ),
    )
