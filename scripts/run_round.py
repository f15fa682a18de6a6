"""Run (or resume) one training round of a deployed SubDAO (issue 8 step script).

Usage::

    flai run scripts/run_round.py main configs/scenario.yaml <workdir> --rpc http://127.0.0.1:PORT

Loads and validates the scenario (a bad field is an error naming it, before any
transaction), reads the addresses from ``deployments/<network>.json`` and runs
:func:`flai.chain.run_one_round` through :mod:`flai.pipeline` over a
:class:`flai.chain.BrownieChainPort`. ``<workdir>`` (default: the lifecycle's, recorded in the
deployment file) holds the parties' keys, the IPFS repo and the round journal.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import ChainError, GasMeter, load_deployment, run_one_round, step_port, step_storage
from flai.pipeline.config import load_config
from flai.pipeline.errors import PipelineError
from flai.storage import StorageError


def main(config_path: str = "configs/scenario.yaml", workdir: str | None = None) -> dict:
    net = network.show_active()
    try:
        config = load_config(config_path)
        addresses = load_deployment(f"deployments/{net}.json", network=net)
        work = workdir or addresses.get("workdir", f"steps/{net}")
        port = step_port(
            config=config, accounts=list(accounts), addresses=addresses, gas=GasMeter()
        )
        with step_storage(work) as storage:
            record = run_one_round(config=config, port=port, storage=storage, workdir=work)
    except (ChainError, PipelineError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(record, indent=2, default=str))
    return record
