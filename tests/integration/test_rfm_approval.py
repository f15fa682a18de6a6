"""The RFM approval flow of the worked scenario (001 §9.1–9.2) on a real chain.

Members and hospitals stake FLAI; the pharmaceutical company submits its RFM paying the
creation fee; hospitals endorse it; the SuperDAO votes, queues and executes the approval
through the timelock; the registry calls the SubDAO factory; the platform's share of the fee
reaches the treasury; the treasury (held by the timelock) is then spent by an operational
vote. A second RFM is approved by community endorsements alone (001 §8.2).
"""

from dataclasses import replace

import brownie
from brownie import chain

from flai.chain import ProposalKind, RFMStatus, action, queue_and_execute
from tests.fixtures.platform import pass_proposal
from tests.helpers import custom_error

WAD = 10**18
AGAINST, FOR, ABSTAIN = 0, 1, 2


def test_pharma_rfm_is_approved_by_superdao_vote(
    flai,
    staking,
    governor,
    timelock,
    registry,
    recording_factory,
    pharma,
    pharma_rfm,
    hospitals,
    members,
    platform_config,
):
    # members and hospitals join the SuperDAO
    for member in members:
        staking.stake(5_000 * WAD, {"from": member})
    for hospital in hospitals:
        staking.stake(1_000 * WAD, {"from": hospital})
    chain.mine(platform_config.endorsement_stake_age + 1)  # old enough to endorse
    assert staking.totalStaked() == 25_000 * WAD

    # the pharmaceutical company submits its RFM
    submit = registry.submit(pharma_rfm.as_tuple(), {"from": pharma})
    rfm_id = submit.events["RFMSubmitted"]["rfmId"]
    assert registry.getRFM(rfm_id)["escrow"] == platform_config.creation_fee

    # hospitals endorse; 5,000 of 25,000 votes is not yet "sufficient community support" (20%)
    for hospital in hospitals[:4]:
        registry.endorse(rfm_id, {"from": hospital})
    with brownie.reverts(
        custom_error("RFMEndorsementBelowThreshold", rfm_id, 4_000 * WAD, 5_000 * WAD)
    ):
        registry.approveByEndorsement(rfm_id, {"from": pharma})

    # the SuperDAO votes on the approval: 15,000 for, 5,000 against, 5,000 abstain -> 75% of for+against
    description = (
        f"Approve RFM #{rfm_id}: immunotherapy-response classifier (HL7 FHIR, AUC >= 0.85)"
    )
    actions = [action(registry, "approve", rfm_id)]
    votes = {members[0]: FOR, members[1]: FOR, members[2]: FOR, members[3]: AGAINST}
    votes.update({hospital: ABSTAIN for hospital in hospitals})
    pid = pass_proposal(governor, actions, description, votes)
    assert (
        governor.kindOf([a.target for a in actions], [a.calldata for a in actions])
        == ProposalKind.RFM_APPROVAL
    )
    assert [int(v) for v in governor.proposalVotes(pid)] == [5_000 * WAD, 15_000 * WAD, 5_000 * WAD]
    assert governor.state(pid) == 4  # Succeeded

    _, execute = queue_and_execute(
        governor, sender=pharma, actions=actions, description=description
    )

    subdao = recording_factory.predictSubDAO(rfm_id)
    approved = execute.events["RFMApproved"]
    assert (approved["rfmId"], approved["subDAO"], approved["byEndorsement"]) == (
        rfm_id,
        subdao,
        False,
    )
    assert execute.events["ProposalExecuted"]["proposalId"] == pid
    assert execute.events["CreateSubDAOCalled"]["requester"] == pharma
    assert recording_factory.lastSpecCid() == pharma_rfm.spec_cid
    record = registry.getRFM(rfm_id)
    assert (record["status"], record["subDAO"]) == (RFMStatus.APPROVED, subdao)
    assert list(registry.idsByStatus(RFMStatus.APPROVED, 0, 10)) == [rfm_id]

    # the platform's share of the fee goes to the treasury; the success reserve stays escrowed
    reserve = platform_config.creation_fee * platform_config.success_refund_bps // 10_000
    treasury_before = flai.balanceOf(timelock)
    registry.sweepToTreasury({"from": pharma})
    assert flai.balanceOf(timelock) == treasury_before + platform_config.creation_fee - reserve
    assert flai.balanceOf(registry) == reserve == record["escrow"]

    # the treasury (the timelock) pays a grant by an operational vote: 60% is enough
    grant = [action(flai, "transfer", hospitals[0].address, 10_000 * WAD)]
    grant_votes = {
        members[0]: FOR,
        members[1]: FOR,
        members[2]: FOR,
        members[3]: AGAINST,
        hospitals[0]: AGAINST,
    }
    grant_pid = pass_proposal(governor, grant, "Data-readiness grant for hospital A", grant_votes)
    assert governor.proposalApprovalThresholdBps(grant_pid) == 5_100
    hospital_before = flai.balanceOf(hospitals[0])
    _, paid = queue_and_execute(
        governor, sender=pharma, actions=grant, description="Data-readiness grant for hospital A"
    )
    assert paid.events["Transfer"]["from"] == timelock
    assert flai.balanceOf(hospitals[0]) == hospital_before + 10_000 * WAD


def test_community_endorsements_approve_without_a_vote(
    staking,
    registry,
    recording_factory,
    pharma,
    pharma_rfm,
    hospitals,
    members,
    outsider,
    platform_config,
):
    for member in members:
        staking.stake(2_000 * WAD, {"from": member})
    for hospital in hospitals:
        staking.stake(400 * WAD, {"from": hospital})
    chain.mine(platform_config.endorsement_stake_age + 1)  # old enough to endorse
    bank_rfm = replace(pharma_rfm, domain="finance.credit-risk", data_schema="ISO-20022")
    rfm_id = registry.submit(bank_rfm.as_tuple(), {"from": pharma}).return_value

    registry.endorse(rfm_id, {"from": members[0]})
    registry.endorse(rfm_id, {"from": hospitals[0]})  # 2,400 of 10,000 >= 20%
    tx = registry.approveByEndorsement(rfm_id, {"from": outsider})

    assert tx.events["RFMApproved"]["byEndorsement"] is True
    assert registry.getRFM(rfm_id)["subDAO"] == recording_factory.predictSubDAO(rfm_id)
    assert (
        registry.getParams(rfm_id)["domain"] == "0x" + b"finance.credit-risk".ljust(32, b"\0").hex()
    )
