"""The scenario configuration's types: a frozen dataclass tree (:class:`ScenarioConfig`).

:mod:`flai.pipeline.config` builds it from YAML or JSON and validates every field; these
types hold the result and derive what several parties need from it (the RFM spec, λ in
the contracts' fixed point).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flai.fl import (
    FreeRider,
    Honest,
    LabelFlipper,
    ScaledUpdate,
    dataset_info,
)
from flai.fl.behaviours import Behaviour
from flai.pipeline.revenue import RevenueShares

__all__ = [
    "WAD",
    "AnalyticsPlan",
    "ComputePlan",
    "DataPlan",
    "GovernancePlan",
    "HospitalConfig",
    "InferencePlan",
    "OnboardingPlan",
    "RFMPlan",
    "RFMSpec",
    "ScenarioConfig",
    "TrainingPlan",
    "ValidatorConfig",
]

WAD = 10**18
"""One whole FLAI / SDT / SBGT point in wei."""


@dataclass(frozen=True)
class HospitalConfig:
    """A data custodian: name, behaviour and relative data size."""

    name: str
    behaviour: str = "honest"
    size: float = 1.0

    def make_behaviour(self) -> Behaviour:
        """The :mod:`flai.fl` behaviour object."""
        if self.behaviour == "free_rider":
            return FreeRider(mode="global")
        if self.behaviour == "free_rider_noise":
            return FreeRider(mode="noise")
        if self.behaviour == "label_flipper":
            return LabelFlipper()
        if self.behaviour == "scaled":
            return ScaledUpdate()
        return Honest()


@dataclass(frozen=True)
class ValidatorConfig:
    """A validator, its slashing deposit (whole FLAI, the consensus weight) and behaviour."""

    name: str
    stake: int
    behaviour: str = "honest"


@dataclass(frozen=True)
class ComputePlan:
    """Compute nodes: ``nodes`` with threshold ``t`` and which are down in which round."""

    nodes: int = 3
    threshold: int = 1
    offline: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    def down_in(self, round_index: int) -> tuple[int, ...]:
        """Nodes unavailable in round ``round_index``."""
        return self.offline.get(round_index, ())


@dataclass(frozen=True)
class DataPlan:
    """The data set the hospitals and validators split (a :data:`flai.fl.DATASET_NAMES`
    name, bundled in an installed package) and how the hospitals' rows are drawn:
    ``iid`` (label-mixed parts of the hospitals' relative sizes) or ``dirichlet``
    (label-skewed parts of those sizes, concentration ``alpha``; smaller is more skewed)."""

    dataset: str = "breast-cancer"
    partition: str = "iid"
    alpha: float = 0.5

    @property
    def num_features(self) -> int:
        """Columns of the data set."""
        return len(dataset_info(self.dataset).feature_names)


@dataclass(frozen=True)
class TrainingPlan:
    """Local training and data-split settings."""

    epochs: int = 2
    learning_rate: float = 0.1
    batch_size: int = 16
    test_fraction: float = 0.2
    validation_fraction: float = 0.25
    vote_tolerance: float = 0.0
    max_update_norm: float = 10.0


@dataclass(frozen=True)
class InferencePlan:
    """Paid secret-shared inference: base price ``x`` (token wei), requests per tier, the
    number of external users, and the seconds the operator has to fulfil a request."""

    base_price: int
    external: int
    requester: int
    member: int
    externals: int = 3
    timeout: int = 24 * 3_600

    @property
    def total(self) -> int:
        """Requests in all tiers."""
        return self.external + self.requester + self.member

    @property
    def external_users(self) -> tuple[str, ...]:
        """The external users' party names."""
        return tuple(f"external-{i}" for i in range(self.externals))


@dataclass(frozen=True)
class AnalyticsPlan:
    """One federated-analytics query over feature columns ``features``, at ``price``, sold
    by an FA SubDAO whose crowdfund goal ``goal`` (whole FLAI) the requester pays."""

    features: tuple[int, ...]
    price: int
    goal: int = 100


@dataclass(frozen=True, kw_only=True)
class RFMPlan:
    """What the requester asks for (001 §8.1): the objective and the ``RFMParams`` tags,
    metric threshold (a float in (0, 1]), chamber quorum, epoch and crowdfund window, SDT
    issuance (1e18 fixed point per payment unit, cap in wei); and the subtype a fork of the
    SubDAO specialises in, with its crowdfund goal (whole payment-token units)."""

    objective: str = (
        "Predict binary response to an immunotherapy drug from EHR data; interpretable."
    )
    domain: str = "healthcare.oncology"
    model_class: str = "binary-classifier"
    data_schema: str = "HL7-FHIR-R4"
    metric_id: str = "AUC"
    metric_threshold: float = 0.85
    quorum_bps: int = 2_000
    epoch_length: int = 7 * 24 * 3_600
    crowdfund_days: int = 60
    sdt_per_payment_unit: int = WAD
    sdt_cap: int = 10**9 * WAD
    fork_domain: str = "healthcare.oncology.nsclc"
    fork_goal: int = 100

    @property
    def metric_fixed(self) -> int:
        """The metric threshold in the contracts' 1e6 fixed point."""
        return round(self.metric_threshold * 1_000_000)


@dataclass(frozen=True, kw_only=True)
class RFMSpec:
    """A Request-for-Model as submitted: the plan plus the validators it needs, the price
    per inference and the crowdfund goal (payment-token wei). Its :meth:`to_json` is the
    spec document stored on IPFS, whose CID goes on chain."""

    plan: RFMPlan
    min_validators: int
    price_per_inference: int
    crowdfund_goal: int

    def to_json(self) -> dict[str, Any]:
        """The spec document (the fields of a spec file)."""
        doc = dataclasses.asdict(self.plan)
        for name in ("fork_domain", "fork_goal"):
            doc.pop(name)
        return doc | {
            "min_validators": self.min_validators,
            "price_per_inference": self.price_per_inference,
            "crowdfund_goal": self.crowdfund_goal,
        }


@dataclass(frozen=True, kw_only=True)
class GovernancePlan:
    """SuperDAO members (how many, whole FLAI each stakes), the SubDAO chambers' voting
    period (blocks), the commit window of a round (seconds) and the round parameters the
    technical chamber sets: consensus tolerance (mean |score − φ|, in φ units), slash share
    and the FLock vote window (seconds)."""

    members: int = 4
    member_stake: int = 5_000
    chamber_voting_period: int = 12
    commit_window: int = 3_600
    tolerance: float = 0.1
    slash_bps: int = 1_000
    vote_window: int = 24 * 3_600

    @property
    def tolerance_wad(self) -> int:
        """The tolerance in the contracts' 1e18 fixed point."""
        return round(self.tolerance * WAD)


@dataclass(frozen=True, kw_only=True)
class OnboardingPlan:
    """Collateral each hospital posts, founding SBGT points per hospital at launch (small,
    so φ·M dominates) and the FLAI each party receives to pay fees (whole units)."""

    collateral: int = 10
    founding_points: int = 1
    funds: int = 1_000


@dataclass(frozen=True)
class ScenarioConfig:
    """A whole lifecycle scenario (see ``configs/scenario.yaml``)."""

    name: str
    network: str
    seed: int
    rounds: int
    requester: str
    hospitals: tuple[HospitalConfig, ...]
    validators: tuple[ValidatorConfig, ...]
    compute: ComputePlan
    training: TrainingPlan
    inference: InferencePlan
    analytics: AnalyticsPlan
    revenue: RevenueShares
    backers: Mapping[str, int]
    data: DataPlan = field(default_factory=DataPlan)
    points_per_round: int = 100
    points_decay: float = 0.9
    rfm: RFMPlan = field(default_factory=RFMPlan)
    governance: GovernancePlan = field(default_factory=GovernancePlan)
    onboarding: OnboardingPlan = field(default_factory=OnboardingPlan)

    @property
    def hospital_names(self) -> tuple[str, ...]:
        """Custodian names, in custodian-index order."""
        return tuple(h.name for h in self.hospitals)

    @property
    def validator_names(self) -> tuple[str, ...]:
        """Validator names, in validator-index order."""
        return tuple(v.name for v in self.validators)

    @property
    def decay_wad(self) -> int:
        """λ in the contracts' 1e18 fixed point."""
        return round(self.points_decay * WAD)

    def rfm_spec(self) -> RFMSpec:
        """The scenario's RFM: every validator needed, the base price, Σ backers as the goal."""
        return RFMSpec(
            plan=self.rfm,
            min_validators=len(self.validators),
            price_per_inference=self.inference.base_price,
            crowdfund_goal=sum(self.backers.values()) * WAD,
        )
