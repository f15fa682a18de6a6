"""Governance helpers: SuperDAO proposals through the timelock, SubDAO chamber proposals.

A proposal is a list of :class:`Action` (target, calldata, value). :func:`propose` and
:func:`queue_and_execute` drive the SuperDAO governor; :func:`chamber_execute` runs a
SubDAO chamber proposal from proposal to execution with every given voter in favour;
:func:`superdao_approve` passes an RFM approval. Waiting out voting periods and the
timelock delay mines blocks and advances the clock, so the last two serve local chains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flai.chain.abi import VoteType
from flai.chain.errors import ChainError
from flai.chain.plumbing import (
    Account,
    Contract,
    GasMeter,
    Receipt,
    address,
    keccak_text,
    mine,
    mine_past,
    now,
    sleep,
    transact,
)

__all__ = [
    "Action",
    "action",
    "chamber_execute",
    "propose",
    "queue_and_execute",
    "superdao_approve",
]


@dataclass(frozen=True)
class Action:
    """One call a proposal makes (through the timelock, or by a chamber)."""

    target: str
    calldata: str
    value: int = 0


def action(contract: Contract, function: str, *args: Any, value: int = 0) -> Action:
    """The :class:`Action` calling ``contract.function(*args)``."""
    return Action(address(contract), getattr(contract, function).encode_input(*args), value)


def _columns(actions: Sequence[Action]) -> tuple[list[str], list[int], list[str]]:
    if not actions:
        raise ChainError("a proposal needs at least one action")
    return [a.target for a in actions], [a.value for a in actions], [a.calldata for a in actions]


def propose(
    governor: Contract, *, proposer: Account, actions: Sequence[Action], description: str
) -> tuple[int, Receipt]:
    """Submits a proposal; returns ``(proposal_id, tx)``."""
    targets, values, calldatas = _columns(actions)
    tx = transact(governor.propose, targets, values, calldatas, description, sender=proposer)
    return int(tx.events["ProposalCreated"]["proposalId"]), tx


def queue_and_execute(
    governor: Contract, *, sender: Account, actions: Sequence[Action], description: str
) -> tuple[Receipt, Receipt]:
    """Queues a succeeded proposal, waits out the timelock delay (local chains only: it
    advances the chain clock) and executes it; returns ``(queue_tx, execute_tx)``."""
    targets, values, calldatas = _columns(actions)
    description_hash = keccak_text(description)
    queue_tx = transact(governor.queue, targets, values, calldatas, description_hash, sender=sender)
    proposal_id = int(queue_tx.events["ProposalQueued"]["proposalId"])
    wait = int(governor.proposalEta(proposal_id)) - now()  # the timelock compares timestamps
    if wait >= 0:
        sleep(wait + 1)
    execute_tx = transact(
        governor.execute, targets, values, calldatas, description_hash, sender=sender
    )
    return queue_tx, execute_tx


def chamber_execute(
    chamber: Contract,
    *,
    voters: Sequence[Account],
    actions: Sequence[Action],
    description: str,
    gas: GasMeter,
    step: str,
) -> Receipt:
    """Propose ``actions`` in a SubDAO chamber, vote for with every voter, wait out the
    voting period (local chains: mines blocks) and execute; returns the execute tx."""
    targets, values, calldatas = _columns(actions)
    tx = gas.record(
        f"{step}/propose",
        transact(chamber.propose, targets, values, calldatas, description, sender=voters[0]),
    )
    proposal_id = tx.events["ProposalCreated"]["proposalId"]
    mine(int(chamber.votingDelay()) + 1)
    for voter in voters:
        gas.record(
            f"{step}/vote", transact(chamber.castVote, proposal_id, VoteType.FOR, sender=voter)
        )
    mine_past(int(chamber.proposalDeadline(proposal_id)))
    return gas.record(
        f"{step}/execute",
        transact(
            chamber.execute,
            targets,
            values,
            calldatas,
            keccak_text(description),
            sender=voters[0],
        ),
    )


def superdao_approve(
    governor: Contract,
    registry: Contract,
    *,
    rfm_id: int,
    members: Sequence[Account],
    gas: GasMeter,
) -> str:
    """Pass and execute the SuperDAO approval of ``rfm_id`` (every member votes for);
    returns the SubDAO the approval created."""
    actions = [action(registry, "approve", rfm_id)]
    description = f"Approve RFM #{rfm_id}"
    proposal_id, tx = propose(
        governor, proposer=members[0], actions=actions, description=description
    )
    gas.record("superdao/propose", tx)
    mine(int(governor.votingDelay()) + 1)
    for member in members:
        gas.record(
            "superdao/vote", transact(governor.castVote, proposal_id, VoteType.FOR, sender=member)
        )
    mine_past(int(governor.proposalDeadline(proposal_id)))
    queued, executed = queue_and_execute(
        governor, sender=members[0], actions=actions, description=description
    )
    gas.record("superdao/queue", queued)
    gas.record("superdao/execute (creates the SubDAO suite)", executed)
    return str(executed.events["RFMApproved"]["subDAO"])
