"""Release the treasuries, sweep the dust and claim revenue for every party.

Usage::

    flai run scripts/distribute_revenue.py main configs/scenario.yaml --rpc URL

Loads and validates the scenario (its ``backers`` are the SDT side, its hospitals the SBGT
side), reads ``deployments/<network>.json`` and runs :func:`flai.chain.distribute_revenue`;
a rerun sends nothing new.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import GasMeter, deployment_path, distribute_revenue, read_deployment, step_port
from flai.errors import FlaiError
from flai.pipeline import load_config


def main(config_path: str = "configs/scenario.yaml") -> dict:
    net = network.show_active()
    try:
        config = load_config(config_path)
        record = read_deployment(deployment_path(net))
        port = step_port(config=config, accounts=list(accounts), record=record, gas=GasMeter())
        out = distribute_revenue(port=port, backers=list(config.backers))
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(out, indent=2))
    return out
