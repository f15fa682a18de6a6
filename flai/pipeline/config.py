"""The scenario configuration: a frozen dataclass tree loaded from YAML or JSON.

Everything is validated when the file is loaded, before any party trains or any ledger
write is attempted; every problem is a :class:`flai.errors.ConfigError` naming the field by
its dotted path (``hospitals[2].behaviour``), so a script can say exactly what to fix. Every
number lies within the bounds below (what the contracts, the FL/sMPC engine and the chain
set-up accept), every float is finite, every party name is a safe identifier (it names a
key file) and the scenario's FLAI adds up, so an accepted scenario fails on the chain for
no range reason; :func:`flai.pipeline.preflight` adds the checks that need the data or the
environment. The shipped example is ``configs/scenario.yaml`` (the pharma/hospitals
scenario of 001 §9).

The config is the one source of the scenario's constants: the RFM the requester submits
(:class:`RFMPlan`), the governance and onboarding amounts (:class:`GovernancePlan`,
:class:`OnboardingPlan`), prices and timeouts. The chain adapter, the test ledgers, the
test fixtures and the benches read them from here. Amounts of FLAI and SDT are in whole
tokens (10¹⁸ wei); prices are in payment-token wei.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flai.fl import (
    DATASET_NAMES,
    VALIDATOR_BEHAVIOURS,
)
from flai.pipeline.fields import (
    UINT32_MAX,
    UINT96_MAX,
    at,
    bad,
    bounded,
    check_keys,
    get,
    identifier,
    mapping,
    positive,
    read,
    scalars,
)
from flai.pipeline.plans import (
    WAD,
    AnalyticsPlan,
    ComputePlan,
    DataPlan,
    GovernancePlan,
    HospitalConfig,
    InferencePlan,
    OnboardingPlan,
    RFMPlan,
    RFMSpec,
    ScenarioConfig,
    TrainingPlan,
    ValidatorConfig,
)
from flai.pipeline.revenue import RevenueShares

__all__ = [
    "COMPUTE_NODES",
    "CREATION_FEE",
    "DEPLOYER_FLAI",
    "EXTERNAL_MULTIPLIER",
    "KNOWN_NETWORKS",
    "MAX_CROWDFUND_DAYS",
    "MAX_DECAY",
    "MAX_EXTERNALS",
    "MAX_HOSPITALS",
    "MAX_MEMBERS",
    "MAX_POINTS",
    "MAX_REQUESTS",
    "MAX_ROUNDS",
    "MAX_SEED",
    "MAX_VALIDATORS",
    "MAX_VOTING_PERIOD",
    "MIN_DECAY",
    "MIN_MEMBER_STAKE",
    "PARTITIONS",
    "REQUESTER_MULTIPLIER",
    "RESERVED_PREFIXES",
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
    "load_config",
    "load_rfm_spec",
    "parse_config",
    "parse_rfm_spec",
]

KNOWN_NETWORKS = ("offline", "development", "anvil", "sepolia", "holesky", "mainnet")
"""Network names a scenario may name; ``offline`` runs against a file ledger (no chain)."""

BEHAVIOURS = ("honest", "free_rider", "free_rider_noise", "label_flipper", "scaled")
"""Custodian behaviours (:mod:`flai.fl.behaviours`) a scenario may assign."""



# ------------------------------------------------------------------ bounds
# Each bound is what the contracts, the engine or the chain set-up accept, so a scenario the
# parser accepts never fails later for a range reason; the tests pin the ones mirrored from
# a contract or from flai.chain's PlatformConfig to their source.

MAX_HOSPITALS = 63
"""Most hospitals: the Shapley game holds at most 63 players (``flai.fl.MAX_PLAYERS``)."""
MAX_VALIDATORS = 256
"""Most validators: ``TrainingOnboarding.MAX_MEMBERS`` (one bit each in a round's bitmap)."""
COMPUTE_NODES = 3
"""Compute nodes of a scenario: secure scoring is a three-party protocol (``flai.mpc.rss3``)."""
MAX_ROUNDS = 256
"""Most training rounds of a scenario; SBGT's index survives ≥ 341 rounds at λ = 0.8."""
MAX_REQUESTS = 10_000
"""Most paid inferences over all tiers."""
MAX_EXTERNALS = 64
"""Most external users."""
MAX_MEMBERS = 64
"""Most SuperDAO members."""
MAX_POINTS = 2**80 // WAD
"""Most whole SBGT points per award: ``TrainingRounds.MAX_POINTS_PER_ROUND`` and
``SBGT.MAX_AWARD`` (2⁸⁰ wei) — the bound of ``points_per_round`` and founding points."""
MIN_DECAY, MAX_DECAY = 0.8, 0.999
"""The SBGT decay λ the token accepts (``SBGT.MIN_LAMBDA``, ``SBGT.MAX_LAMBDA``)."""
MIN_MEMBER_STAKE = 100
"""Least SuperDAO stake (whole FLAI): ``PlatformConfig.minimum_stake``."""
DEPLOYER_FLAI = 900_000_000
"""Whole FLAI the deployer holds to fund a scenario's parties: ``PlatformConfig``'s total
supply less its treasury allocation."""
CREATION_FEE = 1_000
"""Whole FLAI the requester pays per RFM submission: ``PlatformConfig.creation_fee``."""
EXTERNAL_MULTIPLIER, REQUESTER_MULTIPLIER = 10, 3
"""The marketplace's price multipliers of the external and requester tiers (of x)."""
MAX_CROWDFUND_DAYS = 3_650
"""Longest crowdfund window (days)."""
MAX_VOTING_PERIOD = 50_400
"""Longest SubDAO chamber vote (blocks): a week of 12-second blocks, each one mined."""
MAX_SEED = 2**63 - 1
"""Largest seed (seeds are non-negative)."""
RESERVED_PREFIXES = ("node-", "user-")
"""Prefixes of key-store names (compute nodes, model users) no party name may start with,
so no two parties share a private-key file."""

_MAX_EPOCHS = 1_000
_MAX_BATCH_SIZE = 1_000_000
_MAX_LEARNING_RATE = 100.0
PARTITIONS = ("iid", "dirichlet")
"""How the hospitals' rows are drawn (:class:`flai.fl.SplitConfig`'s ``partition``)."""


# --------------------------------------------------------------------------- parsing


def _party(name: object, where: str) -> str:
    """A party name: a safe identifier (a key-store file name) without a reserved prefix."""
    checked = identifier(name, where)
    if checked.startswith(RESERVED_PREFIXES):
        raise bad(where, f"must not start with {' or '.join(RESERVED_PREFIXES)}, got {name!r}")
    return checked


def _listing(raw: Any, where: str, most: int) -> list[Any]:
    if not isinstance(raw, list) or not raw:
        raise bad(where, "expected a non-empty list")
    if len(raw) > most:
        raise bad(where, f"at most {most} entries, got {len(raw)}")
    return raw


def _hospitals(raw: Any) -> tuple[HospitalConfig, ...]:
    out = []
    for i, item in enumerate(_listing(raw, "hospitals", MAX_HOSPITALS)):
        path = f"hospitals[{i}]"
        values = scalars(mapping(item, path), HospitalConfig, path)
        if values["behaviour"] not in BEHAVIOURS:
            raise bad(f"{path}.behaviour", f"unknown {values['behaviour']!r} (one of {BEHAVIOURS})")
        positive(values["size"], f"{path}.size")
        out.append(HospitalConfig(**(values | {"name": _party(item["name"], f"{path}.name")})))
    return tuple(out)


def _validators(raw: Any) -> tuple[ValidatorConfig, ...]:
    out = []
    for i, item in enumerate(_listing(raw, "validators", MAX_VALIDATORS)):
        path = f"validators[{i}]"
        values = scalars(mapping(item, path), ValidatorConfig, path)
        bounded(values["stake"], f"{path}.stake", 1, DEPLOYER_FLAI)
        if values["behaviour"] not in VALIDATOR_BEHAVIOURS:
            raise bad(
                f"{path}.behaviour",
                f"unknown {values['behaviour']!r} (one of {VALIDATOR_BEHAVIOURS})",
            )
        out.append(ValidatorConfig(**(values | {"name": _party(item["name"], f"{path}.name")})))
    return tuple(out)


def _compute(raw: Any, rounds: int) -> ComputePlan:
    entry = mapping(raw, "compute")
    values = scalars(entry, ComputePlan, "compute", extra=("offline",))
    nodes, threshold = values["nodes"], values["threshold"]
    if nodes != COMPUTE_NODES:
        raise bad(
            "compute.nodes",
            f"secure scoring runs on exactly {COMPUTE_NODES} compute nodes, got {nodes}",
        )
    if not 1 <= threshold or 2 * threshold >= nodes:
        raise bad("compute.threshold", f"need 1 <= t < nodes/2 (001 §5.5), got {threshold}")
    offline_raw = mapping(get(entry, "offline", dict, "compute", {}), "compute.offline")
    offline: dict[int, tuple[int, ...]] = {}
    for key, value in offline_raw.items():
        where = f"compute.offline.{key}"
        try:
            round_index = int(key)
        except (TypeError, ValueError, OverflowError):
            raise bad(where, "round index must be an integer") from None
        if isinstance(key, bool | float) or not 0 <= round_index < rounds:
            raise bad(where, f"round index must be an integer in [0, rounds) = [0, {rounds})")
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
    bounded(plan.epochs, "training.epochs", 1, _MAX_EPOCHS)
    bounded(plan.batch_size, "training.batch_size", 1, _MAX_BATCH_SIZE)
    for name in ("learning_rate", "max_update_norm"):
        positive(getattr(plan, name), f"training.{name}")
    bounded(plan.learning_rate, "training.learning_rate", 0.0, _MAX_LEARNING_RATE)
    for name in ("test_fraction", "validation_fraction"):
        if not 0.0 < getattr(plan, name) < 0.5:
            raise bad(f"training.{name}", "must lie in (0, 0.5)")
    bounded(plan.vote_tolerance, "training.vote_tolerance", 0.0, 1.0)
    return plan


def _inference(raw: Any) -> InferencePlan:
    entry = mapping(raw, "inference")
    tiers = ("external", "requester", "member")
    values = scalars(entry, InferencePlan, "inference", extra=("requests",), skip=tiers)
    bounded(values["base_price"], "inference.base_price", 1, UINT96_MAX)
    bounded(values["timeout"], "inference.timeout", 1, UINT32_MAX)
    bounded(values["externals"], "inference.externals", 1, MAX_EXTERNALS)
    requests = mapping(get(entry, "requests", dict, "inference"), "inference.requests")
    check_keys(requests, tiers, "inference.requests")
    for tier in tiers:
        values[tier] = get(requests, tier, int, "inference.requests", 0)
        bounded(values[tier], f"inference.requests.{tier}", 0, MAX_REQUESTS)
    plan = InferencePlan(**values)
    if plan.total > MAX_REQUESTS:
        raise bad("inference.requests", f"{plan.total} requests exceed {MAX_REQUESTS}")
    return plan


def _data(raw: Any) -> DataPlan:
    plan = DataPlan(**scalars(mapping(raw, "data"), DataPlan, "data"))
    if plan.dataset not in DATASET_NAMES:
        raise bad("data.dataset", f"unknown {plan.dataset!r} (one of {DATASET_NAMES})")
    if plan.partition not in PARTITIONS:
        raise bad("data.partition", f"unknown {plan.partition!r} (one of {PARTITIONS})")
    bounded(plan.alpha, "data.alpha", 1e-3, 1e3)  # Dirichlet concentration; NaN refused
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
    bounded(values["price"], "analytics.price", 1, UINT96_MAX)
    bounded(values["goal"], "analytics.goal", 1, DEPLOYER_FLAI)
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
    bounded(plan.epoch_length, at(path, "epoch_length"), 1, UINT32_MAX)
    bounded(plan.crowdfund_days, at(path, "crowdfund_days"), 1, MAX_CROWDFUND_DAYS)
    bounded(plan.sdt_cap, at(path, "sdt_cap"), 1, UINT96_MAX)
    bounded(plan.sdt_per_payment_unit, at(path, "sdt_per_payment_unit"), 1, plan.sdt_cap * WAD)
    bounded(plan.fork_goal, at(path, "fork_goal"), 1, DEPLOYER_FLAI)
    return plan


def _governance(raw: Any) -> GovernancePlan:
    plan = GovernancePlan(**scalars(mapping(raw, "governance"), GovernancePlan, "governance"))
    bounded(plan.members, "governance.members", 1, MAX_MEMBERS)
    bounded(plan.member_stake, "governance.member_stake", MIN_MEMBER_STAKE, DEPLOYER_FLAI)
    bounded(plan.chamber_voting_period, "governance.chamber_voting_period", 1, MAX_VOTING_PERIOD)
    for name in ("commit_window", "vote_window"):
        bounded(getattr(plan, name), f"governance.{name}", 1, UINT32_MAX)
    if not 0 < plan.tolerance <= 1:
        raise bad("governance.tolerance", "must be in (0, 1]")
    if not 0 <= plan.slash_bps <= 10_000:
        raise bad("governance.slash_bps", "must be in [0, 10000]")
    return plan


def _onboarding(raw: Any) -> OnboardingPlan:
    plan = OnboardingPlan(**scalars(mapping(raw, "onboarding"), OnboardingPlan, "onboarding"))
    # TrainingOnboarding.MIN_DEPOSIT is one whole FLAI
    bounded(plan.collateral, "onboarding.collateral", 1, DEPLOYER_FLAI)
    bounded(plan.founding_points, "onboarding.founding_points", 0, MAX_POINTS)
    bounded(plan.funds, "onboarding.funds", 1, DEPLOYER_FLAI)
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


def _funding(config: ScenarioConfig) -> None:
    """Refuse a scenario the chain set-up cannot fund or whose payers cannot pay.

    The deployer funds every party as ``flai.chain.steps.fund_parties`` does (fees,
    collateral, deposits, contributions, member stakes) from :data:`DEPLOYER_FLAI`; each
    model user pays its requests from ``onboarding.funds`` at the marketplace's tier prices
    (external 10·x, requester 3·x, member at most x), the requester also the analytics
    query (counted at 10·its price); SDT minted for the crowdfunds stays within
    ``rfm.sdt_cap``.
    """
    board = config.onboarding
    terms: dict[str, int] = {
        "onboarding.funds": board.funds
        * (1 + len(config.hospitals) + len(config.validators) + config.inference.externals),
        "onboarding.collateral": board.collateral * len(config.hospitals),
        "analytics.goal": config.analytics.goal,
        "governance.member_stake": config.governance.member_stake * config.governance.members,
        "backers": sum(config.backers.values()),
    }
    terms |= {f"validators[{i}].stake": v.stake for i, v in enumerate(config.validators)}
    total = sum(terms.values()) + 2 * CREATION_FEE
    if total > DEPLOYER_FLAI:
        largest = max(terms, key=lambda name: terms[name])
        raise bad(
            largest,
            f"the scenario needs {total} FLAI, more than the {DEPLOYER_FLAI} the deployer holds",
        )
    plan, funds = config.inference, board.funds * WAD
    x = plan.base_price
    payers = {
        "an external user": EXTERNAL_MULTIPLIER * x * -(-plan.external // plan.externals),
        "the requester": REQUESTER_MULTIPLIER * x * plan.requester
        + EXTERNAL_MULTIPLIER * config.analytics.price,
        "a hospital": x * -(-plan.member // len(config.hospitals)),
    }
    for payer, owed in payers.items():
        if owed > funds:
            raise bad(
                "onboarding.funds",
                f"{payer} pays up to {owed} wei for its requests, more than its funds "
                f"({funds} wei): raise onboarding.funds or lower the prices",
            )
    rate, cap = config.rfm.sdt_per_payment_unit, config.rfm.sdt_cap
    for where, backed in (
        ("backers", sum(config.backers.values())),
        ("analytics.goal", config.analytics.goal),
    ):
        if backed * rate > cap:
            raise bad(
                "rfm.sdt_cap",
                f"{where} mint {backed * rate} SDT wei, above the cap {cap}",
            )


def parse_config(raw: Any) -> ScenarioConfig:
    """Validate a decoded YAML/JSON document and build the :class:`ScenarioConfig`.

    Every number is bounded by what the contracts, the engine and the chain set-up accept
    (the module's ``MAX_*``/``MIN_*`` constants), every float is finite, every party name
    is a safe identifier, and the scenario's funding adds up; so a scenario this accepts
    fails on the chain for no range reason.

    Raises
    ------
    ConfigError
        Naming the first bad field: missing, wrong type, out of range, unknown network,
        unknown behaviour, unsafe or duplicate party name, unknown field, more FLAI than
        the deployer holds.
    """
    top = mapping(raw, "")
    check_keys(top, _TOP, "")
    name = identifier(get(top, "name", str, ""), "name")
    network = get(top, "network", str, "")
    if network not in KNOWN_NETWORKS:
        raise bad("network", f"unknown network {network!r} (one of {KNOWN_NETWORKS})")
    seed = get(top, "seed", int, "")
    bounded(seed, "seed", 0, MAX_SEED)
    rounds = get(top, "rounds", int, "")
    bounded(rounds, "rounds", 1, MAX_ROUNDS)
    hospitals = _hospitals(top.get("hospitals"))
    validators = _validators(top.get("validators"))
    requester = _party(get(top, "requester", str, ""), "requester")
    for section in _SECTIONS:
        if section not in top:
            raise bad(section, "missing")
    inference = _inference(top["inference"])
    names = [h.name for h in hospitals] + [v.name for v in validators] + [requester]
    names += list(inference.external_users)
    seen: set[str] = set()
    for party in names:
        if party in seen:
            raise bad("hospitals", f"party name {party!r} is used twice")
        seen.add(party)
    backers_raw = mapping(get(top, "backers", dict, "", {}), "backers")
    if not backers_raw:
        raise bad("backers", "name at least one backer: the crowdfund goal is their sum")
    backers: dict[str, int] = {}
    for key, amount in backers_raw.items():
        where = f"backers.{key}"
        if key not in seen:
            raise bad(where, "not a party of the scenario")
        amount = get(backers_raw, key, int, "backers")
        bounded(amount, where, 1, DEPLOYER_FLAI)
        backers[str(key)] = amount
    decay = get(top, "points_decay", float, "", 0.9)
    bounded(decay, "points_decay", MIN_DECAY, MAX_DECAY)
    points = get(top, "points_per_round", int, "", 100)
    bounded(points, "points_per_round", 1, MAX_POINTS)
    data = _data(top.get("data", {}))
    config = ScenarioConfig(
        name=name,
        network=network,
        seed=seed,
        rounds=rounds,
        requester=requester,
        hospitals=hospitals,
        validators=validators,
        compute=_compute(top["compute"], rounds),
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
    _funding(config)
    return config


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
    bounded(numbers["min_validators"], "min_validators", 1, MAX_VALIDATORS)
    bounded(numbers["price_per_inference"], "price_per_inference", 1, UINT96_MAX)
    positive(numbers["crowdfund_goal"], "crowdfund_goal")
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
