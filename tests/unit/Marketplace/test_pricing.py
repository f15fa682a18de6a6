"""Tier pricing table (000 §6.5.1–6.5.2): external 10x, requester 3x, members 0..x by rank."""

import brownie
import pytest

from tests.fixtures.market import BASE_PRICE, plain
from tests.helpers import custom_error

X = BASE_PRICE
EXTERNAL, REQUESTER, MEMBER, SUBSCRIBER = 0, 1, 2, 3


@pytest.fixture
def ranked(marketplace, market, financial_chamber, hospitals):
    """Four members ranked by contribution, top first."""
    _, _, lid = market
    tx = marketplace.setRanks(lid, hospitals[:4], {"from": financial_chamber})
    ev = tx.events["RanksSet"]
    assert (
        ev["listingId"] == lid and ev["rankGeneration"] == 1 and list(ev["ranked"]) == hospitals[:4]
    )
    return hospitals[:4]


def test_price_table(marketplace, market, ranked, pharma, outsider, hospitals):
    _, _, lid = market
    table = {
        outsider: (10 * X, EXTERNAL),
        pharma: (3 * X, REQUESTER),
        ranked[0]: (0, MEMBER),  # top contributor: free
        ranked[1]: (X * 1 // 3, MEMBER),
        ranked[2]: (X * 2 // 3, MEMBER),
        ranked[3]: (X, MEMBER),  # lowest rank pays x
        hospitals[4]: (10 * X, EXTERNAL),  # unranked member of nothing: external
    }
    for who, expected in table.items():
        assert plain(marketplace.priceOf(lid, who)) == expected


def test_each_tier_is_charged_what_the_table_says(
    marketplace, market, ranked, usd, pharma, outsider
):
    _, _, lid = market
    for who in [outsider, pharma, *ranked]:
        usd.mint(who, 100 * X, {"from": who})
        usd.approve(marketplace, 100 * X, {"from": who})
        price, _tier = marketplace.priceOf(lid, who)
        before = usd.balanceOf(who)
        tx = marketplace.requestInference(lid, "cid", price, {"from": who})
        assert before - usd.balanceOf(who) == price
        assert tx.events["Requested"]["paid"] == price and not tx.events["Requested"]["credit"]


def test_single_ranked_member_is_free_and_requester_rank_wins(
    marketplace, market, financial_chamber, pharma, hospitals
):
    _, _, lid = market
    marketplace.setRanks(lid, [pharma], {"from": financial_chamber})
    assert plain(marketplace.priceOf(lid, pharma)) == (0, MEMBER)
    # a new ranking replaces the old one entirely
    marketplace.setRanks(lid, [hospitals[0], hospitals[1]], {"from": financial_chamber})
    assert plain(marketplace.priceOf(lid, pharma)) == (3 * X, REQUESTER)
    assert plain(marketplace.priceOf(lid, hospitals[1])) == (X, MEMBER)


def test_base_price_change_rescales_every_tier(
    marketplace, market, ranked, financial_chamber, pharma, outsider
):
    _, _, lid = market
    marketplace.setBasePrice(lid, 7, {"from": financial_chamber})
    assert marketplace.priceOf(lid, outsider)[0] == 70
    assert marketplace.priceOf(lid, pharma)[0] == 21
    assert marketplace.priceOf(lid, ranked[2])[0] == 4  # ⌊7·2/3⌋


def test_ranking_guards(marketplace, market, financial_chamber, hospitals, outsider):
    _, _, lid = market
    with brownie.reverts(custom_error("MarketDuplicateRanked", hospitals[0])):
        marketplace.setRanks(
            lid, [hospitals[0], hospitals[1], hospitals[0]], {"from": financial_chamber}
        )
    with brownie.reverts(custom_error("MarketUnauthorized", outsider)):
        marketplace.setRanks(lid, [hospitals[0]], {"from": outsider})


def test_max_fee_protects_the_payer(marketplace, market, usd, outsider):
    _, _, lid = market
    usd.mint(outsider, 10 * X, {"from": outsider})
    usd.approve(marketplace, 10 * X, {"from": outsider})
    with brownie.reverts(custom_error("MarketPriceAboveMax", 10 * X, 10 * X - 1)):
        marketplace.requestInference(lid, "cid", 10 * X - 1, {"from": outsider})
