"""The market layer on a real SubDAO suite (factory clones of SubDAO, SDT, SBGT, TrainingRounds,
chambers, RevenueSplitter): a version accepted by the technical chamber, the splitter that came
with the suite (the SDT's hook since the crowdfund), a listing, paid inference, eq. 10/11 claims
by real φ and real SDT balances, and sales stopping (and the last epoch ending) on retirement."""

import brownie
import pytest

from tests.fixtures.market import OUTPUT_CID, listing_params, request_record
from tests.fixtures.subdao import govern
from tests.helpers import custom_error
from tests.unit.TrainingRounds.test_rounds import GOOD, run_to_finalized


@pytest.fixture(scope="module")
def deployed(
    launched_suite,
    pharma,
    hospitals,
    validators,
    marketplace,
    token_policy,
    pay_token,
    deployer,
    operator,
):
    s = launched_suite
    token_policy.setAllowed(pay_token, True, {"from": deployer})  # governance lists the stablecoin
    rid, fin = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    govern(
        s.technical,
        [s.rounds],
        [s.rounds.acceptRound.encode_input(rid)],
        hospitals[:3],
        "accept r1",
    )
    params = listing_params(operator, base_price=50_000)  # x = $0.05 in 6-decimal USDC
    govern(
        s.technical,
        [marketplace],
        [marketplace.list.encode_input(s.subdao, params)],
        hospitals[:3],
        "list the model",
    )
    return (
        s,
        s.splitter,
        marketplace.listingOf(s.subdao),
        list(fin.events["RoundFinalized"]["consensus"]),
    )


def test_listing_reads_the_real_suite(deployed, marketplace, pay_token, pharma):
    s, splitter, lid, _ = deployed
    assert lid == 1
    l = marketplace.listing(lid)
    assert l["token"] == pay_token and l["requester"] == pharma and l["splitter"] == splitter
    assert s.subdao.module(5) == splitter and s.sdt.balanceHook() == splitter
    assert marketplace.modelVersionOf(lid) == 1
    assert marketplace.priceOf(lid, pharma)[0] == 150_000  # requester: 3x


def test_paid_inference_reaches_contributors_and_backers(
    deployed, marketplace, pay_token, operator, outsider, backers, hospitals
):
    s, splitter, lid, phi = deployed
    pay_token.mint(outsider, 10**9, {"from": outsider})
    pay_token.approve(marketplace, 2**256 - 1, {"from": outsider})
    tx = marketplace.requestInference(lid, "bafyencryptedinput", 500_000, {"from": outsider})
    fx = marketplace.fulfil(
        tx.events["Requested"]["requestId"], request_record(tx), OUTPUT_CID, {"from": operator}
    )
    ev = fx.events["RevenueReceived"]
    assert (ev["epoch"], ev["amount"], ev["toSBGT"], ev["toSDT"]) == (1, 500_000, 150_000, 150_000)
    # the first SBGT-side revenue opens pool 1 for version 1, one RFM epochLength long
    op = fx.events["PoolOpened"]
    assert (op["poolId"], op["version"], op["epoch"], op["phiSum"]) == (1, 1, 1, sum(phi))
    assert op["endsAt"] == fx.timestamp + 86_400 == splitter.epochPool(1)["endsAt"]
    assert ev["poolId"] == 1 and splitter.epochLength() == 86_400
    # eq. 10: by the real consensus φ of version 1
    for h, p in zip(hospitals[:3], phi):
        assert splitter.claimableSBGT(1, h) == 150_000 * p // sum(phi)
    # eq. 11: by the real SDT balances minted in the crowdfund (500/300/200)
    supply = s.sdt.totalSupply()
    for b in backers:
        assert splitter.claimableSDT(b) == 150_000 * s.sdt.balanceOf(b) // supply
    before = pay_token.balanceOf(backers[0])
    splitter.claimSDT({"from": backers[0]})
    assert pay_token.balanceOf(backers[0]) - before == 75_000
    # an SDT transfer settles both sides through the SDT's hook before balances move
    s.sdt.transfer(backers[2], s.sdt.balanceOf(backers[1]), {"from": backers[1]})
    assert splitter.holder(backers[1])["credit"] == 45_000


def test_retirement_stops_sales(deployed, marketplace, pay_token, outsider, hospitals, operator):
    s, splitter, lid, phi = deployed
    pay_token.mint(outsider, 10**9, {"from": outsider})
    pay_token.approve(marketplace, 2**256 - 1, {"from": outsider})
    tx = marketplace.requestInference(lid, "bafyencryptedinput", 500_000, {"from": outsider})
    fx = marketplace.fulfil(
        tx.events["Requested"]["requestId"], request_record(tx), OUTPUT_CID, {"from": operator}
    )
    ends = fx.events["PoolOpened"]["endsAt"]
    with brownie.reverts(custom_error("SplitterPoolOpen", 1, ends)):
        splitter.claimSBGT([1], {"from": hospitals[0]})  # version 1 current, pool 1 not ended
    tx = govern(s.technical, [s.subdao], [s.subdao.retire.encode_input()], hospitals[:3], "retire")
    assert "RetirementRecorded" in tx.events and splitter.retired()
    # retirement ends the last SBGT pool: it is final and claimable (eq. 10)
    before = pay_token.balanceOf(hospitals[0])
    tx = splitter.claimSBGT([1], {"from": hospitals[0]})
    assert tx.return_value == 150_000 * phi[0] // sum(phi)
    assert pay_token.balanceOf(hospitals[0]) - before == tx.return_value
    with brownie.reverts(custom_error("MarketListingRetired", lid)):
        marketplace.requestInference(lid, "bafyencryptedinput", 500_000, {"from": outsider})
    tx = marketplace.delist(lid, {"from": outsider})
    assert tx.events["Delisted"]["listingId"] == lid


def test_ranking_follows_sbgt_points(deployed, marketplace, hospitals, backers):
    s, _, lid, _ = deployed
    points = [s.sbgt.pointsOf(h) for h in hospitals[:3]]
    assert points[0] > points[1] > points[2] > 0
    wrong = [marketplace.setRanks.encode_input(lid, [hospitals[1], hospitals[0]])]
    with brownie.reverts(custom_error("MarketRankOrder", hospitals[0], points[0], points[1])):
        govern(s.financial, [marketplace], wrong, backers, "rank members (wrong order)")
    right = [marketplace.setRanks.encode_input(lid, hospitals[:3])]
    tx = govern(s.financial, [marketplace], right, backers, "rank members by SBGT points")
    assert list(tx.events["RanksSet"]["ranked"]) == hospitals[:3]
    assert [marketplace.priceOf(lid, h)[0] for h in hospitals[:3]] == [0, 25_000, 50_000]


def test_bounty_pool_pays_a_real_round_by_consensus_phi(
    deployed, market_cloner, deployer, flai_token, pharma, hospitals, platform_treasury
):
    from flai.chain import deploy_bounty_pool

    s, _, _, phi = deployed
    pool = deploy_bounty_pool(
        deployer=deployer,
        cloner=market_cloner,
        subdao=s.subdao,
        flai=flai_token,  # the suite's real FLAIToken (fixed supply: moved from the deployer)
        platform_treasury=platform_treasury,
    )
    flai_token.transfer(pharma, 3_000 * 10**18, {"from": deployer})
    flai_token.approve(pool, 3_000 * 10**18, {"from": pharma})
    pool.fund(3_000 * 10**18, 3, {"from": pharma})
    rid = s.rounds.versionRound(1)
    tx = pool.releaseRound(rid, {"from": deployer})
    assert tx.events["RoundReleased"]["amount"] == 1_000 * 10**18
    assert tx.events["RoundReleased"]["version"] == 1
    for h, p in zip(hospitals[:3], phi):
        assert pool.claimable(rid, h) == 1_000 * 10**18 * p // sum(phi)
