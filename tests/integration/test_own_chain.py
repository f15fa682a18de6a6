"""The project's chain runtime: the suite and the scripts run on an Anvil of their own.

- a foreign node on brownie's default port, with state of its own, is never touched by a
  suite run (the suite starts its own Anvil on a free port);
- the demo entry works from a checkout under a folder whose name has dots and spaces
  (brownie's ``run`` would turn such a path into a broken dotted module name).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import brownie
import pytest
import yaml
from web3 import HTTPProvider, Web3

from flai.chain.runtime import CHAIN_RPC_ENV, HOME_ENV, free_port

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
BROWNIE_DEFAULT_PORT = 8545


def test_probe_runs_on_its_own_chain(accounts):
    """Run by the suite and, in a child process, by the foreign-node test below."""
    assert brownie.network.rpc.is_child()  # brownie launched this Anvil; it did not attach
    tx = accounts[0].transfer(accounts[1], 1)
    assert tx.status == 1


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _start_anvil(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--accounts", "2", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}"))
    deadline = time.monotonic() + 30
    while not w3.is_connected():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"foreign anvil did not start on port {port}")
        time.sleep(0.1)
    return proc


def test_suite_never_attaches_to_a_foreign_node(tmp_path):
    # a foreign node where brownie's development network points by default (8545, or a free
    # port written into the child's own brownie network list when another run holds 8545)
    port = BROWNIE_DEFAULT_PORT if _port_free(BROWNIE_DEFAULT_PORT) else free_port()
    foreign = _start_anvil(port)
    try:
        w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}"))
        sender, receiver = w3.eth.accounts[:2]
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": sender, "to": receiver, "value": 12345})
        )
        before = (w3.eth.block_number, w3.eth.get_transaction_count(sender))
        assert before == (1, 1)

        home = tmp_path / "brownie-home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in (CHAIN_RPC_ENV, HOME_ENV)}
        env["HOME"] = str(home)
        brownie_cli = Path(sys.executable).with_name("brownie")
        # let brownie write its default network list into the child's home, then point
        # `development` at the foreign node, as a user's own configuration would
        subprocess.run(
            [str(brownie_cli), "networks", "list"], env=env, check=True, capture_output=True
        )
        config_path = home / ".brownie" / "network-config.yaml"
        config = yaml.safe_load(config_path.read_text())
        for net in config["development"]:
            if net["id"] == "development":
                net["cmd_settings"]["port"] = port
        config_path.write_text(yaml.safe_dump(config))

        probe = subprocess.run(
            [
                str(brownie_cli),
                "test",
                "tests/integration/test_own_chain.py::test_probe_runs_on_its_own_chain",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert probe.returncode == 0, probe.stdout[-4000:] + probe.stderr[-2000:]
        assert "1 passed" in probe.stdout
        # the foreign chain saw nothing: same height, same nonce, same balances
        assert (w3.eth.block_number, w3.eth.get_transaction_count(sender)) == before
    finally:
        foreign.kill()
        foreign.wait()


def _copy_checkout(destination: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for name in filter(None, tracked):
        source = ROOT / name.decode()
        if source.is_file():
            target = destination / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    shutil.copytree(ROOT / "build", destination / "build")  # compiled once already
    (destination / "node_modules").symlink_to(ROOT / "node_modules")


def test_demo_entry_runs_from_a_folder_with_dots_and_spaces(tmp_path):
    checkout = tmp_path / "john.doe" / "work v2.0" / "flai-protocol"
    _copy_checkout(checkout)
    config = yaml.safe_load((checkout / "configs" / "scenario.yaml").read_text())
    config["rounds"] = 2
    config["inference"]["requests"] = {"external": 2, "requester": 1, "member": 1}
    short = checkout / "configs" / "short.yaml"
    short.write_text(yaml.safe_dump(config))

    env = {k: v for k, v in os.environ.items() if k not in (CHAIN_RPC_ENV, HOME_ENV)}
    (tmp_path / "home").mkdir()
    env["HOME"] = str(tmp_path / "home")  # a user home without any brownie folder
    demo = subprocess.run(
        [sys.executable, "-m", "flai", "run", "scripts/demo.py", "main", "configs/short.yaml"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    assert "revenue claimed == eq. 10/11 shares, to the wei" in demo.stdout
    reports = list((checkout / "reports").glob("*/report.md"))
    assert len(reports) == 1
    # brownie's data stayed inside the checkout; the user's home was left alone
    assert (checkout / ".brownie-home" / ".brownie").is_dir()
    assert not (tmp_path / "home" / ".brownie").exists()


@pytest.fixture(autouse=True)
def _anvil_binary():
    assert ANVIL.is_file(), "npm ci installs Anvil (make setup)"
