"""Hard-coded minimum kinds win over the governance table.

Every call that changes how RFMs, platform updates or thresholds are decided — or who holds
the votes, or that forwards arbitrary calls — is a PlatformUpdate (66 %) whatever the table
says, and RFM decisions are at least RFMApproval (66 %). The table refuses a weaker kind
(SuperDAOGovernorKindTooWeak), at construction and in `setActionKind`, so a 51 % majority can
never, e.g., lower `setEndorsementThresholdBps` to 1 bps and approve RFMs without the 66 % vote.
"""

import brownie
import pytest
from brownie import chain, web3

from flai.chain import ProposalKind, action, queue_and_execute
from tests.fixtures.platform import pass_proposal
from tests.helpers import custom_error

WAD = 10**18
AGAINST, FOR = 0, 1
DEFEATED = 3

PLATFORM_UPDATE_ONLY = [
    "setActionKind(address,bytes4,uint8)",
    "relay(address,uint256,bytes)",
    "setVotingDelay(uint48)",
    "setVotingPeriod(uint32)",
    "setProposalThreshold(uint256)",
    "updateQuorumNumerator(uint256)",
    "updateTimelock(address)",
    "updateDelay(uint256)",
    "grantRole(bytes32,address)",
    "revokeRole(bytes32,address)",
    "renounceRole(bytes32,address)",
    "execute(address,uint256,bytes,bytes32,bytes32)",
    "executeBatch(address[],uint256[],bytes[],bytes32,bytes32)",
    "transferOwnership(address)",
    "renounceOwnership()",
    "grantCredentials(address,uint256)",
    "revokeCredentials(address,uint256)",
    "setEndorsementThresholdBps(uint16)",
    "setEndorsementStakeAge(uint32)",
    "setSubmissionTTL(uint64)",
    "setFactory(address)",
]
RFM_DECISIONS = ["approve(uint256)", "reject(uint256)"]


def selector(signature):
    return web3.keccak(text=signature)[:4]


def _deploy(SuperDAOGovernor, staking, timelock, deployer, rules):
    return SuperDAOGovernor.deploy(staking, timelock, 1, 20, 0, 10, rules, {"from": deployer})


@pytest.mark.parametrize("signature", PLATFORM_UPDATE_ONLY)
@pytest.mark.parametrize("kind", [ProposalKind.RFM_APPROVAL, ProposalKind.OPERATIONAL])
def test_table_cannot_weaken_a_platform_update(
    SuperDAOGovernor, staking, timelock, registry, deployer, signature, kind
):
    sel = selector(signature)
    with brownie.reverts(custom_error("SuperDAOGovernorKindTooWeak", registry, sel, int(kind), 0)):
        _deploy(SuperDAOGovernor, staking, timelock, deployer, [(registry, "0x" + sel.hex(), kind)])


@pytest.mark.parametrize("signature", RFM_DECISIONS)
def test_rfm_decisions_are_never_operational(
    SuperDAOGovernor, staking, timelock, registry, deployer, signature
):
    sel = selector(signature)
    with brownie.reverts(custom_error("SuperDAOGovernorKindTooWeak", registry, sel, 2, 1)):
        _deploy(SuperDAOGovernor, staking, timelock, deployer, [(registry, "0x" + sel.hex(), 2)])
    # as a platform update it may be classified (stricter is always allowed)
    g = _deploy(SuperDAOGovernor, staking, timelock, deployer, [(registry, "0x" + sel.hex(), 0)])
    assert g.actionKind(registry, "0x" + sel.hex()) == 0


def test_deployed_classification_keeps_decision_rules_at_66_percent(governor, registry, staking):
    for function in ("setEndorsementThresholdBps", "setEndorsementStakeAge", "setSubmissionTTL"):
        data = getattr(registry, function).encode_input(1)
        assert governor.kindOf([registry], [data]) == ProposalKind.PLATFORM_UPDATE
    grant = staking.grantCredentials.encode_input(registry.address, 1)
    assert governor.kindOf([staking], [grant]) == ProposalKind.PLATFORM_UPDATE


def test_a_51_percent_majority_cannot_lower_the_endorsement_threshold(
    governor, staking, registry, members
):
    yes, no = members[0], members[1]
    staking.stake(6_000 * WAD, {"from": yes})
    staking.stake(4_000 * WAD, {"from": no})
    chain.mine()
    actions = [action(registry, "setEndorsementThresholdBps", 1)]
    pid = pass_proposal(governor, actions, "Endorsement threshold 1 bps", {yes: FOR, no: AGAINST})
    assert governor.proposalApprovalThresholdBps(pid) == 6_600
    assert governor.state(pid) == DEFEATED
    assert registry.endorsementThresholdBps() != 1


def test_governance_cannot_reclassify_a_decision_rule(governor, staking, registry, members):
    staking.stake(10_000 * WAD, {"from": members[0]})
    chain.mine()
    sel = registry.signatures["setEndorsementThresholdBps"]
    actions = [action(governor, "setActionKind", registry, sel, ProposalKind.OPERATIONAL)]
    description = "Make the endorsement threshold operational"
    pass_proposal(governor, actions, description, {members[0]: FOR})
    with brownie.reverts(
        custom_error("SuperDAOGovernorKindTooWeak", registry, bytes.fromhex(sel[2:]), 2, 0)
    ):
        queue_and_execute(governor, sender=members[0], actions=actions, description=description)
    assert governor.actionKind(registry, sel) == ProposalKind.PLATFORM_UPDATE
