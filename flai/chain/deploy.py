"""Deploy functions: the SuperDAO platform, the SubDAO factory, the market, and their clones.

The scripts (``scripts/deploy.py``, the lifecycle), the benches and the test fixtures all
deploy through these functions, so what is tested is what is deployed. Each returns every
contract it deployed, implementations included, so no caller looks one up by deployment
order.

References
----------
FLAI whitepaper (000) §6.2–6.3, §7.1; FLAI protocol (001) §2.1, §8.1–8.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flai.chain.abi import ActionKindRule, Address, Module, ProposalKind, RevenueDefaults, Selector
from flai.chain.errors import ConfigError
from flai.chain.plumbing import Account, Contract, address, deploy, project, transact
from flai.pipeline.revenue import RevenueShares

__all__ = [
    "ClonerDeployment",
    "MarketDeployment",
    "PlatformConfig",
    "PlatformDeployment",
    "ProtocolDeployment",
    "SubDAOFactoryDeployment",
    "SubDAOSuite",
    "deploy_bounty_pool",
    "deploy_market",
    "deploy_market_cloner",
    "deploy_marketplace",
    "deploy_platform",
    "deploy_protocol",
    "deploy_revenue_splitter",
    "deploy_subdao_factory",
    "load_subdao_suite",
]

WAD = 10**18
BPS = 10_000

#: Blocks between a chamber proposal and its snapshot.
DEFAULT_VOTING_DELAY = 1
#: Blocks a chamber vote stays open (about one week of 12 s blocks).
DEFAULT_VOTING_PERIOD = 50_400

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


# --- SuperDAO platform layer ---------------------------------------------------------------


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
        checks = (
            ("total_supply", self.total_supply > 0, "must be positive"),
            (
                "treasury_allocation",
                0 <= self.treasury_allocation <= self.total_supply,
                "must lie in [0, total_supply]",
            ),
            (
                "exit_fee_bps",
                0 <= self.exit_fee_bps <= 1_000,
                "must lie in [0, 1000] (the contract's MAX_EXIT_FEE_BPS)",
            ),
            ("voting_delay", self.voting_delay >= 1, "must be at least one block"),
            ("voting_period", self.voting_period >= 1, "must be at least one block"),
            ("quorum_percent", 0 <= self.quorum_percent <= 100, "must lie in [0, 100]"),
            ("submission_ttl", self.submission_ttl > 0, "must be positive"),
            (
                "endorsement_threshold_bps",
                0 < self.endorsement_threshold_bps <= BPS,
                "must lie in (0, 10000]",
            ),
            (
                "endorsement_stake_age",
                0 < self.endorsement_stake_age < 2**32,
                "must lie in [1, 2**32)",
            ),
            (
                "rejection_refund_bps",
                0 <= self.rejection_refund_bps <= BPS,
                "must lie in [0, 10000]",
            ),
            ("success_refund_bps", 0 <= self.success_refund_bps <= BPS, "must lie in [0, 10000]"),
        )
        for name, ok, problem in checks:
            if not ok:
                raise ConfigError(problem, field=name)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> PlatformConfig:
        """Builds a config from a mapping (e.g. a YAML/JSON file); unknown keys are errors."""
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown platform config keys: {sorted(unknown)}", field="<file>")
        fixed: dict[str, Any] = {
            k: tuple(tuple(p) for p in v) if k.endswith("_actions") else v
            for k, v in values.items()
        }
        if "payment_tokens" in fixed:
            fixed["payment_tokens"] = tuple(fixed["payment_tokens"])
        return cls(**fixed)


@dataclass(frozen=True)
class PlatformDeployment:
    """The deployed platform contracts."""

    token: Contract
    staking: Contract
    timelock: Contract
    governor: Contract
    registry: Contract


#: A SubDAO factory given to :func:`deploy_platform`: an address, or a callable that gets
#: the freshly deployed registry and returns the factory (for factories that must know
#: their registry at construction).
FactorySource = Any


def deploy_platform(
    *, deployer: Account, config: PlatformConfig | None = None, factory: FactorySource = None
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
        Account paying for and temporarily administering the deployment.
    config
        Platform parameters; :class:`PlatformConfig` defaults when omitted.
    factory
        SubDAO factory for RFM approvals (see :data:`FactorySource`); when omitted the
        registry has none and governance must call ``setFactory`` before approving.
    """
    cfg = config or PlatformConfig()
    p = project()

    token = deploy(
        p.FLAIToken, cfg.token_name, cfg.token_symbol, deployer, cfg.total_supply, sender=deployer
    )
    timelock = deploy(
        p.TimelockController, cfg.timelock_min_delay, [], [], deployer, sender=deployer
    )
    staking = deploy(
        p.SuperDAOStaking,
        token,
        timelock,
        deployer,
        cfg.minimum_stake,
        cfg.exit_fee_bps,
        sender=deployer,
    )
    registry = deploy(
        p.RFMRegistry,
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
        sender=deployer,
    )
    components = {"token": token, "staking": staking, "registry": registry}
    rules = _action_rules(components, cfg.rfm_decision_actions, ProposalKind.RFM_APPROVAL)
    rules += _action_rules(components, cfg.operational_actions, ProposalKind.OPERATIONAL)
    governor = deploy(
        p.SuperDAOGovernor,
        staking,
        timelock,
        cfg.voting_delay,
        cfg.voting_period,
        cfg.proposal_threshold,
        cfg.quorum_percent,
        [rule.as_tuple() for rule in rules],
        sender=deployer,
    )

    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        transact(timelock.grantRole, getattr(timelock, role)(), governor, sender=deployer)
    if factory is not None:
        transact(
            registry.setFactory,
            address(factory(registry) if callable(factory) else factory),
            sender=deployer,
        )
    for payment_token in cfg.payment_tokens:
        transact(registry.setPaymentTokenAllowed, address(payment_token), True, sender=deployer)
    transact(staking.transferOwnership, timelock, sender=deployer)
    transact(registry.transferOwnership, timelock, sender=deployer)
    transact(timelock.renounceRole, timelock.DEFAULT_ADMIN_ROLE(), deployer, sender=deployer)
    if cfg.treasury_allocation:
        transact(token.transfer, timelock, cfg.treasury_allocation, sender=deployer)
    return PlatformDeployment(
        token=token, staking=staking, timelock=timelock, governor=governor, registry=registry
    )


def _action_rules(
    components: dict[str, Contract], entries: Sequence[tuple[str, str]], kind: ProposalKind
) -> list[ActionKindRule]:
    rules = []
    for component, function in entries:
        if component not in components:
            raise ConfigError(
                f"unknown component {component!r} in action classification", field="actions"
            )
        contract = components[component]
        if function not in contract.signatures:
            raise ConfigError(f"{component} has no function {function!r}", field="actions")
        rules.append(
            ActionKindRule(
                target=contract.address,
                selector=Selector(str(contract.signatures[function])),
                kind=kind,
            )
        )
    return rules


# --- SubDAO suite ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubDAOFactoryDeployment:
    """The SubDAO factory and the implementations its clones delegate to (initializers
    disabled); ``createSubDAO`` is restricted to the RFM registry."""

    factory: Contract
    subdao_impl: Contract
    sbgt_impl: Contract
    sdt_impl: Contract
    chamber_impl: Contract
    rounds_impl: Contract
    splitter_impl: Contract


@dataclass(frozen=True)
class SubDAOSuite:
    """Contract objects of one SubDAO suite (001 §8.2), incl. its revenue splitter."""

    subdao: Contract
    sbgt: Contract
    sdt: Contract
    technical: Contract
    financial: Contract
    rounds: Contract
    splitter: Contract


def deploy_subdao_factory(
    *,
    deployer: Account,
    registry: Any,
    flai_token: Any,
    platform_treasury: Any,
    platform_admin: Any,
    revenue_shares: RevenueShares | None = None,
    voting_delay: int = DEFAULT_VOTING_DELAY,
    voting_period: int = DEFAULT_VOTING_PERIOD,
) -> SubDAOFactoryDeployment:
    """Deploy the six implementations and the SubDAO factory.

    Parameters
    ----------
    deployer
        Account paying for the deployment.
    registry
        The RFM registry (the only caller of ``createSubDAO``).
    flai_token
        The FLAI token (validator deposits, contributor collateral, slashing).
    platform_treasury, platform_admin
        Receiver of the platform share and the account that sets it (and the SubDAO treasury
        bounds) on every splitter the factory creates (the SuperDAO timelock in a deployment).
    revenue_shares
        Initial shares of every new splitter (:class:`RevenueShares` defaults when omitted);
        afterwards each SubDAO's financial chamber sets its treasury and SBGT shares.
    voting_delay, voting_period
        Chamber voting delay/period in blocks (immutables of the chamber implementation).
    """
    p = project()
    subdao_impl = deploy(p.SubDAO, sender=deployer)
    sbgt_impl = deploy(p.SBGT, sender=deployer)
    sdt_impl = deploy(p.SDT, sender=deployer)
    chamber_impl = deploy(p.SubDAOChamber, voting_delay, voting_period, sender=deployer)
    rounds_impl = deploy(p.TrainingRounds, address(flai_token), sender=deployer)
    splitter_impl = deploy(p.RevenueSplitter, sender=deployer)
    impls = (
        subdao_impl.address,
        sbgt_impl.address,
        sdt_impl.address,
        chamber_impl.address,
        chamber_impl.address,
        rounds_impl.address,
        splitter_impl.address,
    )
    defaults = RevenueDefaults(
        platform_treasury=Address(address(platform_treasury)),
        platform_admin=Address(address(platform_admin)),
        shares=revenue_shares or RevenueShares(),
    )
    factory = deploy(
        p.SubDAOFactory, address(registry), impls, defaults.as_tuple(), sender=deployer
    )
    return SubDAOFactoryDeployment(
        factory=factory,
        subdao_impl=subdao_impl,
        sbgt_impl=sbgt_impl,
        sdt_impl=sdt_impl,
        chamber_impl=chamber_impl,
        rounds_impl=rounds_impl,
        splitter_impl=splitter_impl,
    )


def load_subdao_suite(subdao_address: str) -> SubDAOSuite:
    """Contract objects for the suite behind a SubDAO address (modules read from the hub)."""
    p = project()
    hub = p.SubDAO.at(subdao_address)
    return SubDAOSuite(
        subdao=hub,
        sbgt=p.SBGT.at(hub.module(Module.SBGT)),
        sdt=p.SDT.at(hub.module(Module.SDT)),
        technical=p.SubDAOChamber.at(hub.module(Module.TECHNICAL_CHAMBER)),
        financial=p.SubDAOChamber.at(hub.module(Module.FINANCIAL_CHAMBER)),
        rounds=p.TrainingRounds.at(hub.module(Module.TRAINING_ROUNDS)),
        splitter=p.RevenueSplitter.at(hub.module(Module.REVENUE_SPLITTER)),
    )


# --- whole protocol --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolDeployment:
    """The SuperDAO platform wired to the real SubDAO factory."""

    platform: PlatformDeployment
    subdao: SubDAOFactoryDeployment


def deploy_protocol(
    *,
    deployer: Account,
    config: PlatformConfig | None = None,
    chamber_voting_delay: int = DEFAULT_VOTING_DELAY,
    chamber_voting_period: int = DEFAULT_VOTING_PERIOD,
    revenue_shares: RevenueShares | None = None,
) -> ProtocolDeployment:
    """Deploys the platform (:func:`deploy_platform`) with the SubDAO factory of
    :func:`deploy_subdao_factory` as the registry's factory, so an approved RFM creates its
    whole suite (revenue splitter included) in the approving transaction.
    ``chamber_voting_delay``/``_period`` (blocks) are the SubDAO chambers' (a local demo uses
    a short period); every splitter pays its platform share to the timelock, which is also
    its platform admin, and starts with ``revenue_shares`` (:class:`RevenueShares` defaults)."""
    built: list[SubDAOFactoryDeployment] = []

    def factory(registry: Contract) -> Contract:
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


# --- marketplace & revenue -------------------------------------------------------------------


@dataclass(frozen=True)
class ClonerDeployment:
    """The ``MarketCloner`` and the implementations of the market modules it clones for
    SubDAO stand-ins: a stand-alone ``RevenueSplitter`` and a round-bounty ``BountyPool``."""

    cloner: Contract
    splitter_impl: Contract
    bounty_impl: Contract


@dataclass(frozen=True)
class MarketDeployment:
    """The platform-wide ``Marketplace`` and the module cloner beside it."""

    cloner: ClonerDeployment
    marketplace: Contract


def deploy_market_cloner(*, deployer: Account) -> ClonerDeployment:
    """Deploy the ``MarketCloner`` and the splitter / bounty-pool implementations it clones."""
    p = project()
    cloner = deploy(p.MarketCloner, sender=deployer)
    splitter_impl = deploy(p.RevenueSplitter, sender=deployer)
    bounty_impl = deploy(p.BountyPool, sender=deployer)
    return ClonerDeployment(cloner=cloner, splitter_impl=splitter_impl, bounty_impl=bounty_impl)


def deploy_marketplace(*, deployer: Account, token_policy: Contract | str) -> Contract:
    """Deploy the platform-wide ``Marketplace`` (one registry of listings for every SubDAO).

    ``token_policy`` is the payment-token allow-list it consults when a SubDAO lists (the
    platform's RFM registry).
    """
    return deploy(project().Marketplace, address(token_policy), sender=deployer)


def deploy_market(*, deployer: Account, token_policy: Contract | str) -> MarketDeployment:
    """Deploy the module cloner with its implementations and the marketplace."""
    return MarketDeployment(
        cloner=deploy_market_cloner(deployer=deployer),
        marketplace=deploy_marketplace(deployer=deployer, token_policy=token_policy),
    )


def _clone(
    *, deployer: Account, cloner: ClonerDeployment, implementation: Contract, init_data: str
) -> str:
    tx = transact(cloner.cloner.clone, implementation, init_data, sender=deployer)
    return str(tx.events["ModuleCloned"]["clone"])


def deploy_revenue_splitter(
    *,
    deployer: Account,
    cloner: ClonerDeployment,
    subdao: Any,
    token: Any,
    platform_treasury: Any,
    platform_admin: Any,
    shares: RevenueShares,
    epoch_length: int,
) -> Contract:
    """Clone and initialize a stand-alone ``RevenueSplitter`` for ``subdao``.

    A factory-made SubDAO already has its splitter (``SubDAOSuite.splitter``, module slot
    :attr:`~flai.chain.abi.Module.REVENUE_SPLITTER`, the SDT's balance hook since creation,
    its SBGT pools ``epochLength`` seconds long from the RFM); this helper serves SubDAO
    stand-ins (the market unit tests' ``MarketTestSubDAO``), whose SDT hook the caller sets.
    ``epoch_length`` (seconds, > 0) bounds each SBGT pool.
    """
    impl = cloner.splitter_impl
    data = impl.initialize.encode_input(
        subdao, token, platform_treasury, platform_admin, shares.as_tuple(), epoch_length
    )
    clone = _clone(deployer=deployer, cloner=cloner, implementation=impl, init_data=data)
    return project().RevenueSplitter.at(clone)


def deploy_bounty_pool(
    *, deployer: Account, cloner: ClonerDeployment, subdao: Any, flai: Any, platform_treasury: Any
) -> Contract:
    """Clone and initialize a SubDAO's FLAI round-bounty ``BountyPool`` (000 §3, 003 Alg. 2)."""
    impl = cloner.bounty_impl
    data = impl.initialize.encode_input(subdao, flai, platform_treasury)
    clone = _clone(deployer=deployer, cloner=cloner, implementation=impl, init_data=data)
    return project().BountyPool.at(clone)
