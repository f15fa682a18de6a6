"""Pay and serve paid inference requests of a deployed model (issue 8 step script).

Usage::

    flai run scripts/serve_inference.py main configs/scenario.yaml 10 <workdir> --rpc http://127.0.0.1:PORT

Loads and validates the scenario, reads ``deployments/<network>.json`` and runs
:func:`flai.chain.serve_requests`: the first ``count`` requests of the scenario's request
plan are paid, evaluated on the secret-shared accepted model by the compute nodes and
fulfilled; requests paid but not fulfilled before a crash (same workdir) are served once.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import (
    ChainError,
    GasMeter,
    load_deployment,
    serve_requests,
    step_port,
    step_storage,
)
from flai.pipeline.config import load_config
from flai.pipeline.errors import PipelineError
from flai.storage import StorageError


def main(
    config_path: str = "configs/scenario.yaml", count: int = 5, workdir: str | None = None
) -> list:
    net = network.show_active()
    try:
        config = load_config(config_path)
        addresses = load_deployment(f"deployments/{net}.json", network=net)
        work = workdir or addresses.get("workdir", f"steps/{net}")
        port = step_port(
            config=config, accounts=list(accounts), addresses=addresses, gas=GasMeter()
        )
        with step_storage(work) as storage:
            served = serve_requests(
                config=config, port=port, storage=storage, workdir=work, count=int(count)
            )
    except (ChainError, PipelineError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(served, indent=2))
    return served
