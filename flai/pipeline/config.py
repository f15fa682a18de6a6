"""The scenario configuration: a frozen dataclass tree loaded from YAML or JSON.

Everything is validated when the file is loaded, before any party trains or any ledger
write is attempted; every problem is a :class:`flai.errors.ConfigError` naming the field by
its dotted path (``hospitals[2].behaviour``), so a script can say exactly what to fix. The
shipped example is ``configs/scenario.yaml`` (the pharma/hospitals scenario of 001 §9).

The config is the one source of the scenario's constants: the RFM the requester submits
(:class:`RFMPlan`), the governance and onboarding amounts (:class:`GovernancePlan`,
:class:`OnboardingPlan`), prices and timeouts. The chain adapter, the test ledgers, the
test fixtures and the benches read them from here. Amounts of FLAI and SDT are in whole
tokens (10¹⁸ wei); prices are in payment-token wei.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flai.fl import (
    DATASET_NAMES,
    VALIDATOR_BEHAVIOURS,
    FreeRider,
    Honest,
    LabelFlipper,
    ScaledUpdate,
    dataset_info,
)
from flai.fl.behaviours import Behaviour
from flai.pipeline.fields import at, bad, check_keys, get, mapping, positive, read, scalars
from flai.pipeline.revenue import RevenueShares

__all__ = [
    "KNOWN_NETWORKS",
    "PARTITIONS",
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
    "load_config",
    "load_rfm_spec",
    "parse_config",
    "parse_rfm_spec",
]

KNOWN_NETWORKS = ("offline", "development", "anvil", "sepolia", "holesky", "mainnet")
"""Network names a scenario may name; ``offline`` runs against a file ledger (no chain)."""

BEHAVIOURS = ("honest", "free_rider", "free_rider_noise", "label_flipper", "scaled")
"""Custodian behaviours (:mod:`flai.fl.behaviours`) a scenario may assign."""


WAD = 10**18
"""One whole FLAI / SDT / SBGT point in wei."""

PARTITIONS = ("iid", "dirichlet")
"""How the hospitals' rows are drawn (:class:`flai.fl.SplitConfig`'s ``partition``)."""


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


# --------------------------------------------------------------------------- parsing


def _name(raw: Mapping[str, Any], path: str) -> str:
    name = get(raw, "name", str, path)
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise bad(f"{path}.name", f"must be a non-empty [A-Za-z0-9_-] name, got {name!r}")
    return name


def _hospitals(raw: Any) -> tuple[HospitalConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise bad("hospitals", "expected a non-empty list")
    out = []
    for i, item in enumerate(raw):
        path = f"hospitals[{i}]"
        values = scalars(mapping(item, path), HospitalConfig, path)
        if values["behaviour"] not in BEHAVIOURS:
            raise bad(f"{path}.behaviour", f"unknown {values['behaviour']!r} (one of {BEHAVIOURS})")
        positive(values["size"], f"{path}.size")
        out.append(HospitalConfig(**(values | {"name": _name(item, path)})))
    return tuple(out)


def _validators(raw: Any) -> tuple[ValidatorConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise bad("validators", "expected a non-empty list")
    out = []
    for i, item in enumerate(raw):
        path = f"validators[{i}]"
        values = scalars(mapping(item, path), ValidatorConfig, path)
        positive(values["stake"], f"{path}.stake")
        if values["behaviour"] not in VALIDATOR_BEHAVIOURS:
            raise bad(
                f"{path}.behaviour",
                f"unknown {values['behaviour']!r} (one of {VALIDATOR_BEHAVIOURS})",
            )
        out.append(ValidatorConfig(**(values | {"name": _name(item, path)})))
    return tuple(out)


def _compute(raw: Any) -> ComputePlan:
    entry = mapping(raw, "compute")
    values = scalars(entry, ComputePlan, "compute", extra=("offline",))
    nodes, threshold = values["nodes"], values["threshold"]
    if not 1 <= threshold or 2 * threshold >= nodes:
        raise bad("compute.threshold", f"need 1 <= t < nodes/2 (001 §5.5), got {threshold}")
    offline_raw = mapping(get(entry, "offline", dict, "compute", {}), "compute.offline")
    offline: dict[int, tuple[int, ...]] = {}
    for key, value in offline_raw.items():
        where = f"compute.offline.{key}"
        try:
            round_index = int(key)
        except (TypeError, ValueError):
            raise bad(where, "round index must be an integer") from None
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < nodes for v in value
        ):
            raise bad(where, f"expected a list of node indices in [0, {nodes})")
        if nodes - len(set(value)) < threshold + 1:
            raise bad(where, f"leaves fewer than t + 1 = {threshold + 1} nodes")
        offline[round_index] = tuple(sorted(set(value)))
    return ComputePlan(nodes=nodes, threshold=threshold, offline=offline)


def _training(raw: Any) -> TrainingPlan:
    plan = TrainingPlan(**scalars(mapping(raw, "training"), TrainingPlan, "training"))
    for name in ("epochs", "learning_rate", "batch_size", "max_update_norm"):
        positive(getattr(plan, name), f"training.{name}")
    for name in ("test_fraction", "validation_fraction"):
        if not 0.0 < getattr(plan, name) < 0.5:
            raise bad(f"training.{name}", "must lie in (0, 0.5)")
    positive(plan.vote_tolerance, "training.vote_tolerance", allow_zero=True)
    return plan


def _inference(raw: Any) -> InferencePlan:
    entry = mapping(raw, "inference")
    tiers = ("external", "requester", "member")
    values = scalars(entry, InferencePlan, "inference", extra=("requests",), skip=tiers)
    positive(values["base_price"], "inference.base_price")
    positive(values["timeout"], "inference.timeout")
    positive(values["externals"], "inference.externals")
    requests = mapping(get(entry, "requests", dict, "inference"), "inference.requests")
    check_keys(requests, tiers, "inference.requests")
    for tier in tiers:
        values[tier] = get(requests, tier, int, "inference.requests", 0)
        positive(values[tier], f"inference.requests.{tier}", allow_zero=True)
    return InferencePlan(**values)


def _data(raw: Any) -> DataPlan:
    plan = DataPlan(**scalars(mapping(raw, "data"), DataPlan, "data"))
    if plan.dataset not in DATASET_NAMES:
        raise bad("data.dataset", f"unknown {plan.dataset!r} (one of {DATASET_NAMES})")
    if plan.partition not in PARTITIONS:
        raise bad("data.partition", f"unknown {plan.partition!r} (one of {PARTITIONS})")
    positive(plan.alpha, "data.alpha")
    return plan


def _analytics(raw: Any, *, num_features: int) -> AnalyticsPlan:
    entry = mapping(raw, "analytics")
    values = scalars(entry, AnalyticsPlan, "analytics", extra=("features",))
    features = get(entry, "features", list, "analytics")
    if not features or not all(isinstance(f, int) and not isinstance(f, bool) for f in features):
        raise bad("analytics.features", "expected a non-empty list of column indices")
    if any(f < 0 or f >= num_features for f in features) or len(set(features)) != len(features):
        raise bad(
            "analytics.features",
            f"column indices must be distinct, in [0, {num_features}) (the data set's columns)",
        )
    positive(values["price"], "analytics.price")
    positive(values["goal"], "analytics.goal")
    return AnalyticsPlan(features=tuple(features), **values)


def _revenue(raw: Any) -> RevenueShares:
    entry = mapping(raw, "revenue")
    values = scalars(entry, RevenueShares, "revenue")
    for name in ("platform_bps", "treasury_bps", "sbgt_bps"):
        if name not in entry:
            raise bad(f"revenue.{name}", "missing")
    for name, value in values.items():
        if not 0 <= value <= 10_000:
            raise bad(f"revenue.{name}", f"must lie in [0, 10000], got {value}")
    shares = RevenueShares(**values)
    if not shares.min_treasury_bps <= shares.treasury_bps <= shares.max_treasury_bps:
        raise bad(
            "revenue.treasury_bps",
            f"must lie in [min_treasury_bps, max_treasury_bps] = "
            f"[{shares.min_treasury_bps}, {shares.max_treasury_bps}]",
        )
    if shares.platform_bps + shares.treasury_bps + shares.sbgt_bps > 10_000:
        raise bad("revenue", "platform_bps + treasury_bps + sbgt_bps exceeds 10000")
    return shares


def _check_tag(value: str, where: str) -> None:
    if not value or len(value.encode()) > 32:
        raise bad(where, "must be 1..32 bytes (a bytes32 tag)")


def _rfm_plan(raw: Mapping[str, Any], path: str, *, extra: Sequence[str] = ()) -> RFMPlan:
    plan = RFMPlan(**scalars(raw, RFMPlan, path, extra=extra))
    for tag in ("domain", "model_class", "data_schema", "metric_id", "fork_domain"):
        _check_tag(getattr(plan, tag), at(path, tag))
    if not 0 < plan.metric_threshold <= 1:
        raise bad(at(path, "metric_threshold"), "must be in (0, 1]")
    if not 0 < plan.quorum_bps <= 10_000:
        raise bad(at(path, "quorum_bps"), "must be in (0, 10000]")
    for name in ("epoch_length", "crowdfund_days", "sdt_per_payment_unit", "sdt_cap"):
        positive(getattr(plan, name), at(path, name))
    positive(plan.fork_goal, at(path, "fork_goal"))
    return plan


def _governance(raw: Any) -> GovernancePlan:
    plan = GovernancePlan(**scalars(mapping(raw, "governance"), GovernancePlan, "governance"))
    for name in ("members", "member_stake", "chamber_voting_period"):
        positive(getattr(plan, name), f"governance.{name}")
    for name in ("commit_window", "vote_window"):
        positive(getattr(plan, name), f"governance.{name}")
    if not 0 < plan.tolerance <= 1:
        raise bad("governance.tolerance", "must be in (0, 1]")
    if not 0 <= plan.slash_bps <= 10_000:
        raise bad("governance.slash_bps", "must be in [0, 10000]")
    return plan


def _onboarding(raw: Any) -> OnboardingPlan:
    plan = OnboardingPlan(**scalars(mapping(raw, "onboarding"), OnboardingPlan, "onboarding"))
    for name in ("collateral", "founding_points", "funds"):
        positive(getattr(plan, name), f"onboarding.{name}", allow_zero=name != "funds")
    return plan


_SECTIONS = ("compute", "training", "inference", "analytics", "revenue")
_OPTIONAL = ("data", "rfm", "governance", "onboarding")
_TOP = (
    "name",
    "network",
    "seed",
    "rounds",
    "requester",
    "hospitals",
    "validators",
    "backers",
    "points_per_round",
    "points_decay",
    *_SECTIONS,
    *_OPTIONAL,
)


def parse_config(raw: Any) -> ScenarioConfig:
    """Validate a decoded YAML/JSON document and build the :class:`ScenarioConfig`.

    Raises
    ------
    ConfigError
        Naming the first bad field: missing, wrong type, out of range, unknown network,
        unknown behaviour, duplicate party name, unknown field.
    """
    top = mapping(raw, "")
    check_keys(top, _TOP, "")
    network = get(top, "network", str, "")
    if network not in KNOWN_NETWORKS:
        raise bad("network", f"unknown network {network!r} (one of {KNOWN_NETWORKS})")
    rounds = get(top, "rounds", int, "")
    positive(rounds, "rounds")
    hospitals = _hospitals(top.get("hospitals"))
    validators = _validators(top.get("validators"))
    requester = get(top, "requester", str, "")
    for section in _SECTIONS:
        if section not in top:
            raise bad(section, "missing")
    inference = _inference(top["inference"])
    names = [h.name for h in hospitals] + [v.name for v in validators] + [requester]
    names += list(inference.external_users)
    for name in names:
        if names.count(name) > 1:
            raise bad("hospitals", f"party name {name!r} is used twice")
    backers_raw = mapping(get(top, "backers", dict, "", {}), "backers")
    backers: dict[str, int] = {}
    for key, amount in backers_raw.items():
        where = f"backers.{key}"
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise bad(where, "expected a positive integer SDT amount")
        if key not in names:
            raise bad(where, "not a party of the scenario")
        backers[str(key)] = amount
    decay = get(top, "points_decay", float, "", 0.9)
    if not 0.0 < decay <= 1.0:
        raise bad("points_decay", f"must lie in (0, 1], got {decay}")
    points = get(top, "points_per_round", int, "", 100)
    positive(points, "points_per_round")
    data = _data(top.get("data", {}))
    return ScenarioConfig(
        name=_name(top, ""),
        network=network,
        seed=get(top, "seed", int, ""),
        rounds=rounds,
        requester=requester,
        hospitals=hospitals,
        validators=validators,
        compute=_compute(top["compute"]),
        training=_training(top["training"]),
        inference=inference,
        analytics=_analytics(top["analytics"], num_features=data.num_features),
        revenue=_revenue(top["revenue"]),
        backers=backers,
        data=data,
        points_per_round=points,
        points_decay=decay,
        rfm=_rfm_plan(mapping(top.get("rfm", {}), "rfm"), "rfm"),
        governance=_governance(top.get("governance", {})),
        onboarding=_onboarding(top.get("onboarding", {})),
    )


_SPEC_NUMBERS = ("min_validators", "price_per_inference", "crowdfund_goal")


def parse_rfm_spec(document: Any) -> RFMSpec:
    """Validate a decoded RFM spec document (the fields of :class:`RFMPlan` without the fork,
    plus ``min_validators``, ``price_per_inference`` and ``crowdfund_goal``).

    Raises
    ------
    ConfigError
        Naming the first bad field (missing, wrong type, out of range, longer than a
        bytes32 tag).
    """
    raw = mapping(document, "")
    for name in ("fork_domain", "fork_goal"):
        if name in raw:
            raise bad(name, "not a field of an RFM spec")
    required = ("objective", "domain", "model_class", "data_schema", "metric_id")
    for name in (*required, "metric_threshold", "crowdfund_days"):
        if name not in raw:
            raise bad(name, "missing")
    plan = _rfm_plan(raw, "", extra=_SPEC_NUMBERS)
    numbers = {name: get(raw, name, int, "") for name in _SPEC_NUMBERS}
    for name, value in numbers.items():
        positive(value, name)
    return RFMSpec(plan=plan, **numbers)


def load_config(path: str | Path) -> ScenarioConfig:
    """Load and validate a scenario from a ``.yaml``/``.yml`` or ``.json`` file.

    Raises
    ------
    ConfigError
        The file is unreadable or unparsable (field ``"<file>"``), or a field is invalid.
    """
    return parse_config(read(path))


def load_rfm_spec(path: str | Path) -> RFMSpec:
    """Load and validate an RFM spec file (``.json``, ``.yaml``/``.yml``)."""
    return parse_rfm_spec(read(path))
