"""The lifecycle's chain side: deploy (or find) a scenario's contracts and build its port.

:func:`setup_lifecycle` deploys the protocol and the market and brings the scenario's RFM
to a training SubDAO with an analytics SubDAO beside it, through the same steps the
README's scripts run one by one (:mod:`flai.chain.steps`). :func:`open_lifecycle` does
that once per work directory (or loads what ``workdir/deployment.json`` names) and returns
the :class:`~flai.chain.port.BrownieChainPort` the off-chain lifecycle
(:func:`flai.pipeline.run_lifecycle`) drives; :func:`step_port` builds the port of a step
script from a deployment file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flai.chain.abi import RFMParams
from flai.chain.deploy import PlatformConfig, deploy_market, deploy_protocol
from flai.chain.deployments import (
    Deployment,
    DeploymentRecord,
    load_deployment,
    read_deployment,
    write_deployment,
)
from flai.chain.errors import ChainError, ConfigError
from flai.chain.plumbing import Account, GasMeter, block_number, has_code
from flai.chain.port import BrownieChainPort
from flai.chain.roles import LifecycleRoles, check_funded, lifecycle_roles
from flai.chain.steps import approve_rfm, fund_parties, setup_analytics, submit_rfm
from flai.pipeline.config import ScenarioConfig
from flai.storage import Storage

__all__ = ["deploy_all", "open_lifecycle", "setup_lifecycle", "step_port"]


def deploy_all(
    *,
    deployer: Account,
    config: ScenarioConfig,
    platform: PlatformConfig | None = None,
    gas: GasMeter | None = None,
) -> Deployment:
    """Deploy the protocol (platform + SubDAO factory, chambers voting
    ``governance.chamber_voting_period`` blocks, splitters starting with the scenario's
    revenue shares) and the market (marketplace, module cloner)."""
    start = block_number() + 1
    protocol = deploy_protocol(
        deployer=deployer,
        config=platform,
        chamber_voting_period=config.governance.chamber_voting_period,
        revenue_shares=config.revenue,
    )
    market = deploy_market(deployer=deployer, token_policy=protocol.platform.registry)
    if gas is not None:
        p = protocol.platform
        for contract in (p.token, p.timelock, p.staking, p.registry, p.governor):
            gas.record("deploy/protocol", contract.tx)
        gas.record("deploy/protocol", protocol.subdao.factory.tx)
        gas.record("deploy/market", market.cloner.cloner.tx)
        gas.record("deploy/market", market.marketplace.tx)
    return Deployment(protocol=protocol, market=market, start_block=start)


def setup_lifecycle(
    *, config: ScenarioConfig, roles: LifecycleRoles, gas: GasMeter, storage: Storage
) -> Deployment:
    """Deploy everything and bring the scenario's RFM to a training SubDAO, then set up the
    analytics SubDAO (001 §9.1–9.3, §7.3): :func:`deploy_all`,
    :func:`~flai.chain.steps.fund_parties`, :func:`~flai.chain.steps.submit_rfm`,
    :func:`~flai.chain.steps.approve_rfm`, :func:`~flai.chain.steps.setup_analytics`. The
    model is listed on the marketplace once a round is accepted
    (:meth:`BrownieChainPort.ensure_listed`)."""
    check_funded(roles)
    deployment = deploy_all(deployer=roles.deployer, config=config, gas=gas)
    fund_parties(deployment=deployment, roles=roles, config=config, gas=gas)
    submitted = submit_rfm(
        deployment=deployment, roles=roles, spec=config.rfm_spec(), storage=storage, gas=gas
    )
    deployment = approve_rfm(
        deployment=deployment, roles=roles, config=config, rfm_id=submitted.rfm_id, gas=gas
    )
    pipeline_cid = storage.put_json(
        {"kind": "describe", "features": list(config.analytics.features), "secure": "RSS"}
    )
    return setup_analytics(
        config=config,
        roles=roles,
        deployment=deployment,
        gas=gas,
        spec_cid=submitted.spec_cid,
        pipeline_cid=pipeline_cid,
    )


def _port(
    *, config: ScenarioConfig, roles: LifecycleRoles, deployment: Deployment, gas: GasMeter
) -> BrownieChainPort:
    suite = deployment.require_suite()
    registry = deployment.platform.registry
    rfm_id = int(suite.subdao.rfmId())
    licence = RFMParams.from_tuple(registry.getParams(rfm_id)).spec_cid
    return BrownieChainPort(
        deployment=deployment, roles=roles, gas=gas, config=config, licence_cid=licence
    )


def open_lifecycle(
    *,
    config: ScenarioConfig,
    accounts: Sequence[Account],
    storage: Storage,
    workdir: str | Path,
    network: str,
) -> BrownieChainPort:
    """The port of a scenario's lifecycle on the connected chain, deploying it first unless
    ``workdir/deployment.json`` names a deployment of this network that exists on it.

    The parties' balances are checked before anything is sent; the gas of every
    transaction is appended to ``workdir/gas.jsonl`` (kept across resumed runs).

    Raises
    ------
    ConfigError
        The scenario's network is ``offline`` (run ``python -m flai.pipeline``).
    ChainError
        Too few accounts, or an unfunded party.
    """
    if config.network == "offline":
        raise ConfigError(
            "'offline' runs without a chain (python -m flai.pipeline)", field="network"
        )
    work = Path(workdir)
    roles = lifecycle_roles(config, accounts)
    check_funded(roles)
    gas = GasMeter(path=work / "gas.jsonl")
    stored = work / "deployment.json"
    deployment = None
    if stored.exists():
        record = read_deployment(stored)
        if record.network == network and has_code(record.platform["FLAIToken"]):
            deployment = load_deployment(record)
    if deployment is None:
        deployment = setup_lifecycle(config=config, roles=roles, gas=gas, storage=storage)
        write_deployment(stored, deployment.record(network=network, workdir=str(work)))
    return _port(config=config, roles=roles, deployment=deployment, gas=gas)


def step_port(
    *,
    config: ScenarioConfig,
    accounts: Sequence[Account],
    record: DeploymentRecord,
    gas: GasMeter,
) -> BrownieChainPort:
    """The port of a step script over the deployment in ``record`` (parties checked first;
    the licence CID is the RFM's spec CID, read from the registry).

    Raises
    ------
    ChainError
        The deployment's RFM is not approved yet, a contract is missing from the chain, or
        a party is unfunded.
    """
    roles = lifecycle_roles(config, accounts)
    check_funded(roles)
    deployment = load_deployment(record)
    if deployment.suite is None:
        raise ChainError(
            "the deployment has no approved RFM yet (run scripts/submit_rfm.py, "
            "then scripts/approve_rfm.py)"
        )
    return _port(config=config, roles=roles, deployment=deployment, gas=gas)
