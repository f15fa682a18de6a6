"""Submit an RFM from a spec file to the registry of a deployment.

Usage::

    flai run scripts/submit_rfm.py main configs/steps/rfm_spec.json configs/scenario.yaml --rpc URL

The spec (JSON or YAML, fields of :class:`flai.pipeline.RFMSpec`) and the scenario are
validated first — a bad field is an error naming it, before any transaction. The parties'
FLAI is topped up from the deployer (:func:`flai.chain.steps.fund_parties`), the spec is
stored on IPFS (``$FLAI_IPFS_API``, or the embedded node of the step workdir) and submitted
by the scenario's requester. The RFM becomes the deployment's RFM in
``deployments/<network>.json`` (the one ``scripts/approve_rfm.py`` approves).
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import (
    GasMeter,
    SubDAORef,
    deployment_path,
    lifecycle_roles,
    load_deployment,
    read_deployment,
    step_storage,
    step_workdir,
    submit_rfm,
    write_deployment,
)
from flai.chain.steps import fund_parties
from flai.errors import FlaiError
from flai.pipeline import load_config, load_rfm_spec


def main(
    spec_path: str = "configs/steps/rfm_spec.json",
    config_path: str = "configs/scenario.yaml",
    workdir: str | None = None,
) -> dict[str, object]:
    net = network.show_active()
    path = deployment_path(net)
    try:
        spec = load_rfm_spec(spec_path)
        config = load_config(config_path)
        record = read_deployment(path)
        deployment = load_deployment(record)
        roles = lifecycle_roles(config, list(accounts))
        gas = GasMeter()
        fund_parties(deployment=deployment, roles=roles, config=config, gas=gas)
        with step_storage(workdir or step_workdir(record)) as storage:
            out = submit_rfm(
                deployment=deployment, roles=roles, spec=spec, storage=storage, gas=gas
            )
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    write_deployment(path, record.with_rfm(SubDAORef(rfm_id=out.rfm_id)))
    summary = {"rfm_id": out.rfm_id, "spec_cid": out.spec_cid, "status": out.status.name}
    print(json.dumps(summary, indent=2))
    return summary
