"""The project's own chain runtime: an isolated brownie home, an Anvil of its own, scripts by path.

Three things brownie does by default that a user of this project should not have to live with:

- its ``development`` network attaches to whatever already listens on ``127.0.0.1:8545``,
  so two checkouts (or a user's own node) silently share one chain;
- its network list lives in ``~/.brownie`` and is changed with ``brownie networks modify``,
  which rewrites the user's global configuration;
- ``brownie run`` imports a script by turning its absolute path into a dotted module name,
  so a dot anywhere in a parent folder (``~/john.doe/...``) breaks it.

This module fixes all three for the project's entry points (``flai run`` and the test
suite): :func:`isolate_brownie_home` points brownie's data folder at a folder inside the
project before brownie is imported, :func:`configure_development` sets the ``development``
network in memory (a free loopback port, 20 accounts, no base fee), :func:`connect_own_chain`
connects and refuses to go on unless brownie launched that Anvil itself, and
:func:`run_script` imports a script as ``scripts.<name>`` from the project root.

A child process that must use its parent's chain (a subprocess test, a node process) is
handed the chain explicitly in :data:`CHAIN_RPC_ENV`; nothing else ever attaches.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flai.chain.plumbing import harden_receipt_wait, trim_middleware
from flai.errors import FlaiError

__all__ = [
    "ACCOUNTS",
    "CHAIN_RPC_ENV",
    "HOME_ENV",
    "ChainRuntimeError",
    "anvil_command",
    "configure_development",
    "connect_own_chain",
    "free_port",
    "isolate_brownie_home",
    "load_project",
    "project_root",
    "run_script",
    "serve_chain",
]

#: Unlocked Anvil accounts of the development chain (the worked scenario needs 20 parties).
ACCOUNTS = 20
#: Block gas limit of the development chain.
GAS_LIMIT = 30_000_000
#: Environment variable naming the chain (``http://127.0.0.1:PORT``) a child process attaches to.
CHAIN_RPC_ENV = "FLAI_CHAIN_RPC"
#: Environment variable overriding where brownie keeps its data folder for this project.
HOME_ENV = "FLAI_BROWNIE_HOME"
#: The development network's id in brownie's configuration.
DEVELOPMENT = "development"


class ChainRuntimeError(FlaiError):
    """The project's chain could not be set up as required (port, project, script)."""


def project_root(start: Path | None = None) -> Path:
    """The folder holding ``brownie-config.yaml`` at or above ``start`` (default: this package)."""
    here = (start or Path(__file__)).resolve()
    for folder in (here, *here.parents):
        if (folder / "brownie-config.yaml").is_file():
            return folder
    raise ChainRuntimeError(f"no brownie-config.yaml at or above {here}")


def isolate_brownie_home(root: Path | None = None) -> Path:
    """Point brownie's data folder (``$HOME/.brownie``) at ``<project>/.brownie-home``.

    Must run before brownie is first imported: brownie reads ``Path.home()`` once, at import.
    ``$FLAI_BROWNIE_HOME`` overrides the folder. Returns the folder used. Raises
    :class:`ChainRuntimeError` when brownie was already imported with another home.
    """
    folder = Path(os.environ.get(HOME_ENV) or (root or project_root()) / ".brownie-home")
    folder = folder.resolve()
    if "brownie" in sys.modules:
        from brownie._config import DATA_FOLDER

        if Path(DATA_FOLDER).resolve().parent != folder:
            raise ChainRuntimeError(
                f"brownie was imported before its home was isolated (data folder {DATA_FOLDER})"
            )
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(folder)
    return folder


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _attach_target() -> tuple[str, int] | None:
    url = os.environ.get(CHAIN_RPC_ENV)
    if not url:
        return None
    rest = url.split("//", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ChainRuntimeError(f"{CHAIN_RPC_ENV}={url!r} is not http://HOST:PORT")
    return host, int(port)


def configure_development(*, port: int | None = None) -> int:
    """Set brownie's ``development`` network in memory; returns its port.

    Anvil with :data:`ACCOUNTS` accounts, a :data:`GAS_LIMIT` block gas limit and a zero
    base fee (brownie sends legacy transactions at gas price 0), on ``port`` — by default
    the port in :data:`CHAIN_RPC_ENV` when a parent handed one over, else a free one.
    Nothing is written to brownie's network list on disk.
    """
    from brownie._config import CONFIG

    target = _attach_target()
    if port is None:
        port = target[1] if target else free_port()
    network = CONFIG.networks[DEVELOPMENT]
    network["host"] = f"http://{target[0] if target else '127.0.0.1'}"
    network["cmd"] = "anvil"
    settings = dict(network.get("cmd_settings") or {})
    settings.update(port=port, accounts=ACCOUNTS, gas_limit=GAS_LIMIT, base_fee=0)
    network["cmd_settings"] = settings
    return port


def connect_own_chain(network_id: str | None = None) -> None:
    """Connect brownie; on ``development``, only to an Anvil it launched (or the handed-over one).

    Raises :class:`ChainRuntimeError` if another process took the chosen port first (brownie
    would have attached to it) or if the handed-over chain in :data:`CHAIN_RPC_ENV` is not
    reachable.
    """
    from brownie import network
    from brownie.network import rpc

    network_id = network_id or DEVELOPMENT
    if network_id != DEVELOPMENT:
        network.connect(network_id)
        return
    port = configure_development()
    handed_over = _attach_target() is not None
    network.connect(DEVELOPMENT)
    if handed_over:
        if not network.is_connected():
            raise ChainRuntimeError(f"the chain in {CHAIN_RPC_ENV} is not reachable")
        trim_middleware()
        return
    if not rpc.is_child():
        network.disconnect(kill_rpc=False)
        raise ChainRuntimeError(
            f"port {port} was taken by another process before Anvil started; run again"
        )
    trim_middleware()


def load_project(root: Path | None = None) -> Any:
    """Load (compiling what changed) the brownie project at ``root``; reuse it if loaded."""
    from brownie import project

    root = (root or project_root()).resolve()
    for loaded in project.get_loaded_projects():
        if loaded._path is not None and Path(loaded._path).resolve() == root:
            return loaded
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    loaded = project.load(root)
    loaded.load_config()
    loaded._add_to_main_namespace()
    return loaded


def run_script(
    script: str | Path,
    function: str = "main",
    args: Sequence[str] = (),
    *,
    network_id: str | None = None,
) -> Any:
    """Run ``function(*args)`` of a project script, on this project's own chain.

    ``script`` is a path to a file in ``<project>/scripts`` (absolute, or relative to the
    current folder or the project root); it is imported as ``scripts.<name>``, so the names
    of the folders above the project never matter. The script runs in the project root (as
    under ``brownie run``), so relative paths among ``args`` are read from there.
    """
    path = Path(script)
    root = project_root(Path.cwd()) if not path.is_absolute() else project_root(path.parent)
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, root / path]
    found = next((p.resolve() for p in candidates if p.is_file()), None)
    if found is None:
        raise ChainRuntimeError(f"script {script}: no such file")
    if found.parent != root / "scripts" or found.suffix != ".py":
        raise ChainRuntimeError(f"script {script}: not a .py file in {root / 'scripts'}")
    os.chdir(root)  # brownie resolves the config's remappings and sources from here
    if (network_id or DEVELOPMENT) == DEVELOPMENT:
        isolate_brownie_home(root)  # a live network's definition and keystore stay the user's
    load_project(root)
    connect_own_chain(network_id)
    harden_receipt_wait()
    module = importlib.import_module(f"scripts.{found.stem}")
    entry = getattr(module, function, None)
    if not callable(entry):
        raise ChainRuntimeError(f"script {script}: no function {function!r}")
    return entry(*args)


def anvil_command(*, port: int, state: str | None = None) -> list[str]:
    """The Anvil command line of the project's development chain."""
    anvil = shutil.which("anvil") or str(
        project_root() / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    )
    if not Path(anvil).is_file():
        raise ChainRuntimeError("anvil not found: run `make setup` (npm ci installs it)")
    command = [anvil, "--host", "127.0.0.1", "--port", str(port), "--accounts", str(ACCOUNTS)]
    command += ["--gas-limit", str(GAS_LIMIT), "--base-fee", "0"]
    if state:
        command += ["--state", state]
    return command


def serve_chain(*, port: int | None = None, state: str | None = None) -> None:
    """Run the project's development chain in the foreground until SIGINT/SIGTERM.

    Prints ``FLAI_CHAIN_RPC=http://127.0.0.1:PORT`` once Anvil answers, so a shell or a parent
    process can hand it to ``flai run --rpc``. Raises :class:`ChainRuntimeError` when the port
    is taken or Anvil does not start.
    """
    port = port or free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise ChainRuntimeError(f"port {port} is already in use")
    proc = subprocess.Popen(
        anvil_command(port=port, state=state), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            detail = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise ChainRuntimeError(f"anvil exited with {proc.returncode}: {detail.strip()}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline:
            proc.kill()
            raise ChainRuntimeError(f"anvil did not answer on port {port} within 30 s")
        time.sleep(0.05)
    print(f"{CHAIN_RPC_ENV}=http://127.0.0.1:{port}", flush=True)

    def stop(signum: int, frame: object) -> None:
        proc.terminate()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            proc.kill()
