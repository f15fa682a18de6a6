"""Release the treasuries, sweep the dust and claim revenue for every party (issue 8 step).

Usage::

    flai run scripts/distribute_revenue.py main configs/scenario.yaml --rpc http://127.0.0.1:PORT

Loads and validates the scenario (its ``backers`` are the SDT side, its hospitals the SBGT
side), reads ``deployments/<network>.json`` and runs :func:`flai.chain.distribute_revenue`;
a rerun sends nothing new.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import ChainError, GasMeter, distribute_revenue, load_deployment, step_port
from flai.pipeline.config import load_config
from flai.pipeline.errors import PipelineError


def main(config_path: str = "configs/scenario.yaml") -> dict:
    net = network.show_active()
    try:
        config = load_config(config_path)
        addresses = load_deployment(f"deployments/{net}.json", network=net)
        port = step_port(
            config=config, accounts=list(accounts), addresses=addresses, gas=GasMeter()
        )
        out = distribute_revenue(port=port, backers=list(config.backers))
    except (ChainError, PipelineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(out, indent=2))
    return out
