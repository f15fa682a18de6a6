"""The scenario configuration: a frozen dataclass tree loaded from YAML or JSON.

Everything is validated when the file is loaded, before any party trains or any ledger
write is attempted; every problem is a :class:`~flai.pipeline.errors.ConfigError` naming
the field by its dotted path (``hospitals[2].behaviour``), so a script can say exactly
what to fix. The shipped example is ``configs/scenario.yaml`` (the pharma/hospitals
scenario of 001 §9).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from flai.fl import FreeRider, Honest, LabelFlipper, ScaledUpdate
from flai.fl.behaviours import Behaviour
from flai.pipeline.errors import ConfigError

__all__ = [
    "BEHAVIOURS",
    "KNOWN_NETWORKS",
    "VALIDATOR_BEHAVIOURS",
    "AnalyticsPlan",
    "ComputePlan",
    "HospitalConfig",
    "InferencePlan",
    "RevenueShares",
    "ScenarioConfig",
    "TrainingPlan",
    "ValidatorConfig",
    "load_config",
    "parse_config",
]

KNOWN_NETWORKS = ("offline", "development", "anvil", "sepolia", "holesky", "mainnet")
"""Network names a scenario may name; ``offline`` runs against a file ledger (no chain)."""

BEHAVIOURS = ("honest", "free_rider", "free_rider_noise", "label_flipper", "scaled")
"""Custodian behaviours (:mod:`flai.fl.behaviours`) a scenario may assign."""

VALIDATOR_BEHAVIOURS = ("honest", "lazy")
"""Validator behaviours (see :class:`flai.pipeline.roles.Validator`)."""

_T = TypeVar("_T")


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
    """A validator, its slashing deposit (the consensus weight) and behaviour."""

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
    """Paid secret-shared inference: base price (token wei) and requests per tier."""

    base_price: int
    external: int
    requester: int
    member: int

    @property
    def total(self) -> int:
        """Requests in all tiers."""
        return self.external + self.requester + self.member


@dataclass(frozen=True)
class AnalyticsPlan:
    """One federated-analytics query over feature columns ``features``, at ``price``."""

    features: tuple[int, ...]
    price: int


@dataclass(frozen=True)
class RevenueShares:
    """Revenue split in basis points; the SDT side gets the remainder (001 eq. 10/11)."""

    platform_bps: int
    treasury_bps: int
    sbgt_bps: int


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
    points_per_round: int = 100
    points_decay: float = 0.9

    @property
    def hospital_names(self) -> tuple[str, ...]:
        """Custodian names, in custodian-index order."""
        return tuple(h.name for h in self.hospitals)

    @property
    def validator_names(self) -> tuple[str, ...]:
        """Validator names, in validator-index order."""
        return tuple(v.name for v in self.validators)


# --------------------------------------------------------------------------- parsing


def _get(raw: Mapping[str, Any], key: str, kind: type[_T], path: str, default: Any = ...) -> _T:
    where = f"{path}.{key}" if path else key
    if key not in raw:
        if default is ...:
            raise ConfigError(where, "missing")
        return default  # type: ignore[no-any-return]
    value = raw[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(where, f"expected {kind.__name__}, got bool")
    if not isinstance(value, kind):
        raise ConfigError(where, f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _mapping(raw: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(path or "<root>", f"expected a mapping, got {type(raw).__name__}")
    return raw


def _check_keys(raw: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise ConfigError(where, f"unknown field (expected one of {sorted(allowed)})")


def _positive(value: float, where: str, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(where, f"must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def _name(raw: Mapping[str, Any], path: str) -> str:
    name = _get(raw, "name", str, path)
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{path}.name", f"must be a non-empty [A-Za-z0-9_-] name, got {name!r}")
    return name


def _hospitals(raw: Any) -> tuple[HospitalConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("hospitals", "expected a non-empty list")
    out = []
    for i, item in enumerate(raw):
        path = f"hospitals[{i}]"
        entry = _mapping(item, path)
        _check_keys(entry, ("name", "behaviour", "size"), path)
        behaviour = _get(entry, "behaviour", str, path, "honest")
        if behaviour not in BEHAVIOURS:
            raise ConfigError(f"{path}.behaviour", f"unknown {behaviour!r} (one of {BEHAVIOURS})")
        size = _get(entry, "size", float, path, 1.0)
        _positive(size, f"{path}.size")
        out.append(HospitalConfig(name=_name(entry, path), behaviour=behaviour, size=size))
    return tuple(out)


def _validators(raw: Any) -> tuple[ValidatorConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("validators", "expected a non-empty list")
    out = []
    for i, item in enumerate(raw):
        path = f"validators[{i}]"
        entry = _mapping(item, path)
        _check_keys(entry, ("name", "stake", "behaviour"), path)
        stake = _get(entry, "stake", int, path)
        _positive(stake, f"{path}.stake")
        behaviour = _get(entry, "behaviour", str, path, "honest")
        if behaviour not in VALIDATOR_BEHAVIOURS:
            raise ConfigError(
                f"{path}.behaviour", f"unknown {behaviour!r} (one of {VALIDATOR_BEHAVIOURS})"
            )
        out.append(ValidatorConfig(name=_name(entry, path), stake=stake, behaviour=behaviour))
    return tuple(out)


def _compute(raw: Any) -> ComputePlan:
    entry = _mapping(raw, "compute")
    _check_keys(entry, ("nodes", "threshold", "offline"), "compute")
    nodes = _get(entry, "nodes", int, "compute")
    threshold = _get(entry, "threshold", int, "compute", 1)
    if not 1 <= threshold or 2 * threshold >= nodes:
        raise ConfigError("compute.threshold", f"need 1 <= t < nodes/2 (001 §5.5), got {threshold}")
    offline_raw = _mapping(_get(entry, "offline", dict, "compute", {}), "compute.offline")
    offline: dict[int, tuple[int, ...]] = {}
    for key, value in offline_raw.items():
        where = f"compute.offline.{key}"
        try:
            round_index = int(key)
        except (TypeError, ValueError):
            raise ConfigError(where, "round index must be an integer") from None
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < nodes for v in value
        ):
            raise ConfigError(where, f"expected a list of node indices in [0, {nodes})")
        if nodes - len(set(value)) < threshold + 1:
            raise ConfigError(where, f"leaves fewer than t + 1 = {threshold + 1} nodes")
        offline[round_index] = tuple(sorted(set(value)))
    return ComputePlan(nodes=nodes, threshold=threshold, offline=offline)


def _training(raw: Any) -> TrainingPlan:
    entry = _mapping(raw, "training")
    fields = ("epochs", "learning_rate", "batch_size", "test_fraction", "validation_fraction")
    _check_keys(entry, (*fields, "vote_tolerance", "max_update_norm"), "training")
    plan = TrainingPlan(
        epochs=_get(entry, "epochs", int, "training", 2),
        learning_rate=_get(entry, "learning_rate", float, "training", 0.1),
        batch_size=_get(entry, "batch_size", int, "training", 16),
        test_fraction=_get(entry, "test_fraction", float, "training", 0.2),
        validation_fraction=_get(entry, "validation_fraction", float, "training", 0.25),
        vote_tolerance=_get(entry, "vote_tolerance", float, "training", 0.0),
        max_update_norm=_get(entry, "max_update_norm", float, "training", 10.0),
    )
    for name in ("epochs", "learning_rate", "batch_size", "max_update_norm"):
        _positive(getattr(plan, name), f"training.{name}")
    for name in ("test_fraction", "validation_fraction"):
        if not 0.0 < getattr(plan, name) < 0.5:
            raise ConfigError(f"training.{name}", "must lie in (0, 0.5)")
    _positive(plan.vote_tolerance, "training.vote_tolerance", allow_zero=True)
    return plan


def _inference(raw: Any) -> InferencePlan:
    entry = _mapping(raw, "inference")
    _check_keys(entry, ("base_price", "requests"), "inference")
    base = _get(entry, "base_price", int, "inference")
    _positive(base, "inference.base_price")
    requests = _mapping(_get(entry, "requests", dict, "inference"), "inference.requests")
    _check_keys(requests, ("external", "requester", "member"), "inference.requests")
    counts = {}
    for tier in ("external", "requester", "member"):
        counts[tier] = _get(requests, tier, int, "inference.requests", 0)
        _positive(counts[tier], f"inference.requests.{tier}", allow_zero=True)
    return InferencePlan(base_price=base, **counts)


def _analytics(raw: Any) -> AnalyticsPlan:
    entry = _mapping(raw, "analytics")
    _check_keys(entry, ("features", "price"), "analytics")
    features = _get(entry, "features", list, "analytics")
    if not features or not all(isinstance(f, int) and not isinstance(f, bool) for f in features):
        raise ConfigError("analytics.features", "expected a non-empty list of column indices")
    if any(f < 0 or f >= 30 for f in features) or len(set(features)) != len(features):
        raise ConfigError("analytics.features", "column indices must be distinct, in [0, 30)")
    price = _get(entry, "price", int, "analytics")
    _positive(price, "analytics.price")
    return AnalyticsPlan(features=tuple(features), price=price)


def _revenue(raw: Any) -> RevenueShares:
    entry = _mapping(raw, "revenue")
    _check_keys(entry, ("platform_bps", "treasury_bps", "sbgt_bps"), "revenue")
    shares = RevenueShares(
        platform_bps=_get(entry, "platform_bps", int, "revenue"),
        treasury_bps=_get(entry, "treasury_bps", int, "revenue"),
        sbgt_bps=_get(entry, "sbgt_bps", int, "revenue"),
    )
    for name in ("platform_bps", "treasury_bps", "sbgt_bps"):
        _positive(getattr(shares, name), f"revenue.{name}", allow_zero=True)
    if shares.platform_bps + shares.treasury_bps + shares.sbgt_bps > 10_000:
        raise ConfigError("revenue", "platform_bps + treasury_bps + sbgt_bps exceeds 10000")
    return shares


_TOP = (
    "name",
    "network",
    "seed",
    "rounds",
    "requester",
    "hospitals",
    "validators",
    "compute",
    "training",
    "inference",
    "analytics",
    "revenue",
    "backers",
    "points_per_round",
    "points_decay",
)


def parse_config(raw: Any) -> ScenarioConfig:
    """Validate a decoded YAML/JSON document and build the :class:`ScenarioConfig`.

    Raises
    ------
    ConfigError
        Naming the first bad field: missing, wrong type, out of range, unknown network,
        unknown behaviour, duplicate party name, unknown field.
    """
    top = _mapping(raw, "")
    _check_keys(top, _TOP, "")
    network = _get(top, "network", str, "")
    if network not in KNOWN_NETWORKS:
        raise ConfigError("network", f"unknown network {network!r} (one of {KNOWN_NETWORKS})")
    rounds = _get(top, "rounds", int, "")
    _positive(rounds, "rounds")
    hospitals = _hospitals(top.get("hospitals"))
    validators = _validators(top.get("validators"))
    requester = _get(top, "requester", str, "")
    names = [h.name for h in hospitals] + [v.name for v in validators] + [requester]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError("hospitals", f"party name {name!r} is used twice")
    backers_raw = _mapping(_get(top, "backers", dict, "", {}), "backers")
    backers: dict[str, int] = {}
    for key, amount in backers_raw.items():
        where = f"backers.{key}"
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ConfigError(where, "expected a positive integer SDT amount")
        backers[str(key)] = amount
    decay = _get(top, "points_decay", float, "", 0.9)
    if not 0.0 < decay <= 1.0:
        raise ConfigError("points_decay", f"must lie in (0, 1], got {decay}")
    points = _get(top, "points_per_round", int, "", 100)
    _positive(points, "points_per_round")
    for section in ("compute", "training", "inference", "analytics", "revenue"):
        if section not in top:
            raise ConfigError(section, "missing")
    return ScenarioConfig(
        name=_name(top, ""),
        network=network,
        seed=_get(top, "seed", int, ""),
        rounds=rounds,
        requester=requester,
        hospitals=hospitals,
        validators=validators,
        compute=_compute(top["compute"]),
        training=_training(top["training"]),
        inference=_inference(top["inference"]),
        analytics=_analytics(top["analytics"]),
        revenue=_revenue(top["revenue"]),
        backers=backers,
        points_per_round=points,
        points_decay=decay,
    )


def load_config(path: str | Path) -> ScenarioConfig:
    """Load and validate a scenario from a ``.yaml``/``.yml`` or ``.json`` file.

    Raises
    ------
    ConfigError
        The file is unreadable or unparsable (field ``"<file>"``), or a field is invalid.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("<file>", f"cannot read {p}: {exc}") from exc
    try:
        raw = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError("<file>", f"cannot parse {p}: {exc}") from exc
    return parse_config(raw)
