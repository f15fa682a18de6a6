"""Gas figures of the market layer.

Run: ``python bench/gas_market.py`` (network from env ``FLAI_BENCH_NETWORK``, default
``development``). Prints one line per figure with its budget (0 = informational).

Set-up: a real SDT clone (its SubDAO role held by a test account so the bench can mint to
1,000 holders), the splitter and bounty pool as clones, the platform-wide Marketplace, and the
``MarketTestSubDAO`` view harness standing in for the SubDAO + TrainingRounds views; the
"REAL SUITE" lines repeat the budgeted figures on a real SubDAO suite made by the factory
(its splitter created with the suite, so the crowdfund's SDT mints settle through it). SBGT-side
claims are of a finished SBGT pool: one model version, at most ``epochLength`` seconds (7 days
here), over once its end time passed, the next version was accepted or the SubDAO retired.
The deposit (or fulfil) that opens a pool pays for the fresh pool slot and claim-mask word.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _suite import SCENARIO, bare_factory, connect, oncology_params

ROOT = Path(__file__).resolve().parents[1]
WAD = 10**18


def request_record(tx):
    """The ``IMarketplace.Request`` a ``Requested`` event carries (what fulfil/refund take back)."""
    from flai.chain.abi import Request

    return Request.from_event(tx.events["Requested"]).as_tuple()


def listing_params(operator, *, domain: str, base_price: int) -> tuple:
    """The ``IMarketplace.ListingParams`` tuple of an inference listing of the scenario's
    model class and metric (AUC 0.87, an hour to fulfil)."""
    from flai.chain import ListingKind, ListingParams, Tag
    from flai.chain.abi import Address

    return ListingParams(
        kind=ListingKind.INFERENCE,
        domain=Tag(domain),
        model_class=Tag(SCENARIO.rfm.model_class),
        metric_id=Tag(SCENARIO.rfm.metric_id),
        metric_value=870_000,
        base_price=base_price,
        timeout=3_600,
        operator=Address(str(operator)),
        licence_cid="bafylicence",
        model_card_cid="bafymodelcard",
    ).as_tuple()


def _govern(chamber, targets, calldatas, voters, description):
    """Propose, vote with every voter and execute through ``flai.chain.chamber_execute``."""
    from flai.chain import Action, GasMeter, chamber_execute

    actions = [Action(str(t.address), c) for t, c in zip(targets, calldatas)]
    return chamber_execute(
        chamber,
        voters=voters,
        actions=actions,
        description=description,
        gas=GasMeter(),
        step="bench",
    )


def real_suite_figures(project, a, cloner, marketplace, policy) -> list[tuple[str, int, int]]:
    """requestInference and claims against a real SubDAO suite (factory clones: SubDAO, SDT,
    SBGT, TrainingRounds, chambers, RevenueSplitter), the model accepted by the technical
    chamber; pool 1 (version 1) is claimed after version 2 is accepted (pool 1 superseded)."""
    from brownie import chain

    from flai.chain import load_subdao_suite

    deployer, registry, pharma, operator, treasury = a[0], a[1], a[2], a[3], a[5]
    founders, validators, backers, users = a[6:9], a[9:11], a[11:14], a[14:16]
    usdc = project.TestToken.deploy("USDC", "USDC", 6, 0, 0, {"from": deployer})
    flai = project.TestToken.deploy("FLAI", "FLAI", 18, 0, 0, {"from": deployer})
    policy.setAllowed(usdc, True, {"from": a[19]})
    d = bare_factory(deployer=deployer, registry=registry, flai=flai, platform_treasury=treasury)
    params = oncology_params(payment_token=usdc, min_validators=2, crowdfund_goal=900 * 10**6)
    tx = d.factory.createSubDAO(7, pharma, params, {"from": registry})
    suite = load_subdao_suite(tx.return_value)
    subdao, rounds, technical, splitter = (
        suite.subdao,
        suite.rounds,
        suite.technical,
        suite.splitter,
    )
    for b in backers:
        usdc.mint(b, 300 * 10**6, {"from": b})
        usdc.approve(subdao, 300 * 10**6, {"from": b})
        subdao.contribute(300 * 10**6, {"from": b})
    subdao.closeCrowdfund({"from": backers[0]})
    for f in founders:
        rounds.applyContributor("bafyattestation", 0, {"from": f})
    for v in validators:
        flai.mint(v, 100 * WAD, {"from": v})
        flai.approve(rounds, 100 * WAD, {"from": v})
        rounds.applyValidator(100 * WAD, {"from": v})
    rounds.launch(founders, [300 * WAD, 200 * WAD, 100 * WAD], validators, {"from": pharma})

    def accepted_round(n: int) -> None:
        deadline = chain.time() + 3_600
        opened = rounds.openRound(f"bafyglobal{n - 1}", deadline, {"from": pharma})
        rid = opened.events["RoundOpened"]["roundId"]
        for i, f in enumerate(founders):
            rounds.commitUpdate(rid, f"bafyupdate{n}-{i}", {"from": f})
        chain.sleep(3_700)
        chain.mine()
        for v in validators:
            rounds.submitScores(rid, [8 * 10**17, 5 * 10**17, 2 * 10**17], {"from": v})
        rounds.finalizeRound(rid, f"bafyaggregate{n}", 870_000, {"from": pharma})
        accept = [rounds.acceptRound.encode_input(rid)]
        _govern(technical, [rounds], accept, founders, f"accept r{n}")

    accepted_round(1)
    listing = listing_params(operator, domain=SCENARIO.rfm.domain, base_price=50_000)
    _govern(
        technical,
        [marketplace],
        [marketplace.list.encode_input(subdao, listing)],
        founders,
        "list",
    )
    lid = marketplace.listingOf(subdao)
    cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    figures = []
    for u in users:
        usdc.mint(u, 10**9, {"from": u})
        usdc.approve(marketplace, 2**256 - 1, {"from": u})
    t0 = marketplace.requestInference(lid, cid, 10**9, {"from": users[0]})
    t1 = marketplace.requestInference(lid, cid, 10**9, {"from": users[1]})
    figures.append(("REAL SUITE requestInference (external user)", t1.gas_used, 90_000))
    marketplace.fulfil(
        t0.events["Requested"]["requestId"], request_record(t0), cid, {"from": operator}
    )
    marketplace.fulfil(
        t1.events["Requested"]["requestId"], request_record(t1), cid, {"from": operator}
    )
    accepted_round(2)  # version 2: SBGT pool 1 (version 1) is superseded, final
    tx = splitter.claimSDT({"from": backers[0]})
    figures.append(("REAL SUITE claimSDT (backer, empty wallet)", tx.gas_used, 100_000))
    tx = splitter.claimSBGT([1], {"from": founders[0]})
    figures.append(
        ("REAL SUITE claimSBGT (founder, empty wallet, pool 1 superseded)", tx.gas_used, 100_000)
    )
    usdc.mint(backers[1], 1, {"from": backers[1]})
    usdc.mint(founders[1], 1, {"from": founders[1]})
    tx = splitter.claimSDT({"from": backers[1]})
    figures.append(("REAL SUITE claimSDT (backer holding the token)", tx.gas_used, 100_000))
    tx = splitter.claimSBGT([1], {"from": founders[1]})
    figures.append(("REAL SUITE claimSBGT (founder holding the token)", tx.gas_used, 100_000))
    # pool 2 (version 2) is over once the SubDAO retires (the extra `retired` read)
    for u in users:
        t = marketplace.requestInference(lid, cid, 10**9, {"from": u})
        marketplace.fulfil(
            t.events["Requested"]["requestId"], request_record(t), cid, {"from": operator}
        )
    _govern(technical, [subdao], [subdao.retire.encode_input()], founders, "retire")
    tx = splitter.claimSBGT([2], {"from": founders[2]})
    figures.append(
        (
            "REAL SUITE claimSBGT (founder, empty wallet, last pool after retire)",
            tx.gas_used,
            100_000,
        )
    )
    return figures


def main() -> None:
    from brownie import chain, network

    project = connect()  # bench/gas.py runs every section in one process
    from flai.chain import (
        Module,
        RevenueShares,
        SubDAOState,
        deploy_market_cloner,
        deploy_marketplace,
        deploy_revenue_splitter,
    )

    a = network.accounts
    deployer, pharma, chamber, operator, minter, treasury = a[0], a[1], a[2], a[3], a[4], a[5]
    users, contributors = a[6:12], a[12:15]
    figures: list[tuple[str, int, int]] = []

    usd = project.TestToken.deploy("Market Test USD", "tUSD", 18, 0, 0, {"from": deployer})
    cloner = deploy_market_cloner(deployer=deployer)
    # the RFM registry's payment-token allow-list stand-in, deployed by another account so the
    # deployer's nonces (and every address below) stay what they were
    policy = project.TestPaymentTokenPolicy.deploy({"from": a[19]})
    policy.setAllowed(usd, True, {"from": a[19]})
    marketplace = deploy_marketplace(deployer=deployer, token_policy=policy)
    sdt_impl = project.SDT.deploy({"from": deployer})
    batch = project.MarketBatchMinter.deploy({"from": deployer})

    def suite(role=minter):
        tx = cloner.cloner.clone(
            sdt_impl, sdt_impl.initialize.encode_input(role, 2**96 - 1), {"from": deployer}
        )
        sdt = project.SDT.at(tx.events["ModuleCloned"]["clone"])
        s = project.MarketTestSubDAO.deploy(pharma, usd, {"from": deployer})
        s.setModule(Module.SDT, sdt, {"from": deployer})
        s.setModule(Module.TECHNICAL_CHAMBER, chamber, {"from": deployer})
        s.setModule(Module.FINANCIAL_CHAMBER, chamber, {"from": deployer})
        s.setState(SubDAOState.DEPLOYED, {"from": deployer})
        s.acceptRound(1, contributors, [5 * 10**17, 3 * 10**17, 2 * 10**17], {"from": deployer})
        sp = deploy_revenue_splitter(
            deployer=deployer,
            cloner=cloner,
            subdao=s,
            token=usd,
            platform_treasury=treasury,
            platform_admin=deployer,
            shares=RevenueShares(),
            epoch_length=7 * 24 * 3600,
        )
        s.setModule(Module.REVENUE_SPLITTER, sp, {"from": deployer})
        if role == minter:
            sdt.setBalanceHook(sp, {"from": minter})
        else:
            batch.setBalanceHook(sdt, sp, {"from": deployer})
        return s, sdt, sp

    subdao, sdt, splitter = suite()
    params = listing_params(operator, domain="healthcare", base_price=1_000)
    tx = marketplace.list(subdao, params, {"from": chamber})
    figures.append(("list", tx.gas_used, 0))
    lid = tx.events["Listed"]["listingId"]
    for u in users:
        usd.mint(u, 10**12, {"from": u})
        usd.approve(marketplace, 2**256 - 1, {"from": u})
    cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    t0 = marketplace.requestInference(lid, cid, 10**9, {"from": users[0]})
    figures.append(("requestInference (first ever: escrow balance 0 -> x)", t0.gas_used, 0))
    t1 = marketplace.requestInference(lid, cid, 10**9, {"from": users[1]})
    figures.append(("requestInference (external user, fee paid)", t1.gas_used, 90_000))
    t2 = marketplace.requestInference(lid, cid, 10**9, {"from": users[1]})
    figures.append(("requestInference (repeat user)", t2.gas_used, 90_000))
    tx = marketplace.addPlan(lid, 5_000, 10, 30 * 86_400, {"from": chamber})
    tx = marketplace.subscribe(lid, 0, {"from": users[2]})
    # subscription revenue is earned on purchase: this first SBGT-side revenue opens pool 1
    assert tx.events["PoolOpened"]["poolId"] == 1
    figures.append(("subscribe (fee -> splitter, opens SBGT pool 1)", tx.gas_used, 0))
    t3 = marketplace.requestInference(lid, cid, 0, {"from": users[2]})
    figures.append(("requestInference (subscription credit)", t3.gas_used, 90_000))
    r1 = request_record(t1)
    tx = marketplace.fulfil(t1.events["Requested"]["requestId"], r1, cid, {"from": operator})
    assert "PoolOpened" not in tx.events
    figures.append(("fulfil (fee -> splitter + split, open SBGT pool)", tx.gas_used, 0))
    chain.sleep(3_601)
    chain.mine()
    r2 = request_record(t2)
    tx = marketplace.refund(t2.events["Requested"]["requestId"], r2, {"from": users[1]})
    figures.append(("refund after timeout", tx.gas_used, 0))

    # claims
    holders = a[15:18]
    for h in holders:
        sdt.mint(h, 10 * WAD, {"from": minter})
    usd.mint(deployer, 10**15, {"from": deployer})
    usd.approve(splitter, 2**256 - 1, {"from": deployer})
    splitter.deposit(10**9, {"from": deployer})
    splitter.deposit(10**9, {"from": deployer})
    tx = splitter.claimSDT({"from": holders[0]})
    figures.append(("claimSDT (SDT side, eq. 11)", tx.gas_used, 100_000))
    # version 2 accepted: SBGT pool 1 (version 1) is superseded and final
    subdao.acceptRound(2, contributors, [5 * 10**17, 3 * 10**17, 2 * 10**17], {"from": deployer})
    tx = splitter.claimSBGT([1], {"from": contributors[0]})
    figures.append(("claimSBGT (one pool, version superseded, eq. 10)", tx.gas_used, 100_000))
    tx = splitter.deposit(10**9, {"from": deployer})  # new version: pool 2 opens
    assert tx.events["PoolOpened"]["poolId"] == 2
    figures.append(("deposit opening an SBGT pool (new version)", tx.gas_used, 0))
    subdao.acceptRound(3, contributors, [5 * 10**17, 3 * 10**17, 2 * 10**17], {"from": deployer})
    tx = splitter.claimSBGT([1, 2], {"from": contributors[1]})
    figures.append(("claimSBGT (two finished pools in one call)", tx.gas_used, 0))
    # a model never retrained still pays every epochLength: pool 3 ends by time
    tx = splitter.deposit(10**9, {"from": deployer})  # version 3: pool 3
    assert tx.events["PoolOpened"]["poolId"] == 3
    tx = splitter.deposit(10**9, {"from": deployer})
    figures.append(("deposit into the open SBGT pool", tx.gas_used, 0))
    chain.sleep(7 * 24 * 3600 + 1)
    chain.mine()
    tx = splitter.claimSBGT([3], {"from": contributors[2]})
    figures.append(("claimSBGT (one pool ended by time, empty wallet)", tx.gas_used, 100_000))
    tx = splitter.deposit(10**9, {"from": deployer})  # same version, time up: pool 4
    assert tx.events["PoolOpened"]["poolId"] == 4
    figures.append(("deposit opening an SBGT pool (time rollover)", tx.gas_used, 0))
    tx = sdt.transfer(holders[1], WAD, {"from": holders[2]})
    figures.append(("SDT transfer incl. splitter hook (both settled)", tx.gas_used, 0))

    figures += real_suite_figures(project, a, cloner, marketplace, policy)

    # deposit cost vs number of SDT holders
    deposits = {}
    for n in (10, 1_000):
        _, sdt_n, sp_n = suite(batch)
        for start in range(0, n, 50):
            count = min(50, n - start)
            batch.mintMany(sdt_n, 0x1000 + start, count, WAD, {"from": deployer})
        assert sdt_n.balanceOf(f"0x{(0x1000 + n - 1):040x}") == WAD
        usd.approve(sp_n, 2**256 - 1, {"from": deployer})
        sp_n.deposit(10**9, {"from": deployer})
        tx = sp_n.deposit(10**9, {"from": deployer})
        deposits[n] = tx.gas_used
        figures.append((f"deposit/distribute with {n:>5} SDT holders", tx.gas_used, 0))
    spread = abs(deposits[1_000] - deposits[10]) / deposits[10]

    width = max(len(f[0]) for f in figures)
    for name, gas, budget in figures:
        verdict = "" if not budget else ("  OK" if gas <= budget else "  OVER")
        limit = f"(<= {budget:,})" if budget else ""
        print(f"{name:<{width}}  {gas:>9,} gas  {limit}{verdict}")
    ok = spread <= 0.05
    print(
        f"{'deposit spread 10 vs 1,000 holders':<{width}}  {spread * 100:>8.2f} %    (<= 5%)  {'OK' if ok else 'OVER'}"
    )


if __name__ == "__main__":
    main()
