"""Stateful: SBGT points follow the integer reference π_k ← ⌊λπ_k⌋ + ⌊φ_k·M⌋ (001 eq. 12).

Random sequences of joins (mint with points), accepted rounds (decay for all + awards for a
random subset) and revocations. After every step:

* points: |π_k(chain) − π_k(reference)| ≤ steps so far (1 wei-unit per step; see ISBGT NatSpec:
  the chain decays continuously via the index, the reference floors once per round);
* conservation in scaled units: Σ_k s_k == S exactly;
* reported total: Σ_k π_k ≤ totalPoints ≤ Σ_k π_k + holders (per-holder floors).
"""

import brownie
from brownie import chain
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.helpers import custom_error

WAD = 10**18
LAMBDA = 9 * 10**17
M = 100 * WAD


def make_machine(sbgt, operator, pool):
    """A hypothesis state machine bound to one SBGT clone; each run reverts to a snapshot.

    (brownie 1.22's mypyc-compiled ``state_machine`` helper rejects subclasses, so the machine
    uses hypothesis.stateful directly with brownie's chain snapshots.)
    """

    class SBGTMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            chain.snapshot()
            self.sbgt = sbgt
            self.op = operator
            self.pool = pool
            self.ref = {}  # holder index -> reference points
            self.steps = 0

        def teardown(self):
            chain.revert()

        @rule(who=st.integers(0, 8), points=st.integers(0, 1_000 * WAD))
        def join(self, who, points):
            self.steps += 1
            account = self.pool[who]
            if who in self.ref:
                with brownie.reverts(custom_error("SBGTAlreadyHolder", account)):
                    self.sbgt.mint(account, points, {"from": self.op})
                return
            tx = self.sbgt.mint(account, points, {"from": self.op})
            assert tx.events["Locked"]["tokenId"] == int(account.address, 16)
            self.ref[who] = points

        @rule(
            mask=st.integers(0, 2**9 - 1), phi=st.lists(st.integers(0, WAD), min_size=9, max_size=9)
        )
        def accepted_round(self, mask, phi):
            self.steps += 1
            accounts, points = [], []
            for i in range(len(self.pool)):
                if mask >> i & 1:
                    accounts.append(self.pool[i])
                    points.append(phi[i] * M // WAD)
            tx = self.sbgt.applyRound(accounts, points, {"from": self.op})
            assert tx.events["IndexDecayed"]["lambdaWad"] == LAMBDA
            for k in self.ref:
                self.ref[k] = self.ref[k] * LAMBDA // WAD
            for a, p in zip(accounts, points):
                k = self.pool.index(a)
                if k in self.ref:
                    self.ref[k] += p

        @rule(who=st.integers(0, 8))
        def revoke(self, who):
            self.steps += 1
            account = self.pool[who]
            if who not in self.ref:
                with brownie.reverts(custom_error("SBGTNotHolder", account)):
                    self.sbgt.revoke(account, {"from": self.op})
                return
            tx = self.sbgt.revoke(account, {"from": self.op})
            assert tx.events["PointsRevoked"]["account"] == account
            del self.ref[who]

        def _chain_view(self):
            """Per-account (points, scaled) read once per step and shared by the invariants."""
            if getattr(self, "_view_step", None) != self.steps:
                self._view = [
                    (self.sbgt.pointsOf(a), self.sbgt.scaledPointsOf(a)) for a in self.pool
                ]
                self._view_step = self.steps
            return self._view

        @invariant()
        def points_match_reference(self):
            for k, (onchain, _) in enumerate(self._chain_view()):
                expected = self.ref.get(k, 0)
                assert abs(onchain - expected) <= self.steps, (k, onchain, expected, self.steps)

        @invariant()
        def scaled_units_conserved(self):
            total = sum(scaled for _, scaled in self._chain_view())
            assert total == self.sbgt.totalScaledPoints()

        @invariant()
        def total_points_bounds(self):
            view = self._chain_view()
            s = sum(view[k][0] for k in self.ref)
            total = self.sbgt.totalPoints()
            assert s <= total <= s + len(self.ref)

    return SBGTMachine


def test_sbgt_state(bare_sbgt, sbgt_operator, hospitals, members):
    pool = list(hospitals) + list(members)
    machine = make_machine(bare_sbgt, sbgt_operator, pool)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
        ),
    )
