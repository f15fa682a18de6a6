"""SuperDAOStaking.stake: membership, checkpointed votes without a delegate call."""

import brownie
from brownie import chain

from tests.helpers import custom_error

WAD = 10**18


def test_stake_pulls_flai_checkpoints_votes_and_emits(flai, staking, hospital_a):
    balance = flai.balanceOf(hospital_a)
    tx = staking.stake(250 * WAD, {"from": hospital_a})

    assert flai.balanceOf(hospital_a) == balance - 250 * WAD
    assert flai.balanceOf(staking) == 250 * WAD
    assert staking.stakeOf(hospital_a) == 250 * WAD
    assert staking.totalStaked() == 250 * WAD
    assert staking.getVotes(hospital_a) == 250 * WAD  # no delegate call needed
    assert staking.isMember(hospital_a)
    assert tx.events["Staked"]["account"] == hospital_a
    assert tx.events["Staked"]["amount"] == 250 * WAD
    assert tx.events["Staked"]["newStake"] == 250 * WAD
    moved = tx.events["DelegateVotesChanged"]
    assert (moved["delegate"], moved["previousVotes"], moved["newVotes"]) == (
        hospital_a,
        0,
        250 * WAD,
    )
    transfer = tx.events["Transfer"]
    assert (transfer["from"], transfer["to"], transfer["value"]) == (hospital_a, staking, 250 * WAD)


def test_votes_are_checkpointed_by_block(staking, hospital_a):
    tx = staking.stake(100 * WAD, {"from": hospital_a})
    chain.mine()
    staking.stake(50 * WAD, {"from": hospital_a})
    chain.mine()

    assert staking.getPastVotes(hospital_a, tx.block_number - 1) == 0
    assert staking.getPastVotes(hospital_a, tx.block_number) == 100 * WAD
    assert staking.getVotes(hospital_a) == 150 * WAD
    assert staking.getPastTotalSupply(tx.block_number) == 100 * WAD


def test_top_up_below_minimum_is_fine_once_member(staking, hospital_a):
    staking.stake(100 * WAD, {"from": hospital_a})
    tx = staking.stake(1, {"from": hospital_a})

    assert tx.events["Staked"]["newStake"] == 100 * WAD + 1


def test_stake_zero_reverts(staking, hospital_a):
    with brownie.reverts(custom_error("StakingZeroAmount")):
        staking.stake(0, {"from": hospital_a})


def test_first_stake_below_minimum_reverts(staking, hospital_a):
    minimum = staking.minimumStake()
    with brownie.reverts(custom_error("StakingBelowMinimum", minimum - 1, minimum)):
        staking.stake(minimum - 1, {"from": hospital_a})


def test_stake_without_allowance_reverts(flai, staking, deployer):
    with brownie.reverts(custom_error("ERC20InsufficientAllowance", staking, 0, 100 * WAD)):
        staking.stake(100 * WAD, {"from": deployer})


def test_delegation_is_disabled(staking, hospital_a, hospital_b):
    assert staking.delegates(hospital_a) == hospital_a
    with brownie.reverts(custom_error("StakingDelegationDisabled")):
        staking.delegate(hospital_b, {"from": hospital_a})
    with brownie.reverts(custom_error("StakingDelegationDisabled")):
        staking.delegateBySig(
            hospital_b, 0, 2**40, 27, b"\1" * 32, b"\1" * 32, {"from": hospital_a}
        )


def test_clock_is_block_number(staking):
    assert staking.CLOCK_MODE() == "mode=blocknumber&from=default"
    assert staking.clock() == chain.height
