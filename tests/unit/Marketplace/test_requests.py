"""Pay-per-inference requests: fulfil, timeout refund, named errors; FA pay-per-query (001 §7.2–7.3)."""

import brownie
import pytest
from brownie import chain

from tests.fixtures.market import INPUT_CID, OUTPUT_CID, STATE_RETIRED, TIMEOUT, request_record
from tests.helpers import custom_error

PENDING, FULFILLED, REFUNDED = 1, 2, 3


@pytest.fixture
def user(usd, marketplace, outsider):
    usd.mint(outsider, 10**9, {"from": outsider})
    usd.approve(marketplace, 2**256 - 1, {"from": outsider})
    return outsider


@pytest.fixture
def pending(marketplace, market, user):
    _, _, lid = market
    tx = marketplace.requestInference(lid, INPUT_CID, 10**6, {"from": user})
    return tx.events["Requested"]["requestId"], request_record(tx), tx


def test_request_escrows_fee_and_stores_only_a_hash(marketplace, market, usd, user, pending):
    _, _, lid = market
    rid, rec, tx = pending
    ev = tx.events["Requested"]
    assert rid == (lid << 64) | 1
    assert ev["payer"] == user and ev["inputCid"] == INPUT_CID
    assert rec == (user.address, tx.timestamp + TIMEOUT, 10_000, False)
    assert usd.balanceOf(marketplace) == 10_000
    assert marketplace.requestStatus(rid) == PENDING
    rid2 = marketplace.requestInference(lid, INPUT_CID, 10**6, {"from": user}).return_value
    assert rid2 == rid + 1


def test_fulfil_sends_fee_to_the_splitter(marketplace, market, usd, operator, pending):
    _, splitter, _ = market
    rid, rec, _ = pending
    tx = marketplace.fulfil(rid, rec, OUTPUT_CID, {"from": operator})
    ev = tx.events["Fulfilled"]
    assert ev["requestId"] == rid and ev["operator"] == operator and ev["outputCid"] == OUTPUT_CID
    assert ev["revenue"] == 10_000
    assert (
        tx.events["RevenueReceived"]["amount"] == 10_000
        and tx.events["RevenueReceived"]["epoch"] == 1
        and tx.events["RevenueReceived"]["poolId"] == 1
    )
    assert usd.balanceOf(marketplace) == 0 and usd.balanceOf(splitter) == 10_000
    assert marketplace.requestStatus(rid) == FULFILLED


def test_double_fulfil(marketplace, operator, pending):
    rid, rec, _ = pending
    marketplace.fulfil(rid, rec, OUTPUT_CID, {"from": operator})
    with brownie.reverts(custom_error("MarketRequestNotPending", rid, FULFILLED)):
        marketplace.fulfil(rid, rec, OUTPUT_CID, {"from": operator})


def test_fulfil_by_non_operator(marketplace, market, pending, hospital_a):
    _, _, lid = market
    rid, rec, _ = pending
    with brownie.reverts(custom_error("MarketNotOperator", lid, hospital_a)):
        marketplace.fulfil(rid, rec, OUTPUT_CID, {"from": hospital_a})


def test_fulfil_with_a_forged_record(marketplace, operator, pending):
    rid, rec, _ = pending
    forged = (rec[0], rec[1], rec[2] * 2, rec[3])
    with brownie.reverts(custom_error("MarketRequestMismatch", rid)):
        marketplace.fulfil(rid, forged, OUTPUT_CID, {"from": operator})
    with brownie.reverts(custom_error("MarketRequestNotPending", rid + 7, 0)):
        marketplace.fulfil(rid + 7, rec, OUTPUT_CID, {"from": operator})


def test_timeout_refund_in_full(marketplace, usd, user, operator, pending, hospital_a):
    rid, rec, _ = pending
    with brownie.reverts(custom_error("MarketRequestNotExpired", rid, rec[1])):
        marketplace.refund(rid, rec, {"from": user})
    chain.sleep(TIMEOUT + 1)
    chain.mine()
    with brownie.reverts(custom_error("MarketRequestExpired", rid, rec[1])):
        marketplace.fulfil(rid, rec, OUTPUT_CID, {"from": operator})
    before = usd.balanceOf(user)
    tx = marketplace.refund(rid, rec, {"from": hospital_a})  # anyone may trigger; the payer is paid
    ev = tx.events["Refunded"]
    assert (
        ev["requestId"] == rid
        and ev["payer"] == user
        and ev["amount"] == 10_000
        and not ev["credit"]
    )
    assert usd.balanceOf(user) - before == 10_000
    assert usd.balanceOf(marketplace) == 0
    with brownie.reverts(custom_error("MarketRequestNotPending", rid, REFUNDED)):
        marketplace.refund(rid, rec, {"from": user})


def test_request_on_retired_listing(marketplace, market, user, deployer):
    subdao, _, lid = market
    subdao.setState(STATE_RETIRED, {"from": deployer})
    with brownie.reverts(custom_error("MarketListingRetired", lid)):
        marketplace.requestInference(lid, INPUT_CID, 10**6, {"from": user})
    marketplace.delist(lid, {"from": user})
    with brownie.reverts(custom_error("MarketListingRetired", lid)):
        marketplace.requestInference(lid, INPUT_CID, 10**6, {"from": user})


def test_pending_request_survives_retirement(marketplace, market, operator, pending, deployer):
    subdao, _, _ = market
    rid, rec, _ = pending
    subdao.setState(STATE_RETIRED, {"from": deployer})
    tx = marketplace.fulfil(rid, rec, OUTPUT_CID, {"from": operator})
    assert tx.events["Fulfilled"]["revenue"] == 10_000


def test_unknown_listing(marketplace, user):
    with brownie.reverts(custom_error("MarketUnknownListing", 42)):
        marketplace.requestInference(42, INPUT_CID, 10**6, {"from": user})


def test_fa_listing_sells_reports_per_query(marketplace, make_market, usd, user, operator):
    _, splitter, lid = make_market(usd, kind=1)
    with brownie.reverts(custom_error("MarketWrongKind", lid, 1)):
        marketplace.requestInference(lid, INPUT_CID, 10**6, {"from": user})
    tx = marketplace.requestQuery(lid, "bafkqueryschema", 10**6, {"from": user})
    rid = tx.events["Requested"]["requestId"]
    assert tx.events["Requested"]["inputCid"] == "bafkqueryschema"
    tx = marketplace.fulfil(rid, request_record(tx), "bafkreport", {"from": operator})
    assert tx.events["Fulfilled"]["outputCid"] == "bafkreport"
    assert usd.balanceOf(splitter) == 10_000


def test_free_tier_request_and_refund(marketplace, market, financial_chamber, hospital_a, usd):
    _, _, lid = market
    marketplace.setRanks(lid, [hospital_a], {"from": financial_chamber})
    tx = marketplace.requestInference(lid, INPUT_CID, 0, {"from": hospital_a})
    rid, rec = tx.events["Requested"]["requestId"], request_record(tx)
    assert rec[2] == 0 and not rec[3]
    chain.sleep(TIMEOUT + 1)
    tx = marketplace.refund(rid, rec, {"from": hospital_a})
    assert tx.events["Refunded"]["amount"] == 0
