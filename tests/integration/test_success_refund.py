"""RFM fee refund on success (000 §6.3) on the real protocol.

:func:`flai.chain.deploy_protocol` wires the real SubDAO factory, so the RFM is approved by a
real SuperDAO proposal and its suite (SubDAO, SDT, SBGT, TrainingRounds, chambers) comes from
that approval. Then: crowdfund, launch, a round the technical chamber accepts (model version 1),
the SuperDAO sets the genuine RevenueSplitter implementation (the one the factory clones: every
suite's splitter is made with it at approval and bound to its SubDAO), the chamber lists the
model, one inference is paid and fulfilled, and anyone credits the requester's success reserve,
which the requester pulls with ``claimRefund``. The rejections use the same suite: the chamber
cannot swap in a fake splitter (the slot is fixed at creation), a clone of another implementation
(the SuperDAO changed it), no revenue, a raised threshold, no model version.
"""

import brownie
import pytest
from brownie import chain

from flai.chain import (
    PlatformConfig,
    RFMStatus,
    action,
    deploy_marketplace,
    deploy_protocol,
    load_subdao_suite,
    propose,
    queue_and_execute,
)
from tests.fixtures.market import OUTPUT_CID, listing_params, request_record
from tests.fixtures.subdao import (
    FOUNDER_POINTS,
    USDC,
    VOTING_DELAY,
    VOTING_PERIOD,
    execute,
    govern,
    rfm_params,
    vote_through,
)
from tests.helpers import custom_error
from tests.unit.TrainingRounds.test_rounds import GOOD, run_to_finalized

WAD = 10**18
SPLITTER_SLOT = 5
PRICE = 50_000  # x = 0.05 USDC; an external user pays 10x


def superdao_execute(protocol, members, actions, description):
    """Propose, vote (every member for), queue and execute a SuperDAO proposal."""
    governor = protocol.platform.governor
    pid, _ = propose(governor, proposer=members[0], actions=actions, description=description)
    chain.mine(int(governor.votingDelay()) + 1)
    for m in members:
        governor.castVote(pid, 1, {"from": m})
    chain.mine(int(governor.proposalDeadline(pid)) - chain.height + 1)
    return queue_and_execute(governor, sender=members[0], actions=actions, description=description)[
        1
    ]


def submit(registry, token, pharma, pay_token):
    token.approve(registry, registry.creationFee(), {"from": pharma})
    deadline = chain.time() + 7 * 86_400
    return registry.submit(rfm_params(pay_token, deadline), {"from": pharma}).return_value


def flai_held_matches_books(registry, token, requester):
    """The registry invariant: FLAI held == Σ escrow + Σ unclaimed refunds + treasury accrued
    (one requester here)."""
    escrow = sum(registry.getRFM(i)["escrow"] for i in range(1, registry.rfmCount() + 1))
    held = token.balanceOf(registry)
    return held == escrow + registry.refundOf(requester) + registry.treasuryAccrued()


@pytest.fixture(scope="module")
def world(
    module_isolation, accounts, deployer, pharma, members, backers, hospitals, validators, pay_token
):
    """Protocol, an approved RFM with model version 1 (its suite's splitter made by the
    factory), the genuine implementation set by the SuperDAO and a marketplace (not listed)."""
    protocol = deploy_protocol(
        deployer=deployer,
        config=PlatformConfig(payment_tokens=(pay_token.address,)),  # the stablecoin is listed
        chamber_voting_delay=VOTING_DELAY,
        chamber_voting_period=VOTING_PERIOD,
    )
    p = protocol.platform
    token, registry = p.token, p.registry
    for m in members:
        token.transfer(m, 5_000 * WAD, {"from": deployer})
        token.approve(p.staking, 5_000 * WAD, {"from": m})
        p.staking.stake(5_000 * WAD, {"from": m})
    token.transfer(pharma, 10 * registry.creationFee(), {"from": deployer})
    chain.mine()
    rfm_id = submit(registry, token, pharma, pay_token)
    approved = superdao_execute(
        protocol, members, [action(registry, "approve", rfm_id)], f"Approve RFM #{rfm_id}"
    )
    s = load_subdao_suite(approved.events["RFMApproved"]["subDAO"])

    for b, amount in zip(backers, [500 * USDC, 300 * USDC, 200 * USDC]):
        pay_token.mint(b, amount, {"from": b})
        pay_token.approve(s.subdao, amount, {"from": b})
        s.subdao.contribute(amount, {"from": b})
    s.subdao.closeCrowdfund({"from": backers[0]})
    for i, h in enumerate(hospitals):
        token.transfer(h, 10 * WAD, {"from": deployer})
        token.approve(s.rounds, 10 * WAD, {"from": h})
        s.rounds.applyContributor(f"bafyattestation{i}", 10 * WAD, {"from": h})
    for v, dep in zip(validators, [100 * WAD, 100 * WAD, 50 * WAD]):
        token.transfer(v, dep, {"from": deployer})
        token.approve(s.rounds, dep, {"from": v})
        s.rounds.applyValidator(dep, {"from": v})
    s.rounds.launch(hospitals[:3], FOUNDER_POINTS, validators, {"from": pharma})
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    govern(
        s.technical,
        [s.rounds],
        [s.rounds.acceptRound.encode_input(rid)],
        hospitals[:3],
        "accept r1",
    )

    impl = protocol.subdao.splitter_impl  # what the factory clones for every suite
    marketplace = deploy_marketplace(deployer=deployer, token_policy=registry)
    superdao_execute(
        protocol,
        members,
        [action(registry, "setSplitterImplementation", impl)],
        "Genuine RevenueSplitter implementation for the RFM success refund",
    )
    return {
        "protocol": protocol,
        "registry": registry,
        "token": token,
        "rfm_id": rfm_id,
        "suite": s,
        "impl": impl,
        "marketplace": marketplace,
    }


def list_model(w, hospitals, operator):
    """The technical chamber lists the model (the splitter came with the suite)."""
    s = w["suite"]
    mp = w["marketplace"]
    params = listing_params(operator, base_price=PRICE)
    govern(s.technical, [mp], [mp.list.encode_input(s.subdao, params)], hospitals[:3], "list")
    assert mp.listing(mp.listingOf(s.subdao))["splitter"] == s.splitter


def pay_one_inference(w, outsider, operator, pay_token):
    mp = w["marketplace"]
    lid = mp.listingOf(w["suite"].subdao)
    pay_token.mint(outsider, 10 * PRICE, {"from": outsider})
    pay_token.approve(mp, 10 * PRICE, {"from": outsider})
    tx = mp.requestInference(lid, "bafyencryptedinput", 10 * PRICE, {"from": outsider})
    mp.fulfil(
        tx.events["Requested"]["requestId"], request_record(tx), OUTPUT_CID, {"from": operator}
    )


@pytest.fixture(scope="module")
def genuine(world, hospitals, operator):
    """World + the model listed with the suite's own (genuine) splitter (no revenue yet)."""
    w = world
    list_model(w, hospitals, operator)
    return {**w, "splitter": w["suite"].splitter}


def test_the_suite_splitter_is_a_genuine_clone_bound_to_its_subdao(
    world, FakeRevenueSplitter, deployer, hospitals
):
    w = world
    s = w["suite"]
    assert s.subdao.module(SPLITTER_SLOT) == s.splitter and s.splitter.subDAO() == s.subdao
    assert s.sdt.balanceHook() == s.splitter
    assert w["registry"].splitterImplementation() == w["impl"]
    # the technical chamber cannot swap in a splitter reporting fake revenue: the slot is fixed
    fake = FakeRevenueSplitter.deploy(s.subdao, {"from": deployer})
    calls = [s.subdao.setModule.encode_input(SPLITTER_SLOT, fake)]
    vote_through(s.technical, [s.subdao], calls, hospitals[:3], "swap the splitter")
    with brownie.reverts(custom_error("SubDAOModuleLocked", SPLITTER_SLOT)):
        execute(s.technical, [s.subdao], calls, "swap the splitter", hospitals[0])
    assert s.subdao.module(SPLITTER_SLOT) == s.splitter


def test_clone_of_another_implementation_is_rejected(
    genuine, RevenueSplitter, deployer, members, outsider, operator, pay_token
):
    w = genuine
    pay_one_inference(w, outsider, operator, pay_token)
    other = RevenueSplitter.deploy({"from": deployer})
    superdao_execute(
        w["protocol"],
        members,
        [action(w["registry"], "setSplitterImplementation", other)],
        "Another RevenueSplitter implementation",
    )
    with brownie.reverts(custom_error("RFMSplitterNotGenuine", w["rfm_id"], w["splitter"])):
        w["registry"].creditSuccessRefund(w["rfm_id"], {"from": outsider})


def test_another_subdao_has_its_own_splitter_and_version_zero_is_not_deployed(
    world, pharma, pay_token, outsider, accounts
):
    w = world
    registry = w["registry"]
    timelock = accounts.at(w["protocol"].platform.timelock.address, force=True)
    second = submit(registry, w["token"], pharma, pay_token)
    other_subdao = registry.approve(second, {"from": timelock}).events["RFMApproved"]["subDAO"]
    other = load_subdao_suite(other_subdao)
    assert other.splitter != w["suite"].splitter and other.splitter.subDAO() == other_subdao
    with brownie.reverts(custom_error("RFMNotDeployed", second)):
        registry.creditSuccessRefund(second, {"from": outsider})


# --- with the model listed ---


def test_requester_gets_the_success_reserve_after_the_first_paid_inference(
    genuine, outsider, operator, pay_token, pharma
):
    w = genuine
    registry, token, rfm_id, splitter = w["registry"], w["token"], w["rfm_id"], w["splitter"]
    assert w["suite"].subdao.modelVersion()[0] == 1
    reserve = registry.getRFM(rfm_id)["escrow"]
    assert reserve == registry.creationFee() * registry.successRefundBps() // 10_000 > 0

    pay_one_inference(w, outsider, operator, pay_token)
    received = splitter.totals()[0]
    assert received == 10 * PRICE and splitter.firstRevenueAt() > 0

    tx = registry.creditSuccessRefund(rfm_id, {"from": outsider})  # permissionless
    ev = tx.events["SuccessRefundCredited"]
    assert (ev["rfmId"], ev["requester"], ev["amount"], ev["splitter"], ev["received"]) == (
        rfm_id,
        pharma,
        reserve,
        splitter,
        received,
    )
    credited = tx.events["RefundCredited"]
    assert (credited["account"], credited["rfmId"], credited["amount"]) == (pharma, rfm_id, reserve)
    assert tx.return_value == reserve
    assert registry.getRFM(rfm_id)["escrow"] == 0
    assert registry.getRFM(rfm_id)["status"] == RFMStatus.APPROVED
    assert registry.refundOf(pharma) == reserve
    assert flai_held_matches_books(registry, token, pharma)

    with brownie.reverts(custom_error("RFMNoSuccessReserve", rfm_id)):
        registry.creditSuccessRefund(rfm_id, {"from": pharma})

    before = token.balanceOf(pharma)
    claim = registry.claimRefund({"from": pharma})
    assert claim.events["RefundClaimed"]["amount"] == reserve
    assert token.balanceOf(pharma) - before == reserve
    assert flai_held_matches_books(registry, token, pharma)
    print(f"\ngas creditSuccessRefund={tx.gas_used} claimRefund={claim.gas_used}")


def test_no_refund_before_revenue_reaches_the_threshold(
    genuine, outsider, operator, pay_token, members
):
    w = genuine
    registry, rfm_id = w["registry"], w["rfm_id"]
    with brownie.reverts(custom_error("RFMRevenueBelowThreshold", rfm_id, 0, 1)):
        registry.creditSuccessRefund(rfm_id, {"from": outsider})
    pay_one_inference(w, outsider, operator, pay_token)
    tx = superdao_execute(
        w["protocol"],
        members,
        [action(registry, "setSuccessRevenueThreshold", 100 * PRICE)],
        "Success refund needs 5 USDC of revenue",
    )
    ev = tx.events["SuccessRevenueThresholdUpdated"]
    assert (ev["oldThreshold"], ev["newThreshold"]) == (1, 100 * PRICE)
    with brownie.reverts(custom_error("RFMRevenueBelowThreshold", rfm_id, 10 * PRICE, 100 * PRICE)):
        registry.creditSuccessRefund(rfm_id, {"from": outsider})
