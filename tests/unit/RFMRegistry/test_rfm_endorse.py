"""RFMRegistry endorsements: stake-weighted at the snapshot (stake held for the stake age before
submission), once per staker."""

import brownie
import pytest
from brownie import chain

from flai.chain import RFMStatus
from tests.helpers import custom_error

WAD = 10**18


@pytest.fixture
def staked(staking, hospitals, members, platform_config):
    """Hospitals stake 1,000 FLAI each, members 3,000 each: 17,000 votes in total, held for
    the endorsement stake age."""
    for hospital in hospitals:
        staking.stake(1_000 * WAD, {"from": hospital})
    for member in members:
        staking.stake(3_000 * WAD, {"from": member})
    chain.mine(platform_config.endorsement_stake_age + 1)


@pytest.fixture
def rfm_id(staked, registry, pharma, pharma_rfm):
    return registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value


def test_endorse_adds_snapshot_votes(registry, rfm_id, hospital_a, hospital_b):
    tx = registry.endorse(rfm_id, {"from": hospital_a})
    registry.endorse(rfm_id, {"from": hospital_b})

    event = tx.events["RFMEndorsed"]
    assert (event["rfmId"], event["endorser"], event["weight"], event["totalWeight"]) == (
        rfm_id,
        hospital_a,
        1_000 * WAD,
        1_000 * WAD,
    )
    assert registry.endorsementOf(rfm_id, hospital_a) == 1_000 * WAD
    assert registry.getRFM(rfm_id)["endorsementWeight"] == 2_000 * WAD


def test_double_endorsement_reverts(registry, rfm_id, hospital_a):
    registry.endorse(rfm_id, {"from": hospital_a})
    with brownie.reverts(custom_error("RFMAlreadyEndorsed", rfm_id, hospital_a)):
        registry.endorse(rfm_id, {"from": hospital_a})


def test_stake_after_submission_cannot_endorse(registry, staking, rfm_id, validators):
    staking.stake(50_000 * WAD, {"from": validators[0]})
    with brownie.reverts(custom_error("RFMNoEndorsementWeight", rfm_id, validators[0])):
        registry.endorse(rfm_id, {"from": validators[0]})


def test_endorse_unknown_rfm_reverts(registry, hospital_a):
    with brownie.reverts(custom_error("RFMUnknown", 99)):
        registry.endorse(99, {"from": hospital_a})


def test_endorse_after_expiry_reverts(registry, rfm_id, hospital_a, platform_config):
    expires_at = registry.getRFM(rfm_id)["expiresAt"]
    chain.sleep(platform_config.submission_ttl + 1)
    with brownie.reverts(custom_error("RFMSubmissionExpired", rfm_id, expires_at)):
        registry.endorse(rfm_id, {"from": hospital_a})


def test_required_weight_is_threshold_of_snapshot_supply(registry, rfm_id):
    # 20% of the 17,000 votes at the snapshot
    assert registry.endorsementRequired(rfm_id) == 3_400 * WAD


def test_approve_by_endorsement_below_threshold_reverts(registry, rfm_id, members, outsider):
    registry.endorse(rfm_id, {"from": members[0]})  # 3,000 < 3,400
    with brownie.reverts(
        custom_error("RFMEndorsementBelowThreshold", rfm_id, 3_000 * WAD, 3_400 * WAD)
    ):
        registry.approveByEndorsement(rfm_id, {"from": outsider})


def test_approve_by_endorsement_over_threshold_creates_subdao(
    flai,
    registry,
    recording_factory,
    rfm_id,
    members,
    hospital_a,
    outsider,
    pharma,
    pharma_rfm,
    platform_config,
):
    registry.endorse(rfm_id, {"from": members[0]})
    registry.endorse(rfm_id, {"from": hospital_a})  # 4,000 >= 3,400

    tx = registry.approveByEndorsement(rfm_id, {"from": outsider})

    subdao = recording_factory.predictSubDAO(rfm_id)
    fee = platform_config.creation_fee
    reserve = fee * platform_config.success_refund_bps // 10_000
    assert tx.return_value == subdao
    event = tx.events["RFMApproved"]
    assert (event["rfmId"], event["subDAO"], event["byEndorsement"]) == (rfm_id, subdao, True)
    assert (event["successReserve"], event["treasuryShare"]) == (reserve, fee - reserve)
    record = registry.getRFM(rfm_id)
    assert (record["status"], record["subDAO"], record["escrow"]) == (
        RFMStatus.APPROVED,
        subdao,
        reserve,
    )
    assert registry.treasuryAccrued() == fee - reserve
    # the factory got exactly this RFM, once, from the registry
    call = tx.events["CreateSubDAOCalled"]
    assert (call["rfmId"], call["requester"]) == (rfm_id, pharma)
    assert recording_factory.calls() == 1
    assert recording_factory.lastCaller() == registry
    assert recording_factory.lastSpecCid() == pharma_rfm.spec_cid
    assert flai.balanceOf(registry) == reserve + registry.treasuryAccrued()


def test_endorsing_an_approved_rfm_reverts(registry, rfm_id, members, hospital_a, outsider):
    registry.endorse(rfm_id, {"from": members[0]})
    registry.endorse(rfm_id, {"from": members[1]})
    registry.approveByEndorsement(rfm_id, {"from": outsider})

    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.APPROVED)):
        registry.endorse(rfm_id, {"from": hospital_a})
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.APPROVED)):
        registry.approveByEndorsement(rfm_id, {"from": outsider})
