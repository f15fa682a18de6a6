"""Names of the Solidity enum members the pages show, and the on-chain constants they read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CHAMBER_KINDS",
    "INDEX_ONE",
    "LISTING_KINDS",
    "MEMBER_STATUS",
    "PROPOSAL_STATES",
    "REVOCATION_REASONS",
    "RFM_STATUS",
    "ROUND_STATUS",
    "SUBDAO_STATES",
    "SUPERDAO_KINDS",
    "SUPPORT",
    "TIERS",
    "ZERO",
    "name_of",
]

SUBDAO_STATES = ("Crowdfunding", "Onboarding", "Training", "Deployed", "Retired", "Failed")
RFM_STATUS = ("None", "Pending", "Approved", "Rejected", "Expired")
PROPOSAL_STATES = (
    "Pending",
    "Active",
    "Canceled",
    "Defeated",
    "Succeeded",
    "Queued",
    "Expired",
    "Executed",
)
SUPERDAO_KINDS = ("PlatformUpdate", "RFMApproval", "Operational")
CHAMBER_KINDS = ("Operational", "Significant")
ROUND_STATUS = ("None", "Open", "Finalized", "Accepted", "Rejected")
MEMBER_STATUS = ("None", "Applied", "Whitelisted", "Revoked")
REVOCATION_REASONS = ("Inactivity", "Exit", "Malice")
LISTING_KINDS = ("Inference", "Analytics")
TIERS = ("External", "Requester", "Member", "Subscriber")
SUPPORT = ("Against", "For", "Abstain")
INDEX_ONE = 2**200
ZERO = "0x0000000000000000000000000000000000000000"


def name_of(names: Sequence[str], value: Any) -> str:
    """The member ``value`` of a Solidity enum whose members are ``names`` (the raw value
    as text when it is out of range)."""
    try:
        return names[int(value)]
    except (IndexError, TypeError, ValueError):
        return str(value)
