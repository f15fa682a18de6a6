"""Chain adapter: the one module of the ``flai`` package that talks to the chain.

Everything here goes through brownie, which is imported lazily *inside* the functions, so
``import flai.chain`` (and the rest of the library) works without brownie or a node. The
scripts (``scripts/deploy.py``, ``scripts/demo.py``), the benches and the test fixtures all
deploy through these functions, so what is tested is what is deployed.

Sections
--------
- shared types: enums mirroring the Solidity enums, errors
- SuperDAO platform layer: :class:`PlatformConfig`, :func:`deploy_platform`,
  :class:`RFMRequest`, governance helpers (:func:`propose`, :func:`queue_and_execute`)
- SubDAO suite: :func:`deploy_subdao_factory`, :func:`load_subdao_suite`
- whole protocol: :func:`deploy_protocol` (platform + real SubDAO factory)

References
----------
FLAI whitepaper (000) §6.2–6.3, §7.1; FLAI protocol (001) §2.1, §8.1–8.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from flai.errors import FlaiError

__all__ = [
    "DEFAULT_VOTING_DELAY",
    "DEFAULT_VOTING_PERIOD",
    "Action",
    "ChainError",
    "ConfigError",
    "MarketShares",
    "PlatformConfig",
    "PlatformDeployment",
    "ProposalKind",
    "ProtocolDeployment",
    "RFMRequest",
    "RFMStatus",
    "SubDAOFactoryDeployment",
    "SubDAOSuite",
    "action",
    "deploy_bounty_pool",
    "deploy_market_cloner",
    "deploy_marketplace",
    "deploy_platform",
    "deploy_protocol",
    "deploy_revenue_splitter",
    "deploy_subdao_factory",
    "load_subdao_suite",
    "propose",
    "queue_and_execute",
]

WAD = 10**18
BPS = 10_000


# --- shared types ---------------------------------------------------------------------------


class ChainError(FlaiError):
    """A chain interaction did not have the expected outcome."""


class ConfigError(ChainError, ValueError):
    """A deployment configuration value is out of range."""


class ProposalKind(IntEnum):
    """Mirror of ``ProposalKind`` in ``interfaces/ISuperDAOGovernor.sol`` (strictest first)."""

    PLATFORM_UPDATE = 0
    RFM_APPROVAL = 1
    OPERATIONAL = 2


class RFMStatus(IntEnum):
    """Mirror of ``RFMStatus`` in ``interfaces/IRFMRegistry.sol``."""

    NONE = 0
    PENDING = 1
    APPROVED = 2
    REJECTED = 3
    EXPIRED = 4


def _project() -> Any:
    """The loaded brownie project (``brownie run``/``brownie test`` or ``project.load``)."""
    from brownie import project

    loaded = project.get_loaded_projects()
    if not loaded:
        raise ChainError(
            "no brownie project is loaded (use `brownie run`, `brownie test` or project.load)"
        )
    return loaded[0]


def _address(value: Any) -> str:
    return str(value.address if hasattr(value, "address") else value)


# --- SuperDAO platform layer ---------------------------------------------------------------

#: Calls whose proposals need only the operational threshold (>= 51%), as
#: ``(component, function name)``; every other call is a platform update (>= 66%) unless it
#: is in :data:`RFM_DECISION_ACTIONS`. Governance can re-classify later (``setActionKind``).
OPERATIONAL_ACTIONS: tuple[tuple[str, str], ...] = (
    ("staking", "setMinimumStake"),
    ("staking", "setExitFeeBps"),
    ("registry", "setCreationFee"),
    ("registry", "setSubmissionTTL"),
    ("registry", "setEndorsementThresholdBps"),
    ("token", "transfer"),  # a treasury spend in FLAI
)

#: Calls that decide on a Request-for-Model (>= 66%, reported as RFMApproval).
RFM_DECISION_ACTIONS: tuple[tuple[str, str], ...] = (
    ("registry", "approve"),
    ("registry", "reject"),
)


@dataclass(frozen=True, kw_only=True)
class PlatformConfig:
    """Parameters of a SuperDAO platform deployment.

    Amounts are in FLAI wei (18 decimals), fees and thresholds in basis points, block
    counts in blocks, durations in seconds. The defaults suit a local Anvil chain.
    """

    token_name: str = "FLAI"
    token_symbol: str = "FLAI"
    total_supply: int = 1_000_000_000 * WAD
    #: Part of the supply moved from the deployer to the timelock (the platform treasury).
    treasury_allocation: int = 100_000_000 * WAD
    minimum_stake: int = 100 * WAD
    exit_fee_bps: int = 100
    timelock_min_delay: int = 3_600
    voting_delay: int = 1
    voting_period: int = 20
    proposal_threshold: int = 100 * WAD
    quorum_percent: int = 10
    creation_fee: int = 1_000 * WAD
    submission_ttl: int = 30 * 24 * 3_600
    endorsement_threshold_bps: int = 2_000
    rejection_refund_bps: int = 5_000
    success_refund_bps: int = 2_500
    operational_actions: tuple[tuple[str, str], ...] = OPERATIONAL_ACTIONS
    rfm_decision_actions: tuple[tuple[str, str], ...] = RFM_DECISION_ACTIONS

    def __post_init__(self) -> None:
        if self.total_supply <= 0:
            raise ConfigError("total_supply must be positive")
        if not 0 <= self.treasury_allocation <= self.total_supply:
            raise ConfigError("treasury_allocation must lie in [0, total_supply]")
        if not 0 <= self.exit_fee_bps <= 1_000:
            raise ConfigError(
                "exit_fee_bps must lie in [0, 1000] (the contract's MAX_EXIT_FEE_BPS)"
            )
        if self.voting_delay < 1:
            raise ConfigError("voting_delay must be at least one block")
        if self.voting_period < 1:
            raise ConfigError("voting_period must be at least one block")
        if not 0 <= self.quorum_percent <= 100:
            raise ConfigError("quorum_percent must lie in [0, 100]")
        if self.submission_ttl <= 0:
            raise ConfigError("submission_ttl must be positive")
        if not 0 < self.endorsement_threshold_bps <= BPS:
            raise ConfigError("endorsement_threshold_bps must lie in (0, 10000]")
        for name in ("rejection_refund_bps", "success_refund_bps"):
            if not 0 <= getattr(self, name) <= BPS:
                raise ConfigError(f"{name} must lie in [0, 10000]")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> PlatformConfig:
        """Builds a config from a mapping (e.g. a YAML/JSON file); unknown keys are errors."""
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown platform config keys: {sorted(unknown)}")
        fixed: dict[str, Any] = {
            k: tuple(tuple(p) for p in v) if k.endswith("_actions") else v
            for k, v in values.items()
        }
        return cls(**fixed)


@dataclass(frozen=True)
class PlatformDeployment:
    """The deployed platform contracts (brownie contract objects)."""

    token: Any
    staking: Any
    timelock: Any
    governor: Any
    registry: Any

    def addresses(self) -> dict[str, str]:
        """Component name -> address, for ``deployments/<network>.json``."""
        return {
            "FLAIToken": _address(self.token),
            "SuperDAOStaking": _address(self.staking),
            "TimelockController": _address(self.timelock),
            "SuperDAOGovernor": _address(self.governor),
            "RFMRegistry": _address(self.registry),
        }


#: A SubDAO factory given to :func:`deploy_platform`: an address, or a callable that gets
#: the freshly deployed registry and returns the factory's address (for factories that must
#: know their registry at construction).
FactorySource = Any


def deploy_platform(
    *, deployer: Any, config: PlatformConfig | None = None, factory: FactorySource | None = None
) -> PlatformDeployment:
    """Deploys and wires the SuperDAO platform layer, then hands every privilege to governance.

    Order: FLAI token (whole supply to ``deployer``) -> timelock (``deployer`` temporary
    admin) -> staking and RFM registry (``deployer`` temporary owner, treasury = timelock)
    -> governor (action classification from ``config``) -> timelock roles for the governor
    (proposer, canceller, executor) -> optional ``factory`` wiring -> ownership of staking
    and registry to the timelock -> ``deployer`` renounces the timelock admin role ->
    ``config.treasury_allocation`` FLAI moved to the timelock. Afterwards the deployer holds
    FLAI only; every parameter changes through a SuperDAO proposal.

    Parameters
    ----------
    deployer
        Brownie account paying for and temporarily administering the deployment.
    config
        Platform parameters; :class:`PlatformConfig` defaults when omitted.
    factory
        SubDAO factory for RFM approvals (see :data:`FactorySource`); when omitted the
        registry has none and governance must call ``setFactory`` before approving.

    Returns
    -------
    PlatformDeployment
    """
    cfg = config or PlatformConfig()
    p = _project()
    tx = {"from": deployer}

    token = p.FLAIToken.deploy(cfg.token_name, cfg.token_symbol, deployer, cfg.total_supply, tx)
    timelock = p.TimelockController.deploy(cfg.timelock_min_delay, [], [], deployer, tx)
    staking = p.SuperDAOStaking.deploy(
        token, timelock, deployer, cfg.minimum_stake, cfg.exit_fee_bps, tx
    )
    registry = p.RFMRegistry.deploy(
        token,
        staking,
        timelock,
        deployer,
        cfg.creation_fee,
        cfg.submission_ttl,
        cfg.endorsement_threshold_bps,
        cfg.rejection_refund_bps,
        cfg.success_refund_bps,
        tx,
    )
    components = {"token": token, "staking": staking, "registry": registry}
    rules = _action_rules(components, cfg.rfm_decision_actions, ProposalKind.RFM_APPROVAL)
    rules += _action_rules(components, cfg.operational_actions, ProposalKind.OPERATIONAL)
    governor = p.SuperDAOGovernor.deploy(
        staking,
        timelock,
        cfg.voting_delay,
        cfg.voting_period,
        cfg.proposal_threshold,
        cfg.quorum_percent,
        rules,
        tx,
    )

    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        timelock.grantRole(getattr(timelock, role)(), governor, tx)
    if factory is not None:
        registry.setFactory(_address(factory(registry) if callable(factory) else factory), tx)
    staking.transferOwnership(timelock, tx)
    registry.transferOwnership(timelock, tx)
    timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer, tx)
    if cfg.treasury_allocation:
        token.transfer(timelock, cfg.treasury_allocation, tx)
    return PlatformDeployment(
        token=token, staking=staking, timelock=timelock, governor=governor, registry=registry
    )


def _action_rules(
    components: dict[str, Any], entries: Sequence[tuple[str, str]], kind: ProposalKind
) -> list[tuple[str, str, int]]:
    rules = []
    for component, function in entries:
        if component not in components:
            raise ConfigError(f"unknown component {component!r} in action classification")
        contract = components[component]
        if function not in contract.signatures:
            raise ConfigError(f"{component} has no function {function!r}")
        rules.append((contract.address, contract.signatures[function], int(kind)))
    return rules


@dataclass(frozen=True, kw_only=True)
class RFMRequest:
    """The structured part of a Request-for-Model (``RFMParams`` in ``ISubDAOFactory.sol``).

    Tags (``domain``, ``model_class``, ``data_schema``, ``metric_id``) are short strings
    stored as bytes32; ``metric_threshold`` is a float in [0, 1] stored as 1e6 fixed point.
    """

    spec_cid: str
    domain: str
    model_class: str
    data_schema: str
    metric_id: str
    metric_threshold: float
    min_validators: int
    quorum_bps: int
    epoch_length: int
    crowdfund_deadline: int
    payment_token: str
    price_per_inference: int
    crowdfund_goal: int
    sdt_per_payment_unit: int
    sdt_cap: int

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple brownie expects for an ``RFMParams`` argument."""
        return (
            self.spec_cid,
            _bytes32(self.domain),
            _bytes32(self.model_class),
            _bytes32(self.data_schema),
            _bytes32(self.metric_id),
            round(self.metric_threshold * 1_000_000),
            self.min_validators,
            self.quorum_bps,
            self.epoch_length,
            self.crowdfund_deadline,
            _address(self.payment_token),
            self.price_per_inference,
            self.crowdfund_goal,
            self.sdt_per_payment_unit,
            self.sdt_cap,
        )


def _bytes32(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 32:
        raise ConfigError(f"tag {text!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")


@dataclass(frozen=True)
class Action:
    """One call a proposal makes through the timelock."""

    target: str
    calldata: str
    value: int = 0


def action(contract: Any, function: str, *args: Any, value: int = 0) -> Action:
    """The :class:`Action` calling ``contract.function(*args)``."""
    return Action(_address(contract), getattr(contract, function).encode_input(*args), value)


def _columns(actions: Sequence[Action]) -> tuple[list[str], list[int], list[str]]:
    if not actions:
        raise ChainError("a proposal needs at least one action")
    return [a.target for a in actions], [a.value for a in actions], [a.calldata for a in actions]


def propose(
    governor: Any, *, proposer: Any, actions: Sequence[Action], description: str
) -> tuple[int, Any]:
    """Submits a proposal; returns ``(proposal_id, tx)``."""
    targets, values, calldatas = _columns(actions)
    tx = governor.propose(targets, values, calldatas, description, {"from": proposer})
    return int(tx.events["ProposalCreated"]["proposalId"]), tx


def queue_and_execute(
    governor: Any, *, sender: Any, actions: Sequence[Action], description: str
) -> tuple[Any, Any]:
    """Queues a succeeded proposal, waits out the timelock delay (local chains only: it
    advances the chain clock) and executes it; returns ``(queue_tx, execute_tx)``."""
    from brownie import chain
    from web3 import Web3

    targets, values, calldatas = _columns(actions)
    description_hash = Web3.keccak(text=description)
    queue_tx = governor.queue(targets, values, calldatas, description_hash, {"from": sender})
    proposal_id = int(queue_tx.events["ProposalQueued"]["proposalId"])
    eta = int(governor.proposalEta(proposal_id))
    latest: Any = chain[-1]  # type: ignore[index]  # web3's BlockData is a TypedDict; brownie's is attribute access
    wait = eta - int(latest.timestamp)  # the timelock compares block timestamps with the eta
    if wait >= 0:
        chain.sleep(wait + 1)
    execute_tx = governor.execute(targets, values, calldatas, description_hash, {"from": sender})
    return queue_tx, execute_tx


# --- SubDAO suite ---

#: Blocks between a chamber proposal and its snapshot.
DEFAULT_VOTING_DELAY = 1
#: Blocks a chamber vote stays open (about one week of 12 s blocks).
DEFAULT_VOTING_PERIOD = 50_400


@dataclass(frozen=True)
class SubDAOFactoryDeployment:
    """The SubDAO factory and the implementations its clones delegate to.

    Attributes
    ----------
    factory
        The ``SubDAOFactory`` (``createSubDAO`` is restricted to ``registry``).
    subdao_impl, sbgt_impl, sdt_impl, chamber_impl, rounds_impl
        Implementation contracts (initializers disabled).
    registry
        Address allowed to call ``createSubDAO`` (the RFM registry).
    flai_token
        Address of the FLAI token used for validator deposits and contributor collateral.
    """

    factory: Any
    subdao_impl: Any
    sbgt_impl: Any
    sdt_impl: Any
    chamber_impl: Any
    rounds_impl: Any
    registry: str
    flai_token: str


@dataclass(frozen=True)
class SubDAOSuite:
    """Contract objects of one SubDAO suite (001 §8.2)."""

    subdao: Any
    sbgt: Any
    sdt: Any
    technical: Any
    financial: Any
    rounds: Any


def deploy_subdao_factory(
    *,
    deployer: Any,
    registry: Any,
    flai_token: Any,
    voting_delay: int = DEFAULT_VOTING_DELAY,
    voting_period: int = DEFAULT_VOTING_PERIOD,
) -> SubDAOFactoryDeployment:
    """Deploy the five implementations and the SubDAO factory.

    Parameters
    ----------
    deployer
        Account paying for the deployment.
    registry
        The RFM registry address (the only caller of ``createSubDAO``).
    flai_token
        The FLAI token (validator deposits, contributor collateral, slashing).
    voting_delay, voting_period
        Chamber voting delay/period in blocks (immutables of the chamber implementation).
    """
    p = _project()
    tx = {"from": deployer}
    subdao_impl = p.SubDAO.deploy(tx)
    sbgt_impl = p.SBGT.deploy(tx)
    sdt_impl = p.SDT.deploy(tx)
    chamber_impl = p.SubDAOChamber.deploy(voting_delay, voting_period, tx)
    rounds_impl = p.TrainingRounds.deploy(str(flai_token), tx)
    impls = (
        subdao_impl.address,
        sbgt_impl.address,
        sdt_impl.address,
        chamber_impl.address,
        chamber_impl.address,
        rounds_impl.address,
    )
    factory = p.SubDAOFactory.deploy(str(registry), impls, tx)
    return SubDAOFactoryDeployment(
        factory=factory,
        subdao_impl=subdao_impl,
        sbgt_impl=sbgt_impl,
        sdt_impl=sdt_impl,
        chamber_impl=chamber_impl,
        rounds_impl=rounds_impl,
        registry=str(registry),
        flai_token=str(flai_token),
    )


def load_subdao_suite(subdao_address: str) -> SubDAOSuite:
    """Contract objects for the suite behind a SubDAO address (modules read from the hub)."""
    p = _project()
    hub = p.SubDAO.at(subdao_address)
    return SubDAOSuite(
        subdao=hub,
        sbgt=p.SBGT.at(hub.module(0)),
        sdt=p.SDT.at(hub.module(1)),
        technical=p.SubDAOChamber.at(hub.module(2)),
        financial=p.SubDAOChamber.at(hub.module(3)),
        rounds=p.TrainingRounds.at(hub.module(4)),
    )


# --- whole protocol ---


@dataclass(frozen=True)
class ProtocolDeployment:
    """The SuperDAO platform wired to the real SubDAO factory."""

    platform: PlatformDeployment
    subdao: SubDAOFactoryDeployment

    def addresses(self) -> dict[str, str]:
        """Component name -> address, for ``deployments/<network>.json``."""
        return self.platform.addresses() | {"SubDAOFactory": _address(self.subdao.factory)}


def deploy_protocol(*, deployer: Any, config: PlatformConfig | None = None) -> ProtocolDeployment:
    """Deploys the platform (:func:`deploy_platform`) with the SubDAO factory of
    :func:`deploy_subdao_factory` as the registry's factory, so an approved RFM creates its
    whole suite in the approving transaction."""
    built: list[SubDAOFactoryDeployment] = []

    def factory(registry: Any) -> Any:
        built.append(
            deploy_subdao_factory(deployer=deployer, registry=registry, flai_token=registry.flai())
        )
        return built[0].factory

    platform = deploy_platform(deployer=deployer, config=config, factory=factory)
    return ProtocolDeployment(platform=platform, subdao=built[0])


# --- Marketplace & revenue ---


@dataclass(frozen=True)
class MarketShares:
    """Revenue split of one SubDAO in basis points (001 §6.3, 000 §6.5.1).

    The SDT side takes what the platform, SubDAO treasury and SBGT shares leave.
    """

    platform_bps: int = 3_000
    treasury_bps: int = 1_000
    sbgt_bps: int = 3_000
    min_treasury_bps: int = 1_000
    max_treasury_bps: int = 1_500

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        """The ``IRevenueSplitter.Shares`` struct in field order."""
        return (
            self.platform_bps,
            self.treasury_bps,
            self.sbgt_bps,
            self.min_treasury_bps,
            self.max_treasury_bps,
        )


def deploy_market_cloner(*, deployer: Any) -> Any:
    """Deploy the ``MarketCloner`` and the splitter / bounty-pool implementations it clones."""
    b = _project()
    cloner = b.MarketCloner.deploy({"from": deployer})
    b.RevenueSplitter.deploy({"from": deployer})
    b.BountyPool.deploy({"from": deployer})
    return cloner


def _clone(
    *, deployer: Any, cloner: Any, implementation: Any, init_data: str, container: Any
) -> Any:
    tx = cloner.clone(implementation, init_data, {"from": deployer})
    return container.at(tx.events["ModuleCloned"]["clone"])


def deploy_revenue_splitter(
    *,
    deployer: Any,
    cloner: Any,
    subdao: Any,
    token: Any,
    platform_treasury: Any,
    platform_admin: Any,
    shares: MarketShares,
) -> Any:
    """Clone and initialize a SubDAO's ``RevenueSplitter``.

    The SubDAO's technical chamber (or factory) must then attach it with
    ``SubDAO.setModule(Module.RevenueSplitter, splitter)``, which also makes it the SDT's
    balance hook.
    """
    b = _project()
    impl = b.RevenueSplitter[-1]
    data = impl.initialize.encode_input(
        subdao, token, platform_treasury, platform_admin, shares.as_tuple()
    )
    return _clone(
        deployer=deployer,
        cloner=cloner,
        implementation=impl,
        init_data=data,
        container=b.RevenueSplitter,
    )


def deploy_bounty_pool(
    *, deployer: Any, cloner: Any, subdao: Any, flai: Any, platform_treasury: Any
) -> Any:
    """Clone and initialize a SubDAO's FLAI round-bounty ``BountyPool`` (000 §3, 003 Alg. 2)."""
    b = _project()
    impl = b.BountyPool[-1]
    data = impl.initialize.encode_input(subdao, flai, platform_treasury)
    return _clone(
        deployer=deployer,
        cloner=cloner,
        implementation=impl,
        init_data=data,
        container=b.BountyPool,
    )


def deploy_marketplace(*, deployer: Any) -> Any:
    """Deploy the platform-wide ``Marketplace`` (one registry of listings for every SubDAO)."""
    return _project().Marketplace.deploy({"from": deployer})
