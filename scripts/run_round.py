"""Run (or resume) one training round of the deployment's SubDAO.

Usage::

    flai run scripts/run_round.py main configs/scenario.yaml [WORKDIR] --rpc URL

Loads and validates the scenario (a bad field is an error naming it, before any
transaction), reads ``deployments/<network>.json`` and runs :func:`flai.chain.run_one_round`
through :mod:`flai.pipeline` over a :class:`flai.chain.BrownieChainPort`. ``WORKDIR``
(default: the one recorded in the deployment file, else ``steps/<network>``) holds the
parties' keys, the IPFS repo and the round journal.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import (
    GasMeter,
    deployment_path,
    read_deployment,
    run_one_round,
    step_port,
    step_storage,
    step_workdir,
)
from flai.errors import FlaiError
from flai.pipeline import load_config, preflight


def main(config_path: str = "configs/scenario.yaml", workdir: str | None = None) -> dict:
    net = network.show_active()
    try:
        config = load_config(config_path)
        preflight(config)
        record = read_deployment(deployment_path(net))
        work = workdir or step_workdir(record)
        port = step_port(config=config, accounts=list(accounts), record=record, gas=GasMeter())
        with step_storage(work) as storage:
            out = run_one_round(config=config, port=port, storage=storage, workdir=work)
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(out, indent=2, default=str))
    return out
