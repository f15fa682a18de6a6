"""Approve the deployment's RFM and bring its SubDAO to training.

Usage::

    flai run scripts/approve_rfm.py main configs/scenario.yaml --rpc URL

Reads ``deployments/<network>.json`` (the RFM ``scripts/submit_rfm.py`` submitted) and runs
:func:`flai.chain.approve_rfm`: the platform members stake and pass the SuperDAO approval,
whose execution creates the SubDAO suite; the scenario's backers fund the crowdfund,
hospitals and validators onboard, the requester launches and the technical chamber sets
the round parameters. Records the SubDAO in the deployment file. A rerun sends only what
is missing.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import (
    ChainError,
    GasMeter,
    SubDAORef,
    SubDAOState,
    approve_rfm,
    deployment_path,
    lifecycle_roles,
    load_deployment,
    read_deployment,
    write_deployment,
)
from flai.chain.steps import fund_parties
from flai.errors import FlaiError
from flai.pipeline import load_config


def main(config_path: str = "configs/scenario.yaml") -> dict[str, object]:
    net = network.show_active()
    path = deployment_path(net)
    try:
        config = load_config(config_path)
        record = read_deployment(path)
        if record.rfm is None:
            raise ChainError(f"{path} names no RFM: run scripts/submit_rfm.py first")
        deployment = load_deployment(record)
        roles = lifecycle_roles(config, list(accounts))
        gas = GasMeter()
        fund_parties(deployment=deployment, roles=roles, config=config, gas=gas)
        approved = approve_rfm(
            deployment=deployment,
            roles=roles,
            config=config,
            rfm_id=record.rfm.rfm_id,
            gas=gas,
        )
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    suite = approved.require_suite()
    subdao = str(suite.subdao.address)
    write_deployment(path, record.with_rfm(SubDAORef(rfm_id=record.rfm.rfm_id, subdao=subdao)))
    state = SubDAOState(int(suite.subdao.state())).name.capitalize()
    summary = {"rfm_id": record.rfm.rfm_id, "subdao": subdao, "state": state}
    print(json.dumps(summary, indent=2))
    return summary
