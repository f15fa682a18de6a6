"""Endorsements count only stake held for the governable minimum age before the RFM.

Attack: stake in block N, then in N+1 submit an RFM, endorse it, approve it by endorsement and
unstake — an RFM approved for a 1 % exit fee and no SuperDAO vote. The endorsement snapshot is
`endorsementStakeAge` blocks before the submission's previous block, so stake younger than that
has no endorsement weight.
"""

import brownie
from brownie import chain

from flai.chain import RFMStatus
from tests.helpers import custom_error

WAD = 10**18


def test_one_block_stake_cannot_approve_an_rfm(
    registry, staking, flai, members, pharma, pharma_rfm, outsider
):
    staking.stake(1_000 * WAD, {"from": members[0]})  # a small honest electorate, long staked
    chain.mine(50)  # longer than the stake age of the test platform
    attacker = outsider
    staking.stake(50_000 * WAD, {"from": attacker})  # block N
    rfm_id = registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value  # block N+1
    with brownie.reverts(custom_error("RFMNoEndorsementWeight", rfm_id, attacker)):
        registry.endorse(rfm_id, {"from": attacker})
    required = registry.endorsementRequired(rfm_id)
    with brownie.reverts(custom_error("RFMEndorsementBelowThreshold", rfm_id, 0, required)):
        registry.approveByEndorsement(rfm_id, {"from": attacker})
    staking.unstake(50_000 * WAD, {"from": attacker})
    assert registry.getRFM(rfm_id)["status"] == RFMStatus.PENDING


def test_snapshot_is_the_stake_age_before_submission(
    registry, staking, members, pharma, pharma_rfm
):
    age = registry.endorsementStakeAge()
    assert age >= 1
    staking.stake(3_000 * WAD, {"from": members[0]})
    chain.mine(age + 1)
    tx = registry.submit(pharma_rfm.as_tuple(), {"from": pharma})
    record = registry.getRFM(tx.return_value)
    assert record["endorsementSnapshot"] == tx.block_number - 1 - age
    assert tx.events["RFMSubmitted"]["endorsementSnapshot"] == tx.block_number - 1 - age
    # stake held for the whole age endorses with its full weight
    ev = registry.endorse(tx.return_value, {"from": members[0]}).events["RFMEndorsed"]
    assert ev["weight"] == 3_000 * WAD


def test_stake_age_is_governed(registry, as_timelock, outsider):
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
        registry.setEndorsementStakeAge(100, {"from": outsider})
    with brownie.reverts(custom_error("RFMInvalidStakeAge", 0)):
        registry.setEndorsementStakeAge(0, {"from": as_timelock})
    old = registry.endorsementStakeAge()
    tx = registry.setEndorsementStakeAge(7_200, {"from": as_timelock})
    ev = tx.events["EndorsementStakeAgeUpdated"]
    assert (ev["oldStakeAge"], ev["newStakeAge"]) == (old, 7_200)
    assert registry.endorsementStakeAge() == 7_200
