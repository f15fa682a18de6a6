"""Approval thresholds by proposal kind (000 §7.1.3), quorum, snapshot and one-vote rules."""

import brownie
import pytest
from brownie import chain

from flai.chain import ProposalKind, action, propose, queue_and_execute
from tests.fixtures.platform import pass_proposal
from tests.helpers import custom_error

WAD = 10**18
AGAINST, FOR, ABSTAIN = 0, 1, 2
PENDING, ACTIVE, DEFEATED, SUCCEEDED, QUEUED, EXECUTED = 0, 1, 3, 4, 5, 7


def bitmap(*states):
    return sum(1 << s for s in states).to_bytes(32, "big")


@pytest.fixture
def rfm_id(registry, pharma, pharma_rfm):
    return registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value


def votes(governor, pid):
    against, for_, _ = governor.proposalVotes(pid)
    return (int(against), int(for_))


def stake(staking, amounts):
    for account, amount in amounts.items():
        staking.stake(amount, {"from": account})
    chain.mine()  # proposals read votes at clock() - 1


def test_rfm_approval_at_65_99_percent_is_defeated(governor, staking, registry, members, rfm_id):
    yes, no = members[0], members[1]
    stake(staking, {yes: 6_599 * WAD, no: 3_401 * WAD})
    actions = [action(registry, "approve", rfm_id)]

    pid = pass_proposal(governor, actions, "Approve the pharma RFM", {yes: FOR, no: AGAINST})

    assert governor.proposalApprovalThresholdBps(pid) == 6_600
    assert votes(governor, pid) == (3_401 * WAD, 6_599 * WAD)
    assert governor.state(pid) == DEFEATED


def test_rfm_approval_at_66_percent_succeeds_and_executes(
    governor, staking, registry, members, rfm_id, recording_factory
):
    yes, no = members[0], members[1]
    stake(staking, {yes: 6_600 * WAD, no: 3_400 * WAD})
    actions = [action(registry, "approve", rfm_id)]

    pid = pass_proposal(governor, actions, "Approve the pharma RFM", {yes: FOR, no: AGAINST})
    assert governor.state(pid) == SUCCEEDED
    queue_tx, execute_tx = queue_and_execute(
        governor, sender=no, actions=actions, description="Approve the pharma RFM"
    )

    assert queue_tx.events["ProposalQueued"]["proposalId"] == pid
    assert execute_tx.events["ProposalExecuted"]["proposalId"] == pid
    approved = execute_tx.events["RFMApproved"]
    assert (approved["rfmId"], approved["byEndorsement"]) == (rfm_id, False)
    assert approved["subDAO"] == recording_factory.predictSubDAO(rfm_id)
    assert registry.getRFM(rfm_id)["status"] == 2
    assert governor.state(pid) == EXECUTED


def test_operational_at_51_percent_succeeds(governor, staking, registry, members):
    yes, no = members[0], members[1]
    stake(staking, {yes: 5_100 * WAD, no: 4_900 * WAD})
    actions = [action(registry, "setCreationFee", 10 * WAD)]

    pid = pass_proposal(governor, actions, "Cheaper RFMs", {yes: FOR, no: AGAINST})
    assert governor.proposalApprovalThresholdBps(pid) == 5_100
    assert governor.state(pid) == SUCCEEDED
    _, execute_tx = queue_and_execute(
        governor, sender=no, actions=actions, description="Cheaper RFMs"
    )

    assert execute_tx.events["CreationFeeUpdated"]["newFee"] == 10 * WAD
    assert registry.creationFee() == 10 * WAD


def test_operational_at_50_99_percent_is_defeated(governor, staking, registry, members):
    yes, no = members[0], members[1]
    stake(staking, {yes: 5_099 * WAD, no: 4_901 * WAD})

    pid = pass_proposal(
        governor, [action(registry, "setCreationFee", 1)], "fee", {yes: FOR, no: AGAINST}
    )

    assert governor.state(pid) == DEFEATED


def test_platform_update_needs_66_percent(governor, staking, members, outsider):
    yes, no = members[0], members[1]
    stake(staking, {yes: 6_000 * WAD, no: 4_000 * WAD})
    actions = [action(staking, "grantCredentials", outsider.address, WAD)]

    pid = pass_proposal(governor, actions, "Credentials", {yes: FOR, no: AGAINST})

    assert governor.proposalApprovalThresholdBps(pid) == 6_600
    assert governor.state(pid) == DEFEATED


def test_strictest_action_sets_the_kind(governor, staking, registry, members, rfm_id):
    yes, no = members[0], members[1]
    stake(staking, {yes: 5_500 * WAD, no: 4_500 * WAD})
    actions = [action(registry, "setCreationFee", 1), action(registry, "approve", rfm_id)]

    assert (
        governor.kindOf([a.target for a in actions], [a.calldata for a in actions])
        == ProposalKind.RFM_APPROVAL
    )
    pid = pass_proposal(
        governor, actions, "Bundle an approval with a fee change", {yes: FOR, no: AGAINST}
    )

    assert governor.proposalApprovalThresholdBps(pid) == 6_600
    assert governor.state(pid) == DEFEATED  # 55% would pass an Operational proposal, not this one


def test_proposal_id_carries_the_simple_majority_flag(governor, staking, registry, members, rfm_id):
    stake(staking, {members[0]: 1_000 * WAD})
    op_actions = [action(registry, "setCreationFee", 1)]
    rfm_actions = [action(registry, "approve", rfm_id)]
    op_pid, op_tx = propose(governor, proposer=members[0], actions=op_actions, description="op")
    rfm_pid, rfm_tx = propose(governor, proposer=members[0], actions=rfm_actions, description="rfm")

    for pid, tx, actions, description, flag in [
        (op_pid, op_tx, op_actions, "op", 1),
        (rfm_pid, rfm_tx, rfm_actions, "rfm", 0),
    ]:
        args = (
            [a.target for a in actions],
            [a.value for a in actions],
            [a.calldata for a in actions],
            brownie.web3.keccak(text=description),
        )
        raw = governor.hashProposal(*args)
        assert pid == tx.events["ProposalCreated"]["proposalId"] == governor.getProposalId(*args)
        assert pid == (raw & ~1) | flag
        assert list(tx.events.keys()) == ["ProposalCreated"]  # no storage or log beyond OZ's
    assert governor.proposalApprovalThresholdBps(op_pid) == 5_100
    assert governor.proposalApprovalThresholdBps(rfm_pid) == 6_600


def test_reclassifying_an_action_does_not_move_a_running_proposal(
    governor, staking, registry, members
):
    yes, no = members[0], members[1]
    stake(staking, {yes: 5_500 * WAD, no: 4_500 * WAD})
    selector = registry.signatures["setRefundPolicy"]
    running = [action(registry, "setRefundPolicy", 4_000, 2_500)]
    reclassify = [
        action(governor, "setActionKind", registry.address, selector, ProposalKind.OPERATIONAL)
    ]
    # Both run side by side: 100% for the reclassification, 55% for the running proposal.
    pid, _ = propose(governor, proposer=yes, actions=running, description="refunds")
    reclass_pid, _ = propose(governor, proposer=yes, actions=reclassify, description="reclass")
    chain.mine(int(governor.votingDelay()) + 1)
    governor.castVote(pid, FOR, {"from": yes})
    governor.castVote(pid, AGAINST, {"from": no})
    governor.castVote(reclass_pid, FOR, {"from": yes})
    governor.castVote(reclass_pid, FOR, {"from": no})
    chain.mine(int(governor.votingPeriod()) + 1)
    queue_and_execute(governor, sender=yes, actions=reclassify, description="reclass")

    assert governor.kindOf([registry], [running[0].calldata]) == ProposalKind.OPERATIONAL
    # The running proposal keeps the 66% it was proposed with: 55% defeats it, and the actions
    # still resolve to its id, not to the Operational id they would get if proposed now.
    args = ([registry], [0], [running[0].calldata], brownie.web3.keccak(text="refunds"))
    assert governor.getProposalId(*args) == pid
    assert governor.proposalApprovalThresholdBps(pid) == 6_600
    assert governor.state(pid) == DEFEATED
    with brownie.reverts(
        custom_error("GovernorUnexpectedProposalState", pid, DEFEATED, bitmap(SUCCEEDED))
    ):
        governor.queue(*args, {"from": yes})


def test_unanimous_vote_below_quorum_is_defeated(governor, staking, registry, members):
    small, big = members[0], members[1]
    stake(staking, {small: 900 * WAD, big: 9_100 * WAD})  # quorum 10% of 10,000

    pid = pass_proposal(governor, [action(registry, "setCreationFee", 1)], "fee", {small: FOR})

    assert governor.quorum(governor.proposalSnapshot(pid)) == 1_000 * WAD
    assert governor.state(pid) == DEFEATED


def test_stake_added_after_snapshot_has_no_weight(governor, staking, registry, members):
    early, late = members[0], members[1]
    stake(staking, {early: 1_000 * WAD})
    pid, propose_tx = propose(
        governor, proposer=early, actions=[action(registry, "setCreationFee", 1)], description="fee"
    )
    snapshot = governor.proposalSnapshot(pid)
    assert snapshot == propose_tx.block_number + governor.votingDelay()
    chain.mine(governor.votingDelay() + 1)  # voting is open: the snapshot block is history
    stake_tx = staking.stake(50_000 * WAD, {"from": late})
    assert stake_tx.block_number > snapshot

    tx = governor.castVote(pid, AGAINST, {"from": late})

    assert tx.events["VoteCast"]["weight"] == 0
    assert governor.getVotes(late, snapshot) == 0
    governor.castVote(pid, FOR, {"from": early})
    chain.mine(governor.votingPeriod())
    assert votes(governor, pid) == (0, 1_000 * WAD)
    assert governor.state(pid) == SUCCEEDED


def test_second_vote_reverts(governor, staking, registry, members):
    voter = members[0]
    stake(staking, {voter: 1_000 * WAD})
    pid, _ = propose(
        governor, proposer=voter, actions=[action(registry, "setCreationFee", 1)], description="fee"
    )
    chain.mine(governor.votingDelay() + 1)
    tx = governor.castVote(pid, FOR, {"from": voter})
    assert (tx.events["VoteCast"]["voter"], tx.events["VoteCast"]["weight"]) == (voter, 1_000 * WAD)

    with brownie.reverts(custom_error("GovernorAlreadyCastVote", voter)):
        governor.castVote(pid, AGAINST, {"from": voter})


def test_voting_opens_only_after_the_delay(governor, staking, registry, members):
    voter = members[0]
    stake(staking, {voter: 1_000 * WAD})
    pid, _ = propose(
        governor, proposer=voter, actions=[action(registry, "setCreationFee", 1)], description="fee"
    )

    with brownie.reverts(
        custom_error("GovernorUnexpectedProposalState", pid, PENDING, bitmap(ACTIVE))
    ):
        governor.castVote(pid, FOR, {"from": voter})


def test_non_member_cannot_propose(governor, registry, outsider):
    with brownie.reverts(custom_error("GovernorInsufficientProposerVotes", outsider, 0, 100 * WAD)):
        propose(
            governor,
            proposer=outsider,
            actions=[action(registry, "setCreationFee", 1)],
            description="fee",
        )


def test_defeated_proposal_cannot_be_queued_or_executed(
    governor, staking, registry, members, rfm_id
):
    yes, no = members[0], members[1]
    stake(staking, {yes: 1_000 * WAD, no: 9_000 * WAD})
    actions = [action(registry, "approve", rfm_id)]
    pid = pass_proposal(governor, actions, "Approve", {yes: FOR, no: AGAINST})
    args = (
        [a.target for a in actions],
        [0],
        [a.calldata for a in actions],
        brownie.web3.keccak(text="Approve"),
    )

    assert governor.state(pid) == DEFEATED
    with brownie.reverts(
        custom_error("GovernorUnexpectedProposalState", pid, DEFEATED, bitmap(SUCCEEDED))
    ):
        governor.queue(*args, {"from": yes})
    # behind a timelock only a Queued proposal can execute
    with brownie.reverts(
        custom_error("GovernorUnexpectedProposalState", pid, DEFEATED, bitmap(QUEUED))
    ):
        governor.execute(*args, {"from": yes})


def test_unknown_proposal_threshold_query_reverts(governor):
    with brownie.reverts(custom_error("GovernorNonexistentProposal", 42)):
        governor.proposalApprovalThresholdBps(42)


def test_governance_reclassifies_an_action(governor, staking, registry, members):
    yes = members[0]
    stake(staking, {yes: 1_000 * WAD})
    selector = registry.signatures["setRefundPolicy"]
    actions = [
        action(governor, "setActionKind", registry.address, selector, ProposalKind.OPERATIONAL)
    ]

    pid = pass_proposal(governor, actions, "Refund policy is operational", {yes: FOR})
    assert (
        governor.proposalApprovalThresholdBps(pid) == 6_600
    )  # changing the table is a platform update
    _, execute_tx = queue_and_execute(
        governor, sender=yes, actions=actions, description="Refund policy is operational"
    )

    event = execute_tx.events["ActionKindSet"]
    assert (event["target"], event["selector"], event["kind"]) == (
        registry,
        selector,
        ProposalKind.OPERATIONAL,
    )
    assert governor.actionKind(registry, selector) == ProposalKind.OPERATIONAL
