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
- marketplace & revenue: :class:`MarketShares`, :func:`deploy_marketplace`,
  :func:`deploy_revenue_splitter`, :func:`deploy_bounty_pool`
- ChainPort over brownie (issue 8): :class:`BrownieChainPort` (the
  :class:`flai.pipeline.ports.ChainPort` over the real contracts), :class:`GasMeter`,
  :class:`LifecycleRoles`, :func:`setup_lifecycle`, :func:`setup_analytics`,
  :func:`claim_revenue`, :func:`revoke_malicious`, :func:`run_lifecycle`

References
----------
FLAI whitepaper (000) §6.2–6.3, §7.1; FLAI protocol (001) §2.1, §8.1–8.2.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from flai.errors import FlaiError

__all__ = [
    "DEFAULT_VOTING_DELAY",
    "DEFAULT_VOTING_PERIOD",
    "FORK_DOMAIN",
    "RECEIPT_GRACE_S",
    "RFM_SPEC_FIELDS",
    "Action",
    "BrownieChainPort",
    "ChainError",
    "ConfigError",
    "GasMeter",
    "LifecycleDeployment",
    "LifecycleRoles",
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
    "chamber_execute",
    "check_funded",
    "claim_revenue",
    "deploy_bounty_pool",
    "deploy_market_cloner",
    "deploy_marketplace",
    "deploy_platform",
    "deploy_protocol",
    "deploy_revenue_splitter",
    "deploy_subdao_factory",
    "distribute_revenue",
    "fork_and_retire",
    "harden_receipt_wait",
    "lifecycle_roles",
    "load_deployment",
    "load_lifecycle",
    "load_rfm_spec",
    "load_subdao_suite",
    "parse_rfm_spec",
    "propose",
    "queue_and_execute",
    "revoke_malicious",
    "rfm_spec",
    "run_lifecycle",
    "run_one_round",
    "serve_requests",
    "setup_analytics",
    "setup_lifecycle",
    "step_port",
    "step_storage",
    "submit_rfm",
    "superdao_approve",
    "write_json",
]

WAD = 10**18
BPS = 10_000


# --- shared types ---------------------------------------------------------------------------


class ChainError(FlaiError):
    """A chain interaction did not have the expected outcome."""


class ConfigError(ChainError, ValueError):
    """A deployment configuration value is out of range."""


class ProposalKind(IntEnum):
    """Mirror of ``ProposalKind`` in ``contracts/interfaces/ISuperDAOGovernor.sol`` (strictest first)."""

    PLATFORM_UPDATE = 0
    RFM_APPROVAL = 1
    OPERATIONAL = 2


class RFMStatus(IntEnum):
    """Mirror of ``RFMStatus`` in ``contracts/interfaces/IRFMRegistry.sol``."""

    NONE = 0
    PENDING = 1
    APPROVED = 2
    REJECTED = 3
    EXPIRED = 4


#: Seconds a transaction's confirmation waits for its receipt before brownie's own logic.
RECEIPT_GRACE_S = 10.0


def harden_receipt_wait() -> None:
    """Close brownie 1.22's false "Tx dropped without known replacement" race (idempotent).

    ``TransactionReceipt._await_confirmation`` reads the sender's nonce, then the receipt,
    and declares the transaction dropped when the nonce has passed it but the receipt is not
    served yet. Anvil can advance the nonce a moment before the receipt becomes queryable,
    which a loaded machine turns into spurious failures (brownie #1782 fixed the same race in
    ``wait()`` only). The patched method first waits up to :data:`RECEIPT_GRACE_S` for the
    receipt, so brownie then finds it; a transaction that really never mines still ends as
    dropped after that bound. Called by :func:`_project` and by the test suite's conftest.
    """
    from brownie import web3
    from brownie.network.transaction import TransactionReceipt
    from web3.exceptions import TimeExhausted

    original = TransactionReceipt._await_confirmation
    if getattr(original, "_flai_hardened", False):
        return

    def _await_confirmation(self: Any, block_number: Any = None, required_confs: int = 1) -> Any:
        if self.nonce is not None:
            try:
                web3.eth.wait_for_transaction_receipt(
                    self.txid, timeout=RECEIPT_GRACE_S, poll_latency=0.05
                )
            except TimeExhausted:
                pass  # brownie decides: replaced or dropped
        return original(self, block_number, required_confs)

    _await_confirmation._flai_hardened = True  # type: ignore[attr-defined]
    _await_confirmation.__wrapped__ = original  # type: ignore[attr-defined]
    TransactionReceipt._await_confirmation = _await_confirmation  # type: ignore[method-assign]


def _project() -> Any:
    """The loaded brownie project (``flai run``, ``brownie test`` or ``project.load``)."""
    from brownie import project

    harden_receipt_wait()
    loaded = project.get_loaded_projects()
    if not loaded:
        raise ChainError(
            "no brownie project is loaded (use `flai run`, `brownie test` or project.load)"
        )
    return loaded[0]


def _address(value: Any) -> str:
    return str(value.address if hasattr(value, "address") else value)


# --- SuperDAO platform layer ---------------------------------------------------------------

#: Calls whose proposals need only the operational threshold (>= 51%), as
#: ``(component, function name)``; every other call is a platform update (>= 66%) unless it
#: is in :data:`RFM_DECISION_ACTIONS`. Governance can re-classify later (``setActionKind``),
#: except that the governor refuses a weaker kind than its hard-coded minimum
#: (``minimumKind``: the rules of decisions — endorsement threshold, stake age, TTL, voting
#: settings, classification —, credentials and forwarders stay platform updates).
OPERATIONAL_ACTIONS: tuple[tuple[str, str], ...] = (
    ("staking", "setMinimumStake"),
    ("staking", "setExitFeeBps"),
    ("registry", "setCreationFee"),
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
    #: Staking blocks stake must be held before an RFM's submission to endorse it (≥ 1); a
    #: chain with ~12 s blocks would use about a day (7,200).
    endorsement_stake_age: int = 10
    rejection_refund_bps: int = 5_000
    success_refund_bps: int = 2_500
    #: Payment tokens (addresses) listed on the registry's allow-list at deployment, besides
    #: FLAI (listed by the registry itself); later ones are listed by governance.
    payment_tokens: tuple[str, ...] = ()
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
        if not 0 < self.endorsement_stake_age < 2**32:
            raise ConfigError("endorsement_stake_age must lie in [1, 2**32)")
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
        if "payment_tokens" in fixed:
            fixed["payment_tokens"] = tuple(fixed["payment_tokens"])
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
    (proposer, canceller, executor) -> optional ``factory`` wiring -> ``config.payment_tokens``
    on the registry's allow-list (FLAI is listed by the registry itself) -> ownership of staking
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
        cfg.endorsement_stake_age,
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
    for payment_token in cfg.payment_tokens:
        registry.setPaymentTokenAllowed(_address(payment_token), True, tx)
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
    subdao_impl, sbgt_impl, sdt_impl, chamber_impl, rounds_impl, splitter_impl
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
    splitter_impl: Any = None


@dataclass(frozen=True)
class SubDAOSuite:
    """Contract objects of one SubDAO suite (001 §8.2), incl. its revenue splitter."""

    subdao: Any
    sbgt: Any
    sdt: Any
    technical: Any
    financial: Any
    rounds: Any
    splitter: Any


def deploy_subdao_factory(
    *,
    deployer: Any,
    registry: Any,
    flai_token: Any,
    platform_treasury: Any,
    platform_admin: Any,
    revenue_shares: MarketShares | None = None,
    voting_delay: int = DEFAULT_VOTING_DELAY,
    voting_period: int = DEFAULT_VOTING_PERIOD,
) -> SubDAOFactoryDeployment:
    """Deploy the six implementations and the SubDAO factory.

    Parameters
    ----------
    deployer
        Account paying for the deployment.
    registry
        The RFM registry address (the only caller of ``createSubDAO``).
    flai_token
        The FLAI token (validator deposits, contributor collateral, slashing).
    platform_treasury, platform_admin
        Receiver of the platform share and the account that sets it (and the SubDAO treasury
        bounds) on every splitter the factory creates (the SuperDAO timelock in a deployment).
    revenue_shares
        Initial shares of every new splitter (:class:`MarketShares` defaults when omitted);
        afterwards each SubDAO's financial chamber sets its treasury and SBGT shares.
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
    splitter_impl = p.RevenueSplitter.deploy(tx)
    impls = (
        subdao_impl.address,
        sbgt_impl.address,
        sdt_impl.address,
        chamber_impl.address,
        chamber_impl.address,
        rounds_impl.address,
        splitter_impl.address,
    )
    shares = revenue_shares or MarketShares()
    revenue = (_address(platform_treasury), _address(platform_admin), shares.as_tuple())
    factory = p.SubDAOFactory.deploy(str(registry), impls, revenue, tx)
    return SubDAOFactoryDeployment(
        factory=factory,
        subdao_impl=subdao_impl,
        sbgt_impl=sbgt_impl,
        sdt_impl=sdt_impl,
        chamber_impl=chamber_impl,
        rounds_impl=rounds_impl,
        registry=str(registry),
        flai_token=str(flai_token),
        splitter_impl=splitter_impl,
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
        splitter=p.RevenueSplitter.at(hub.module(5)),
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


def deploy_protocol(
    *,
    deployer: Any,
    config: PlatformConfig | None = None,
    chamber_voting_delay: int = DEFAULT_VOTING_DELAY,
    chamber_voting_period: int = DEFAULT_VOTING_PERIOD,
    revenue_shares: MarketShares | None = None,
) -> ProtocolDeployment:
    """Deploys the platform (:func:`deploy_platform`) with the SubDAO factory of
    :func:`deploy_subdao_factory` as the registry's factory, so an approved RFM creates its
    whole suite (revenue splitter included) in the approving transaction.
    ``chamber_voting_delay``/``_period`` (blocks) are the SubDAO chambers' (a local demo uses
    a short period); every splitter pays its platform share to the timelock, which is also
    its platform admin, and starts with ``revenue_shares`` (:class:`MarketShares` defaults)."""
    built: list[SubDAOFactoryDeployment] = []

    def factory(registry: Any) -> Any:
        treasury = registry.treasury()
        built.append(
            deploy_subdao_factory(
                deployer=deployer,
                registry=registry,
                flai_token=registry.flai(),
                platform_treasury=treasury,
                platform_admin=treasury,
                revenue_shares=revenue_shares,
                voting_delay=chamber_voting_delay,
                voting_period=chamber_voting_period,
            )
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
    epoch_length: int,
) -> Any:
    """Clone and initialize a stand-alone ``RevenueSplitter`` for ``subdao``.

    A factory-made SubDAO already has its splitter (``SubDAOSuite.splitter``, module slot 5,
    the SDT's balance hook since creation, its SBGT pools ``epochLength`` seconds long from the
    RFM); this helper serves SubDAO stand-ins (the market unit tests' ``MarketTestSubDAO``),
    whose SDT hook the caller sets. ``epoch_length`` (seconds, > 0) bounds each SBGT pool.
    """
    b = _project()
    impl = b.RevenueSplitter[-1]
    data = impl.initialize.encode_input(
        subdao, token, platform_treasury, platform_admin, shares.as_tuple(), epoch_length
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


def deploy_marketplace(*, deployer: Any, token_policy: Any) -> Any:
    """Deploy the platform-wide ``Marketplace`` (one registry of listings for every SubDAO).

    ``token_policy`` is the payment-token allow-list it consults when a SubDAO lists (the
    platform's RFM registry).
    """
    return _project().Marketplace.deploy(_address(token_policy), {"from": deployer})


# --- ChainPort over brownie ---
#
# The on-chain half of issue 8: the lifecycle set-up (RFM → SubDAO → crowdfund → onboarding
# → market attachment) and :class:`BrownieChainPort`, which implements
# :class:`flai.pipeline.ports.ChainPort` over ``TrainingRounds``, ``SBGT``, ``Marketplace``
# and ``RevenueSplitter``. Parties are the scenario's names; :class:`LifecycleRoles` maps them
# to accounts. Every transaction's gas is recorded by step in a :class:`GasMeter`.

#: Minimum native balance (wei) every party needs before the lifecycle sends anything.
MIN_PARTY_BALANCE = 10**16
#: Founding SBGT points per hospital at launch (001 §8.2); small, so φ·M dominates.
FOUNDING_POINTS = WAD
#: Collateral each hospital posts when applying (FLAI wei).
CONTRIBUTOR_COLLATERAL = 10 * WAD
#: FLAI each inference user / member receives to pay fees (the payment token is FLAI).
USER_FLAI = 1_000 * WAD

_PHASES_BY_STATUS = {0: "none", 2: "finalized", 3: "accepted", 4: "rejected"}
_TIERS = {0: "external", 1: "requester", 2: "member", 3: "external"}
_CHAMBER_FOR = 1


class GasMeter:
    """Gas used by every transaction the lifecycle sends, labelled by step."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int]] = []

    def record(self, step: str, tx: Any) -> Any:
        """Record ``tx.gas_used`` under ``step``; return ``tx``."""
        self.entries.append((step, int(tx.gas_used)))
        return tx

    def totals(self) -> dict[str, int]:
        """Step → total gas."""
        out: dict[str, int] = {}
        for step, gas in self.entries:
            out[step] = out.get(step, 0) + gas
        return out

    def counts(self) -> dict[str, int]:
        """Step → number of transactions."""
        out: dict[str, int] = {}
        for step, _ in self.entries:
            out[step] = out.get(step, 0) + 1
        return out


@dataclass(frozen=True, kw_only=True)
class LifecycleRoles:
    """Scenario names → accounts (brownie accounts or eth-account backed ones)."""

    deployer: Any
    requester: str
    parties: dict[str, Any]
    """Every named party: requester, hospitals, validators, external users."""
    hospitals: tuple[str, ...]
    validators: tuple[str, ...]
    externals: tuple[str, ...]
    operator: Any
    members: tuple[Any, ...]
    """Platform members who stake FLAI and vote in the SuperDAO."""

    def account(self, name: str) -> Any:
        """The account of party ``name``."""
        try:
            return self.parties[name]
        except KeyError:
            raise ChainError(f"unknown party {name!r}") from None

    def name_of(self, address: Any) -> str:
        """The party name of ``address``."""
        wanted = _address(address).lower()
        for name, acct in self.parties.items():
            if _address(acct).lower() == wanted:
                return name
        raise ChainError(f"address {wanted} is no party of the scenario")


def _transact(method: Any, *args: Any, sender: Any) -> Any:
    """``method(*args, {"from": sender})`` with brownie's receipt wait hardened
    (:func:`harden_receipt_wait`), whoever loaded the project."""
    harden_receipt_wait()
    return method(*args, {"from": sender})


def lifecycle_roles(config: Any, accounts: Sequence[Any]) -> LifecycleRoles:
    """Assign accounts to the parties of a scenario (``flai.pipeline.config.ScenarioConfig``).

    Layout: ``0`` deployer, ``1`` inference operator, ``2`` requester, then the hospitals,
    the validators, three external users and four platform members. Raises
    :class:`ConfigError` if there are too few accounts or a backer is not a party.
    """
    externals = tuple(f"external-{i}" for i in range(3))
    hospitals = tuple(config.hospital_names)
    validators = tuple(config.validator_names)
    need = 3 + len(hospitals) + len(validators) + len(externals) + 4
    if len(accounts) < need:
        raise ConfigError(f"the scenario needs {need} accounts, the network has {len(accounts)}")
    names = [config.requester, *hospitals, *validators, *externals]
    parties = {n: accounts[2 + i] for i, n in enumerate(names)}
    for backer in config.backers:
        if backer not in parties:
            raise ConfigError(f"backers.{backer}: not a party of the scenario")
    return LifecycleRoles(
        deployer=accounts[0],
        requester=config.requester,
        parties=parties,
        hospitals=hospitals,
        validators=validators,
        externals=externals,
        operator=accounts[1],
        members=tuple(accounts[2 + len(names) : 2 + len(names) + 4]),
    )


def check_funded(roles: LifecycleRoles, *, minimum: int = MIN_PARTY_BALANCE) -> None:
    """Raise :class:`ChainError` naming the first party whose native balance is below
    ``minimum`` (checked before the lifecycle sends any transaction)."""
    from brownie import web3
    from web3 import Web3

    named = {"deployer": roles.deployer, "operator": roles.operator}
    named |= {f"member-{i}": m for i, m in enumerate(roles.members)}
    named |= roles.parties
    for name, acct in named.items():
        balance = int(web3.eth.get_balance(Web3.to_checksum_address(_address(acct))))
        if balance < minimum:
            raise ChainError(
                f"account of {name} ({_address(acct)}) is unfunded: balance {balance} wei < {minimum}"
            )


def _mine_past(block: int) -> None:
    """Mine until the chain's height is past ``block`` (a proposal deadline)."""
    from brownie import chain, web3

    missing = block - int(web3.eth.block_number) + 1
    if missing > 0:
        chain.mine(missing)


def chamber_execute(
    chamber: Any,
    *,
    voters: Sequence[Any],
    actions: Sequence[Action],
    description: str,
    gas: GasMeter,
    step: str,
) -> Any:
    """Propose ``actions`` in a SubDAO chamber, vote for with every voter, wait out the
    voting period (local chains: mines blocks) and execute; returns the execute tx."""
    from brownie import chain
    from web3 import Web3

    targets, values, calldatas = _columns(actions)
    tx = gas.record(
        f"{step}/propose",
        _transact(chamber.propose, targets, values, calldatas, description, sender=voters[0]),
    )
    proposal_id = tx.events["ProposalCreated"]["proposalId"]
    chain.mine(int(chamber.votingDelay()) + 1)
    for voter in voters:
        gas.record(
            f"{step}/vote", _transact(chamber.castVote, proposal_id, _CHAMBER_FOR, sender=voter)
        )
    _mine_past(int(chamber.proposalDeadline(proposal_id)))
    return gas.record(
        f"{step}/execute",
        _transact(
            chamber.execute,
            targets,
            values,
            calldatas,
            Web3.keccak(text=description),
            sender=voters[0],
        ),
    )


def superdao_approve(
    protocol: ProtocolDeployment, *, rfm_id: int, members: Sequence[Any], gas: GasMeter
) -> str:
    """Pass and execute the SuperDAO approval of ``rfm_id`` (every member votes for);
    returns the SubDAO the approval created."""
    from brownie import chain

    governor, registry = protocol.platform.governor, protocol.platform.registry
    actions = [action(registry, "approve", rfm_id)]
    description = f"Approve RFM #{rfm_id}"
    proposal_id, tx = propose(
        governor, proposer=members[0], actions=actions, description=description
    )
    gas.record("superdao/propose", tx)
    chain.mine(int(governor.votingDelay()) + 1)
    for member in members:
        gas.record("superdao/vote", _transact(governor.castVote, proposal_id, 1, sender=member))
    _mine_past(int(governor.proposalDeadline(proposal_id)))
    queued, executed = queue_and_execute(
        governor, sender=members[0], actions=actions, description=description
    )
    gas.record("superdao/queue", queued)
    gas.record("superdao/execute (creates the SubDAO suite)", executed)
    return str(executed.events["RFMApproved"]["subDAO"])


@dataclass(frozen=True)
class LifecycleDeployment:
    """What the lifecycle set-up deployed (contract objects)."""

    protocol: ProtocolDeployment
    rfm_id: int
    suite: SubDAOSuite
    cloner: Any
    marketplace: Any
    splitter: Any
    start_block: int
    analytics: SubDAOSuite | None = None
    analytics_splitter: Any = None

    def addresses(self) -> dict[str, Any]:
        """Everything, for ``deployments/<network>.json``."""
        suite = {
            "SubDAO": self.suite.subdao,
            "SBGT": self.suite.sbgt,
            "SDT": self.suite.sdt,
            "TechnicalChamber": self.suite.technical,
            "FinancialChamber": self.suite.financial,
            "TrainingRounds": self.suite.rounds,
            "RevenueSplitter": self.splitter,
        }
        out: dict[str, Any] = self.protocol.addresses() | {
            "MarketCloner": _address(self.cloner),
            "Marketplace": _address(self.marketplace),
            "rfmId": int(self.rfm_id),
            "startBlock": int(self.start_block),
            "suite": {k: _address(v) for k, v in suite.items()},
        }
        if self.analytics is not None:
            out["analyticsSuite"] = {
                "SubDAO": _address(self.analytics.subdao),
                "TrainingRounds": _address(self.analytics.rounds),
                "RevenueSplitter": _address(self.analytics_splitter),
            }
        return out


def load_lifecycle(addresses: dict[str, Any]) -> LifecycleDeployment:
    """Contract objects for a deployment written by :meth:`LifecycleDeployment.addresses`."""
    p = _project()
    platform = PlatformDeployment(
        token=p.FLAIToken.at(addresses["FLAIToken"]),
        staking=p.SuperDAOStaking.at(addresses["SuperDAOStaking"]),
        timelock=p.TimelockController.at(addresses["TimelockController"]),
        governor=p.SuperDAOGovernor.at(addresses["SuperDAOGovernor"]),
        registry=p.RFMRegistry.at(addresses["RFMRegistry"]),
    )
    sub = SubDAOFactoryDeployment(  # implementations are not needed to drive a lifecycle
        factory=p.SubDAOFactory.at(addresses["SubDAOFactory"]),
        subdao_impl=None,
        sbgt_impl=None,
        sdt_impl=None,
        chamber_impl=None,
        rounds_impl=None,
        registry=addresses["RFMRegistry"],
        flai_token=addresses["FLAIToken"],
    )
    analytics = addresses.get("analyticsSuite")
    return LifecycleDeployment(
        protocol=ProtocolDeployment(platform=platform, subdao=sub),
        rfm_id=int(addresses["rfmId"]),
        suite=load_subdao_suite(addresses["suite"]["SubDAO"]),
        cloner=p.MarketCloner.at(addresses["MarketCloner"]),
        marketplace=p.Marketplace.at(addresses["Marketplace"]),
        splitter=p.RevenueSplitter.at(addresses["suite"]["RevenueSplitter"]),
        start_block=int(addresses["startBlock"]),
        analytics=None if analytics is None else load_subdao_suite(analytics["SubDAO"]),
        analytics_splitter=None
        if analytics is None
        else p.RevenueSplitter.at(analytics["RevenueSplitter"]),
    )


def _rfm_request(
    *, spec_cid: str, token: Any, price: int, goal: int, min_validators: int, deadline: int
) -> RFMRequest:
    return RFMRequest(
        spec_cid=spec_cid,
        domain="healthcare.oncology",
        model_class="binary-classifier",
        data_schema="HL7-FHIR-R4",
        metric_id="AUC",
        metric_threshold=0.85,
        min_validators=min_validators,
        quorum_bps=2_000,
        epoch_length=7 * 24 * 3600,
        crowdfund_deadline=deadline,
        payment_token=_address(token),
        price_per_inference=price,
        crowdfund_goal=goal,
        sdt_per_payment_unit=WAD,
        sdt_cap=10**9 * WAD,
    )


def setup_lifecycle(
    *,
    config: Any,
    roles: LifecycleRoles,
    gas: GasMeter,
    spec_cid: str,
    chamber_voting_period: int = 12,
) -> LifecycleDeployment:
    """Deploy the protocol and bring the scenario's RFM to a launched SubDAO with its market.

    Steps (001 §9.1–9.3): :func:`deploy_protocol` (chamber voting period
    ``chamber_voting_period`` blocks); FLAI to every party; platform members stake; the
    requester submits the RFM (payment token FLAI, price ``config.inference.base_price``,
    crowdfund goal = Σ ``config.backers`` SDT); the SuperDAO approves it; the backers fund
    the crowdfund (1 SDT per FLAI); hospitals apply with collateral, validators with their
    deposits (``stake`` whole FLAI); the requester launches with every hospital as founder
    (:data:`FOUNDING_POINTS`); the technical chamber sets the round parameters (FLock
    auto-accept, M = ``points_per_round``, λ = ``points_decay``). The revenue splitter is
    part of the suite the approval created (``config.revenue`` shares are the factory's
    defaults; the financial chamber may change the SubDAO's treasury and SBGT shares and the
    timelock the platform share). The model is listed on the marketplace once a
    round is accepted (:meth:`BrownieChainPort.ensure_listed`).
    """
    from brownie import chain, web3

    check_funded(roles)
    deployer = roles.deployer
    start_block = int(web3.eth.block_number) + 1
    shares = config.revenue
    protocol = deploy_protocol(
        deployer=deployer,
        chamber_voting_period=chamber_voting_period,
        revenue_shares=MarketShares(
            platform_bps=shares.platform_bps,
            treasury_bps=shares.treasury_bps,
            sbgt_bps=shares.sbgt_bps,
            min_treasury_bps=min(1_000, shares.treasury_bps),
            max_treasury_bps=max(1_500, shares.treasury_bps),
        ),
    )
    platform = protocol.platform
    token, staking, registry = platform.token, platform.staking, platform.registry
    for contract in (
        token,
        platform.timelock,
        staking,
        registry,
        platform.governor,
        protocol.subdao.factory,
    ):
        gas.record("deploy/protocol", contract.tx)

    validator_stake = {v.name: v.stake * WAD for v in config.validators}
    goal = sum(config.backers.values()) * WAD
    needs: dict[str, int] = {n: USER_FLAI for n in roles.parties}
    needs[roles.requester] += 2 * int(registry.creationFee()) + ANALYTICS_GOAL  # FL + FA RFMs
    for name in roles.hospitals:
        needs[name] += CONTRIBUTOR_COLLATERAL
    for name, stake in validator_stake.items():
        needs[name] += stake
    for name, amount in config.backers.items():
        needs[name] += amount * WAD
    for name, amount in needs.items():
        gas.record(
            "fund/FLAI", _transact(token.transfer, roles.account(name), amount, sender=deployer)
        )
    for member in roles.members:
        gas.record("fund/FLAI", _transact(token.transfer, member, 5_000 * WAD, sender=deployer))
        gas.record(
            "superdao/approve stake", _transact(token.approve, staking, 5_000 * WAD, sender=member)
        )
        gas.record("superdao/stake", _transact(staking.stake, 5_000 * WAD, sender=member))
    chain.mine()

    requester = roles.account(roles.requester)
    request = _rfm_request(
        spec_cid=spec_cid,
        token=token,
        price=config.inference.base_price,
        goal=goal,
        min_validators=len(config.validators),
        deadline=int(chain.time()) + 60 * 24 * 3600,
    )
    gas.record(
        "rfm/approve fee",
        _transact(token.approve, registry, registry.creationFee(), sender=requester),
    )
    submitted = gas.record(
        "rfm/submit", _transact(registry.submit, request.as_tuple(), sender=requester)
    )
    rfm_id = int(submitted.events["RFMSubmitted"]["rfmId"])
    suite = load_subdao_suite(
        superdao_approve(protocol, rfm_id=rfm_id, members=roles.members, gas=gas)
    )
    hub = suite.subdao

    for name, amount in config.backers.items():
        backer = roles.account(name)
        gas.record("crowdfund/approve", _transact(token.approve, hub, amount * WAD, sender=backer))
        gas.record("crowdfund/contribute", _transact(hub.contribute, amount * WAD, sender=backer))
    gas.record("crowdfund/close", _transact(hub.closeCrowdfund, sender=requester))

    for i, name in enumerate(roles.hospitals):
        h = roles.account(name)
        gas.record(
            "onboard/approve",
            _transact(token.approve, suite.rounds, CONTRIBUTOR_COLLATERAL, sender=h),
        )
        gas.record(
            "onboard/apply contributor",
            _transact(
                suite.rounds.applyContributor,
                f"attestation:{name}:HL7-FHIR-R4",
                CONTRIBUTOR_COLLATERAL,
                sender=h,
            ),
        )
    for name, stake in validator_stake.items():
        v = roles.account(name)
        gas.record("onboard/approve", _transact(token.approve, suite.rounds, stake, sender=v))
        gas.record(
            "onboard/apply validator", _transact(suite.rounds.applyValidator, stake, sender=v)
        )
    founders = [roles.account(n) for n in roles.hospitals]
    gas.record(
        "onboard/launch",
        _transact(
            suite.rounds.launch,
            founders,
            [FOUNDING_POINTS] * len(founders),
            [roles.account(n) for n in roles.validators],
            sender=requester,
        ),
    )

    cloner = deploy_market_cloner(deployer=deployer)
    marketplace = deploy_marketplace(deployer=deployer, token_policy=protocol.platform.registry)
    gas.record("deploy/market", cloner.tx)
    gas.record("deploy/market", marketplace.tx)
    rounds_params = (10**17, 1_000, 24 * 3600, True, config.points_per_round * WAD)
    actions = [action(suite.rounds, "setParams", rounds_params)]
    decay = round(config.points_decay * WAD)
    if decay != int(suite.sbgt.decay()):
        actions.append(action(suite.rounds, "setDecay", decay))
    chamber_execute(
        suite.technical,
        voters=founders,
        actions=actions,
        description="Round parameters (FLock auto-accept)",
        gas=gas,
        step="technical/params",
    )
    for name in roles.parties:
        gas.record(
            "market/approve fees",
            _transact(token.approve, marketplace, 2**256 - 1, sender=roles.account(name)),
        )
    return LifecycleDeployment(
        protocol=protocol,
        rfm_id=rfm_id,
        suite=suite,
        cloner=cloner,
        marketplace=marketplace,
        splitter=suite.splitter,
        start_block=start_block,
    )


def _request_record(fields: Any) -> tuple[Any, ...]:
    """The ``IMarketplace.Request`` tuple ``fulfil`` takes, from a ``Requested`` event's
    fields (brownie event or web3 log arguments)."""
    return (
        str(fields["payer"]),
        int(fields["deadline"]),
        int(fields["paid"]),
        bool(fields["credit"]),
    )


class BrownieChainPort:
    """:class:`flai.pipeline.ports.ChainPort` over the real contracts, through brownie.

    Writes are sent from the party's account (custodians commit, validators score and vote,
    the coordinator — the requester — opens and finalizes, the operator fulfils, users pay);
    reads for reconciliation come from contract state, or from events where the contracts
    keep only a digest or a bitmap (update CIDs, aggregate votes, requests, slashing).

    Where the port and the contracts differ, the port adapts:

    - ``close_commits`` sends nothing: the commit window is a deadline, so on a local chain
      it advances the clock past it (``COMMIT``/``SCORING`` are read from the deadline).
    - the marketplace needs a Deployed SubDAO to list, so the model is listed (through the
      technical chamber) on the first market call, after a round was accepted;
      ``set_member_ranks`` is a financial-chamber vote of the SDT holders.
    - ``request_query`` pays the FA listing's tier price: its base price ``x`` is the
      configured query price, and the tier rule (requester 3x, external 10x) applies.
    - ``revenue`` is what the FL listing's splitter received (FA fees go to the FA SubDAO).

    Parameters
    ----------
    deployment
        From :func:`setup_lifecycle` / :func:`load_lifecycle`.
    roles
        Names → accounts.
    gas
        Where gas per step is recorded.
    base_price, licence_cid
        Listing price ``x`` per inference and the licence (RFM spec) CID.
    commit_window
        Seconds between opening a round and its commit deadline.
    listing_timeout
        Seconds the operator has to fulfil a request.
    """

    def __init__(
        self,
        *,
        deployment: LifecycleDeployment,
        roles: LifecycleRoles,
        gas: GasMeter,
        base_price: int,
        licence_cid: str,
        commit_window: int = 3_600,
        listing_timeout: int = 24 * 3_600,
    ) -> None:
        self.base_price = base_price
        self.licence_cid = licence_cid
        self.deployment = deployment
        self.roles = roles
        self.gas = gas
        self.commit_window = commit_window
        self.listing_timeout = listing_timeout
        self._rounds = deployment.suite.rounds
        self._market = deployment.marketplace
        self._cids: dict[tuple[int, str], str] = {}
        self._requests: dict[int, dict[str, Any]] = {}

    # -- plumbing --------------------------------------------------------------------------
    def _acct(self, name: str) -> Any:
        return self.roles.account(name)

    def _coordinator(self) -> Any:
        return self._acct(self.roles.requester)

    def _logs(self, contract: Any, event: str, **filters: Any) -> list[Any]:
        from brownie import web3
        from web3 import Web3

        c = web3.eth.contract(
            address=Web3.to_checksum_address(_address(contract)), abi=contract.abi
        )
        return list(
            getattr(c.events, event)().get_logs(
                from_block=self.deployment.start_block, argument_filters=filters or None
            )
        )

    @staticmethod
    def _now() -> int:
        from brownie import web3

        return int(web3.eth.get_block("latest")["timestamp"])

    # -- membership ------------------------------------------------------------------------
    def validator_stakes(self) -> dict[str, int]:
        out = {}
        for name in self.roles.validators:
            status, _, deposit = self._rounds.validator(self._acct(name))
            if int(status) == 2:  # Whitelisted
                out[name] = int(deposit)
        return out

    # -- rounds ----------------------------------------------------------------------------
    def round_count(self) -> int:
        return int(self._rounds.roundCount())

    def round_phase(self, round_id: int) -> Any:
        from flai.pipeline.ports import RoundPhase

        deadline, status = self._rounds.round(round_id)[:2]
        if int(status) == 1:  # Open
            return RoundPhase.COMMIT if self._now() <= int(deadline) else RoundPhase.SCORING
        return RoundPhase(_PHASES_BY_STATUS[int(status)])

    def open_round(self, *, global_model_cid: str) -> int:
        deadline = self._now() + self.commit_window
        tx = _transact(
            self._rounds.openRound, global_model_cid, deadline, sender=self._coordinator()
        )
        self.gas.record("round/open", tx)
        return int(tx.events["RoundOpened"]["roundId"])

    def commit_update(self, *, round_id: int, custodian: str, update_cid: str) -> None:
        tx = _transact(
            self._rounds.commitUpdate, round_id, update_cid, sender=self._acct(custodian)
        )
        self.gas.record("round/commit update CID", tx)
        self._cids[(round_id, custodian)] = update_cid

    def update_cid(self, round_id: int, custodian: str) -> str | None:
        key = (round_id, custodian)
        if key not in self._cids:
            account = _address(self._acct(custodian))
            if int(self._rounds.updateDigest(round_id, account).hex(), 16) == 0:
                return None
            logs = self._logs(
                self._rounds, "UpdateCommitted", roundId=round_id, contributor=account
            )
            if not logs:
                raise ChainError(f"round {round_id}: {custodian}'s UpdateCommitted event not found")
            self._cids[key] = str(logs[-1]["args"]["updateCid"])
        return self._cids[key]

    def submitters(self, round_id: int) -> tuple[str, ...]:
        return tuple(self.roles.name_of(a) for a in self._rounds.submitters(round_id))

    def close_commits(self, *, round_id: int) -> None:
        from brownie import chain

        deadline = int(self._rounds.round(round_id)[0])
        wait = deadline - self._now() + 1
        if wait > 0:
            chain.sleep(wait)
        chain.mine()

    def submit_scores(self, *, round_id: int, validator: str, scores: Sequence[int]) -> None:
        tx = _transact(
            self._rounds.submitScores,
            round_id,
            [int(s) for s in scores],
            sender=self._acct(validator),
        )
        self.gas.record("round/submit scores", tx)

    def scores_of(self, round_id: int, validator: str) -> tuple[int, ...] | None:
        # scoresOf is empty for a validator who did not score; an empty round has no scores
        row = tuple(int(s) for s in self._rounds.scoresOf(round_id, self._acct(validator)))
        if row:
            return row
        logs = self._logs(
            self._rounds,
            "ScoresSubmitted",
            roundId=round_id,
            validator=_address(self._acct(validator)),
        )
        return () if logs else None

    def finalize_round(self, *, round_id: int, aggregate_cid: str, metric: int) -> None:
        tx = _transact(
            self._rounds.finalizeRound, round_id, aggregate_cid, metric, sender=self._coordinator()
        )
        self.gas.record("round/finalize (consensus + slashing)", tx)

    def aggregate(self, round_id: int) -> tuple[str, int] | None:
        if int(self._rounds.round(round_id)[1]) < 2:  # None or Open
            return None
        cid, metric = self._rounds.aggregate(round_id)
        return str(cid), int(metric)

    def consensus(self, round_id: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        accounts, phi, _ = self._rounds.consensus(round_id)
        return tuple(self.roles.name_of(a) for a in accounts), tuple(int(p) for p in phi)

    def vote_aggregate(self, *, round_id: int, validator: str, approve: bool) -> None:
        tx = _transact(self._rounds.voteAggregate, round_id, approve, sender=self._acct(validator))
        self.gas.record("round/vote aggregate", tx)

    def aggregate_vote(self, round_id: int, validator: str) -> bool | None:
        # TrainingRounds keeps only a voted bitmap: the direction is in AggregateVoted
        logs = self._logs(
            self._rounds,
            "AggregateVoted",
            roundId=round_id,
            validator=_address(self._acct(validator)),
        )
        return None if not logs else bool(logs[-1]["args"]["approve"])

    def settle_round(self, *, round_id: int) -> Any:
        tx = _transact(self._rounds.settleRound, round_id, sender=self._coordinator())
        self.gas.record("round/settle (accept iff aggVote >= 0)", tx)
        return self.round_phase(round_id)

    def model_version(self) -> tuple[int, str | None]:
        version, _ = self.deployment.suite.subdao.modelVersion()
        if int(version) == 0:
            return 0, None
        return int(version), str(self._rounds.currentModelCid())

    def points(self) -> dict[str, int]:
        sbgt = self.deployment.suite.sbgt
        return {n: int(sbgt.pointsOf(self._acct(n))) for n in self.roles.hospitals}

    def slashed(self) -> dict[str, int]:
        out = {n: 0 for n in self.roles.validators}
        for log in self._logs(self._rounds, "ValidatorSlashed"):
            out[self.roles.name_of(log["args"]["validator"])] += int(log["args"]["amount"])
        return out

    # -- marketplace -----------------------------------------------------------------------
    def listing_id(self) -> int:
        """The FL listing of the SubDAO (0 before :meth:`ensure_listed`)."""
        return int(self._market.listingOf(self.deployment.suite.subdao))

    def ensure_listed(self) -> int:
        """List the model (technical chamber) if it is not listed yet; return the listing id."""
        lid = self.listing_id()
        if lid:
            return lid
        suite = self.deployment.suite
        if int(suite.subdao.state()) != 3:
            raise ChainError("the model can be listed only once a round is accepted (Deployed)")
        version, cid = self.model_version()
        round_id = int(self._rounds.versionRound(version))
        _, metric = self._rounds.aggregate(round_id)
        params = (
            0,  # Inference
            _bytes32("healthcare.oncology"),
            _bytes32("binary-classifier"),
            _bytes32("AUC"),
            int(metric),
            self.base_price,
            self.listing_timeout,
            _address(self.roles.operator),
            self.licence_cid,
            str(cid),  # the model card is the accepted model itself
        )
        chamber_execute(
            suite.technical,
            voters=[self._acct(n) for n in self.roles.hospitals],
            actions=[action(self._market, "list", suite.subdao, params)],
            description=f"List model version {version} ({cid})",
            gas=self.gas,
            step="market/list (technical chamber)",
        )
        return self.listing_id()

    def set_member_ranks(self, *, ranked: Sequence[str]) -> None:
        lid = self.ensure_listed()
        holders = [self._acct(n) for n in self._sdt_holders()]
        chamber_execute(
            self.deployment.suite.financial,
            voters=holders,
            actions=[action(self._market, "setRanks", lid, [self._acct(n) for n in ranked])],
            description=f"Member ranking by SBGT points: {', '.join(ranked)}",
            gas=self.gas,
            step="market/ranks (financial chamber)",
        )

    def _sdt_holders(self) -> list[str]:
        sdt = self.deployment.suite.sdt
        return [n for n in self.roles.parties if int(sdt.balanceOf(self._acct(n))) > 0]

    def member_ranks(self) -> tuple[str, ...]:
        lid = self.listing_id()
        if not lid:
            return ()
        generation = int(self._market.listing(lid)["rankGeneration"])
        if generation == 0:
            return ()
        ranked = []
        for name in self.roles.parties:
            acct = self._market.account(lid, self._acct(name))
            if int(acct["rankGeneration"]) == generation:
                ranked.append((int(acct["rank"]), name))
        return tuple(n for _, n in sorted(ranked))

    def price_of(self, user: str) -> tuple[int, Any]:
        from flai.pipeline.ports import Tier

        price, tier = self._market.priceOf(self.ensure_listed(), self._acct(user))
        return int(price), Tier(_TIERS[int(tier)])

    def _pay(self, *, kind: str, user: str, input_cid: str, listing: int) -> Any:
        fn = self._market.requestInference if kind == "inference" else self._market.requestQuery
        price, tier = self._market.priceOf(listing, self._acct(user))
        tx = _transact(fn, listing, input_cid, int(price), sender=self._acct(user))
        self.gas.record(f"market/request {kind}", tx)
        ev = tx.events["Requested"]
        rid = int(ev["requestId"])
        self._requests[rid] = {
            "kind": kind,
            "user": user,
            "input": input_cid,
            "tier": int(tier),
            "record": _request_record(ev),
        }
        return self.request(rid)

    def request_inference(self, *, user: str, input_cid: str) -> Any:
        return self._pay(
            kind="inference", user=user, input_cid=input_cid, listing=self.ensure_listed()
        )

    def analytics_listing_id(self) -> int:
        """The FA listing (0 if the lifecycle has no analytics SubDAO)."""
        fa = self.deployment.analytics
        return 0 if fa is None else int(self._market.listingOf(fa.subdao))

    def request_query(self, *, user: str, query_cid: str, price: int) -> Any:
        lid = self.analytics_listing_id()
        if not lid:
            raise ChainError("no federated-analytics listing: deploy one with list_analytics")
        del price  # the listing's base price is the configured one; the tier rule applies
        return self._pay(kind="query", user=user, input_cid=query_cid, listing=lid)

    def _load_request(self, rid: int) -> dict[str, Any] | None:
        if rid not in self._requests:
            logs = self._logs(self._market, "Requested", requestId=rid)
            if not logs:
                return None
            self._requests[rid] = self._from_log(logs[-1])
        return self._requests[rid]

    def _from_log(self, log: Any) -> dict[str, Any]:
        args = log["args"]
        rid = int(args["requestId"])
        fa = self.analytics_listing_id()
        # the event carries no tier: it is the payer's tier on the listing now (the pricing
        # inputs — ranking, requester — do not change while requests are served)
        _, tier = self._market.priceOf(rid >> 64, args["payer"])
        return {
            "kind": "query" if fa and rid >> 64 == fa else "inference",
            "user": self.roles.name_of(args["payer"]),
            "input": str(args["inputCid"]),
            "tier": int(tier),
            "record": _request_record(args),
        }

    def find_request(self, *, user: str, input_cid: str) -> Any:
        for log in self._logs(self._market, "Requested", payer=_address(self._acct(user))):
            if str(log["args"]["inputCid"]) == input_cid:
                rid = int(log["args"]["requestId"])
                self._requests.setdefault(rid, self._from_log(log))
                return self.request(rid)
        return None

    def fulfil(self, *, request_id: int, output_cid: str) -> None:
        req = self._load_request(request_id)
        if req is None:
            raise ChainError(f"unknown request {request_id}")
        tx = _transact(
            self._market.fulfil, request_id, req["record"], output_cid, sender=self.roles.operator
        )
        self.gas.record(f"market/fulfil {req['kind']}", tx)
        req["output"] = output_cid

    def request(self, request_id: int) -> Any:
        from flai.pipeline.ports import PaidRequest, Tier

        req = self._load_request(request_id)
        if req is None:
            raise ChainError(f"unknown request {request_id}")
        if req.get("output") is None:
            logs = self._logs(self._market, "Fulfilled", requestId=request_id)
            if logs:
                req["output"] = str(logs[-1]["args"]["outputCid"])
        return PaidRequest(
            request_id=request_id,
            kind=req["kind"],
            user=req["user"],
            input_cid=req["input"],
            fee=int(req["record"][2]),
            tier=Tier(_TIERS[req["tier"]]),
            output_cid=req.get("output"),
        )

    def revenue(self) -> int:
        return int(self.deployment.splitter.totals()[0])


#: Crowdfund goal of the federated-analytics SubDAO (FLAI wei, paid by the requester).
ANALYTICS_GOAL = 100 * WAD


def setup_analytics(
    *,
    config: Any,
    roles: LifecycleRoles,
    deployment: LifecycleDeployment,
    gas: GasMeter,
    spec_cid: str,
    pipeline_cid: str,
) -> LifecycleDeployment:
    """Bring up the federated-analytics SubDAO and its pay-per-query listing (001 §7.3).

    The marketplace holds one listing per SubDAO and lists only Deployed SubDAOs, so FA
    queries are sold by a second SubDAO: an RFM with model class ``federated-analytics``
    approved by stake-weighted endorsement (001 §8.2), funded by the requester, launched with
    the first hospital as founder and the first validator, whose single bootstrap round
    commits the FA pipeline (``pipeline_cid``) and is accepted by its technical chamber in
    the same proposal that lists it (its splitter came with the suite; kind Analytics, base price
    ``config.analytics.price``). Returns ``deployment`` with the analytics suite.
    """
    from brownie import chain

    platform = deployment.protocol.platform
    token, registry = platform.token, platform.registry
    requester = roles.account(roles.requester)
    founder = roles.account(roles.hospitals[0])
    validator = roles.account(roles.validators[0])
    request = _rfm_request(
        spec_cid=spec_cid,
        token=token,
        price=config.analytics.price,
        goal=ANALYTICS_GOAL,
        min_validators=1,
        deadline=int(chain.time()) + 60 * 24 * 3600,
    )
    request = RFMRequest(**{**request.__dict__, "model_class": "federated-analytics"})
    gas.record(
        "fa/rfm approve fee",
        _transact(token.approve, registry, registry.creationFee(), sender=requester),
    )
    submitted = gas.record(
        "fa/rfm submit", _transact(registry.submit, request.as_tuple(), sender=requester)
    )
    rfm_id = int(submitted.events["RFMSubmitted"]["rfmId"])
    chain.mine()
    for member in roles.members[:2]:
        gas.record("fa/rfm endorse", _transact(registry.endorse, rfm_id, sender=member))
    approved = gas.record(
        "fa/rfm approve by endorsement",
        _transact(registry.approveByEndorsement, rfm_id, sender=requester),
    )
    fa = load_subdao_suite(approved.events["RFMApproved"]["subDAO"])
    gas.record(
        "fa/crowdfund", _transact(token.approve, fa.subdao, ANALYTICS_GOAL, sender=requester)
    )
    gas.record("fa/crowdfund", _transact(fa.subdao.contribute, ANALYTICS_GOAL, sender=requester))
    gas.record("fa/crowdfund", _transact(fa.subdao.closeCrowdfund, sender=requester))
    gas.record("fa/onboard", _transact(token.approve, fa.rounds, WAD, sender=founder))
    gas.record(
        "fa/onboard", _transact(fa.rounds.applyContributor, "attestation:fa", 0, sender=founder)
    )
    gas.record("fa/onboard", _transact(token.approve, fa.rounds, WAD, sender=validator))
    gas.record("fa/onboard", _transact(fa.rounds.applyValidator, WAD, sender=validator))
    gas.record(
        "fa/onboard",
        _transact(fa.rounds.launch, [founder], [FOUNDING_POINTS], [validator], sender=requester),
    )
    opened = _transact(fa.rounds.openRound, pipeline_cid, chain.time() + 60, sender=requester)
    round_id = int(gas.record("fa/bootstrap round", opened).events["RoundOpened"]["roundId"])
    gas.record(
        "fa/bootstrap round",
        _transact(fa.rounds.commitUpdate, round_id, pipeline_cid, sender=founder),
    )
    chain.sleep(61)
    chain.mine()
    gas.record(
        "fa/bootstrap round", _transact(fa.rounds.submitScores, round_id, [WAD], sender=validator)
    )
    gas.record(
        "fa/bootstrap round",
        _transact(fa.rounds.finalizeRound, round_id, pipeline_cid, 1_000_000, sender=requester),
    )
    params = (
        1,  # Analytics
        _bytes32("healthcare.oncology"),
        _bytes32("federated-analytics"),
        _bytes32("describe"),
        1_000_000,
        config.analytics.price,
        24 * 3600,
        _address(roles.operator),
        spec_cid,
        pipeline_cid,
    )
    chamber_execute(
        fa.technical,
        voters=[founder],
        actions=[
            action(fa.rounds, "acceptRound", round_id),
            action(deployment.marketplace, "list", fa.subdao, params),
        ],
        description="Accept the FA pipeline, list pay-per-query",
        gas=gas,
        step="fa/accept+list (technical chamber)",
    )
    return LifecycleDeployment(
        **{**deployment.__dict__, "analytics": fa, "analytics_splitter": fa.splitter}
    )


def claim_revenue(*, port: BrownieChainPort, backers: Sequence[str]) -> dict[str, dict[str, int]]:
    """Every contributor claims its SBGT-side revenue of every finished SBGT pool (eq. 10;
    a pool covers one model version and at most ``epochLength`` seconds, and is over once its
    end time passed, the next model version was accepted or the SubDAO retired; each
    contributor claims a pool once) and every backer its SDT side (eq. 11); idempotent
    (claims only what is owed, as listed by the splitter's ``claimablePools`` view). Returns
    what each party has claimed in total, read from the splitter's events."""
    d = port.deployment
    splitter = d.splitter
    last_pool = int(splitter.currentPoolId())
    for name in port.roles.hospitals:
        acct = port.roles.account(name)
        owed, total = splitter.claimablePools(acct, 1, last_pool)
        if int(total) > 0:
            port.gas.record(
                "revenue/claim SBGT (eq. 10)",
                _transact(splitter.claimSBGT, [int(i) for i in owed], sender=acct),
            )
    for name in backers:
        acct = port.roles.account(name)
        if int(splitter.claimableSDT(acct)) > 0:
            port.gas.record("revenue/claim SDT (eq. 11)", _transact(splitter.claimSDT, sender=acct))
    sbgt = {n: 0 for n in port.roles.hospitals}
    for log in port._logs(splitter, "SBGTRevenueClaimed"):
        sbgt[port.roles.name_of(log["args"]["account"])] += int(log["args"]["amount"])
    sdt = {n: 0 for n in backers}
    for log in port._logs(splitter, "SDTRevenueClaimed"):
        sdt[port.roles.name_of(log["args"]["account"])] += int(log["args"]["amount"])
    received, platform_paid, treasury_paid = splitter.totals()
    platform_acc, treasury_acc = splitter.accrued()
    return {
        "sbgt": sbgt,
        "sdt": sdt,
        "platform": {"accrued": int(platform_acc) + int(platform_paid)},
        "treasury": {"accrued": int(treasury_acc) + int(treasury_paid)},
        "received": {"total": int(received)},
    }


def revoke_malicious(*, port: BrownieChainPort, names: Sequence[str]) -> dict[str, int]:
    """The technical chamber revokes ``names`` for malice (001 §2.3): SBGT burned,
    collateral confiscated to the SubDAO treasury. Idempotent; returns name → collateral
    slashed (from ``ContributorRevoked``)."""
    suite = port.deployment.suite
    todo = [n for n in names if int(suite.rounds.contributor(port.roles.account(n))[0]) == 2]
    if todo:
        voters = [
            port.roles.account(n)
            for n in port.roles.hospitals
            if n not in names and int(suite.sbgt.pointsOf(port.roles.account(n))) > 0
        ]
        chamber_execute(
            suite.technical,
            voters=voters,
            actions=[
                action(suite.rounds, "revokeContributor", port.roles.account(n), 2) for n in todo
            ],
            description=f"Revoke for malice (label flipping): {', '.join(todo)}",
            gas=port.gas,
            step="technical/revoke poisoners",
        )
    out = {n: 0 for n in names}
    for log in port._logs(suite.rounds, "ContributorRevoked"):
        name = port.roles.name_of(log["args"]["account"])
        if name in out:
            out[name] += int(log["args"]["collateralSlashed"])
    return out


def _deployed(addresses: dict[str, Any]) -> bool:
    from brownie import web3

    for key in ("FLAIToken", "Marketplace"):
        if not web3.eth.get_code(addresses[key]):
            return False
    return True


def write_json(path: Any, document: Any) -> None:
    """Write ``document`` as JSON to ``path`` atomically (temporary file + rename)."""
    import json
    import os
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target)


class _PersistentGas(GasMeter):
    """A :class:`GasMeter` appended to a JSONL file, so a resumed run reports all the gas."""

    def __init__(self, path: Any) -> None:
        import json
        from pathlib import Path

        super().__init__()
        self.path = Path(path)
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    step, gas = json.loads(line)
                    self.entries.append((step, int(gas)))

    def record(self, step: str, tx: Any) -> Any:
        import json

        super().record(step, tx)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps([step, int(tx.gas_used)]) + "\n")
        return tx


def rfm_spec(config: Any) -> dict[str, Any]:
    """The RFM's objective/spec document (stored on IPFS; its CID goes on chain, 001 §8.1)."""
    return {
        "goal": "Predict binary response to an immunotherapy drug from EHR data; interpretable.",
        "scenario": config.name,
        "model_class": "binary-classifier",
        "data_schema": {"standard": "HL7-FHIR-R4", "resources": ["Observation", "Condition"]},
        "metric": {"id": "AUC", "threshold": 0.85},
        "governance": {"min_validators": len(config.validators), "epoch_length_s": 604800},
        "price": {"per_inference": str(config.inference.base_price), "unit": "FLAI wei"},
    }


def run_lifecycle(
    *, config: Any, accounts: Sequence[Any], storage: Any, workdir: Any, network: str
) -> dict[str, Any]:
    """Run (or resume) the whole RFM lifecycle of a scenario on the connected chain.

    Resolves the parties and checks their balances (before any transaction), deploys and
    sets up the protocol (:func:`setup_lifecycle`, :func:`setup_analytics`) unless
    ``workdir/deployment.json`` names a deployment that exists on this chain, runs
    :func:`flai.pipeline.run_scenario` over a :class:`BrownieChainPort`, revokes the
    poisoners (:func:`revoke_malicious`), forks a subtype child and retires the parent
    (:func:`fork_and_retire`, which ends the last inference epoch and SBGT pool), claims revenue
    (:func:`claim_revenue`) and returns the result document (with ``gas`` per step, the
    claims and the deployment's addresses).
    """
    import json
    from pathlib import Path

    from flai.pipeline.scenario import run_scenario

    work = Path(workdir)
    if config.network == "offline":
        raise ConfigError("network: 'offline' runs without a chain (python -m flai.pipeline)")
    roles = lifecycle_roles(config, accounts)
    check_funded(roles)
    gas = _PersistentGas(work / "gas.jsonl")
    spec_cid = storage.put_json(rfm_spec(config))
    stored = work / "deployment.json"
    deployment = None
    if stored.exists():
        addresses = json.loads(stored.read_text(encoding="utf-8"))
        if addresses.get("network") == network and _deployed(addresses):
            deployment = load_lifecycle(addresses)
    if deployment is None:
        deployment = setup_lifecycle(config=config, roles=roles, gas=gas, spec_cid=spec_cid)
        pipeline_cid = storage.put_json(
            {"kind": "describe", "features": list(config.analytics.features), "secure": "RSS"}
        )
        deployment = setup_analytics(
            config=config,
            roles=roles,
            deployment=deployment,
            gas=gas,
            spec_cid=spec_cid,
            pipeline_cid=pipeline_cid,
        )
        write_json(stored, deployment.addresses() | {"network": network})
    port = BrownieChainPort(
        deployment=deployment,
        roles=roles,
        gas=gas,
        base_price=config.inference.base_price,
        licence_cid=spec_cid,
    )
    result = run_scenario(config=config, port=port, storage=storage, workdir=work)
    poisoners = sorted(
        {n for r in result["rounds"] for n, flags in r["flags"].items() if "poisoner" in flags}
    )
    result["revoked"] = revoke_malicious(port=port, names=poisoners)
    result["fork"] = fork_and_retire(port=port)
    # the retirement ended the last SBGT pool: every pool is final and claimable
    claimed = claim_revenue(port=port, backers=list(config.backers))
    result["network"] = network
    result["revenue"]["claimed"] = claimed
    result["gas"] = gas.totals()
    result["gas_calls"] = gas.counts()
    result["deployment"] = deployment.addresses()
    result["listing"] = {"inference": port.listing_id(), "analytics": port.analytics_listing_id()}
    return result


# --- step functions ---
#
# What the thin step scripts (``scripts/submit_rfm.py``, ``run_round.py``,
# ``serve_inference.py``, ``distribute_revenue.py``) call, plus :func:`fork_and_retire`, the
# last lifecycle step. Each reads where it stands from chain state or events (resumable).

_STATE_NAMES = ("Crowdfunding", "Onboarding", "Training", "Deployed", "Retired", "Failed")
_RETIRED = 4

#: Fields of an RFM spec file: name → (types, required). The ``objective`` and any extra
#: keys are kept in the IPFS document only; the rest become ``RFMParams`` (001 §8.1).
RFM_SPEC_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "objective": ((str,), True),
    "domain": ((str,), True),
    "model_class": ((str,), True),
    "data_schema": ((str,), True),
    "metric_id": ((str,), True),
    "metric_threshold": ((int, float), True),
    "min_validators": ((int,), True),
    "quorum_bps": ((int,), False),
    "epoch_length": ((int,), False),
    "crowdfund_days": ((int,), True),
    "price_per_inference": ((int,), True),
    "crowdfund_goal": ((int,), True),
    "sdt_per_payment_unit": ((int,), False),
    "sdt_cap": ((int,), False),
}


def _field_error(field: str, problem: str) -> ConfigError:
    return ConfigError(f"{field}: {problem}")


def parse_rfm_spec(document: Any) -> dict[str, Any]:
    """Validate a decoded RFM spec document (JSON/YAML); return it with defaults filled.

    Raises
    ------
    ConfigError
        Naming the first bad field (missing, wrong type, out of range, longer than a
        bytes32 tag), before anything is sent.
    """
    if not isinstance(document, dict):
        raise _field_error("<spec>", f"expected a mapping, got {type(document).__name__}")
    for name, (types, required) in RFM_SPEC_FIELDS.items():
        if name not in document:
            if required:
                raise _field_error(name, "missing")
            continue
        value = document[name]
        if isinstance(value, bool) or not isinstance(value, types):
            kinds = " or ".join(t.__name__ for t in types)
            raise _field_error(name, f"expected {kinds}, got {type(value).__name__}")
    for tag in ("domain", "model_class", "data_schema", "metric_id"):
        if not document[tag] or len(document[tag].encode()) > 32:
            raise _field_error(tag, "must be 1..32 bytes (a bytes32 tag)")
    if not 0 < float(document["metric_threshold"]) <= 1:
        raise _field_error("metric_threshold", "must be in (0, 1]")
    for name in ("min_validators", "crowdfund_days", "price_per_inference", "crowdfund_goal"):
        if int(document[name]) <= 0:
            raise _field_error(name, "must be positive")
    spec = {
        "quorum_bps": 2_000,
        "epoch_length": 7 * 24 * 3600,
        "sdt_per_payment_unit": WAD,
        "sdt_cap": 10**9 * WAD,
    } | dict(document)
    if not 0 < int(spec["quorum_bps"]) <= 10_000:
        raise _field_error("quorum_bps", "must be in (0, 10000]")
    return spec


def load_rfm_spec(path: Any) -> dict[str, Any]:
    """Read and validate an RFM spec file (``.json``, ``.yaml``/``.yml``)."""
    import json
    from pathlib import Path

    import yaml

    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
        doc = yaml.safe_load(text) if source.suffix in (".yaml", ".yml") else json.loads(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise _field_error("<file>", f"cannot read RFM spec {source}: {exc}") from exc
    return parse_rfm_spec(doc)


def load_deployment(path: Any, *, network: str) -> dict[str, Any]:
    """The addresses in ``deployments/<network>.json`` (written by ``rfm_lifecycle``).

    Raises :class:`ConfigError` if the file is missing, unreadable or lacks a key, and
    :class:`ChainError` if its contracts are not on the connected chain."""
    import json
    from pathlib import Path

    source = Path(path)
    try:
        addresses = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _field_error(
            "<deployment>", f"cannot read {source} (run scripts/rfm_lifecycle.py first): {exc}"
        ) from exc
    for key in ("FLAIToken", "RFMRegistry", "Marketplace", "rfmId", "startBlock", "suite"):
        if key not in addresses:
            raise _field_error(key, f"missing from {source}")
    if not _deployed(addresses):
        raise ChainError(f"{source}: the contracts are not deployed on network {network!r}")
    return dict(addresses)


@contextmanager
def step_storage(workdir: Any) -> Iterator[Any]:
    """The IPFS store of a step: a Kubo/local backend if ``$FLAI_IPFS_API`` is set
    (:func:`flai.storage.open_storage`), else the embedded node on ``workdir/ipfs`` — the
    repo ``scripts/rfm_lifecycle.py`` used, so the CIDs on chain resolve."""
    import os
    from pathlib import Path

    from flai.storage import IpfsHttpStorage, IpfsNode, open_storage

    if os.environ.get("FLAI_IPFS_API", "").strip():
        storage = open_storage()
        try:
            yield storage
        finally:
            close = getattr(storage, "close", None)
            if close is not None:
                close()
        return
    with IpfsNode(repo=Path(workdir) / "ipfs", host="127.0.0.1", port=0) as node:
        http = IpfsHttpStorage(address=node.address)
        try:
            yield http
        finally:
            http.close()


def step_port(
    *, config: Any, accounts: Sequence[Any], addresses: dict[str, Any], gas: GasMeter
) -> BrownieChainPort:
    """A :class:`BrownieChainPort` over an existing deployment (parties checked first; the
    licence CID is the RFM's spec CID, read from the registry)."""
    roles = lifecycle_roles(config, accounts)
    check_funded(roles)
    deployment = load_lifecycle(addresses)
    params = deployment.protocol.platform.registry.getParams(deployment.rfm_id)
    return BrownieChainPort(
        deployment=deployment,
        roles=roles,
        gas=gas,
        base_price=config.inference.base_price,
        licence_cid=str(params[0]),
    )


def submit_rfm(
    *,
    deployment: LifecycleDeployment,
    roles: LifecycleRoles,
    spec: dict[str, Any],
    storage: Any,
    gas: GasMeter,
) -> dict[str, Any]:
    """Put ``spec`` (validated by :func:`parse_rfm_spec`) on IPFS and submit it to the
    registry from the requester, paying the creation fee (001 §8.1). Idempotent: an RFM
    with the same spec CID already submitted is returned, not resubmitted.
    Returns ``{"rfm_id", "spec_cid", "status"}``."""
    from brownie import chain

    spec = parse_rfm_spec(spec)
    spec_cid = storage.put_json(spec)
    registry, token = deployment.protocol.platform.registry, deployment.protocol.platform.token
    requester = roles.account(roles.requester)
    for log in _contract_logs(registry, "RFMSubmitted", deployment.start_block):
        rid = int(log["args"]["rfmId"])
        if str(registry.getParams(rid)[0]) == spec_cid:
            return {"rfm_id": rid, "spec_cid": spec_cid, "status": int(registry.getRFM(rid)[1])}
    request = RFMRequest(
        spec_cid=spec_cid,
        domain=spec["domain"],
        model_class=spec["model_class"],
        data_schema=spec["data_schema"],
        metric_id=spec["metric_id"],
        metric_threshold=float(spec["metric_threshold"]),
        min_validators=int(spec["min_validators"]),
        quorum_bps=int(spec["quorum_bps"]),
        epoch_length=int(spec["epoch_length"]),
        crowdfund_deadline=int(chain.time()) + int(spec["crowdfund_days"]) * 24 * 3600,
        payment_token=_address(token),
        price_per_inference=int(spec["price_per_inference"]),
        crowdfund_goal=int(spec["crowdfund_goal"]),
        sdt_per_payment_unit=int(spec["sdt_per_payment_unit"]),
        sdt_cap=int(spec["sdt_cap"]),
    )
    fee = int(registry.creationFee())
    if int(token.balanceOf(requester)) < fee:
        raise ChainError(f"requester {roles.requester} cannot pay the creation fee {fee}")
    gas.record("rfm/approve fee", _transact(token.approve, registry, fee, sender=requester))
    tx = gas.record("rfm/submit", _transact(registry.submit, request.as_tuple(), sender=requester))
    rid = int(tx.events["RFMSubmitted"]["rfmId"])
    return {"rfm_id": rid, "spec_cid": spec_cid, "status": int(registry.getRFM(rid)[1])}


def _contract_logs(contract: Any, event: str, start: int, **filters: Any) -> list[Any]:
    from brownie import web3
    from web3 import Web3

    c = web3.eth.contract(address=Web3.to_checksum_address(_address(contract)), abi=contract.abi)
    return list(
        getattr(c.events, event)().get_logs(from_block=start, argument_filters=filters or None)
    )


def _require_live(port: BrownieChainPort, what: str) -> None:
    state = int(port.deployment.suite.subdao.state())
    if state not in (2, 3):  # Training, Deployed
        raise ChainError(
            f"SubDAO {_address(port.deployment.suite.subdao)} is {_STATE_NAMES[state]}: "
            f"{what} needs it Training or Deployed"
        )


def run_one_round(
    *, config: Any, port: BrownieChainPort, storage: Any, workdir: Any
) -> dict[str, Any]:
    """Run (or resume) one training round through :mod:`flai.pipeline` (train → check →
    seal → IPFS → commit → score → consensus → secure aggregation → vote) from the accepted
    model on chain (zeros before the first).

    The round is the chain's last one if it is still open or finalized (a crashed run is
    resumed), else a new one. Its journal is ``workdir/round-<id>.jsonl``; the parties'
    keys are in ``workdir/keys``. Returns the round record (JSON)."""
    from pathlib import Path

    from flai.fl import LogisticModel
    from flai.pipeline.journal import Journal
    from flai.pipeline.ports import RoundPhase
    from flai.pipeline.roles import KeyStore
    from flai.pipeline.round_flow import fetch, run_round_flow
    from flai.pipeline.scenario import build_setting, run_id

    _require_live(port, "a training round")
    work = Path(workdir)
    setting = build_setting(config, keys=KeyStore(directory=work / "keys"))
    count = port.round_count()
    settled = (RoundPhase.NONE, RoundPhase.ACCEPTED, RoundPhase.REJECTED)
    target = count + 1 if count == 0 or port.round_phase(count) in settled else count
    journal = Journal(path=work / f"round-{target}.jsonl", run_id=f"{run_id(config)}:step")
    try:
        journal.once("scenario/base-round", lambda: 0)
        model = LogisticModel.zeros(setting.test.num_features)
        global_cid = (
            journal.result(f"round/{target - 1}/global")
            if journal.is_done(f"round/{target - 1}/global")
            else port.model_version()[1]
        )
        if global_cid is not None:
            model = LogisticModel.from_bytes(fetch(storage, global_cid, step="round/base-model"))
        record, _ = run_round_flow(
            t=target - 1,
            fed=setting.federation,
            global_model=model,
            port=port,
            storage=storage,
            journal=journal,
            test_auc_of=lambda m: m.evaluate(setting.test, "auc"),
            down_nodes=config.compute.down_in(target - 1),
        )
    finally:
        journal.close()
    return dict(record.to_json())


def serve_requests(
    *, config: Any, port: BrownieChainPort, storage: Any, workdir: Any, count: int
) -> list[dict[str, Any]]:
    """Pay and serve ``count`` inference requests of the scenario's request plan through
    the secret-shared accepted model (resumable: requests paid but not fulfilled before a
    crash are found from ``Requested`` events and served once). Returns the outcomes.

    Only requests sealed under this workdir's journal can be served: a query is sealed by
    its user to the compute nodes' keys (``workdir/keys``) with a query id the operator
    learns from the journal, so foreign pending requests are out of reach."""
    from pathlib import Path

    from flai.fl import LogisticModel
    from flai.mpc import InferenceConfig
    from flai.pipeline.inference import SecretSharedService, serve_inference
    from flai.pipeline.journal import Journal
    from flai.pipeline.roles import KeyStore
    from flai.pipeline.round_flow import fetch
    from flai.pipeline.scenario import build_setting, run_id

    if count <= 0:
        raise ConfigError(f"count: must be positive, got {count}")
    _require_live(port, "paid inference")
    version, cid = port.model_version()
    if cid is None:
        raise ChainError("no accepted model version to serve: run a round first")
    work = Path(workdir)
    setting = build_setting(config, keys=KeyStore(directory=work / "keys"))
    if count > len(setting.requests):
        raise ConfigError(f"count: the request plan has {len(setting.requests)} requests")
    model = LogisticModel.from_bytes(fetch(storage, cid, step="market/model"))
    fed = setting.federation
    service = SecretSharedService(
        model=model,
        nodes=fed.compute_nodes,
        config=InferenceConfig(n_nodes=config.compute.nodes, threshold=config.compute.threshold),
    )
    journal = Journal(path=work / f"serve-v{version}.jsonl", run_id=f"{run_id(config)}:serve")
    try:
        served = serve_inference(
            service=service,
            model=model,
            requests=[
                (setting.users[u], setting.test.X[row]) for u, row in setting.requests[:count]
            ],
            port=port,
            storage=storage,
            journal=journal,
            available=[n.index for n in fed.compute_nodes],
        )
    finally:
        journal.close()
    return [o.to_json() for o in served]


def distribute_revenue(*, port: BrownieChainPort, backers: Sequence[str]) -> dict[str, Any]:
    """Release the accrued platform and SubDAO-treasury shares, sweep the SDT dust, then let
    every party claim (:func:`claim_revenue`). Each transaction is sent only when it moves
    something, so a rerun sends nothing new. Returns the claims plus what was released."""
    splitter = port.deployment.splitter
    caller = port.roles.deployer
    platform_acc, treasury_acc = (int(a) for a in splitter.accrued())
    if platform_acc + treasury_acc > 0:
        port.gas.record(
            "revenue/release treasuries", _transact(splitter.releaseTreasuries, sender=caller)
        )
    if int(splitter.sweepDust.call({"from": caller})) > 0:
        port.gas.record("revenue/sweep dust", _transact(splitter.sweepDust, sender=caller))
    claimed = claim_revenue(port=port, backers=backers)
    released = {"platform": 0, "treasury": 0}
    for log in port._logs(splitter, "TreasuriesReleased"):
        released["platform"] += int(log["args"]["toPlatform"])
        released["treasury"] += int(log["args"]["toSubDAO"])
    claimed["released"] = released
    claimed["dust"] = {
        "swept": sum(int(g["args"]["amount"]) for g in port._logs(splitter, "DustSwept"))
    }
    return claimed


#: The subtype the fork specialises the parent's model to (001 §2.4 fork: a child SubDAO
#: for a narrower task starting from the parent's model).
FORK_DOMAIN = "healthcare.oncology.nsclc"


def fork_and_retire(*, port: BrownieChainPort, goal: int = 100 * WAD) -> dict[str, Any]:
    """The technical chamber forks a subtype child SubDAO (recording the parent and the
    parent's current model version, ``lineage()``) and retires the parent: no new rounds,
    and the marketplace refuses new requests on its listing (``MarketListingRetired``).

    Resumable from chain state: a child already forked is found from the parent's
    ``Forked`` events and a Retired parent is not retired again; both actions (whatever is
    left) pass in one proposal. Returns ``{"child", "parent", "parent_model_version",
    "parent_state", "listing"}``."""
    from brownie import chain

    suite = port.deployment.suite
    parent = suite.subdao
    forked = port._logs(parent, "Forked")
    actions = []
    if not forked:
        params = _rfm_request(
            spec_cid=port.licence_cid,
            token=port.deployment.protocol.platform.token,
            price=port.base_price,
            goal=goal,
            min_validators=max(1, len(port.roles.validators)),
            deadline=int(chain.time()) + 60 * 24 * 3600,
        )
        params = RFMRequest(**{**params.__dict__, "domain": FORK_DOMAIN})
        actions.append(action(parent, "fork", params.as_tuple()))
    if int(parent.state()) != _RETIRED:
        actions.append(action(parent, "retire"))
    if actions:
        voters = [
            port.roles.account(n)
            for n in port.roles.hospitals
            if int(suite.sbgt.pointsOf(port.roles.account(n))) > 0
        ]
        version = int(parent.modelVersion()[0])
        chamber_execute(
            suite.technical,
            voters=voters,
            actions=actions,
            description=f"Fork a {FORK_DOMAIN} child from model version {version}; retire",
            gas=port.gas,
            step="technical/fork+retire",
        )
        forked = port._logs(parent, "Forked")
    child = str(forked[-1]["args"]["child"])
    lineage_parent, lineage_version = load_subdao_suite(child).subdao.lineage()
    return {
        "child": child,
        "parent": _address(parent),
        "lineage_parent": str(lineage_parent),
        "parent_model_version": int(lineage_version),
        "parent_state": _STATE_NAMES[int(parent.state())],
        "domain": FORK_DOMAIN,
        "listing": port.listing_id(),
    }
