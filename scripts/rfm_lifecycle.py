"""The whole RFM lifecycle of a scenario on the connected chain (001 §9).

Usage::

    flai run scripts/rfm_lifecycle.py --rpc http://127.0.0.1:PORT
    flai run scripts/rfm_lifecycle.py main configs/scenario.yaml <workdir> --rpc http://127.0.0.1:PORT

Loads and validates the scenario and checks the fault hook, the data split and the engine
settings (:func:`flai.pipeline.preflight`): a bad field is an error naming it, before any
transaction. Then starts the embedded IPFS node on an ephemeral loopback port, deploys (or
finds) the scenario's contracts and builds the port (:func:`flai.chain.open_lifecycle`),
and runs :func:`flai.pipeline.run_lifecycle` over it: rounds, paid inference, FA query,
revocation, fork and retirement, claims. Writes ``deployments/<network>.json`` and
``reports/<run>/report.{json,md}`` with PNG charts. Rerunning with the same ``<workdir>``
resumes after a crash without double-posting.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from brownie import accounts, network

from flai.chain import BrownieChainPort, deployment_path, open_lifecycle, write_deployment
from flai.errors import FlaiError
from flai.pipeline import (
    LifecycleResult,
    format_tables,
    load_config,
    preflight,
    run_lifecycle,
    write_report,
)
from flai.storage import IpfsHttpStorage, IpfsNode


def lifecycle(
    config_path: str, workdir: str | None
) -> tuple[LifecycleResult, BrownieChainPort, Path]:
    """Run (or resume) the lifecycle; returns the result, the port and the report directory."""
    config = load_config(config_path)
    preflight(config)  # fault hook, data split, engine settings: before any transaction
    net = network.show_active()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    work = Path(workdir) if workdir else Path("reports") / f"{config.name}-{net}-{stamp}" / "work"
    report_dir = work.parent if workdir is None else work / "report"
    with (
        IpfsNode(repo=work / "ipfs", host="127.0.0.1", port=0) as node,
        IpfsHttpStorage(address=node.address) as storage,
    ):
        port = open_lifecycle(
            config=config, accounts=list(accounts), storage=storage, workdir=work, network=net
        )
        result = run_lifecycle(config=config, port=port, storage=storage, workdir=work)
    record = port.deployment.record(network=net, workdir=str(work))
    write_deployment(deployment_path(net), record)
    write_report(result, directory=report_dir, payment_symbol=port.payment_symbol())
    return result, port, report_dir


def main(config_path: str = "configs/scenario.yaml", workdir: str | None = None) -> None:
    try:
        result, port, report_dir = lifecycle(config_path, workdir)
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(format_tables(result, payment_symbol=port.payment_symbol()))
    print(f"\nreport: {report_dir}/report.md")
