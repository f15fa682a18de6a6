"""SuperDAOGovernor deployment: OZ modules wired to staking and the timelock, no deployer power left."""

import brownie
from brownie import chain

from flai.chain import ProposalKind
from tests.helpers import custom_error

WAD = 10**18


def test_settings_and_wiring(governor, staking, timelock, platform_config):
    assert governor.name() == "FLAI SuperDAO"
    assert governor.token() == staking
    assert governor.timelock() == timelock
    assert governor.votingDelay() == platform_config.voting_delay >= 1
    assert governor.votingPeriod() == platform_config.voting_period
    assert governor.proposalThreshold() == platform_config.proposal_threshold
    assert governor.quorumNumerator() == platform_config.quorum_percent
    assert governor.COUNTING_MODE() == "support=bravo&quorum=for,abstain"
    assert (governor.SUPERMAJORITY_BPS(), governor.SIMPLE_MAJORITY_BPS()) == (6_600, 5_100)


def test_clock_agrees_with_staking(governor, staking):
    assert governor.CLOCK_MODE() == staking.CLOCK_MODE()
    assert governor.clock() == staking.clock() == chain.height


def test_timelock_roles_belong_to_governor_only(timelock, governor, deployer):
    for role in ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"):
        assert timelock.hasRole(getattr(timelock, role)(), governor)
        assert not timelock.hasRole(getattr(timelock, role)(), deployer)
    admin = timelock.DEFAULT_ADMIN_ROLE()
    assert not timelock.hasRole(admin, deployer)
    assert timelock.hasRole(admin, timelock)


def test_owners_are_the_timelock(staking, registry, timelock):
    assert staking.owner() == timelock
    assert registry.owner() == timelock


def test_action_table_follows_config(governor, staking, registry, flai):
    def kind(contract, name):
        return governor.actionKind(contract, contract.signatures[name])

    assert kind(registry, "approve") == ProposalKind.RFM_APPROVAL
    assert kind(registry, "reject") == ProposalKind.RFM_APPROVAL
    assert kind(registry, "setCreationFee") == ProposalKind.OPERATIONAL
    assert kind(staking, "setMinimumStake") == ProposalKind.OPERATIONAL
    assert kind(flai, "transfer") == ProposalKind.OPERATIONAL
    # everything unclassified is a platform update
    assert kind(staking, "grantCredentials") == ProposalKind.PLATFORM_UPDATE
    assert kind(registry, "setFactory") == ProposalKind.PLATFORM_UPDATE
    assert kind(governor, "setActionKind") == ProposalKind.PLATFORM_UPDATE


def test_constructor_rejects_zero_target_rule(SuperDAOGovernor, staking, timelock, deployer):
    with brownie.reverts(custom_error("SuperDAOGovernorZeroTarget")):
        SuperDAOGovernor.deploy(
            staking,
            timelock,
            1,
            20,
            0,
            10,
            [(brownie.ZERO_ADDRESS, "0x12345678", 2)],
            {"from": deployer},
        )


def test_set_action_kind_only_through_governance(governor, registry, outsider):
    with brownie.reverts(custom_error("GovernorOnlyExecutor", outsider)):
        governor.setActionKind(
            registry, registry.signatures["setRefundPolicy"], 2, {"from": outsider}
        )


def test_constructor_emits_initial_classification(governor, platform_config):
    events = governor.tx.events["ActionKindSet"]
    expected = len(platform_config.operational_actions) + len(platform_config.rfm_decision_actions)
    assert len(events) == expected
    for event in events:
        assert governor.actionKind(event["target"], event["selector"]) == event["kind"]


def test_proposer_cancels_a_pending_proposal(governor, staking, registry, members):
    from flai.chain import action, propose

    staking.stake(1_000 * WAD, {"from": members[0]})
    chain.mine()
    actions = [action(registry, "setCreationFee", 1)]
    pid, _ = propose(governor, proposer=members[0], actions=actions, description="oops")

    tx = governor.cancel(
        [a.target for a in actions],
        [0],
        [a.calldata for a in actions],
        brownie.web3.keccak(text="oops"),
        {"from": members[0]},
    )

    assert tx.events["ProposalCanceled"]["proposalId"] == pid
    assert governor.state(pid) == 2  # Canceled
