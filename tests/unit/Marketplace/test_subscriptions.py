"""Subscriptions (000 §6.4): N queries per period at a fixed price; credits before per-query fees."""

import brownie
import pytest
from brownie import chain

from tests.fixtures.market import INPUT_CID, OUTPUT_CID, TIMEOUT, plain, request_record
from tests.helpers import custom_error

PRICE, QUERIES, PERIOD = 5_000, 3, 30 * 86_400


@pytest.fixture
def plan(marketplace, market, financial_chamber):
    _, _, lid = market
    tx = marketplace.addPlan(lid, PRICE, QUERIES, PERIOD, {"from": financial_chamber})
    assert plain(tx.events["PlanAdded"].values()) == (lid, 0, PRICE, QUERIES, PERIOD)
    return 0


@pytest.fixture
def subscriber(usd, marketplace, outsider):
    usd.mint(outsider, 10**9, {"from": outsider})
    usd.approve(marketplace, 2**256 - 1, {"from": outsider})
    return outsider


def test_subscribe_pays_splitter_and_credits(marketplace, market, plan, subscriber, usd):
    _, splitter, lid = market
    tx = marketplace.subscribe(lid, plan, {"from": subscriber})
    ev = tx.events["Subscribed"]
    assert ev["account"] == subscriber and ev["paid"] == PRICE and ev["credits"] == QUERIES
    assert ev["expiresAt"] == tx.timestamp + PERIOD
    assert tx.events["RevenueReceived"]["amount"] == PRICE
    assert usd.balanceOf(splitter) == PRICE and usd.balanceOf(marketplace) == 0
    acct = marketplace.account(lid, subscriber)
    assert acct["credits"] == QUERIES and acct["creditsExpireAt"] == tx.timestamp + PERIOD


def test_credits_consumed_before_paying(marketplace, market, plan, subscriber, usd):
    _, _, lid = market
    marketplace.subscribe(lid, plan, {"from": subscriber})
    before = usd.balanceOf(subscriber)
    for left in range(QUERIES - 1, -1, -1):
        tx = marketplace.requestInference(lid, INPUT_CID, 0, {"from": subscriber})
        assert tx.events["Requested"]["credit"] and tx.events["Requested"]["paid"] == 0
        assert marketplace.account(lid, subscriber)["credits"] == left
    assert usd.balanceOf(subscriber) == before
    # credits exhausted: pays the external price now
    with brownie.reverts(custom_error("MarketPriceAboveMax", 10_000, 0)):
        marketplace.requestInference(lid, INPUT_CID, 0, {"from": subscriber})
    marketplace.requestInference(lid, INPUT_CID, 10_000, {"from": subscriber})
    assert before - usd.balanceOf(subscriber) == 10_000


def test_credit_request_fulfil_moves_no_money_and_refund_returns_the_credit(
    marketplace, market, plan, subscriber, operator, usd
):
    _, splitter, lid = market
    marketplace.subscribe(lid, plan, {"from": subscriber})
    tx = marketplace.requestInference(lid, INPUT_CID, 0, {"from": subscriber})
    rid, rec = tx.events["Requested"]["requestId"], request_record(tx)
    tx2 = marketplace.requestInference(lid, INPUT_CID, 0, {"from": subscriber})
    fx = marketplace.fulfil(rid, rec, OUTPUT_CID, {"from": operator})
    assert fx.events["Fulfilled"]["revenue"] == 0 and "RevenueReceived" not in fx.events
    assert usd.balanceOf(splitter) == PRICE
    chain.sleep(TIMEOUT + 1)
    rx = marketplace.refund(
        tx2.events["Requested"]["requestId"], request_record(tx2), {"from": subscriber}
    )
    assert rx.events["Refunded"]["credit"] and rx.events["Refunded"]["amount"] == 0
    assert marketplace.account(lid, subscriber)["credits"] == QUERIES - 1


def test_credits_lapse_and_renewal_extends(marketplace, market, plan, subscriber):
    _, _, lid = market
    t1 = marketplace.subscribe(lid, plan, {"from": subscriber})
    t2 = marketplace.subscribe(lid, plan, {"from": subscriber})  # before expiry: adds, extends
    assert t2.events["Subscribed"]["credits"] == 2 * QUERIES
    assert t2.events["Subscribed"]["expiresAt"] == t1.timestamp + 2 * PERIOD
    chain.sleep(2 * PERIOD + 1)
    chain.mine()
    with brownie.reverts(custom_error("MarketPriceAboveMax", 10_000, 0)):
        marketplace.requestInference(lid, INPUT_CID, 0, {"from": subscriber})
    t3 = marketplace.subscribe(lid, plan, {"from": subscriber})  # after expiry: fresh
    assert t3.events["Subscribed"]["credits"] == QUERIES


def test_plan_guards(marketplace, market, plan, financial_chamber, subscriber, outsider):
    _, _, lid = market
    tx = marketplace.setPlanActive(lid, plan, False, {"from": financial_chamber})
    assert plain(tx.events["PlanActiveSet"].values()) == (lid, plan, False)
    with brownie.reverts(custom_error("MarketPlanInactive", lid, plan)):
        marketplace.subscribe(lid, plan, {"from": subscriber})
    with brownie.reverts(custom_error("MarketUnknownPlan", lid, 5)):
        marketplace.subscribe(lid, 5, {"from": subscriber})
    with brownie.reverts(custom_error("MarketUnauthorized", outsider)):
        marketplace.addPlan(lid, 1, 1, 1, {"from": outsider})
    with brownie.reverts(custom_error("MarketInvalidParams")):
        marketplace.addPlan(lid, 1, 0, 1, {"from": financial_chamber})


def test_credits_beyond_uint64_revert_with_a_named_error(
    marketplace, market, financial_chamber, subscriber
):
    _, _, lid = market
    unlimited = 2**64 - 1
    plan_id = marketplace.addPlan(lid, PRICE, unlimited, PERIOD, {"from": financial_chamber})
    plan_id = plan_id.events["PlanAdded"]["planId"]
    marketplace.subscribe(lid, plan_id, {"from": subscriber})
    with brownie.reverts(custom_error("MarketCreditsOverflow", lid, unlimited, unlimited)):
        marketplace.subscribe(lid, plan_id, {"from": subscriber})
    assert marketplace.account(lid, subscriber)["credits"] == unlimited
