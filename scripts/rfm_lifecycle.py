"""The whole RFM lifecycle of a scenario on the connected chain (issue 8, 001 §9).

Usage::

    flai run scripts/rfm_lifecycle.py --rpc http://127.0.0.1:PORT
    flai run scripts/rfm_lifecycle.py main configs/scenario.yaml <workdir> --rpc http://127.0.0.1:PORT

Loads and validates the scenario (a bad field is an error naming it, before any
transaction), starts the embedded IPFS node on an ephemeral loopback port, and hands over to
:func:`flai.chain.run_lifecycle` (parties and balances checked, protocol deployed, RFM
approved (suite incl. revenue splitter), crowdfund, onboarding, rounds, paid inference, FA
query, fork and retirement, claims). Writes ``deployments/<network>.json`` and
``reports/<run>/report.{json,md}`` with PNG charts. Rerunning with the same ``<workdir>`` resumes after a crash without
double-posting.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from brownie import accounts, network

from flai.chain import ChainError, run_lifecycle, write_json
from flai.pipeline.config import load_config
from flai.pipeline.errors import PipelineError
from flai.pipeline.report import format_tables, write_report
from flai.storage import IpfsHttpStorage, IpfsNode, StorageError


def lifecycle(config_path: str, workdir: str | None) -> tuple[dict[str, Any], Path]:
    """Run (or resume) the lifecycle; returns the result and the report directory."""
    config = load_config(config_path)
    net = network.show_active()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    work = Path(workdir) if workdir else Path("reports") / f"{config.name}-{net}-{stamp}" / "work"
    report_dir = work.parent if workdir is None else work / "report"
    with IpfsNode(repo=work / "ipfs", host="127.0.0.1", port=0) as node:
        storage = IpfsHttpStorage(address=node.address)
        try:
            result = run_lifecycle(
                config=config, accounts=list(accounts), storage=storage, workdir=work, network=net
            )
        finally:
            storage.close()
    write_json(Path("deployments") / f"{net}.json", result["deployment"] | {"workdir": str(work)})
    write_report(result, directory=report_dir)
    return result, report_dir


def main(config_path: str = "configs/scenario.yaml", workdir: str | None = None) -> None:
    try:
        result, report_dir = lifecycle(config_path, workdir)
    except (ChainError, PipelineError, StorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(format_tables(result))
    print(f"\nreport: {report_dir}/report.md")
