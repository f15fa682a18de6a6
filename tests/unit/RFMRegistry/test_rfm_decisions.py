"""RFMRegistry approve / reject / expire by governance and time, and the fee policy."""

from dataclasses import replace

import brownie
import pytest
from brownie import chain

from flai.chain import PlatformConfig, RFMStatus, deploy_platform
from tests.helpers import custom_error

WAD = 10**18


@pytest.fixture
def rfm_id(registry, pharma, pharma_rfm):
    return registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value


def test_timelock_approves_and_records_subdao(registry, as_timelock, recording_factory, rfm_id):
    tx = registry.approve(rfm_id, {"from": as_timelock})

    subdao = recording_factory.predictSubDAO(rfm_id)
    assert tx.return_value == subdao
    assert tx.events["RFMApproved"]["byEndorsement"] is False
    assert tx.events["RFMApproved"]["subDAO"] == subdao
    assert registry.getRFM(rfm_id)["status"] == RFMStatus.APPROVED
    assert list(registry.idsByStatus(RFMStatus.APPROVED, 0, 10)) == [rfm_id]
    assert registry.countByStatus(RFMStatus.PENDING) == 0


def test_approving_twice_reverts(registry, as_timelock, rfm_id):
    registry.approve(rfm_id, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.APPROVED)):
        registry.approve(rfm_id, {"from": as_timelock})


def test_only_governance_approves_or_rejects(registry, rfm_id, pharma):
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", pharma)):
        registry.approve(rfm_id, {"from": pharma})
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", pharma)):
        registry.reject(rfm_id, {"from": pharma})


def test_approve_unknown_rfm_reverts(registry, as_timelock):
    with brownie.reverts(custom_error("RFMUnknown", 5)):
        registry.approve(5, {"from": as_timelock})


def test_approve_without_factory_reverts(deployer, pharma, pharma_rfm, accounts):
    bare = deploy_platform(deployer=deployer, config=PlatformConfig())
    bare.token.transfer(pharma, 10_000 * WAD, {"from": deployer})
    bare.token.approve(bare.registry, 2**256 - 1, {"from": pharma})
    request = replace(pharma_rfm, payment_token=bare.token.address)
    rfm_id = bare.registry.submit(request.as_tuple(), {"from": pharma}).return_value

    assert bare.registry.factory() == brownie.ZERO_ADDRESS
    with brownie.reverts(custom_error("RFMFactoryNotSet")):
        bare.registry.approve(rfm_id, {"from": accounts.at(bare.timelock.address, force=True)})


def test_factory_returning_zero_reverts(registry, as_timelock, recording_factory, rfm_id):
    recording_factory.setReturnZero(True, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMFactoryReturnedZero", rfm_id)):
        registry.approve(rfm_id, {"from": as_timelock})


def test_reject_refunds_policy_share(flai, registry, as_timelock, rfm_id, pharma, platform_config):
    fee = platform_config.creation_fee
    refund = fee * platform_config.rejection_refund_bps // 10_000

    tx = registry.reject(rfm_id, {"from": as_timelock})

    event = tx.events["RFMRejected"]
    assert (event["rfmId"], event["refund"], event["treasuryShare"]) == (
        rfm_id,
        refund,
        fee - refund,
    )
    credited = tx.events["RefundCredited"]
    assert (credited["account"], credited["rfmId"], credited["amount"]) == (pharma, rfm_id, refund)
    assert registry.refundOf(pharma) == refund
    assert registry.treasuryAccrued() == fee - refund
    record = registry.getRFM(rfm_id)
    assert (record["status"], record["escrow"]) == (RFMStatus.REJECTED, 0)

    balance = flai.balanceOf(pharma)
    claim = registry.claimRefund({"from": pharma})
    assert flai.balanceOf(pharma) == balance + refund
    assert (claim.events["RefundClaimed"]["account"], claim.events["RefundClaimed"]["amount"]) == (
        pharma,
        refund,
    )
    assert registry.refundOf(pharma) == 0


def test_rejecting_twice_or_after_approval_reverts(registry, as_timelock, rfm_id):
    registry.reject(rfm_id, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.REJECTED)):
        registry.reject(rfm_id, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.REJECTED)):
        registry.approve(rfm_id, {"from": as_timelock})


def test_claim_with_nothing_credited_reverts(registry, outsider):
    with brownie.reverts(custom_error("RFMNothingToClaim", outsider)):
        registry.claimRefund({"from": outsider})


def test_expire_before_ttl_reverts(registry, rfm_id, outsider):
    expires_at = registry.getRFM(rfm_id)["expiresAt"]
    with brownie.reverts(custom_error("RFMNotExpired", rfm_id, expires_at)):
        registry.expire(rfm_id, {"from": outsider})


def test_expiry_refunds_whole_fee(registry, as_timelock, rfm_id, pharma, outsider, platform_config):
    chain.sleep(platform_config.submission_ttl + 1)
    expires_at = registry.getRFM(rfm_id)["expiresAt"]
    with brownie.reverts(custom_error("RFMSubmissionExpired", rfm_id, expires_at)):
        registry.approve(rfm_id, {"from": as_timelock})

    tx = registry.expire(rfm_id, {"from": outsider})

    fee = platform_config.creation_fee
    assert (tx.events["RFMExpired"]["rfmId"], tx.events["RFMExpired"]["refund"]) == (rfm_id, fee)
    assert tx.events["RefundCredited"]["amount"] == fee
    assert registry.refundOf(pharma) == fee
    assert registry.getRFM(rfm_id)["status"] == RFMStatus.EXPIRED
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.EXPIRED)):
        registry.expire(rfm_id, {"from": outsider})


def test_sweep_sends_accrued_fees_to_treasury(
    flai, registry, as_timelock, timelock, rfm_id, outsider
):
    registry.reject(rfm_id, {"from": as_timelock})
    accrued = registry.treasuryAccrued()
    treasury_before = flai.balanceOf(timelock)

    tx = registry.sweepToTreasury({"from": outsider})

    assert tx.return_value == accrued > 0
    assert flai.balanceOf(timelock) == treasury_before + accrued
    assert registry.treasuryAccrued() == 0
    assert (tx.events["TreasurySwept"]["treasury"], tx.events["TreasurySwept"]["amount"]) == (
        timelock,
        accrued,
    )
    with brownie.reverts(custom_error("RFMNothingToSweep")):
        registry.sweepToTreasury({"from": outsider})


def test_flai_held_matches_obligations(
    flai, registry, as_timelock, pharma, hospital_a, pharma_rfm, platform_config
):
    ids = [
        registry.submit(pharma_rfm.as_tuple(), {"from": who}).return_value
        for who in (pharma, hospital_a, pharma)
    ]
    registry.approve(ids[0], {"from": as_timelock})
    registry.reject(ids[1], {"from": as_timelock})
    registry.claimRefund({"from": hospital_a})
    chain.sleep(platform_config.submission_ttl + 1)
    registry.expire(ids[2], {"from": pharma})

    escrow = sum(registry.getRFM(i)["escrow"] for i in ids)
    refunds = registry.refundOf(pharma) + registry.refundOf(hospital_a)
    assert flai.balanceOf(registry) == escrow + refunds + registry.treasuryAccrued()
    registry.sweepToTreasury({"from": pharma})
    registry.claimRefund({"from": pharma})
    # only the approved RFM's success reserve is left, waiting for the success-refund hook
    assert flai.balanceOf(registry) == registry.getRFM(ids[0])["escrow"] > 0
