"""SuperDAOStaking governable parameters (owner = the SuperDAO timelock)."""

import brownie

from tests.helpers import custom_error

WAD = 10**18


def test_deployment_wiring(staking, flai, timelock, platform_config):
    assert staking.owner() == timelock
    assert staking.flai() == flai
    assert staking.treasury() == timelock
    assert staking.minimumStake() == platform_config.minimum_stake
    assert staking.exitFeeBps() == platform_config.exit_fee_bps
    assert staking.MAX_EXIT_FEE_BPS() == 1_000


def test_set_minimum_stake(staking, as_timelock, hospital_a):
    tx = staking.setMinimumStake(500 * WAD, {"from": as_timelock})

    assert staking.minimumStake() == 500 * WAD
    event = tx.events["MinimumStakeUpdated"]
    assert (event["oldMinimumStake"], event["newMinimumStake"]) == (100 * WAD, 500 * WAD)
    with brownie.reverts(custom_error("StakingBelowMinimum", 499 * WAD, 500 * WAD)):
        staking.stake(499 * WAD, {"from": hospital_a})


def test_raised_minimum_ends_membership_of_smaller_stakes(staking, as_timelock, hospital_a):
    staking.stake(150 * WAD, {"from": hospital_a})
    staking.setMinimumStake(200 * WAD, {"from": as_timelock})

    assert staking.stakeOf(hospital_a) == 150 * WAD
    assert not staking.isMember(hospital_a)


def test_set_exit_fee(staking, as_timelock):
    tx = staking.setExitFeeBps(250, {"from": as_timelock})

    assert staking.exitFeeBps() == 250
    assert (
        tx.events["ExitFeeUpdated"]["oldExitFeeBps"],
        tx.events["ExitFeeUpdated"]["newExitFeeBps"],
    ) == (100, 250)


def test_exit_fee_above_cap_reverts(staking, as_timelock):
    with brownie.reverts(custom_error("StakingExitFeeTooHigh", 1_001, 1_000)):
        staking.setExitFeeBps(1_001, {"from": as_timelock})


def test_only_governance_sets_parameters(staking, outsider):
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
        staking.setMinimumStake(1, {"from": outsider})
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
        staking.setExitFeeBps(1, {"from": outsider})


def test_constructor_rejects_zero_addresses_and_high_fee(SuperDAOStaking, flai, deployer):
    with brownie.reverts(custom_error("StakingZeroAddress")):
        SuperDAOStaking.deploy(brownie.ZERO_ADDRESS, deployer, deployer, 1, 0, {"from": deployer})
    with brownie.reverts(custom_error("StakingZeroAddress")):
        SuperDAOStaking.deploy(flai, brownie.ZERO_ADDRESS, deployer, 1, 0, {"from": deployer})
    with brownie.reverts(custom_error("StakingExitFeeTooHigh", 2_000, 1_000)):
        SuperDAOStaking.deploy(flai, deployer, deployer, 1, 2_000, {"from": deployer})
