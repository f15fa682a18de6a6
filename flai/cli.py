"""The ``flai`` command: one subcommand per long-running role or project task.

``flai run SCRIPT [FUNCTION] [ARG ...]`` runs a project script on the project's own chain
(see :mod:`flai.chain.runtime`); ``flai chain`` runs the project's development chain for
scripts run one after another (``flai run --rpc URL``); ``flai explorer`` serves the read-only
web explorer of a deployment; ``flai ipfs`` runs the embedded IPFS node.

Exit codes: 0 success, 1 a service could not start, 2 bad arguments or a failed step (the
message names the field or the service).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _run(args: argparse.Namespace) -> int:
    import os

    from flai.chain.runtime import CHAIN_RPC_ENV, ChainRuntimeError, run_script

    if args.rpc:
        if args.network:
            print("error: give --rpc or --network, not both", file=sys.stderr)
            return 2
        os.environ[CHAIN_RPC_ENV] = args.rpc
    try:
        run_script(args.script, args.function, args.args, network_id=args.network)
    except ChainRuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _chain(args: argparse.Namespace) -> int:
    from flai.chain.runtime import ChainRuntimeError, serve_chain

    try:
        serve_chain(port=args.port or None, state=args.state)
    except ChainRuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _explorer(args: argparse.Namespace) -> int:
    from flai.explorer.cli import run

    return run(args)


def _ipfs(args: argparse.Namespace) -> int:
    from flai.storage.node import main as ipfs_main

    return ipfs_main(args.rest)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flai", description="FLAI Protocol command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a project script on the project's own chain",
        description=(
            "Load the brownie project (compiling what changed), start an Anvil of its own on a "
            "free loopback port (or use the live network given by --network), and call "
            "FUNCTION(*ARGS) of SCRIPT, a file in the project's scripts/ folder."
        ),
    )
    run.add_argument("script", help="path of a script in scripts/, e.g. scripts/demo.py")
    run.add_argument("function", nargs="?", default="main", help="function to call (main)")
    run.add_argument("args", nargs="*", help="positional string arguments to the function")
    run.add_argument(
        "--network", default=None, help="a brownie network id (default: the project's own Anvil)"
    )
    run.add_argument(
        "--rpc",
        default=None,
        metavar="URL",
        help="use this development chain (e.g. one started by `flai chain`) instead of a new one",
    )
    run.set_defaults(handler=_run)

    chain = sub.add_parser(
        "chain",
        help="run the project's development chain (Anvil) until interrupted",
        description=(
            "Start Anvil with the project's settings (20 funded accounts, no base fee) on a "
            "loopback port and print its URL, for scripts run one after another with "
            "`flai run --rpc URL`. With --state the chain is saved on exit and reloaded."
        ),
    )
    chain.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    chain.add_argument("--state", default=None, help="file to load the chain from and save it to")
    chain.set_defaults(handler=_chain)

    from flai.explorer.cli import add_parser as add_explorer

    add_explorer(sub).set_defaults(handler=_explorer)

    ipfs = sub.add_parser(
        "ipfs", help="run the embedded IPFS node (Kubo RPC subset)", add_help=False
    )
    ipfs.add_argument("rest", nargs=argparse.REMAINDER)
    ipfs.set_defaults(handler=_ipfs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``flai`` console script."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
