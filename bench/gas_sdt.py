"""SDT transfer gas next to a stock OpenZeppelin ERC20Votes token, in the same run.

Run: ``python bench/gas_sdt.py`` (network from env ``FLAI_BENCH_NETWORK``, default
``development``). The SDT is a factory-made suite's (an EIP-1167 clone whose revenue splitter
is its balance hook from the first crowdfund mint on); the reference is ``StockVotesToken``,
OZ ERC20 + ERC20Permit + ERC20Votes deployed directly, both holders self-delegated. Every
measured transfer is the first of its block (so both tokens write fresh vote checkpoints).
Goals: holder→holder ≤ stock + 5,000 gas; right after a revenue deposit ≤ stock + 15,000.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _suite import bare_factory, connect, oncology_params

WAD = 10**18
USDC = 10**6


def main() -> None:
    from brownie import chain, network

    project = connect()  # bench/gas.py runs every section in one process
    from flai.chain import load_subdao_suite

    a = network.accounts
    deployer, registry, pharma, payer = a[0], a[1], a[2], a[3]
    x, y, z, fresh = a[4], a[5], a[6], a[7]

    stock = project.StockVotesToken.deploy({"from": deployer})
    for h in (x, y):
        stock.mint(h, 1_000 * WAD, {"from": deployer})
        stock.delegate(h, {"from": h})
    chain.mine()
    stock_holder = stock.transfer(y, WAD, {"from": x}).gas_used
    chain.mine()
    stock_fresh = stock.transfer(fresh, WAD, {"from": x}).gas_used

    usdc = project.TestToken.deploy("USDC", "USDC", 6, 0, 0, {"from": deployer})
    flai = project.TestToken.deploy("FLAI", "FLAI", 18, 0, 0, {"from": deployer})
    d = bare_factory(deployer=deployer, registry=registry, flai=flai, platform_treasury=deployer)
    params = oncology_params(payment_token=usdc, min_validators=1, crowdfund_goal=10_000 * USDC)
    s = load_subdao_suite(
        d.factory.createSubDAO(1, pharma, params, {"from": registry}).return_value
    )
    for h in (x, y, z):
        usdc.mint(h, 1_000 * USDC, {"from": h})
        usdc.approve(s.subdao, 1_000 * USDC, {"from": h})
        s.subdao.contribute(1_000 * USDC, {"from": h})  # 1,000 SDT each, settled at mint
    chain.mine()
    sdt_holder = s.sdt.transfer(y, WAD, {"from": x}).gas_used
    chain.mine()
    sdt_fresh = s.sdt.transfer(fresh, WAD, {"from": z}).gas_used
    usdc.mint(payer, 10**12, {"from": payer})
    usdc.approve(s.splitter, 2**256 - 1, {"from": payer})
    s.splitter.deposit(1_000 * USDC, {"from": payer})  # revenue: x and y are owed
    chain.mine()
    sdt_after = s.sdt.transfer(x, WAD, {"from": y}).gas_used

    rows = [
        ("holder -> holder", stock_holder, sdt_holder, 5_000),
        ("holder -> holder, right after a revenue deposit", stock_holder, sdt_after, 15_000),
        ("holder -> fresh account", stock_fresh, sdt_fresh, 0),
    ]
    print(f"{'SDT transfer':<50} {'stock OZ':>10} {'SDT':>10} {'SDT-stock':>10}  goal")
    for label, ref, got, goal in rows:
        delta = got - ref
        verdict = "" if not goal else f"<= +{goal:,} {'OK' if delta <= goal else 'OVER'}"
        print(f"{label:<50} {ref:>10,} {got:>10,} {delta:>+10,}  {verdict}")


if __name__ == "__main__":
    main()
