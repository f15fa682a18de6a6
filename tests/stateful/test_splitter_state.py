"""Stateful conservation test of the RevenueSplitter.

Random deposits, SDT mints/transfers/burns, epoch changes (new model versions with random φ),
time advances (``chain.sleep``: an SBGT pool takes deposits for at most ``epochLength``
seconds, so deposits after its end open the next pool), retirement (ends the last pool),
claims (SBGT side: finished pools only, once each), dust sweeps and treasury releases. A Python model keeps every formula share exactly
(``fractions.Fraction``) and, after every step, the invariants of ``IRevenueSplitter`` are
checked against the contract:

- Σ received == balance + Σ claimed + platform/treasury paid, exactly;
- balance == platform/treasury accrued + carry + Σ claimable (SDT and SBGT) + unswept per-pool
  SBGT remainders + SDT-side dust, exactly (the dust term is an exact integer computed from the
  tracked ``dustScaled`` and the holders' pending fractions);
- the SDT side is exact in 1e36-scaled units;
- no holder/contributor has claimed + claimable above its exact eq. 10/11 share, and none is
  short by more than one wei per settlement.
"""

from fractions import Fraction

import brownie
from brownie import chain
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.fixtures.market import EPOCH_LENGTH
from tests.helpers import custom_error

SCALE = 10**36
BPS = 10_000


def make_machine(splitter, tsdt, usd, tsubdao, payer, holders, contributors, deployer, minter):
    """A hypothesis machine bound to one splitter; each run starts from a chain snapshot.

    (brownie 1.22's mypyc-compiled ``state_machine`` helper rejects subclasses, so this uses
    hypothesis.stateful directly with brownie's chain snapshots.)
    """

    class SplitterMachine(RuleBasedStateMachine, _Rules):
        def __init__(self):
            super().__init__()
            chain.snapshot()
            self.splitter = splitter
            self.tsdt = tsdt
            self.token = usd
            self.tsubdao = tsubdao
            self.payer = payer
            self.holders = holders
            self.contributors = contributors
            self.deployer = deployer
            self.minter = minter
            self.shares = splitter.shares()
            self.setup()

        def teardown(self):
            chain.revert()

    return SplitterMachine


AMOUNT = st.integers(1, 10**21)
SMALL = st.integers(1, 10**4)
HOLDER = st.integers(0, 3)
PCT = st.integers(1, 100)
PHIS = st.lists(st.integers(0, 10**18), min_size=3, max_size=3)
CONTRIBUTOR = st.integers(0, 2)
# a third of a pool, or past a whole pool: either way clear of the end time by far more than
# the few seconds the transactions themselves advance the clock
SLEEP = st.sampled_from([EPOCH_LENGTH // 3 + 97, EPOCH_LENGTH + 97])
# pools whose end is within MARGIN seconds of "now" are neither claimed nor expected to revert
MARGIN = 60


class _Rules:
    def setup(self):
        self.received = 0
        self.platform_alloc = 0
        self.treasury_alloc = 0
        self.sdt_distributed = 0  # SDT side that reached the accumulator
        self.carry = 0
        self.sdt_share = {h.address: Fraction(0) for h in self.holders}
        self.sdt_claimed = {h.address: 0 for h in self.holders}
        self.settles = {h.address: 0 for h in self.holders}
        self.epoch = 0  # = the model version (one version per inference epoch here)
        self.round_id = 0
        self.version_phi = {0: ({}, 0)}  # version -> (phi dict, phiSum)
        self.pools = {}  # pool id -> [amount, phi dict, phiSum, version, endsAt]
        self.current_pool = 0
        self.sbgt_claimed = {}  # (pool id, addr) -> amount
        self.swept_pools = {}  # pool id -> swept amount
        self.sdt_dust_swept = 0
        self.retired = False

    # --- helpers -------------------------------------------------------------------------

    def _bal(self, h):
        return self.tsdt.balanceOf(h)

    def _touch(self, *accts):
        for a in accts:
            if a in self.settles:
                self.settles[a] += 1

    def _split(self, amount, tx):
        p_bps, t_bps, s_bps = self.shares[0], self.shares[1], self.shares[2]
        to_p = amount * p_bps // BPS
        to_t = amount * t_bps // BPS
        to_s = amount * s_bps // BPS
        to_sdt = amount - to_p - to_t - to_s
        self.received += amount
        self.platform_alloc += to_p
        pool_id = 0
        opened = False
        if to_s:
            cur = self.pools.get(self.current_pool)
            phi, phi_sum = self.version_phi[self.epoch]
            if self.retired:
                to_t += to_s  # retired: the last pool is over
            elif cur is not None and cur[3] == self.epoch and tx.timestamp < cur[4]:
                cur[0] += to_s
                pool_id = self.current_pool
            elif phi_sum == 0:
                to_t += to_s  # unscored version: no pool
            else:  # a new version, or the current pool's time is up: the next pool opens
                self.current_pool += 1
                pool_id = self.current_pool
                opened = True
                ends = tx.timestamp + EPOCH_LENGTH
                self.pools[pool_id] = [to_s, phi, phi_sum, self.epoch, ends]
                ev = tx.events["PoolOpened"]
                assert (ev["poolId"], ev["version"], ev["endsAt"]) == (pool_id, self.epoch, ends)
        assert ("PoolOpened" in tx.events) == opened
        assert tx.events["RevenueReceived"]["poolId"] == pool_id
        self.treasury_alloc += to_t
        if to_sdt:
            supply = self.tsdt.totalSupply()
            if supply == 0:
                self.carry += to_sdt
            else:
                d = to_sdt + self.carry
                self.carry = 0
                self.sdt_distributed += d
                for h in self.holders:
                    b = self._bal(h)
                    if b:
                        self.sdt_share[h.address] += Fraction(d * b, supply)

    # --- rules ---------------------------------------------------------------------------

    def _deposit(self, amount):
        tx = self.splitter.deposit(amount, {"from": self.payer})
        assert tx.events["RevenueReceived"]["amount"] == amount
        self._split(amount, tx)

    @initialize(phis=PHIS, amount=AMOUNT)
    def init_scored_pool(self, phis, amount):
        """Every run starts with version 1 scored and its first pool holding revenue, so the
        short runs reach pool rollovers and claims."""
        self.rule_new_epoch(phis)
        self._deposit(amount)

    @rule(amount=AMOUNT)
    def rule_deposit(self, amount):
        self._deposit(amount)

    @rule(seconds=SLEEP, amount=AMOUNT, contributor_idx=CONTRIBUTOR)
    def rule_sleep_deposit_claim(self, seconds, amount, contributor_idx):
        """Time passes, revenue arrives (past the pool's end it opens the next pool, same
        version), then a contributor claims every pool that has ended."""
        chain.sleep(seconds)
        self._deposit(amount)
        self._claim_sbgt(self.contributors[contributor_idx])

    @rule(holder_idx=HOLDER, sdt_amount=AMOUNT)
    def rule_mint(self, holder_idx, sdt_amount):
        h = self.holders[holder_idx]
        self.tsdt.mint(h, sdt_amount, {"from": self.minter})
        self._touch(h.address)

    @rule(holder_idx=HOLDER, other_idx=HOLDER, pct=PCT)
    def rule_transfer(self, holder_idx, other_idx, pct):
        a, b = self.holders[holder_idx], self.holders[other_idx]
        value = self._bal(a) * pct // 100
        self.tsdt.transfer(b, value, {"from": a})
        self._touch(a.address, b.address)

    @rule(holder_idx=HOLDER, pct=PCT)
    def rule_burn(self, holder_idx, pct):
        h = self.holders[holder_idx]
        self.tsdt.burn(h, self._bal(h) * pct // 100, {"from": self.minter})
        self._touch(h.address)

    def _over(self, p, margin=MARGIN):
        """Pool ``p`` is over (superseded, retired, or its end ``margin`` s behind the clock)."""
        version, ends = self.pools[p][3], self.pools[p][4]
        return version < self.epoch or self.retired or chain.time() >= ends + margin

    def _open(self, p):
        """Pool ``p`` is clearly still open (``MARGIN`` s before its end)."""
        return not self._over(p, margin=0) and chain.time() < self.pools[p][4] - MARGIN

    @rule(seconds=SLEEP, contributor_idx=CONTRIBUTOR)
    def rule_sleep_then_claim(self, seconds, contributor_idx):
        """Time passes (no new version), then a contributor claims what has ended."""
        chain.sleep(seconds)
        chain.mine()  # views (eth_call) read the latest block's time
        self._claim_sbgt(self.contributors[contributor_idx])

    @rule()
    def rule_retire(self):
        if self.retired or self.epoch < 2:
            return
        tx = self.tsubdao.retire({"from": self.deployer})
        assert "RetirementRecorded" in tx.events
        self.retired = True

    @rule(phis=PHIS)
    def rule_new_epoch(self, phis):
        if self.retired:  # a retired SubDAO accepts no new version
            return
        self.round_id += 1
        self.tsubdao.acceptRound(
            self.round_id, self.contributors, list(phis), {"from": self.deployer}
        )
        self.epoch += 1
        phi = {c.address: int(p) for c, p in zip(self.contributors, phis)}
        self.version_phi[self.epoch] = (phi, sum(phi.values()))

    @rule(holder_idx=HOLDER)
    def rule_claim_sdt(self, holder_idx):
        h = self.holders[holder_idx]
        owed = self.splitter.claimableSDT(h)
        if owed == 0:
            with brownie.reverts(custom_error("SplitterNothingToClaim", h)):
                self.splitter.claimSDT({"from": h})
            return
        before = self.token.balanceOf(h)
        tx = self.splitter.claimSDT({"from": h})
        assert tx.events["SDTRevenueClaimed"]["amount"] == owed
        assert self.token.balanceOf(h) - before == owed
        self.sdt_claimed[h.address] += owed
        self._touch(h.address)

    @rule(contributor_idx=CONTRIBUTOR)
    def rule_claim_sbgt(self, contributor_idx):
        self._claim_sbgt(self.contributors[contributor_idx])

    def _claim_sbgt(self, c):
        pools = [p for p in self.pools if self._over(p)]
        owed = sum(self.splitter.claimableSBGT(p, c) for p in pools)
        if owed == 0:
            with brownie.reverts(custom_error("SplitterNothingToClaim", c)):
                self.splitter.claimSBGT(pools, {"from": c})
            return
        owed_by_pool = {p: self.splitter.claimableSBGT(p, c) for p in pools}
        # the view lists every finished pool with something owed (and maybe one just ended)
        listed, total = self.splitter.claimablePools(c, 1, self.current_pool)
        assert {p for p, v in owed_by_pool.items() if v} <= set(listed) and total >= owed
        tx = self.splitter.claimSBGT(pools, {"from": c})
        assert tx.return_value == owed
        paid = {int(ev["poolId"]): int(ev["amount"]) for ev in tx.events["SBGTRevenueClaimed"]}
        assert paid == {p: v for p, v in owed_by_pool.items() if v}
        for p, v in owed_by_pool.items():
            self.sbgt_claimed[(p, c.address)] = self.sbgt_claimed.get((p, c.address), 0) + v
            if v:
                assert self.splitter.hasClaimedSBGT(p, c)

    @rule(contributor_idx=CONTRIBUTOR)
    def rule_claim_open_pool_reverts(self, contributor_idx):
        p = self.current_pool
        if p == 0 or not self._open(p):
            return
        c = self.contributors[contributor_idx]
        with brownie.reverts(custom_error("SplitterPoolOpen", p, self.pools[p][4])):
            self.splitter.claimSBGT([p], {"from": c})

    @rule()
    def rule_claim_unknown_pool_reverts(self):
        c = self.contributors[0]
        unknown = self.current_pool + 1
        with brownie.reverts(custom_error("SplitterUnknownPool", unknown, self.current_pool)):
            self.splitter.claimSBGT([unknown], {"from": c})

    @rule()
    def rule_sweep_pool_dust(self):
        todo = [p for p in self.pools if self._over(p) and p not in self.swept_pools]
        if not todo:
            return
        p = todo[0]
        pool, phi, phi_sum = self.pools[p][:3]
        expected = pool - sum(pool * v // phi_sum for v in phi.values())
        tx = self.splitter.sweepEpochDust(p, {"from": self.payer})
        assert tuple(tx.events["EpochDustSwept"].values()) == (p, expected)
        self.swept_pools[p] = expected
        self.treasury_alloc += expected

    @rule()
    def rule_sweep_dust(self):
        expected = self.splitter.dustScaled() // SCALE
        tx = self.splitter.sweepDust({"from": self.payer})
        assert tx.events["DustSwept"]["amount"] == expected
        self.sdt_dust_swept += expected
        self.treasury_alloc += expected

    @rule()
    def rule_release(self):
        p, t = self.splitter.accrued()
        if p + t == 0:
            return
        tx = self.splitter.releaseTreasuries({"from": self.payer})
        assert tx.events["TreasuriesReleased"]["toPlatform"] == p
        assert tx.events["TreasuriesReleased"]["toSubDAO"] == t

    @rule()
    def rule_distribute_carry(self):
        if self.carry == 0 or self.tsdt.totalSupply() == 0:
            return
        supply = self.tsdt.totalSupply()
        self.splitter.distributeCarry({"from": self.payer})
        d, self.carry = self.carry, 0
        self.sdt_distributed += d
        for h in self.holders:
            b = self._bal(h)
            if b:
                self.sdt_share[h.address] += Fraction(d * b, supply)

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def invariant_conservation(self):
        s = self.splitter
        received, platform_paid, treasury_paid = s.totals()
        claimed = sum(self.sdt_claimed.values()) + sum(self.sbgt_claimed.values())
        balance = self.token.balanceOf(s)
        assert received == balance + claimed + platform_paid + treasury_paid
        assert received == self.received
        p_acc, t_acc = s.accrued()
        assert p_acc + platform_paid == self.platform_alloc
        assert t_acc + treasury_paid == self.treasury_alloc
        assert s.sdtCarry() == self.carry

        acc = s.accPerToken()
        dust_scaled = s.dustScaled()
        sdt_claimable = 0
        pending_frac = 0
        scaled_total = dust_scaled + self.sdt_dust_swept * SCALE
        for h in self.holders:
            st = s.holder(h)
            pending = self._bal(h) * (acc - max(st["paidPerToken"], 1))  # 0 reads as the base 1
            scaled_total += (self.sdt_claimed[h.address] + st["credit"]) * SCALE + pending
            pending_frac += pending % SCALE
            claimable = s.claimableSDT(h)
            assert claimable == st["credit"] + pending // SCALE
            sdt_claimable += claimable
            # formula share (eq. 11): never above, at most 1 wei short per settlement
            got = self.sdt_claimed[h.address] + claimable
            assert got <= self.sdt_share[h.address]
            assert self.sdt_share[h.address] - got < self.settles[h.address] + 2
        # the SDT side is exact in scaled units
        assert scaled_total == self.sdt_distributed * SCALE
        sdt_dust_wei, rem = divmod(dust_scaled + pending_frac, SCALE)
        assert rem == 0

        sbgt_claimable = 0
        sbgt_residue = 0
        assert s.currentPoolId() == self.current_pool
        for p, (pool, phi, phi_sum, version, ends) in self.pools.items():
            view = s.epochPool(p)
            assert (view["amount"], view["version"], view["phiSum"], view["endsAt"]) == (
                pool,
                version,
                phi_sum,
                ends,
            )
            assert view["dustSwept"] == (p in self.swept_pools)
            claimed_p = 0
            claimable_p = 0
            for c in self.contributors:
                got = s.claimableSBGT(p, c)
                mine = self.sbgt_claimed.get((p, c.address), 0)
                share = pool * phi[c.address] // phi_sum
                assert got + mine == share  # eq. 10 exactly (floored), never more
                claimable_p += got
                claimed_p += mine
            residue = pool - claimed_p - claimable_p
            if p in self.swept_pools:
                assert residue == self.swept_pools[p]
            else:
                sbgt_residue += residue
            sbgt_claimable += claimable_p

        # everything the splitter holds is owed to someone, exactly
        assert balance == (
            p_acc
            + t_acc
            + self.carry
            + sdt_claimable
            + sbgt_claimable
            + sbgt_residue
            + sdt_dust_wei
        )


def test_splitter_conservation(
    splitter, tsdt, usd, tsubdao, members, backers, hospitals, deployer, sdt_minter
):
    payer = members[1]
    usd.mint(payer, 10**30, {"from": payer})
    usd.approve(splitter, 2**256 - 1, {"from": payer})
    holders = [backers[0], backers[1], backers[2], members[0]]
    machine = make_machine(
        splitter, tsdt, usd, tsubdao, payer, holders, hospitals[:3], deployer, sdt_minter
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow],
        ),
    )
