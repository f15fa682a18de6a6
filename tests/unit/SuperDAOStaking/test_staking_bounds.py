"""Staking: amounts out of range revert with a named error, never a Panic."""

import brownie

from tests.helpers import custom_error

WAD = 10**18
MAX = 2**256 - 1
MAX_UNITS = 2**208 - 1  # OZ Votes checkpoints are uint208


def test_stake_beyond_the_balance_after_a_stake(flai, staking, hospital_a):
    staking.stake(250 * WAD, {"from": hospital_a})
    balance = flai.balanceOf(hospital_a)
    with brownie.reverts(custom_error("ERC20InsufficientBalance", hospital_a, balance, MAX)):
        staking.stake(MAX, {"from": hospital_a})
    assert staking.stakeOf(hospital_a) == 250 * WAD


def test_credentials_beyond_the_vote_range(staking, as_timelock, hospital_a, hospital_b):
    staking.grantCredentials(hospital_a, 2**207, {"from": as_timelock})
    room = MAX_UNITS - 2**207
    with brownie.reverts(custom_error("StakingUnitsTooLarge", 2**207, room)):
        staking.grantCredentials(hospital_b, 2**207, {"from": as_timelock})
    with brownie.reverts(custom_error("StakingUnitsTooLarge", MAX, room)):
        staking.grantCredentials(hospital_b, MAX, {"from": as_timelock})
    staking.grantCredentials(hospital_b, room, {"from": as_timelock})
    assert staking.getVotes(hospital_b) == room and staking.totalCredentials() == MAX_UNITS
