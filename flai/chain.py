"""Chain adapter: the only module of ``flai`` that talks to brownie (imported lazily).

Sections are owned by the layer they deploy; each deploy function is what the scripts and
the test fixtures both call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "MarketShares",
    "deploy_bounty_pool",
    "deploy_market_cloner",
    "deploy_marketplace",
    "deploy_revenue_splitter",
]


def _project() -> Any:
    import brownie

    return brownie


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
