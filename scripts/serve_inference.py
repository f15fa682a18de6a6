"""Pay and serve paid inference requests of the deployment's accepted model.

Usage::

    flai run scripts/serve_inference.py main configs/scenario.yaml COUNT [WORKDIR] --rpc URL

Loads and validates the scenario, reads ``deployments/<network>.json`` and runs
:func:`flai.chain.serve_requests`: the first ``COUNT`` requests of the scenario's request
plan are paid, evaluated on the secret-shared accepted model by the compute nodes and
fulfilled; requests paid but not fulfilled before a crash (same workdir) are served once.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import (
    GasMeter,
    deployment_path,
    read_deployment,
    serve_requests,
    step_port,
    step_storage,
    step_workdir,
)
from flai.errors import FlaiError
from flai.pipeline import load_config, preflight


def main(
    config_path: str = "configs/scenario.yaml", count: str = "5", workdir: str | None = None
) -> list:
    net = network.show_active()
    try:
        config = load_config(config_path)
        preflight(config)
        record = read_deployment(deployment_path(net))
        work = workdir or step_workdir(record)
        port = step_port(config=config, accounts=list(accounts), record=record, gas=GasMeter())
        with step_storage(work) as storage:
            served = serve_requests(
                config=config, port=port, storage=storage, workdir=work, count=int(count)
            )
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(served, indent=2))
    return served
