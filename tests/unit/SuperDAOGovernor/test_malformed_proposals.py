"""Malformed proposals revert with OZ's named error, never a Panic.

The governor derives a proposal's kind from its actions while computing the proposal id, which
OZ does before its own length check; mismatched arrays must still meet
GovernorInvalidProposalLength(targets, calldatas, values) on every path that takes them.
"""

import brownie
from brownie import chain, web3

from tests.helpers import custom_error

WAD = 10**18


def _setup(staking, registry, members):
    staking.stake(1_000 * WAD, {"from": members[0]})
    chain.mine()
    return registry.setCreationFee.encode_input(2 * WAD)


def test_propose_with_fewer_calldatas(governor, staking, registry, members):
    data = _setup(staking, registry, members)
    with brownie.reverts(custom_error("GovernorInvalidProposalLength", 2, 1, 2)):
        governor.propose([registry, registry], [0, 0], [data], "x", {"from": members[0]})


def test_propose_with_more_calldatas(governor, staking, registry, members):
    data = _setup(staking, registry, members)
    with brownie.reverts(custom_error("GovernorInvalidProposalLength", 1, 2, 1)):
        governor.propose([registry], [0], [data, data], "x", {"from": members[0]})
    with brownie.reverts(custom_error("GovernorInvalidProposalLength", 1, 1, 2)):
        governor.propose([registry], [0, 0], [data], "x", {"from": members[0]})


def test_empty_proposal(governor, staking, registry, members):
    _setup(staking, registry, members)
    with brownie.reverts(custom_error("GovernorInvalidProposalLength", 0, 0, 0)):
        governor.propose([], [], [], "x", {"from": members[0]})


def test_ids_and_kinds_of_mismatched_actions(governor, staking, registry, members):
    data = _setup(staking, registry, members)
    desc = web3.keccak(text="x")
    with brownie.reverts(custom_error("GovernorInvalidProposalLength", 2, 1, 2)):
        governor.getProposalId([registry, registry], [0, 0], [data], desc)
    with brownie.reverts(custom_error("GovernorInvalidProposalLength", 2, 1, 2)):
        governor.queue([registry, registry], [0, 0], [data], desc, {"from": members[0]})
    with brownie.reverts(custom_error("GovernorInvalidProposalLength", 2, 1, 2)):
        governor.execute([registry, registry], [0, 0], [data], desc, {"from": members[0]})
    with brownie.reverts(custom_error("SuperDAOGovernorInvalidActions", 2, 1)):
        governor.kindOf([registry, registry], [data])


def test_short_calldata_is_classified_not_panicking(governor, staking, registry, members):
    _setup(staking, registry, members)
    # fewer than 4 bytes: the selector reads zero-padded, an unclassified call (PlatformUpdate)
    assert governor.kindOf([registry], ["0x12"]) == 0
    tx = governor.propose([registry], [0], ["0x12"], "short", {"from": members[0]})
    assert tx.events["ProposalCreated"]["proposalId"] & 1 == 0  # the 66 % flag
