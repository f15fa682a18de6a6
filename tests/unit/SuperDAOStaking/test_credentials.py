"""Legacy credentials (001 §2.1): governance-granted, non-transferable voting units."""

import brownie

from tests.helpers import custom_error

WAD = 10**18


def test_grant_adds_votes_but_no_stake(staking, as_timelock, validators):
    early = validators[0]
    tx = staking.grantCredentials(early, 300 * WAD, {"from": as_timelock})

    assert staking.credentialsOf(early) == 300 * WAD
    assert staking.totalCredentials() == 300 * WAD
    assert staking.getVotes(early) == 300 * WAD
    assert staking.stakeOf(early) == 0
    assert staking.totalStaked() == 0
    event = tx.events["CredentialsGranted"]
    assert (event["account"], event["units"], event["newCredentials"]) == (
        early,
        300 * WAD,
        300 * WAD,
    )
    assert tx.events["DelegateVotesChanged"]["newVotes"] == 300 * WAD


def test_credentials_cannot_be_unstaked(staking, as_timelock, validators):
    early = validators[0]
    staking.grantCredentials(early, 300 * WAD, {"from": as_timelock})
    staking.stake(100 * WAD, {"from": early})

    assert staking.getVotes(early) == 400 * WAD
    with brownie.reverts(custom_error("StakingInsufficientStake", early, 100 * WAD, 101 * WAD)):
        staking.unstake(101 * WAD, {"from": early})


def test_revoke_removes_votes(staking, as_timelock, validators):
    early = validators[0]
    staking.grantCredentials(early, 300 * WAD, {"from": as_timelock})
    tx = staking.revokeCredentials(early, 100 * WAD, {"from": as_timelock})

    assert staking.credentialsOf(early) == 200 * WAD
    assert staking.getVotes(early) == 200 * WAD
    assert staking.totalCredentials() == 200 * WAD
    event = tx.events["CredentialsRevoked"]
    assert (event["account"], event["units"], event["newCredentials"]) == (
        early,
        100 * WAD,
        200 * WAD,
    )


def test_revoke_more_than_held_reverts(staking, as_timelock, validators):
    early = validators[0]
    staking.grantCredentials(early, 3, {"from": as_timelock})
    with brownie.reverts(custom_error("StakingInsufficientCredentials", early, 3, 4)):
        staking.revokeCredentials(early, 4, {"from": as_timelock})


def test_grant_zero_or_to_zero_address_reverts(staking, as_timelock, validators):
    with brownie.reverts(custom_error("StakingZeroAmount")):
        staking.grantCredentials(validators[0], 0, {"from": as_timelock})
    with brownie.reverts(custom_error("StakingZeroAddress")):
        staking.grantCredentials(brownie.ZERO_ADDRESS, 1, {"from": as_timelock})
    with brownie.reverts(custom_error("StakingZeroAmount")):
        staking.revokeCredentials(validators[0], 0, {"from": as_timelock})


def test_only_governance_grants_or_revokes(staking, outsider):
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
        staking.grantCredentials(outsider, WAD, {"from": outsider})
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
        staking.revokeCredentials(outsider, WAD, {"from": outsider})
