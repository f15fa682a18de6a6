"""Non-standard payment tokens: fee-on-transfer (balance deltas) and no-return-value (SafeERC20)."""

from brownie import chain

from tests.fixtures.market import OUTPUT_CID, TIMEOUT, request_record


def test_fee_on_transfer_token_accounts_by_balance_delta(
    TestToken, make_market, marketplace, deployer, outsider, operator
):
    token = TestToken.deploy("Fee Token", "FEE", 18, 100, 0, {"from": deployer})  # 1% burnt
    _, splitter, lid = make_market(token)
    token.mint(outsider, 10**6, {"from": outsider})
    token.approve(marketplace, 2**256 - 1, {"from": outsider})
    tx = marketplace.requestInference(lid, "cid", 10_000, {"from": outsider})
    rec = request_record(tx)
    assert rec[2] == 9_900  # what arrived, not the list price
    assert token.balanceOf(marketplace) == 9_900
    fx = marketplace.fulfil(
        tx.events["Requested"]["requestId"], rec, OUTPUT_CID, {"from": operator}
    )
    assert fx.events["RevenueReceived"]["amount"] == 9_801
    assert token.balanceOf(marketplace) == 0
    assert token.balanceOf(splitter) == 9_801
    # a timed-out request refunds exactly what the marketplace holds for it
    tx = marketplace.requestInference(lid, "cid", 10_000, {"from": outsider})
    chain.sleep(TIMEOUT + 1)
    rx = marketplace.refund(
        tx.events["Requested"]["requestId"], request_record(tx), {"from": outsider}
    )
    assert rx.events["Refunded"]["amount"] == 9_900
    assert token.balanceOf(marketplace) == 0


def test_no_return_value_token_full_cycle(
    MarketNoReturnToken, make_market, marketplace, deployer, outsider, operator, platform_treasury
):
    token = MarketNoReturnToken.deploy({"from": deployer})
    _, splitter, lid = make_market(token)
    token.mint(outsider, 10**6, {"from": outsider})
    token.approve(marketplace, 2**256 - 1, {"from": outsider})
    tx = marketplace.requestInference(lid, "cid", 10_000, {"from": outsider})
    marketplace.fulfil(
        tx.events["Requested"]["requestId"], request_record(tx), OUTPUT_CID, {"from": operator}
    )
    assert token.balanceOf(splitter) == 10_000
    splitter.releaseTreasuries({"from": outsider})
    assert token.balanceOf(platform_treasury) == 3_000
    tx = marketplace.requestInference(lid, "cid", 10_000, {"from": outsider})
    chain.sleep(TIMEOUT + 1)
    before = token.balanceOf(outsider)
    marketplace.refund(tx.events["Requested"]["requestId"], request_record(tx), {"from": outsider})
    assert token.balanceOf(outsider) - before == 10_000


def test_no_standing_allowance_to_splitters(make_market, marketplace, usd, outsider, operator):
    """Escrow of all listings shares one balance per token: a splitter may pull only its own fee."""
    _, splitter, lid = make_market(usd)
    assert usd.allowance(marketplace, splitter) == 0
    usd.mint(outsider, 10**6, {"from": outsider})
    usd.approve(marketplace, 2**256 - 1, {"from": outsider})
    tx = marketplace.requestInference(lid, "cid", 10_000, {"from": outsider})
    marketplace.fulfil(
        tx.events["Requested"]["requestId"], request_record(tx), OUTPUT_CID, {"from": operator}
    )
    assert usd.allowance(marketplace, splitter) == 0
