"""Python mirrors of the contracts' enums and structs: the typed Python↔Solidity boundary.

Every Solidity enum of ``contracts/`` (and OpenZeppelin's ``VoteType``) has an
:class:`~enum.IntEnum` whose members are the Solidity ones in declaration order, in upper
snake case (``ISubDAO.State.Deployed`` → :attr:`SubDAOState.DEPLOYED`). Every struct that
can cross the ABI has a frozen dataclass of its members in order, in snake case
(``RFMParams.specCid`` → :attr:`RFMParams.spec_cid`), with :meth:`Struct.as_tuple` (what
brownie encodes for a struct argument) and :meth:`Struct.from_tuple` (from a returned
tuple or ``ReturnValue``). Annotations say how a member crosses: ``int`` (``uintN``/
``intN``), ``bool``, ``str`` (``string``), :data:`Address`, :data:`Tag` (a ``bytes32`` short
string), :data:`Selector` (``bytes4``), an enum or a struct mirror.
``tests/integration/test_abi_mirrors.py`` compares every mirror with the compiled AST, so a
reordered, renamed or retyped member fails the suite instead of shifting a value silently.
This module imports neither brownie nor web3.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NewType, Self, get_type_hints

from flai.errors import ConfigError
from flai.pipeline.config import RFMSpec
from flai.pipeline.revenue import RevenueShares

__all__ = [
    "ENUMS",
    "STRUCTS",
    "Account",
    "ActionKindRule",
    "Address",
    "ChamberKind",
    "ChamberProposalKind",
    "Contribution",
    "EpochPool",
    "Holder",
    "InitArgs",
    "Listing",
    "ListingInfo",
    "ListingKind",
    "ListingParams",
    "Member",
    "MemberStatus",
    "Module",
    "Plan",
    "PriceTier",
    "ProposalKind",
    "ProposalState",
    "RFMParams",
    "RFMRecord",
    "RFMStatus",
    "Request",
    "RequestStatus",
    "RevenueDefaults",
    "RevenueShares",
    "RevocationReason",
    "Round",
    "RoundBounty",
    "RoundParams",
    "RoundStatus",
    "Selector",
    "Struct",
    "SubDAOState",
    "Suite",
    "Tag",
    "VoteType",
    "decode_tag",
    "encode_tag",
]

Address = NewType("Address", str)
"""An ``address``: ``0x`` and 40 hex digits."""
Tag = NewType("Tag", str)
"""A ``bytes32`` short string: UTF-8, right-padded with zero bytes, at most 32 bytes."""
Selector = NewType("Selector", str)
"""A ``bytes4`` function selector: ``0x`` and 8 hex digits."""


def encode_tag(text: str) -> bytes:
    """``text`` as a right-padded ``bytes32`` (how the contracts store short tags).

    Raises
    ------
    ConfigError
        The UTF-8 encoding is longer than 32 bytes.
    """
    raw = text.encode()
    if len(raw) > 32:
        raise ConfigError(f"tag {text!r} is longer than 32 bytes", field="tag")
    return raw.ljust(32, b"\0")


def decode_tag(value: bytes | str) -> str:
    """The text of a ``bytes32`` tag (bytes, or the ``0x`` hex string brownie returns)."""
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    return raw.rstrip(b"\0").decode()


# --------------------------------------------------------------------------- enums


# Each mirror lists the Solidity members in declaration order (value = ordinal).

#: ``ProposalKind`` (``ISuperDAOGovernor.sol``), strictest first.
ProposalKind = enum.IntEnum("ProposalKind", "PLATFORM_UPDATE RFM_APPROVAL OPERATIONAL", start=0)
#: ``RFMStatus`` (``IRFMRegistry.sol``).
RFMStatus = enum.IntEnum("RFMStatus", "NONE PENDING APPROVED REJECTED EXPIRED", start=0)
#: ``ISubDAO.State``: the SubDAO lifecycle.
SubDAOState = enum.IntEnum(
    "SubDAOState", "CROWDFUNDING ONBOARDING TRAINING DEPLOYED RETIRED FAILED", start=0
)
#: ``ISubDAO.Module``: the hub's module slots.
Module = enum.IntEnum(
    "Module",
    "SBGT SDT TECHNICAL_CHAMBER FINANCIAL_CHAMBER TRAINING_ROUNDS REVENUE_SPLITTER MARKETPLACE",
    start=0,
)
#: ``ITrainingRounds.MemberStatus`` of a contributor or validator.
MemberStatus = enum.IntEnum("MemberStatus", "NONE APPLIED WHITELISTED REVOKED", start=0)
#: ``ITrainingRounds.RevocationReason`` (001 §2.3).
RevocationReason = enum.IntEnum("RevocationReason", "INACTIVITY EXIT MALICE", start=0)
#: ``ITrainingRounds.RoundStatus``.
RoundStatus = enum.IntEnum("RoundStatus", "NONE OPEN FINALIZED ACCEPTED REJECTED", start=0)
#: ``IMarketplace.ListingKind``.
ListingKind = enum.IntEnum("ListingKind", "INFERENCE ANALYTICS", start=0)
#: ``IMarketplace.RequestStatus``.
RequestStatus = enum.IntEnum("RequestStatus", "NONE PENDING FULFILLED REFUNDED", start=0)
#: ``IMarketplace.Tier``: the pricing tier of a paid request (000 §6.5.1).
PriceTier = enum.IntEnum("PriceTier", "EXTERNAL REQUESTER MEMBER SUBSCRIBER", start=0)
#: ``ISubDAOChamber.ChamberKind``.
ChamberKind = enum.IntEnum("ChamberKind", "TECHNICAL FINANCIAL", start=0)
#: ``ISubDAOChamber.ProposalKind``.
ChamberProposalKind = enum.IntEnum("ChamberProposalKind", "OPERATIONAL SIGNIFICANT", start=0)
#: OpenZeppelin ``GovernorCountingSimple.VoteType``: ``castVote``'s ``support`` (the
#: governor and the chambers count alike).
VoteType = enum.IntEnum("VoteType", "AGAINST FOR ABSTAIN", start=0)
#: OpenZeppelin ``IGovernor.ProposalState`` (the governor's and the chambers').
ProposalState = enum.IntEnum(
    "ProposalState",
    "PENDING ACTIVE CANCELED DEFEATED SUCCEEDED QUEUED EXPIRED EXECUTED",
    start=0,
)

ENUMS: dict[str, type[enum.IntEnum]] = {
    "ProposalKind": ProposalKind,
    "RFMStatus": RFMStatus,
    "ISubDAO.State": SubDAOState,
    "ISubDAO.Module": Module,
    "ITrainingRounds.MemberStatus": MemberStatus,
    "ITrainingRounds.RevocationReason": RevocationReason,
    "ITrainingRounds.RoundStatus": RoundStatus,
    "IMarketplace.ListingKind": ListingKind,
    "IMarketplace.RequestStatus": RequestStatus,
    "IMarketplace.Tier": PriceTier,
    "ISubDAOChamber.ChamberKind": ChamberKind,
    "ISubDAOChamber.ProposalKind": ChamberProposalKind,
    "GovernorCountingSimple.VoteType": VoteType,
    "IGovernor.ProposalState": ProposalState,
}
"""Solidity canonical name → mirror."""


# --------------------------------------------------------------------------- structs


def _encode(kind: Any, value: Any) -> Any:
    if kind is Tag:
        return encode_tag(value)
    if isinstance(kind, type) and issubclass(kind, enum.IntEnum):
        return int(kind(value))
    if hasattr(kind, "from_tuple"):  # a struct mirror
        return value.as_tuple()
    if kind is Address or kind is Selector or kind is str:
        return str(value)
    return kind(value)


def _decode(kind: Any, value: Any) -> Any:
    if kind is Tag:
        return Tag(decode_tag(value))
    if isinstance(kind, type) and issubclass(kind, enum.IntEnum):
        return kind(int(value))
    if hasattr(kind, "from_tuple"):  # a struct mirror
        return kind.from_tuple(value)
    if kind is Selector:
        return Selector(value if isinstance(value, str) else "0x" + bytes(value).hex())
    if kind is Address or kind is str:
        return str(value)
    return kind(value)


class Struct:
    """Base of the struct mirrors: tuple encoding in field order, driven by the annotations."""

    SOLIDITY: ClassVar[str]
    """The struct's Solidity canonical name (``IMarketplace.ListingParams``)."""

    @classmethod
    def _kinds(cls) -> list[tuple[str, Any]]:
        hints = get_type_hints(cls)
        return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple of this struct, members in Solidity order."""
        return tuple(_encode(kind, getattr(self, name)) for name, kind in self._kinds())

    @classmethod
    def from_tuple(cls, values: Sequence[Any]) -> Self:
        """The mirror of a struct value returned by the chain (tuple or ``ReturnValue``)."""
        kinds = cls._kinds()
        items = list(values)
        if len(items) != len(kinds):
            raise ValueError(f"{cls.SOLIDITY} has {len(kinds)} members, got {len(items)} values")
        return cls(**{name: _decode(kind, v) for (name, kind), v in zip(kinds, items, strict=True)})


@dataclass(frozen=True, kw_only=True)
class RFMParams(Struct):
    """``RFMParams`` (``ISubDAOFactory.sol``): the structured part of a Request-for-Model.

    ``metric_threshold`` is 1e6 fixed point (AUC ≥ 0.85 → 850 000); amounts are in
    payment-token units; ``sdt_per_payment_unit`` is 1e18 fixed point.
    """

    SOLIDITY: ClassVar[str] = "RFMParams"
    spec_cid: str
    domain: Tag
    model_class: Tag
    data_schema: Tag
    metric_id: Tag
    metric_threshold: int
    min_validators: int
    quorum_bps: int
    epoch_length: int
    crowdfund_deadline: int
    payment_token: Address
    price_per_inference: int
    crowdfund_goal: int
    sdt_per_payment_unit: int
    sdt_cap: int

    @classmethod
    def from_spec(
        cls,
        spec: RFMSpec,
        *,
        spec_cid: str,
        payment_token: str,
        deadline: int,
        domain: str | None = None,
    ) -> RFMParams:
        """``spec`` stored at ``spec_cid``, paid in ``payment_token``, funded until
        ``deadline``; ``domain`` overrides the plan's (a fork's subtype)."""
        plan = spec.plan
        return cls(
            spec_cid=spec_cid,
            domain=Tag(domain or plan.domain),
            model_class=Tag(plan.model_class),
            data_schema=Tag(plan.data_schema),
            metric_id=Tag(plan.metric_id),
            metric_threshold=plan.metric_fixed,
            min_validators=spec.min_validators,
            quorum_bps=plan.quorum_bps,
            epoch_length=plan.epoch_length,
            crowdfund_deadline=deadline,
            payment_token=Address(payment_token),
            price_per_inference=spec.price_per_inference,
            crowdfund_goal=spec.crowdfund_goal,
            sdt_per_payment_unit=plan.sdt_per_payment_unit,
            sdt_cap=plan.sdt_cap,
        )


@dataclass(frozen=True, kw_only=True)
class RFMRecord(Struct):
    """``RFMRecord`` (``IRFMRegistry.sol``): the registry's book of one RFM."""

    SOLIDITY: ClassVar[str] = "RFMRecord"
    requester: Address
    status: RFMStatus
    expires_at: int
    endorsement_snapshot: int
    sub_dao: Address
    escrow: int
    endorsement_weight: int


@dataclass(frozen=True, kw_only=True)
class ActionKindRule(Struct):
    """``ActionKindRule`` (``ISuperDAOGovernor.sol``): the proposal kind of one call."""

    SOLIDITY: ClassVar[str] = "ActionKindRule"
    target: Address
    selector: Selector
    kind: ProposalKind


@dataclass(frozen=True, kw_only=True)
class InitArgs(Struct):
    """``ISubDAO.InitArgs``: what the factory initializes a SubDAO hub with."""

    SOLIDITY: ClassVar[str] = "ISubDAO.InitArgs"
    rfm_id: int
    requester: Address
    payment_token: Address
    crowdfund_deadline: int
    min_validators: int
    crowdfund_goal: int
    sdt_per_payment_unit: int
    sbgt: Address
    sdt: Address
    technical_chamber: Address
    financial_chamber: Address
    training_rounds: Address
    revenue_splitter: Address
    parent: Address
    parent_model_version: int


@dataclass(frozen=True, kw_only=True)
class Contribution(Struct):
    """``SubDAO.Contribution``: one backer's crowdfund payment and SDT."""

    SOLIDITY: ClassVar[str] = "SubDAO.Contribution"
    paid: int
    sdt: int


@dataclass(frozen=True, kw_only=True)
class Suite(Struct):
    """``ISubDAOSuiteFactory.Suite``: the addresses of one SubDAO suite."""

    SOLIDITY: ClassVar[str] = "ISubDAOSuiteFactory.Suite"
    sub_dao: Address
    sbgt: Address
    sdt: Address
    technical_chamber: Address
    financial_chamber: Address
    training_rounds: Address
    revenue_splitter: Address


@dataclass(frozen=True, kw_only=True)
class RevenueDefaults(Struct):
    """``ISubDAOSuiteFactory.RevenueDefaults``: what every splitter a factory makes starts with."""

    SOLIDITY: ClassVar[str] = "ISubDAOSuiteFactory.RevenueDefaults"
    platform_treasury: Address
    platform_admin: Address
    shares: RevenueShares


@dataclass(frozen=True, kw_only=True)
class RoundParams(Struct):
    """``ITrainingRounds.Params``: tolerance (1e18 = 1.0), slash share, FLock vote window (s),
    auto-accept, M = SBGT points for φ = 1 (1e18 fixed point)."""

    SOLIDITY: ClassVar[str] = "ITrainingRounds.Params"
    tolerance: int
    slash_bps: int
    vote_window: int
    auto_accept: bool
    points_per_round: int


@dataclass(frozen=True, kw_only=True)
class Round(Struct):
    """``ITrainingRounds.Round``: deadline, status, counts, tally, version and Σφ of a round,
    and whether the FLock vote decides it (fixed at finalization)."""

    SOLIDITY: ClassVar[str] = "ITrainingRounds.Round"
    deadline: int
    status: RoundStatus
    score_count: int
    vote_count: int
    agg_vote: int
    version: int
    phi_sum: int
    auto_accept: bool


@dataclass(frozen=True, kw_only=True)
class Member(Struct):
    """``TrainingOnboarding.Member``: a contributor's or validator's status, index and FLAI."""

    SOLIDITY: ClassVar[str] = "TrainingOnboarding.Member"
    status: MemberStatus
    index: int
    amount: int


@dataclass(frozen=True, kw_only=True)
class ListingParams(Struct):
    """``IMarketplace.ListingParams``: what a SubDAO lists (``metric_value`` 1e6 fixed point,
    ``base_price`` x in the payment token, ``timeout`` seconds to fulfil)."""

    SOLIDITY: ClassVar[str] = "IMarketplace.ListingParams"
    kind: ListingKind
    domain: Tag
    model_class: Tag
    metric_id: Tag
    metric_value: int
    base_price: int
    timeout: int
    operator: Address
    licence_cid: str
    model_card_cid: str


@dataclass(frozen=True, kw_only=True)
class Listing(Struct):
    """``IMarketplace.Listing``: the marketplace's book of one listing."""

    SOLIDITY: ClassVar[str] = "IMarketplace.Listing"
    sub_dao: Address
    nonce: int
    timeout: int
    kind: ListingKind
    delisted: bool
    token: Address
    base_price: int
    requester: Address
    rank_generation: int
    rank_count: int
    operator: Address
    splitter: Address


@dataclass(frozen=True, kw_only=True)
class ListingInfo(Struct):
    """``IMarketplace.ListingInfo``: the descriptive part of a listing."""

    SOLIDITY: ClassVar[str] = "IMarketplace.ListingInfo"
    domain: Tag
    model_class: Tag
    metric_id: Tag
    metric_value: int
    licence_cid: str
    model_card_cid: str


@dataclass(frozen=True, kw_only=True)
class Account(Struct):
    """``IMarketplace.Account``: a user's credits and rank on one listing."""

    SOLIDITY: ClassVar[str] = "IMarketplace.Account"
    credits: int
    credits_expire_at: int
    rank_generation: int
    rank: int
    requester: bool


@dataclass(frozen=True, kw_only=True)
class Plan(Struct):
    """``IMarketplace.Plan``: a subscription plan."""

    SOLIDITY: ClassVar[str] = "IMarketplace.Plan"
    price: int
    queries: int
    period: int
    active: bool


@dataclass(frozen=True, kw_only=True)
class Request(Struct):
    """``IMarketplace.Request``: what ``fulfil`` and ``refund`` take back (from ``Requested``)."""

    SOLIDITY: ClassVar[str] = "IMarketplace.Request"
    payer: Address
    deadline: int
    paid: int
    credit: bool

    @classmethod
    def from_event(cls, fields: Mapping[str, Any]) -> Request:
        """The record a ``Requested`` event carries (brownie event or web3 log arguments)."""
        return cls(
            payer=Address(str(fields["payer"])),
            deadline=int(fields["deadline"]),
            paid=int(fields["paid"]),
            credit=bool(fields["credit"]),
        )


@dataclass(frozen=True, kw_only=True)
class Holder(Struct):
    """``IRevenueSplitter.Holder``: an SDT holder's settled credit and accumulator mark."""

    SOLIDITY: ClassVar[str] = "IRevenueSplitter.Holder"
    credit: int
    paid_per_token: int


@dataclass(frozen=True, kw_only=True)
class EpochPool(Struct):
    """``IRevenueSplitter.EpochPool``: one SBGT pool (one version, ≤ ``epochLength`` s)."""

    SOLIDITY: ClassVar[str] = "IRevenueSplitter.EpochPool"
    amount: int
    version: int
    phi_sum: int
    ends_at: int
    dust_swept: bool


@dataclass(frozen=True, kw_only=True)
class RoundBounty(Struct):
    """``IBountyPool.RoundBounty``: a round's FLAI bounty and what was claimed of it."""

    SOLIDITY: ClassVar[str] = "IBountyPool.RoundBounty"
    amount: int
    claimed: int
    version: int
    phi_sum: int
    dust: int
    dust_swept: bool


STRUCTS: dict[str, type[Any]] = {
    cls.SOLIDITY: cls
    for cls in (
        RFMParams,
        RFMRecord,
        ActionKindRule,
        InitArgs,
        Contribution,
        Suite,
        RevenueDefaults,
        RoundParams,
        Round,
        Member,
        ListingParams,
        Listing,
        ListingInfo,
        Account,
        Plan,
        Request,
        Holder,
        EpochPool,
        RoundBounty,
    )
} | {"IRevenueSplitter.Shares": RevenueShares}
"""Solidity canonical name → mirror (:class:`RevenueShares` lives with the revenue rule)."""
