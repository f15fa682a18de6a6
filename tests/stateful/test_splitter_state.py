"""Stateful conservation test of the RevenueSplitter (issue 4 acceptance).

Random deposits, SDT mints/transfers/burns, epoch changes (new model versions with random φ),
retirement (ends the last epoch), claims (SBGT side: finished epochs only, once each), dust
sweeps and treasury releases. A Python model keeps every formula share exactly
(``fractions.Fraction``) and, after every step, the invariants of ``IRevenueSplitter`` are
checked against the contract:

- Σ received == balance + Σ claimed + platform/treasury paid, exactly;
- balance == platform/treasury accrued + carry + Σ claimable (SDT and SBGT) + unswept per-epoch
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
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

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
        self.epoch = 0
        self.round_id = 0
        self.pools = {}  # epoch -> [pool, phi dict, phiSum]
        self.sbgt_claimed = {}  # (epoch, addr) -> amount
        self.swept_epochs = {}  # epoch -> swept amount
        self.sdt_dust_swept = 0
        self.retired = False

    # --- helpers -------------------------------------------------------------------------

    def _bal(self, h):
        return self.tsdt.balanceOf(h)

    def _touch(self, *accts):
        for a in accts:
            if a in self.settles:
                self.settles[a] += 1

    def _split(self, amount):
        p_bps, t_bps, s_bps = self.shares[0], self.shares[1], self.shares[2]
        to_p = amount * p_bps // BPS
        to_t = amount * t_bps // BPS
        to_s = amount * s_bps // BPS
        to_sdt = amount - to_p - to_t - to_s
        self.received += amount
        self.platform_alloc += to_p
        pool = self.pools.get(self.epoch)
        if to_s:
            if pool is None or pool[2] == 0 or self.retired:
                self.pools.setdefault(self.epoch, [0, {}, 0])
                to_t += to_s  # unscored epoch, or retired: the last epoch is over
            else:
                pool[0] += to_s
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
        self._split(amount)

    @rule(amount=AMOUNT)
    def rule_deposit(self, amount):
        self._deposit(amount)

    @rule(small=SMALL)
    def rule_small_deposit(self, small):
        self._deposit(small)

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

    def _over(self, e):
        return e < self.epoch or (self.retired and e == self.epoch)

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
        self.pools[self.epoch] = [0, phi, sum(phi.values())]

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
        c = self.contributors[contributor_idx]
        epochs = [e for e in self.pools if e >= 1 and self._over(e)]
        owed = sum(self.splitter.claimableSBGT(e, c) for e in epochs)
        if owed == 0:
            with brownie.reverts(custom_error("SplitterNothingToClaim", c)):
                self.splitter.claimSBGT(epochs, {"from": c})
            return
        owed_by_epoch = {e: self.splitter.claimableSBGT(e, c) for e in epochs}
        tx = self.splitter.claimSBGT(epochs, {"from": c})
        assert tx.return_value == owed
        for e, v in owed_by_epoch.items():
            self.sbgt_claimed[(e, c.address)] = self.sbgt_claimed.get((e, c.address), 0) + v
            if v:
                assert self.splitter.hasClaimedSBGT(e, c)

    @rule(contributor_idx=CONTRIBUTOR)
    def rule_claim_current_epoch_reverts(self, contributor_idx):
        e = self.epoch
        if e == 0 or self._over(e) or self.splitter.epochPool(e)["phiSum"] == 0:
            return
        c = self.contributors[contributor_idx]
        with brownie.reverts(custom_error("SplitterEpochOpen", e, e)):
            self.splitter.claimSBGT([e], {"from": c})

    @rule()
    def rule_sweep_epoch_dust(self):
        open_ = [
            e
            for e, p in self.pools.items()
            if self._over(e) and e not in self.swept_epochs and self.splitter.epochPool(e)["seen"]
        ]
        if not open_:
            return
        e = open_[0]
        pool, phi, phi_sum = self.pools[e]
        expected = pool - sum(pool * v // phi_sum for v in phi.values()) if pool else 0
        tx = self.splitter.sweepEpochDust(e, {"from": self.payer})
        assert tx.events["EpochDustSwept"]["amount"] == expected
        self.swept_epochs[e] = expected
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
        for e, (pool, phi, phi_sum) in self.pools.items():
            view = s.epochPool(e)
            if not view["seen"]:
                continue
            assert view["pool"] == pool
            claimed_e = 0
            claimable_e = 0
            for c in self.contributors:
                got = s.claimableSBGT(e, c)
                mine = self.sbgt_claimed.get((e, c.address), 0)
                share = pool * phi[c.address] // phi_sum if phi_sum else 0
                assert got + mine == share  # eq. 10 exactly (floored), never more
                claimable_e += got
                claimed_e += mine
            residue = pool - claimed_e - claimable_e
            if e in self.swept_epochs:
                assert residue == self.swept_epochs[e]
            else:
                sbgt_residue += residue
            sbgt_claimable += claimable_e

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
