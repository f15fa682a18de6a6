"""Run a scenario's whole lifecycle against a file ledger (no chain): ``python -m flai.pipeline``.

For crash tests and dry runs of the lifecycle — the ledger is
:class:`~flai.pipeline.ledger.FileLedger`, a test double of the chain port, not a chain.
IPFS comes from the environment (:func:`flai.storage.open_storage`: ``FLAI_IPFS_API`` for
a Kubo-compatible node, else the local store in ``FLAI_IPFS_REPO``). Rerunning with the
same ``--workdir`` resumes from the journal. The fault-injection hook
``FLAI_PIPELINE_FAULT`` is described in :mod:`flai.pipeline.journal`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flai.errors import FlaiError
from flai.pipeline.config import load_config
from flai.pipeline.ledger import FileLedger
from flai.pipeline.lifecycle import run_lifecycle
from flai.pipeline.report import format_tables, write_report
from flai.pipeline.scenario import preflight
from flai.storage import open_storage


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m flai.pipeline", description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--report", type=Path, default=None, help="write the report here")
    parser.add_argument("--result", type=Path, default=None, help="write the result JSON here")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        preflight(config)
        ledger = FileLedger.from_config(config, path=args.workdir / "ledger.json")
        with open_storage() as storage:
            result = run_lifecycle(
                config=config, port=ledger, storage=storage, workdir=args.workdir
            )
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.result is not None:
        args.result.write_text(json.dumps(result.to_json(), sort_keys=True), encoding="utf-8")
    if args.report is not None:
        write_report(result, directory=args.report)
    print(format_tables(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
