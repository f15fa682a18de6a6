"""The chain adapter: the only code of the ``flai`` package that talks to the chain.

Everything here goes through brownie, imported lazily by :mod:`flai.chain.plumbing` (and
:mod:`flai.chain.runtime`), so ``import flai.chain`` (and the rest of the library) works
without brownie or a node. The scripts, the benches and the test fixtures all deploy and
act through these modules, so what is tested is what is deployed.

Modules
-------
- :mod:`~flai.chain.abi` — enum and struct mirrors of the contracts (the typed boundary)
- :mod:`~flai.chain.plumbing` — the loaded project, transactions, receipts, logs, clock
- :mod:`~flai.chain.gas` — :class:`GasMeter`, gas by step (intents recovered from the chain)
- :mod:`~flai.chain.deploy` — deploy functions (platform, SubDAO factory, market, clones)
- :mod:`~flai.chain.deployments` — ``deployments/<network>.json``, written and read
- :mod:`~flai.chain.governance` — SuperDAO and chamber proposals
- :mod:`~flai.chain.roles` — the scenario's parties as accounts
- :mod:`~flai.chain.port` — :class:`BrownieChainPort`, the pipeline's ``ChainPort``
- :mod:`~flai.chain.requests` — the marketplace requests the port has seen (:class:`RequestBook`)
- :mod:`~flai.chain.steps` — the on-chain steps of an RFM (submit, approve, …)
- :mod:`~flai.chain.lifecycle` — deploy or find a scenario's contracts, build its port
- :mod:`~flai.chain.runtime` — the project's own chain (``flai run``, ``flai chain``)
"""

from flai.chain.abi import (
    ListingKind,
    ListingParams,
    MemberStatus,
    Module,
    ProposalKind,
    RequestStatus,
    RevocationReason,
    RFMParams,
    RFMStatus,
    Round,
    RoundParams,
    RoundStatus,
    SubDAOState,
    Tag,
)
from flai.chain.deploy import (
    ClonerDeployment,
    PlatformConfig,
    SubDAOSuite,
    deploy_bounty_pool,
    deploy_market_cloner,
    deploy_marketplace,
    deploy_platform,
    deploy_protocol,
    deploy_revenue_splitter,
    deploy_subdao_factory,
    load_subdao_suite,
)
from flai.chain.deployments import (
    DEPLOYMENTS_ENV,
    Deployment,
    DeploymentRecord,
    SubDAORef,
    deployment_path,
    load_deployment,
    read_deployment,
    step_workdir,
    write_deployment,
)
from flai.chain.errors import ChainError, ConfigError
from flai.chain.gas import GasMeter
from flai.chain.governance import Action, action, chamber_execute, propose, queue_and_execute
from flai.chain.lifecycle import deploy_all, open_lifecycle, step_port
from flai.chain.plumbing import harden_receipt_wait
from flai.chain.port import BrownieChainPort
from flai.chain.roles import LifecycleRoles, check_funded, lifecycle_roles
from flai.chain.steps import (
    approve_rfm,
    distribute_revenue,
    run_one_round,
    serve_requests,
    step_storage,
    submit_rfm,
)
from flai.pipeline.revenue import RevenueShares

__all__ = [
    "DEPLOYMENTS_ENV",
    "Action",
    "BrownieChainPort",
    "ChainError",
    "ClonerDeployment",
    "ConfigError",
    "Deployment",
    "DeploymentRecord",
    "GasMeter",
    "LifecycleRoles",
    "ListingKind",
    "ListingParams",
    "MemberStatus",
    "Module",
    "PlatformConfig",
    "ProposalKind",
    "RFMParams",
    "RFMStatus",
    "RequestStatus",
    "RevenueShares",
    "RevocationReason",
    "Round",
    "RoundParams",
    "RoundStatus",
    "SubDAORef",
    "SubDAOState",
    "SubDAOSuite",
    "Tag",
    "action",
    "approve_rfm",
    "chamber_execute",
    "check_funded",
    "deploy_all",
    "deploy_bounty_pool",
    "deploy_market_cloner",
    "deploy_marketplace",
    "deploy_platform",
    "deploy_protocol",
    "deploy_revenue_splitter",
    "deploy_subdao_factory",
    "deployment_path",
    "distribute_revenue",
    "harden_receipt_wait",
    "lifecycle_roles",
    "load_deployment",
    "load_subdao_suite",
    "open_lifecycle",
    "propose",
    "queue_and_execute",
    "read_deployment",
    "run_one_round",
    "serve_requests",
    "step_port",
    "step_storage",
    "step_workdir",
    "submit_rfm",
    "write_deployment",
]
