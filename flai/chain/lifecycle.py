"""The lifecycle's chain side: deploy (or find) a scenario's contracts and build its port.

:func:`setup_lifecycle` deploys the protocol and the market and brings the scenario's RFM
to a training SubDAO with an analytics SubDAO beside it, through the same steps the
README's scripts run one by one (:mod:`flai.chain.steps`). :func:`open_lifecycle` does
that once per work directory — journalled, and resumed from the chain after a crash, the
deployment found by address in ``workdir/deployment.json`` — and returns the
:class:`~flai.chain.port.BrownieChainPort` the off-chain lifecycle
(:func:`flai.pipeline.run_lifecycle`) drives; :func:`step_port` builds the port of a step
script from a deployment file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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
from flai.chain.gas import GasMeter
from flai.chain.plumbing import Account, block_number, has_code, logs
from flai.chain.port import BrownieChainPort
from flai.chain.roles import LifecycleRoles, check_funded, lifecycle_roles
from flai.chain.steps import approve_rfm, fund_parties, setup_analytics, submit_rfm
from flai.pipeline.config import ScenarioConfig
from flai.pipeline.journal import Journal, check_fault_hook
from flai.pipeline.scenario import run_id
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
    *,
    config: ScenarioConfig,
    roles: LifecycleRoles,
    gas: GasMeter,
    storage: Storage,
    deployment: Deployment | None = None,
    journal: Journal | None = None,
    save: Callable[[Deployment], None] | None = None,
) -> Deployment:
    """Deploy everything and bring the scenario's RFM to a training SubDAO, then set up the
    analytics SubDAO (001 §9.1–9.3, §7.3): :func:`deploy_all`,
    :func:`~flai.chain.steps.fund_parties`, :func:`~flai.chain.steps.submit_rfm`,
    :func:`~flai.chain.steps.approve_rfm`, :func:`~flai.chain.steps.setup_analytics`. The
    model is listed on the marketplace once a round is accepted
    (:meth:`BrownieChainPort.ensure_listed`).

    Resumable: given the ``deployment`` a crashed run made, nothing is deployed and every
    step continues from where the chain stands (each reads it first). Funding tops parties
    up to what the scenario needs, so it runs once: its ``journal`` step is reconciled by the
    RFM submission that follows it. ``save`` is called with the deployment after each
    stage that changed it (the caller writes the deployment file).
    """
    check_funded(roles)
    if deployment is None:
        deployment = deploy_all(deployer=roles.deployer, config=config, gas=gas)
        if save is not None:
            save(deployment)
    d = deployment

    def fund() -> bool:
        fund_parties(deployment=d, roles=roles, config=config, gas=gas)
        return True

    def funded() -> bool | None:
        return True if logs(d.platform.registry, "RFMSubmitted", from_block=d.start_block) else None

    if journal is None:
        fund()
    else:
        journal.once("setup/fund", fund, probe=funded)
    submitted = submit_rfm(
        deployment=deployment, roles=roles, spec=config.rfm_spec(), storage=storage, gas=gas
    )
    deployment = approve_rfm(
        deployment=deployment, roles=roles, config=config, rfm_id=submitted.rfm_id, gas=gas
    )
    if save is not None:
        save(deployment)
    pipeline_cid = storage.put_json(
        {"kind": "describe", "features": list(config.analytics.features), "secure": "RSS"}
    )
    deployment = setup_analytics(
        config=config,
        roles=roles,
        deployment=deployment,
        gas=gas,
        spec_cid=submitted.spec_cid,
        pipeline_cid=pipeline_cid,
    )
    if save is not None:
        save(deployment)
    return deployment


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
    """The port of a scenario's lifecycle on the connected chain, set up first
    (:func:`setup_lifecycle`) unless the work directory's journal records it done.

    The set-up is journalled (``workdir/journal.jsonl``, the lifecycle's journal) and
    reconciled with the chain: ``workdir/deployment.json`` is written as soon as the
    protocol is deployed and after each stage, so a rerun after a crash finds the contracts
    by address there (or, if the file was lost, in the journal's ``setup/deploy`` record),
    deploys nothing again and resumes each step from where the chain stands. A deployment
    whose contracts are not on the connected chain is refused, never replaced: the work
    directory's journal describes that chain.

    The fault hook (``FLAI_PIPELINE_FAULT``) and the parties' balances are checked before
    anything is sent; the gas of every transaction is appended to ``workdir/gas.jsonl``
    (kept across resumed runs, see :class:`~flai.chain.gas.GasMeter`).

    Raises
    ------
    ConfigError
        The scenario's network is ``offline`` (run ``python -m flai.pipeline``).
    ChainError
        Too few accounts, an unfunded party, ``deployment.json`` names contracts that are
        not on this chain (or another network), or the work directory recorded
        transactions but neither its deployment file nor its journal says of what.
    JournalError
        The journal is unreadable or belongs to another scenario, or the fault hook's
        variable is malformed.
    """
    if config.network == "offline":
        raise ConfigError(
            "'offline' runs without a chain (python -m flai.pipeline)", field="network"
        )
    check_fault_hook()
    work = Path(workdir)
    roles = lifecycle_roles(config, accounts)
    check_funded(roles)
    stored = work / "deployment.json"

    def save(deployment: Deployment) -> None:
        write_deployment(stored, deployment.record(network=network, workdir=str(work)))

    journal = Journal(path=work / "journal.jsonl", run_id=run_id(config))
    try:
        gas = GasMeter(path=work / "gas.jsonl")
        record = _stored_record(stored, journal, network=network)
        if record is None and gas.entries:
            raise ChainError(
                f"{work} records {len(gas.entries)} transactions (gas.jsonl) but neither "
                "deployment.json nor the journal names their deployment: refusing to deploy "
                "a second protocol (restore deployment.json, or use a new work directory)"
            )
        deployment = None if record is None else load_deployment(record)
        if deployment is None or not journal.is_done("setup/done"):

            def setup() -> dict[str, Any]:
                done = setup_lifecycle(
                    config=config,
                    roles=roles,
                    gas=gas,
                    storage=storage,
                    deployment=deployment,
                    journal=journal,
                    save=save,
                )
                return done.record(network=network, workdir=str(work)).to_json()

            if deployment is None:
                # the protocol's deployment is the one step of the set-up not found from
                # the chain: its record is written (file and journal) right after it
                def deploy() -> dict[str, Any]:
                    deployed = deploy_all(deployer=roles.deployer, config=config, gas=gas)
                    save(deployed)
                    return deployed.record(network=network, workdir=str(work)).to_json()

                deployment = load_deployment(
                    DeploymentRecord.from_json(journal.once("setup/deploy", deploy))
                )
            record = DeploymentRecord.from_json(journal.once("setup/done", setup))
            deployment = load_deployment(record)
        if not stored.exists():
            save(deployment)
    finally:
        journal.close()
    return _port(config=config, roles=roles, deployment=deployment, gas=gas)


def _stored_record(stored: Path, journal: Journal, *, network: str) -> DeploymentRecord | None:
    """The work directory's deployment: the file, else the journal's record of the set-up
    (``setup/done``, then ``setup/deploy``); ``None`` if nothing was deployed yet.

    Raises
    ------
    ChainError
        The deployment is of another network, or its token is not on the connected chain.
    """
    if stored.exists():
        record = read_deployment(stored)
    else:
        step = next((s for s in ("setup/done", "setup/deploy") if journal.is_done(s)), None)
        if step is None:
            return None
        record = DeploymentRecord.from_json(journal.result(step), source=str(journal.path))
    token = record.platform["FLAIToken"]
    if record.network != network or not has_code(token):
        raise ChainError(
            f"{stored} names a deployment of network {record.network!r} (FLAIToken {token}) "
            f"that is not on the connected chain {network!r}: its journal describes that "
            "chain, so it is not deployed again here (use a new work directory)"
        )
    return record


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
