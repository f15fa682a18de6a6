"""Chain adapter: the only module of the ``flai`` package that talks to brownie.

brownie is imported lazily inside each function, so importing :mod:`flai.chain` (or anything
else in ``flai``) never needs a node. Each layer of the protocol owns one section below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "SubDAOFactoryDeployment",
    "SubDAOSuite",
    "DEFAULT_VOTING_DELAY",
    "DEFAULT_VOTING_PERIOD",
    "deploy_subdao_factory",
    "load_subdao_suite",
    "MarketShares",
    "deploy_bounty_pool",
    "deploy_market_cloner",
    "deploy_marketplace",
    "deploy_revenue_splitter",
]


def _project() -> Any:
    """The loaded brownie project (loading the repository root if none is loaded yet)."""
    import brownie

    loaded = brownie.project.get_loaded_projects()
    if loaded:
        return loaded[0]
    from pathlib import Path

    return brownie.project.load(Path(__file__).resolve().parents[1])


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
        return (self.platform_bps, self.treasury_bps, self.sbgt_bps, self.min_treasury_bps,
                self.max_treasury_bps)


def deploy_market_cloner(*, deployer: Any) -> Any:
    """Deploy the ``MarketCloner`` and the splitter / bounty-pool implementations it clones."""
    b = _project()
    cloner = b.MarketCloner.deploy({"from": deployer})
    b.RevenueSplitter.deploy({"from": deployer})
    b.BountyPool.deploy({"from": deployer})
    return cloner


def _clone(*, deployer: Any, cloner: Any, implementation: Any, init_data: str, container: Any) -> Any:
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
    data = impl.initialize.encode_input(subdao, token, platform_treasury, platform_admin, shares.as_tuple())
    return _clone(deployer=deployer, cloner=cloner, implementation=impl, init_data=data,
                  container=b.RevenueSplitter)


def deploy_bounty_pool(*, deployer: Any, cloner: Any, subdao: Any, flai: Any, platform_treasury: Any) -> Any:
    """Clone and initialize a SubDAO's FLAI round-bounty ``BountyPool`` (000 §3, 003 Alg. 2)."""
    b = _project()
    impl = b.BountyPool[-1]
    data = impl.initialize.encode_input(subdao, flai, platform_treasury)
    return _clone(deployer=deployer, cloner=cloner, implementation=impl, init_data=data, container=b.BountyPool)


def deploy_marketplace(*, deployer: Any) -> Any:
    """Deploy the platform-wide ``Marketplace`` (one registry of listings for every SubDAO)."""
    return _project().Marketplace.deploy({"from": deployer})
