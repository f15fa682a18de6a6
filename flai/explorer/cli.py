"""``flai explorer``: index a deployment's chain and serve the explorer on loopback."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``explorer`` subcommand to ``flai``'s subparsers."""
    parser = sub.add_parser(
        "explorer",
        help="serve the read-only web explorer of a deployment",
        description=(
            "Index the chain behind --rpc from the platform addresses in --deployment (every "
            "SubDAO suite is discovered from events) into an SQLite file, keep it in step "
            "with the chain, and serve the explorer on loopback until interrupted. The "
            "explorer holds no key and sends no transaction."
        ),
    )
    parser.add_argument(
        "--rpc", required=True, metavar="URL", help="HTTP JSON-RPC URL of the chain"
    )
    parser.add_argument(
        "--deployment",
        required=True,
        type=Path,
        metavar="FILE",
        help="deployments/<network>.json written by scripts/deploy.py or scripts/rfm_lifecycle.py",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(".flai/explorer.sqlite"),
        metavar="FILE",
        help="SQLite index file (default: .flai/explorer.sqlite)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the index and rebuild it from scratch"
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to serve on")
    parser.add_argument(
        "--port", type=int, default=8800, help="TCP port (0: a free one; default 8800)"
    )
    parser.add_argument(
        "--poll", type=float, default=2.0, help="seconds between index syncs (default 2)"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--ipfs", metavar="API", help="Kubo-compatible RPC API for public documents"
    )
    source.add_argument(
        "--ipfs-repo", type=Path, metavar="DIR", help="embedded-node repository folder"
    )
    parser.add_argument("--names", type=Path, metavar="FILE", help="JSON {address: display name}")
    parser.add_argument(
        "--build-dir", type=Path, metavar="DIR", help="brownie build/contracts folder"
    )
    parser.add_argument("--index-only", action="store_true", help="sync the index once and exit")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``flai explorer``: 0 on a clean stop, 1 when the chain or server cannot start, 2 on
    a bad argument (the message names it)."""
    from flai.explorer.errors import ChainReadError, ExplorerError
    from flai.explorer.service import Explorer, ExplorerConfig

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        config = ExplorerConfig(
            rpc=args.rpc,
            deployment=args.deployment,
            database=args.db,
            build_dir=args.build_dir,
            ipfs_api=args.ipfs,
            ipfs_repo=args.ipfs_repo,
            names=args.names,
            host=args.host,
            port=args.port,
            poll=args.poll,
        )
        explorer = Explorer(config=config, rebuild=args.rebuild)
    except ChainReadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.index_only:
        try:
            report = explorer.sync()
        finally:
            explorer.stop()
        print(f"indexed to block {report.head}: {report.logs} logs in {report.seconds:.2f} s")
        return 0

    def ready(url: str) -> None:
        print(f"FLAI_EXPLORER_URL={url}  (Ctrl-C stops)", flush=True)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: make both a
    # KeyboardInterrupt so a stop is a clean exit
    signal.signal(signal.SIGTERM, interrupt)
    try:
        explorer.serve(on_ready=ready)
    except KeyboardInterrupt:
        pass
    return 0
