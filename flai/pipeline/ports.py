"""The chain port: the exact ledger calls the orchestrator makes, as a typed Protocol.

The orchestrator never talks to a chain directly. It drives a :class:`ChainPort`, which
the chain adapter (``flai.chain.port``) implements over the contracts — ``TrainingRounds``
(rounds, commits, scores, consensus, aggregate votes, SBGT points, revocation),
``Marketplace`` (tiered paid requests), ``RevenueSplitter`` (claims) and the SubDAO hub
(fork, retirement) — and which :class:`~flai.pipeline.ledger.InMemoryLedger` implements
as the test double. Parties are
named by the scenario's names; the adapter maps names to accounts.

Every write has a read that tells whether it already happened, so the journal can
reconcile a step that crashed between its transaction and its record
(:meth:`flai.pipeline.journal.Journal.once`):

================================  ===================================================
write                             read used to reconcile
================================  ===================================================
``open_round``                    ``round_count`` (round ids are sequential from 1)
``commit_update``                 ``update_cid``
``close_commits``                 ``round_phase`` (past ``COMMIT``)
``submit_scores``                 ``scores_of``
``finalize_round``                ``aggregate``
``vote_aggregate``                ``aggregate_vote``
``settle_round``                  ``round_phase`` (``ACCEPTED``/``REJECTED``)
``set_member_ranks``              ``member_ranks``
``request_inference``/``query``   ``find_request`` (by user and input CID), or
                                  ``requests_of`` (by user and position) when the
                                  journal that knew the input CID is lost
``fulfil``                        ``request`` (``output_cid`` set)
``revoke``                        ``revoked``
``fork_and_retire``               ``fork`` (``parent_state`` ``"Retired"``)
``claim_revenue``                 ``claimed`` (claims only what is owed: idempotent)
================================  ===================================================

Fixed point: scores are ``uint64`` in ``[0, 10¹⁸]`` (φ·1e18, floored), metrics
``uint64`` ``⌊m·10⁶⌋`` (see :mod:`flai.fl.fixed`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "ChainPort",
    "ForkRecord",
    "LedgerCosts",
    "PaidRequest",
    "RevenueClaims",
    "RoundPhase",
    "Tier",
]


class RoundPhase(enum.Enum):
    """Where a training round stands (``TrainingRounds.RoundStatus`` plus the deadline)."""

    NONE = "none"
    COMMIT = "commit"
    """Open, before the commit deadline."""
    SCORING = "scoring"
    """Open, after the commit deadline: validators score."""
    FINALIZED = "finalized"
    """Aggregate CID and metric posted, consensus stored; aggregate vote running."""
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Tier(enum.Enum):
    """Pricing tier of a paid request (000 §6.5.1)."""

    EXTERNAL = "external"
    REQUESTER = "requester"
    MEMBER = "member"


@dataclass(frozen=True)
class PaidRequest:
    """A paid inference or analytics request as the ledger records it."""

    request_id: int
    kind: str
    """``"inference"`` or ``"query"``."""
    user: str
    input_cid: str
    fee: int
    tier: Tier
    output_cid: str | None = None


@dataclass(frozen=True)
class RevenueClaims:
    """What the parties claimed from the revenue splitter (001 eq. 10/11), and its books."""

    sbgt: Mapping[str, int]
    """Contributor → SBGT-side revenue claimed."""
    sdt: Mapping[str, int]
    """SDT holder → SDT-side revenue claimed."""
    platform: int
    """Platform share accrued (paid out or not)."""
    treasury: int
    """SubDAO-treasury share accrued (paid out or not)."""
    received: int
    """Everything the splitter received."""

    def to_json(self) -> dict[str, dict[str, int]]:
        """A JSON-compatible dict."""
        return {
            "sbgt": dict(self.sbgt),
            "sdt": dict(self.sdt),
            "platform": {"accrued": self.platform},
            "treasury": {"accrued": self.treasury},
            "received": {"total": self.received},
        }


@dataclass(frozen=True)
class ForkRecord:
    """A child SubDAO forked for a narrower task from the parent's model (001 §2.4)."""

    child: str
    """The child's SubDAO address (a ledger id on a test ledger)."""
    parent: str
    parent_model_version: int
    """The parent's model version the child starts from (its ``lineage()``)."""
    domain: str
    parent_state: str
    """The parent's state afterwards (``"Retired"``)."""


@dataclass(frozen=True)
class LedgerCosts:
    """What the ledger writes cost, by step: transactions and gas (no gas on a test ledger)."""

    writes: Mapping[str, int]
    gas: Mapping[str, int]


@runtime_checkable
class ChainPort(Protocol):
    """The ledger calls the off-chain pipeline needs (implemented by ``flai.chain``)."""

    # -- membership ----------------------------------------------------------------
    def validator_stakes(self) -> Mapping[str, int]:
        """Whitelisted validators → current deposit (the consensus weight)."""
        ...

    # -- training rounds -------------------------------------------------------------
    def round_count(self) -> int:
        """Number of rounds ever opened (round ids are ``1..round_count``)."""
        ...

    def round_phase(self, round_id: int) -> RoundPhase:
        """Phase of ``round_id`` (``NONE`` if never opened)."""
        ...

    def open_round(self, *, global_model_cid: str) -> int:
        """Open the next round on ``global_model_cid``; return its id (``openRound``)."""
        ...

    def commit_update(self, *, round_id: int, custodian: str, update_cid: str) -> None:
        """Commit a custodian's update CID (``commitUpdate``; once per custodian)."""
        ...

    def update_cid(self, round_id: int, custodian: str) -> str | None:
        """The CID ``custodian`` committed in ``round_id`` (``UpdateCommitted``), or None."""
        ...

    def submitters(self, round_id: int) -> tuple[str, ...]:
        """Committed custodians in the order score vectors use (member index order)."""
        ...

    def close_commits(self, *, round_id: int) -> None:
        """End the commit window (dev chains advance time past the deadline)."""
        ...

    def submit_scores(self, *, round_id: int, validator: str, scores: Sequence[int]) -> None:
        """A validator's φ·1e18 vector, in :meth:`submitters` order (once per validator)."""
        ...

    def scores_of(self, round_id: int, validator: str) -> tuple[int, ...] | None:
        """What ``validator`` submitted in ``round_id``, or None."""
        ...

    def finalize_round(self, *, round_id: int, aggregate_cid: str, metric: int) -> None:
        """Post the aggregate CID and metric·1e6; the ledger computes consensus φ and
        slashes deviating validators (``finalizeRound``)."""
        ...

    def aggregate(self, round_id: int) -> tuple[str, int] | None:
        """Posted ``(aggregate CID, metric·1e6)``, or None before finalisation."""
        ...

    def consensus(self, round_id: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """``(submitters, consensus φ·1e18)`` stored at finalisation (empty before)."""
        ...

    def vote_aggregate(self, *, round_id: int, validator: str, approve: bool) -> None:
        """A validator's accept/reject vote on the aggregate (``voteAggregate``)."""
        ...

    def aggregate_vote(self, round_id: int, validator: str) -> bool | None:
        """How ``validator`` voted on ``round_id``'s aggregate, or None."""
        ...

    def settle_round(self, *, round_id: int) -> RoundPhase:
        """Accept iff aggVote ≥ 0 (003 §VI.E) or reject; return the new phase."""
        ...

    def model_version(self) -> tuple[int, str | None]:
        """``(accepted version, its aggregate CID)``; ``(0, None)`` before any."""
        ...

    def points(self) -> Mapping[str, int]:
        """SBGT points π per contributor (1e18 fixed point)."""
        ...

    def revoked_points(self) -> Mapping[str, int]:
        """Revoked contributor → the SBGT points its revocation burned."""
        ...

    def slashed(self) -> Mapping[str, int]:
        """Deposit slashed so far, per validator."""
        ...

    # -- marketplace -----------------------------------------------------------------
    def set_member_ranks(self, *, ranked: Sequence[str]) -> None:
        """Contribution ranking of members for member-tier pricing (best first)."""
        ...

    def member_ranks(self) -> tuple[str, ...]:
        """The current ranking (empty if none set)."""
        ...

    def price_of(self, user: str) -> tuple[int, Tier]:
        """Inference price and tier for ``user``."""
        ...

    def request_inference(self, *, user: str, input_cid: str) -> PaidRequest:
        """Pay for one inference on the encrypted input at ``input_cid``."""
        ...

    def request_query(self, *, user: str, query_cid: str, price: int) -> PaidRequest:
        """Pay for one federated-analytics query described at ``query_cid``."""
        ...

    def find_request(self, *, user: str, input_cid: str) -> PaidRequest | None:
        """The request ``user`` made for ``input_cid``, or None."""
        ...

    def requests_of(self, *, user: str, kind: str) -> tuple[PaidRequest, ...]:
        """The ``kind`` (``"inference"``/``"query"``) requests ``user`` paid, oldest first."""
        ...

    def fulfil(self, *, request_id: int, output_cid: str) -> None:
        """Record the encrypted output CID of a pending request."""
        ...

    def request(self, request_id: int) -> PaidRequest:
        """A request by id."""
        ...

    def revenue(self) -> int:
        """Fees received by the revenue splitter so far."""
        ...

    # -- revocation, fork, retirement, claims ------------------------------------------
    def revoke(self, *, names: Sequence[str]) -> None:
        """Revoke contributors for malice: points burned, collateral confiscated (skips
        those already revoked)."""
        ...

    def revoked(self) -> Mapping[str, int]:
        """Revoked contributor → collateral slashed."""
        ...

    def fork_and_retire(self, *, domain: str) -> None:
        """Fork a ``domain`` child from the current model version and retire the parent
        (no new rounds, no new paid requests; the last SBGT pool ends)."""
        ...

    def fork(self) -> ForkRecord | None:
        """The child forked from the SubDAO, or None."""
        ...

    def claim_revenue(self, *, backers: Sequence[str]) -> None:
        """Every contributor claims its SBGT side of every finished pool (eq. 10) and every
        backer its SDT side (eq. 11); claims only what is owed."""
        ...

    def claimed(self) -> RevenueClaims:
        """What has been claimed, and the splitter's books."""
        ...

    # -- reporting -----------------------------------------------------------------------
    def costs(self) -> LedgerCosts:
        """Writes (transactions) and gas by step so far."""
        ...
