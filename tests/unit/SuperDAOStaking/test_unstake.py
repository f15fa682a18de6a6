"""SuperDAOStaking.unstake and sweepFees: exit fee accrues here and is pulled to the treasury."""

import brownie

from tests.helpers import custom_error

WAD = 10**18


def test_partial_unstake_charges_exit_fee(flai, staking, hospital_a):
    staking.stake(1_000 * WAD, {"from": hospital_a})
    balance = flai.balanceOf(hospital_a)
    fee = 400 * WAD * staking.exitFeeBps() // 10_000

    tx = staking.unstake(400 * WAD, {"from": hospital_a})

    assert fee == 4 * WAD  # 1% default exit fee
    assert flai.balanceOf(hospital_a) == balance + 400 * WAD - fee
    assert staking.stakeOf(hospital_a) == 600 * WAD
    assert staking.getVotes(hospital_a) == 600 * WAD
    assert staking.pendingFees() == fee
    assert flai.balanceOf(staking) == staking.totalStaked() + staking.pendingFees()
    event = tx.events["Unstaked"]
    assert (event["account"], event["amount"], event["fee"], event["newStake"]) == (
        hospital_a,
        400 * WAD,
        fee,
        600 * WAD,
    )
    assert tx.events["DelegateVotesChanged"]["newVotes"] == 600 * WAD


def test_full_exit_ends_membership(staking, hospital_a):
    staking.stake(150 * WAD, {"from": hospital_a})
    tx = staking.unstake(150 * WAD, {"from": hospital_a})

    assert staking.stakeOf(hospital_a) == 0
    assert not staking.isMember(hospital_a)
    assert tx.events["Unstaked"]["newStake"] == 0


def test_unstake_zero_reverts(staking, hospital_a):
    with brownie.reverts(custom_error("StakingZeroAmount")):
        staking.unstake(0, {"from": hospital_a})


def test_unstake_more_than_stake_reverts(staking, hospital_a):
    staking.stake(150 * WAD, {"from": hospital_a})
    with brownie.reverts(
        custom_error("StakingInsufficientStake", hospital_a, 150 * WAD, 151 * WAD)
    ):
        staking.unstake(151 * WAD, {"from": hospital_a})


def test_unstake_leaving_dust_below_minimum_reverts(staking, hospital_a):
    staking.stake(150 * WAD, {"from": hospital_a})
    with brownie.reverts(custom_error("StakingBelowMinimum", 50 * WAD, 100 * WAD)):
        staking.unstake(100 * WAD, {"from": hospital_a})


def test_sweep_sends_fees_and_stray_flai_to_treasury(flai, staking, timelock, hospital_a, outsider):
    staking.stake(1_000 * WAD, {"from": hospital_a})
    staking.unstake(500 * WAD, {"from": hospital_a})  # 5 FLAI fee
    flai.transfer(staking, 2 * WAD, {"from": outsider})  # stray transfer: not anyone's stake
    treasury_before = flai.balanceOf(timelock)

    tx = staking.sweepFees({"from": outsider})

    assert tx.return_value == 7 * WAD
    assert flai.balanceOf(timelock) == treasury_before + 7 * WAD
    assert staking.pendingFees() == 0
    assert flai.balanceOf(staking) == staking.totalStaked() == 500 * WAD
    assert (tx.events["FeesSwept"]["treasury"], tx.events["FeesSwept"]["amount"]) == (
        timelock,
        7 * WAD,
    )


def test_sweep_with_nothing_pending_reverts(staking, outsider):
    with brownie.reverts(custom_error("StakingNothingToSweep")):
        staking.sweepFees({"from": outsider})
