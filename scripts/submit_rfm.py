"""Submit an RFM from a spec file to the registry of a deployment (issue 8 step script).

Usage::

    flai run scripts/submit_rfm.py main configs/steps/rfm_spec.json --rpc http://127.0.0.1:PORT

The spec (JSON or YAML, fields :data:`flai.chain.RFM_SPEC_FIELDS`) is validated first — a bad
field is an error naming it, before any transaction — then stored on IPFS (``$FLAI_IPFS_API``
or the embedded node of the lifecycle's workdir) and submitted by the scenario's requester
with the structured parameters. Addresses come from ``deployments/<network>.json``.
"""

from __future__ import annotations

import json
import sys

from brownie import accounts, network

from flai.chain import (
    ChainError,
    GasMeter,
    lifecycle_roles,
    load_deployment,
    load_lifecycle,
    load_rfm_spec,
    step_storage,
    submit_rfm,
)
from flai.pipeline.config import load_config
from flai.pipeline.errors import PipelineError
from flai.storage import StorageError


def main(
    spec_path: str = "configs/steps/rfm_spec.json",
    config_path: str = "configs/scenario.yaml",
    workdir: str | None = None,
) -> dict[str, object]:
    net = network.show_active()
    try:
        spec = load_rfm_spec(spec_path)
        config = load_config(config_path)
        addresses = load_deployment(f"deployments/{net}.json", network=net)
        roles = lifecycle_roles(config, list(accounts))
        with step_storage(workdir or addresses.get("workdir", f"steps/{net}")) as storage:
            out = submit_rfm(
                deployment=load_lifecycle(addresses),
                roles=roles,
                spec=spec,
                storage=storage,
                gas=GasMeter(),
            )
    except (ChainError, PipelineError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(out, indent=2))
    return out
