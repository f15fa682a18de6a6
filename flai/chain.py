"""Chain adapter: the only module of the ``flai`` package that talks to brownie.

brownie is imported lazily inside each function, so importing :mod:`flai.chain` (or anything
else in ``flai``) never needs a node. Each layer of the protocol owns one section below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_VOTING_DELAY",
    "DEFAULT_VOTING_PERIOD",
    "SubDAOFactoryDeployment",
    "SubDAOSuite",
    "deploy_subdao_factory",
    "load_subdao_suite",
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
