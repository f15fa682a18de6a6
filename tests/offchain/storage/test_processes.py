"""Several OS processes share one store through the node, and the node runs as a command
with a clean shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flai.storage import IpfsHttpStorage, IpfsNode, import_bytes

from .conftest import REPO_ROOT

CLIENT_SCRIPT = textwrap.dedent(
    """
    import random, sys
    from flai.storage import IpfsHttpStorage
    address, mode, arg = sys.argv[1:4]
    storage = IpfsHttpStorage(address=address)
    if mode == "put":
        print(storage.put(random.Random(int(arg)).randbytes(700_000)))
    else:
        sys.stdout.buffer.write(storage.get(arg))
    storage.close()
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONWARNINGS"] = "ignore::FutureWarning"
    return env


def _client(address: str, mode: str, arg: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, address, mode, arg],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        timeout=60,
        check=True,
    )


def test_second_process_writes_and_reads_through_the_node(
    node: IpfsNode, http_store: IpfsHttpStorage
) -> None:
    expected = __import__("random").Random(99).randbytes(700_000)

    written = _client(node.address, "put", "99").stdout.decode().strip()

    assert written == str(import_bytes(expected).cid)
    assert http_store.get(written) == expected
    assert written in node.store.pins()

    mine = http_store.put(b"written by the parent process")
    assert _client(node.address, "get", mine).stdout == b"written by the parent process"


def _start_daemon(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flai.storage.node", *args],
        cwd=REPO_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_address(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RPC API server listening on "):
            return line.split(" on ", 1)[1].strip()
    raise AssertionError(
        f"daemon exited early: {process.wait(5)} {process.stderr.read() if process.stderr else ''}"
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_command_serves_and_shuts_down_cleanly(tmp_path: Path, stop_signal: int) -> None:
    process = _start_daemon(["--repo", str(tmp_path / "repo"), "--port", "0"])
    try:
        address = _wait_for_address(process)
        storage = IpfsHttpStorage(address=address)
        cid = storage.put(b"served by the command")
        assert storage.get(cid) == b"served by the command"
        storage.close()
    finally:
        process.send_signal(stop_signal)
        remaining, _ = process.communicate(timeout=20)

    assert process.returncode == 0
    assert "Daemon is stopped" in remaining
    assert address.startswith("/ip4/127.0.0.1/tcp/")
    # The repository outlives the daemon: the content is on disk.
    from flai.storage import LocalStore

    assert LocalStore(root=tmp_path / "repo").get(cid) == b"served by the command"


def test_command_refuses_public_bind_without_flag(tmp_path: Path) -> None:
    process = _start_daemon(["--repo", str(tmp_path / "repo"), "--host", "0.0.0.0", "--port", "0"])
    _, stderr = process.communicate(timeout=20)

    assert process.returncode == 1
    assert "refusing to bind" in stderr and "--allow-remote" in stderr


def test_concurrent_clients_share_one_node(node: IpfsNode) -> None:
    """Eight client threads, each with its own connection, write overlapping content at
    once: every object is retrievable and identical writes agree on one CID."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    shared = random.Random(5).randbytes(600_000)

    def work(index: int) -> tuple[str, str, bytes]:
        storage = IpfsHttpStorage(address=node.address)
        try:
            own = random.Random(index).randbytes(300_000 + index)
            own_cid = storage.put(own)
            shared_cid = storage.put(shared)
            assert storage.get(own_cid) == own
            return own_cid, shared_cid, own
        finally:
            storage.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))

    assert len({shared_cid for _, shared_cid, _ in results}) == 1
    assert len({own_cid for own_cid, _, _ in results}) == 8
    for own_cid, shared_cid, own in results:
        assert node.store.get(own_cid) == own
        assert node.store.get(shared_cid) == shared
    assert not list(node.store.root.rglob(".tmp-*"))
