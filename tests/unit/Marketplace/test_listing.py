"""Marketplace listings: creation by a chamber, discovery, governance setters, delisting (001 §7.1)."""

import brownie

from tests.fixtures.market import STATE_RETIRED, STATE_TRAINING, listing_params, plain
from tests.helpers import bytes32, custom_error


def test_listed_with_metadata_and_discoverable(marketplace, market, usd, tsdt, operator, pharma):
    subdao, splitter, lid = market
    assert lid == 1 and marketplace.listingCount() == 1
    l = marketplace.listing(lid)
    assert l["subDAO"] == subdao and l["token"] == usd and l["requester"] == pharma
    assert l["operator"] == operator and l["splitter"] == splitter and l["basePrice"] == 1_000
    info = marketplace.listingInfo(lid)
    assert info["domain"] == "0x" + bytes32("healthcare.oncology").hex()
    assert info["metricValue"] == 870_000
    assert marketplace.modelVersionOf(lid) == 1
    assert plain(marketplace.listingsByDomain(bytes32("healthcare.oncology"))) == (1,)
    assert plain(marketplace.listingsByModelClass(bytes32("binary-classifier"))) == (1,)
    assert marketplace.listingOf(subdao) == 1


def test_listed_event(make_market, usd, tsdt, marketplace):
    subdao, _splitter, lid = make_market(usd)
    tx = brownie.history[-1]
    e = tx.events["Listed"]
    assert e["listingId"] == lid and e["subDAO"] == subdao and e["token"] == usd
    assert e["sdt"] == tsdt and e["modelVersion"] == 1 and e["kind"] == 0


def test_list_guards(
    marketplace,
    market,
    MarketTestSubDAO,
    usd,
    deployer,
    pharma,
    financial_chamber,
    technical_chamber,
    operator,
    outsider,
):
    subdao, _, lid = market
    params = listing_params(operator)
    with brownie.reverts(custom_error("MarketUnauthorized", outsider)):
        marketplace.list(subdao, params, {"from": outsider})
    with brownie.reverts(custom_error("MarketAlreadyListed", subdao, lid)):
        marketplace.list(subdao, params, {"from": technical_chamber})
    fresh = MarketTestSubDAO.deploy(pharma, usd, {"from": deployer})
    fresh.setModule(3, financial_chamber, {"from": deployer})
    fresh.setState(1, {"from": deployer})  # Onboarding
    with brownie.reverts(custom_error("MarketNotDeployed", fresh, 1)):
        marketplace.list(fresh, params, {"from": financial_chamber})
    fresh.setState(3, {"from": deployer})
    with brownie.reverts(custom_error("MarketNoSplitter", fresh)):
        marketplace.list(fresh, params, {"from": financial_chamber})


def test_list_refuses_a_token_off_the_allow_list(
    make_market, marketplace, token_policy, TestToken, deployer
):
    """A fee-on-top token would leave the marketplace escrow short on every refund."""
    fee_on_top = TestToken.deploy("Fee On Top USD", "FOT", 6, 0, 100, {"from": deployer})
    assert marketplace.tokenPolicy() == token_policy
    listed = marketplace.listingCount()
    with brownie.reverts(custom_error("MarketTokenNotAllowed", fee_on_top)):
        make_market(fee_on_top, allow=False)
    assert marketplace.listingCount() == listed


def test_setters_by_the_right_chamber(
    marketplace, market, financial_chamber, technical_chamber, outsider
):
    _, _, lid = market
    tx = marketplace.setBasePrice(lid, 2_000, {"from": financial_chamber})
    assert plain(tx.events["PriceSet"].values()) == (lid, 2_000)
    with brownie.reverts(custom_error("MarketUnauthorized", technical_chamber)):
        marketplace.setBasePrice(lid, 1, {"from": technical_chamber})
    tx = marketplace.setOperator(lid, outsider, {"from": technical_chamber})
    assert tx.events["OperatorSet"]["operator"] == outsider
    with brownie.reverts(custom_error("MarketUnauthorized", financial_chamber)):
        marketplace.setOperator(lid, outsider, {"from": financial_chamber})
    tx = marketplace.setMetadata(
        lid, bytes32("AUC"), 910_000, "lic", "card", {"from": technical_chamber}
    )
    assert tx.events["MetadataSet"]["metricValue"] == 910_000
    assert marketplace.listingInfo(lid)["modelCardCid"] == "card"
    with brownie.reverts(custom_error("MarketUnknownListing", 9)):
        marketplace.setBasePrice(9, 1, {"from": financial_chamber})


def test_delisted_on_retirement_by_anyone(marketplace, market, deployer, outsider, usd):
    subdao, _, lid = market
    with brownie.reverts(custom_error("MarketUnauthorized", outsider)):
        marketplace.delist(lid, {"from": outsider})
    subdao.setState(STATE_RETIRED, {"from": deployer})
    tx = marketplace.delist(lid, {"from": outsider})
    assert plain(tx.events["Delisted"].values()) == (lid, outsider.address)
    assert marketplace.listing(lid)["delisted"]
    with brownie.reverts(custom_error("MarketListingRetired", lid)):
        marketplace.delist(lid, {"from": outsider})


def test_sales_continue_while_next_round_trains(marketplace, market, deployer, backers, usd):
    subdao, _, lid = market
    subdao.setState(STATE_TRAINING, {"from": deployer})
    usd.mint(backers[0], 10**6, {"from": backers[0]})
    usd.approve(marketplace, 10**6, {"from": backers[0]})
    tx = marketplace.requestInference(lid, "cid", 10**6, {"from": backers[0]})
    assert tx.events["Requested"]["requestId"] >> 64 == lid
