"""Governance helpers: SuperDAO proposals through the timelock, SubDAO chamber proposals.

A proposal is a list of :class:`Action` (target, calldata, value). :func:`propose` and
:func:`queue_and_execute` drive the SuperDAO governor; :func:`chamber_execute` runs a
SubDAO chamber proposal from proposal to execution with every given voter in favour;
:func:`superdao_approve` passes an RFM approval. The last two are resumable: a proposal is
found by its id (``getProposalId`` of the same actions and description), so a rerun after
a crash sends only what is missing. Waiting out voting periods and the timelock delay
mines blocks and advances the clock, so the last two serve local chains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flai.chain.abi import ProposalState, VoteType
from flai.chain.errors import ChainError
from flai.chain.gas import GasMeter
from flai.chain.plumbing import (
    Account,
    Contract,
    Receipt,
    address,
    keccak_text,
    mine_past,
    now,
    sleep,
    transact,
)

__all__ = [
    "Action",
    "action",
    "chamber_execute",
    "proposal_state",
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


def proposal_state(governor: Contract, proposal_id: int) -> ProposalState | None:
    """The state of ``proposal_id`` on ``governor`` (a SuperDAO governor or a chamber),
    ``None`` if it was never proposed."""
    if int(governor.proposalSnapshot(proposal_id)) == 0:
        return None
    return ProposalState(int(governor.state(proposal_id)))


def _proposal_id(governor: Contract, actions: Sequence[Action], description: str) -> int:
    targets, values, calldatas = _columns(actions)
    return int(governor.getProposalId(targets, values, calldatas, keccak_text(description)))


def _pass(
    governor: Contract,
    *,
    voters: Sequence[Account],
    actions: Sequence[Action],
    description: str,
    gas: GasMeter,
    step: str,
) -> tuple[int, ProposalState]:
    """Bring the proposal of ``actions`` to a vote's end, resuming where the chain stands:
    proposed unless its id (``getProposalId`` of the same actions and description) exists,
    voted for by every voter who has not voted, the voting period waited out. Returns the
    id and its state then."""
    targets, values, calldatas = _columns(actions)
    proposal_id = _proposal_id(governor, actions, description)
    state = proposal_state(governor, proposal_id)
    if state is None:
        tx = gas.send(
            f"{step}/propose",
            governor.propose,
            targets,
            values,
            calldatas,
            description,
            sender=voters[0],
        )
        if int(tx.events["ProposalCreated"]["proposalId"]) != proposal_id:
            raise ChainError(f"{step}: the governor created another proposal id than computed")
        state = ProposalState.PENDING
    if state is ProposalState.PENDING:
        mine_past(int(governor.proposalSnapshot(proposal_id)))
        state = ProposalState.ACTIVE
    if state is ProposalState.ACTIVE:
        for voter in voters:
            if not governor.hasVoted(proposal_id, voter):
                gas.send(f"{step}/vote", governor.castVote, proposal_id, VoteType.FOR, sender=voter)
        mine_past(int(governor.proposalDeadline(proposal_id)))
        state = ProposalState(int(governor.state(proposal_id)))
    return proposal_id, state


def chamber_execute(
    chamber: Contract,
    *,
    voters: Sequence[Account],
    actions: Sequence[Action],
    description: str,
    gas: GasMeter,
    step: str,
) -> Receipt | None:
    """Propose ``actions`` in a SubDAO chamber, vote for with every voter, wait out the
    voting period (local chains: mines blocks) and execute; returns the execute tx.

    Resumable: the proposal is found by its id (the same actions and description give the
    same id), so a rerun after a crash sends only the missing proposal, votes and execution,
    and returns ``None`` if the proposal was already executed.

    Raises
    ------
    ChainError
        The proposal was defeated, canceled or expired.
    """
    targets, values, calldatas = _columns(actions)
    _, state = _pass(
        chamber, voters=voters, actions=actions, description=description, gas=gas, step=step
    )
    if state is ProposalState.EXECUTED:
        return None
    if state is not ProposalState.SUCCEEDED:
        raise ChainError(f"{step}: the chamber proposal {description!r} is {state.name}")
    return gas.send(
        f"{step}/execute",
        chamber.execute,
        targets,
        values,
        calldatas,
        keccak_text(description),
        sender=voters[0],
    )


def superdao_approve(
    governor: Contract,
    registry: Contract,
    *,
    rfm_id: int,
    members: Sequence[Account],
    gas: GasMeter,
) -> None:
    """Pass and execute the SuperDAO approval of ``rfm_id`` (every member votes for),
    resuming where the proposal stands (found by its id, like :func:`chamber_execute`).

    Raises
    ------
    ChainError
        The proposal was defeated, canceled or expired.
    """
    actions = [action(registry, "approve", rfm_id)]
    description = f"Approve RFM #{rfm_id}"
    targets, values, calldatas = _columns(actions)
    description_hash = keccak_text(description)
    proposal_id, state = _pass(
        governor, voters=members, actions=actions, description=description, gas=gas, step="superdao"
    )
    if state is ProposalState.SUCCEEDED:
        gas.send(
            "superdao/queue",
            governor.queue,
            targets,
            values,
            calldatas,
            description_hash,
            sender=members[0],
        )
        state = ProposalState.QUEUED
    if state is ProposalState.QUEUED:
        wait = int(governor.proposalEta(proposal_id)) - now()  # the timelock compares timestamps
        if wait >= 0:
            sleep(wait + 1)
        gas.send(
            "superdao/execute (creates the SubDAO suite)",
            governor.execute,
            targets,
            values,
            calldatas,
            description_hash,
            sender=members[0],
        )
        state = ProposalState.EXECUTED
    if state is not ProposalState.EXECUTED:
        raise ChainError(f"SuperDAO proposal {description!r} is {state.name}")
